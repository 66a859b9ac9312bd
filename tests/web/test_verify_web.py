"""The verify pages, the upload check and the certificate downloads, through the app."""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signing import actions
from signing.certificate import certificate_pdf
from signing.facts import Difference
from signing.wording import format_clock_wib, format_wib
from tests.factories import ADMIN_NIP, ADMIN_PASSPHRASE
from web.i18n import Translator
from web.routes_verify import difference_text

from ..certs import PRINTED, attachments, read_qr_codes, rebuild, signed_certificate
from ..factories import LedgerFactory
from ..signing.documents import all_text, rebuild_pages
from ..signing.test_verify_entry import revoked_before_it_signed
from .conftest import Site

OFFICE = "Dinas Komunikasi dan Informatika"  # the default IKRAR_OFFICE
VERDICT = re.compile(r'<section class="verdict verdict-(\w+)" role="status">(.*?)</section>', re.DOTALL)


def verdict_of(html: str) -> tuple[str, str]:
    """The verdict box of a page: its class and its text (tags dropped, spaces collapsed)."""
    m = VERDICT.search(html)
    assert m, "the page has no verdict box"
    return m[1], " ".join(unescape(re.sub(r"<[^>]+>", " ", m[2])).split())


def failed_first(html: str) -> list[str]:
    return re.findall(r'<li class="check check-(\w+)">', html)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == "http://testserver", url
    return parts.path + ("?" + parts.query if parts.query else "")


def test_scan_the_printed_qr_code_and_see_valid(site: Site) -> None:
    """End to end: download the certificate, rasterize it as a phone camera would see the
    paper, decode its QR code, open that link."""
    index = site.world.sign(1).entry.index
    c = site.client()
    pdf = c.get(f"/certificates/{index}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    codes = read_qr_codes(pdf.content, dpi=150)
    assert len(codes) == 1
    page = c.get(path_of(codes[0].text))
    assert page.status_code == 200
    assert 'class="verdict verdict-valid"' in page.text and "SAH" in page.text
    assert "Pejabat 1" in page.text and "Komitmen Bersama" in page.text and "WIB" in page.text
    assert page.text.count("check check-passed") == 7
    api = c.get(path_of(codes[0].text).replace("/v/", "/api/v1/verify/"))
    assert api.json()["verdict"] == "valid" and api.json()["printed_matches"] is True


def test_a_certificate_made_on_the_command_line_scans_to_the_same_page(site: Site) -> None:
    index = site.world.sign(2).entry.index
    pdf = certificate_pdf(site.ledger, index, base_url="http://testserver", now=PRINTED)
    link = read_qr_codes(pdf, dpi=150)[0].text
    page = site.client("en").get(path_of(link))
    assert 'class="verdict verdict-valid"' in page.text and "VALID" in page.text and "Pejabat 2" in page.text


def test_a_wrong_h_says_the_printed_certificate_does_not_match(site: Site) -> None:
    index = site.world.sign(1).entry.index
    page = site.client().get(f"/v/{index}?h=0123456789abcdef")
    assert page.status_code == 200 and "verdict-invalid" in page.text
    assert f"Sertifikat tercetak TIDAK cocok dengan entri #{index}" in page.text
    en = site.client("en").get(f"/v/{index}?h=0123456789abcdef")
    assert f"The printed certificate does NOT match entry #{index}" in en.text
    api = site.client().get(f"/api/v1/verify/{index}?h=0123456789abcdef").json()
    assert api["verdict"] == "invalid" and api["printed_matches"] is False


def test_a_key_revoked_after_the_signature_is_valid_with_a_note(site: Site) -> None:
    index = site.world.sign(1).entry.index
    revoked = actions.revoke(
        site.world.ctx, site.world.officials[0], "laptop hilang", ADMIN_NIP, site.world.now(), ADMIN_PASSPHRASE
    ).entry
    page = site.client().get(f"/v/{index}")
    assert page.status_code == 200
    assert verdict_of(page.text) == (
        "valid",
        "✓ SAH Tanda tangan ini tercatat di buku besar Ikrar dan lolos semua pemeriksaan. "
        f"Kunci penanda tangan dicabut kemudian, pada {format_wib(revoked.time, 'id')} (entri #{revoked.index}). "
        "Alasan: laptop hilang. Tanda tangan ini dibuat sebelum pencabutan dan tetap sah.",
    )
    assert "KUNCI DICABUT" not in page.text and "check-failed" not in page.text
    en = site.client("en").get(f"/v/{index}")
    assert (
        verdict_of(en.text)[0] == "valid"
        and (
            f"The signer's key was revoked later, on {format_wib(revoked.time, 'en')} (entry #{revoked.index}). "
            "Reason: laptop hilang. This signature was made before the revocation and remains valid."
        )
        in verdict_of(en.text)[1]
    )
    api = site.client().get(f"/api/v1/verify/{index}").json()
    assert api["verdict"] == "valid"
    assert api["revoked"] == {
        "index": revoked.index,
        "time": api["revoked"]["time"],
        "reason": "laptop hilang",
        "after_signature": True,
    }


def test_a_signature_made_with_a_key_already_revoked_is_not_valid(site: Site) -> None:
    index, revoked = revoked_before_it_signed(site.world)
    when = site.ledger.entry(revoked).time
    page = site.client().get(f"/v/{index}")
    verdict, text = verdict_of(page.text)
    assert verdict == "invalid" and text == (
        f"✗ TIDAK SAH Kunci penanda tangan sudah dicabut pada {format_wib(when, 'id')} (entri #{revoked}), sebelum "
        "tanda tangan ini dibuat. Alasan pencabutan: pindah tugas. Tanda tangan dengan kunci yang sudah dicabut "
        "tidak sah."
    )
    assert failed_first(page.text)[0] == "failed"
    api = site.client().get(f"/api/v1/verify/{index}").json()
    assert api["verdict"] == "invalid" and api["revoked"]["after_signature"] is False


@pytest.mark.parametrize(
    ("lang", "found_text", "missing_text", "trust"),
    [
        (
            "id",
            "Entri 1 adalah pendaftaran kunci, bukan tanda tangan.",
            "Buku besar ini belum memiliki entri 9999; saat ini isinya {size} entri, #0 sampai #{last}.",
            "Pastikan alamat di peramban adalah testserver",
        ),
        (
            "en",
            "Entry 1 is a key enrolment, not a signature.",
            "This ledger has no entry 9999 yet; it holds {size} entries, #0 to #{last}.",
            "Make sure the address in your browser is testserver",
        ),
    ],
)
def test_a_qr_code_of_no_signature_opens_a_verdict(
    site: Site, lang: str, found_text: str, missing_text: str, trust: str
) -> None:
    published = site.world.sign(1).entry.fields["commitment_index"]
    size = site.ledger.size()
    c = site.client(lang)
    page = c.get("/v/1?h=0123456789abcdef")
    assert page.status_code == 404 and "<h1>HTTP" not in page.text
    verdict, text = verdict_of(page.text)
    assert verdict == "invalid" and found_text in text and ("TIDAK SAH" if lang == "id" else "INVALID") in text
    assert trust in page.text and 'href="/ledger/1"' in page.text
    missing = c.get("/v/9999")
    assert missing.status_code == 404
    verdict, text = verdict_of(missing.text)
    assert verdict == "invalid" and missing_text.format(size=size, last=size - 1) in text
    assert trust in missing.text and 'href="/ledger/9999"' not in missing.text
    kind = "penerbitan komitmen" if lang == "id" else "commitment publication"
    assert kind in verdict_of(c.get(f"/v/{published}").text)[1]


def test_the_json_of_no_signature_is_a_404_with_the_verdict(site: Site) -> None:
    c = site.client()
    size = site.ledger.size()
    assert c.get("/api/v1/verify/1").json() == {
        "detail": "Entri 1 adalah pendaftaran kunci, bukan tanda tangan.",
        "index": 1,
        "verdict": "invalid",
        "found": "key.enrolled",
        "size": size,
    }
    missing = c.get("/api/v1/verify/99999")
    assert missing.status_code == 404 and missing.json()["found"] is None and missing.json()["verdict"] == "invalid"
    assert c.get("/certificates/1.pdf").status_code == 404
    assert c.get("/commitments/nope/certificate.pdf").status_code == 404
    assert c.get("/api/v1/verify/-1").status_code == 422


def test_a_valid_page_names_the_address_to_trust_and_prints_the_nip(site: Site) -> None:
    index = site.world.sign(1).entry.index
    page = site.client().get(f"/v/{index}")
    assert "Pastikan alamat di peramban adalah testserver" in page.text
    assert "NIP 19750314 200104 1 001" in page.text


def test_the_summary_certificate_and_the_standalone_verifier_download(site: Site) -> None:
    site.world.sign(1)
    c = site.client("en")
    summary = c.get("/commitments/smart-city/certificate.pdf")
    assert summary.status_code == 200 and summary.content.startswith(b"%PDF-")
    assert "summary" in summary.headers["content-disposition"]
    tool = c.get("/verifier/ikrar_verify.py")
    assert tool.status_code == 200 and tool.text.startswith("#!/usr/bin/env python3")
    assert "attachment" in tool.headers["content-disposition"]
    english = c.get(f"/certificates/{site.world.sign(2).entry.index}.pdf")
    assert english.status_code == 200 and "PROOF OF ELECTRONIC SIGNATURE" in all_text(english.content)


def test_the_server_issues_the_government_document(site: Site) -> None:
    """Presentation 2: the letterhead, two pages, the name of a proof (bukti) in the page's language."""
    index = site.world.sign(1).entry.index
    c = site.client()
    pdf = c.get(f"/certificates/{index}.pdf")
    assert pdf.headers["content-disposition"] == f'inline; filename="bukti-ikrar-{index}.pdf"'
    manifest = json.loads(attachments(pdf.content)["certificate.json"])
    assert manifest["presentation"] == 2 and manifest["letterhead"]["office"] == OFFICE
    assert "BUKTI PENANDATANGANAN ELEKTRONIK" in all_text(pdf.content)
    english = c.get(f"/certificates/{index}.pdf?lang=en")
    assert english.headers["content-disposition"] == f'inline; filename="ikrar-proof-{index}.pdf"'
    summary = c.get("/commitments/smart-city/certificate.pdf").content
    assert OFFICE.upper() in all_text(summary) and "REKAPITULASI PENANDATANGANAN" in all_text(summary)
    assert upload(site, pdf.content, api=True).json()["valid"] is True


def p1_certificate(site: Site, n: int = 1) -> tuple[int, bytes]:
    """Official `n` signs; the certificate as Ikrar 0.1 printed it (presentation 1), whose page
    text a test can edit in place."""
    index = site.world.sign(n).entry.index
    return index, certificate_pdf(site.ledger, index, base_url="http://testserver", now=PRINTED, presentation=1)


def issued(site: Site, n: int = 1, lang: str | None = None) -> tuple[int, bytes]:
    """Official `n` signs; the certificate the server issues (presentation 2)."""
    index = site.world.sign(n).entry.index
    return index, site.client(lang).get(f"/certificates/{index}.pdf").content


# -- uploads ----------------------------------------------------------------------------------


def upload(site: Site, data: bytes, lang: str | None = None, api: bool = False):
    c = site.client(lang)
    return c.post(
        "/api/v1/verify" if api else "/verify/upload", files={"file": ("sertifikat.pdf", data, "application/pdf")}
    )


def test_upload_page_and_a_genuine_certificate(site: Site) -> None:
    _, pdf = signed_certificate(site.world)
    form = site.client().get("/verify/upload")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    assert str(site.ledger.verifier) in form.text
    page = upload(site, pdf)
    assert page.status_code == 200 and "verdict-valid" in page.text and "Pejabat 1" in page.text
    body = upload(site, pdf, api=True).json()
    assert body["valid"] is True and body["reason"] is None and body["facts"]["signer"]["name"] == "Pejabat 1"


def test_upload_names_an_edited_certificate(site: Site) -> None:
    _, pdf = p1_certificate(site)
    edited = rebuild(pdf, page_edit=(b"(Pejabat 1)", b"(Pejabat 7)"))
    page = upload(site, edited)
    assert page.status_code == 200
    assert verdict_of(page.text) == (
        "invalid",
        "✗ TIDAK SAH Sertifikat ini telah diubah setelah diterbitkan. "
        "Yang berubah: nama tercetak “Pejabat 7”, seharusnya “Pejabat 1”.",
    )
    assert failed_first(page.text) == ["failed"] + ["passed"] * 10
    assert "the page says" not in page.text and "where the ledger says" not in page.text  # no English detail
    en = upload(site, edited, lang="en")
    assert verdict_of(en.text)[1].endswith(
        "What changed: the name is printed as “Pejabat 7”, it should be “Pejabat 1”."
    )
    assert "the page says &#39;Pejabat 7&#39; where the ledger says &#39;Pejabat 1&#39;" in en.text
    body = upload(site, edited, api=True).json()
    assert body["valid"] is False and body["reason"] == "edited"
    assert body["difference"] == {"fact": "name", "printed": "Pejabat 7", "ledger": "Pejabat 1", "place": "page"}
    failed = [c for c in body["checks"] if c["outcome"] == "failed"]
    assert [c["name"] for c in failed] == ["page"]


@pytest.mark.parametrize("presentation", [1, 2])
def test_upload_of_edited_stated_facts_says_what_changed(site: Site, presentation: int) -> None:
    index, pdf = p1_certificate(site) if presentation == 1 else issued(site)
    manifest = json.loads(attachments(pdf)["certificate.json"])
    manifest["facts"]["agency"] = "Dinas Lain"
    edited = rebuild(pdf, {"certificate.json": json.dumps(manifest).encode()})
    page = upload(site, edited)
    verdict, text = verdict_of(page.text)
    assert verdict == "invalid" and text.endswith(
        "Yang berubah: data terlampir dalam berkas (certificate.json) menyebut perangkat daerah “Dinas Lain”, "
        "seharusnya “Dinas 1”."
    )
    assert failed_first(page.text)[0] == "failed" and "where the ledger says" not in page.text
    body = upload(site, edited, api=True).json()
    assert body["difference"] == {"fact": "agency", "printed": "Dinas Lain", "ledger": "Dinas 1", "place": "data"}


def test_upload_of_an_edited_time_says_the_time_in_indonesian(site: Site) -> None:
    index, pdf = p1_certificate(site)
    clock = format_clock_wib(site.ledger.entry(index).time, "id").removesuffix(" WIB")
    edited = rebuild(pdf, page_edit=(f"{clock} WIB)".encode(), b"09.00.01 WIB)"))
    verdict, text = verdict_of(upload(site, edited).text)
    assert verdict == "invalid"
    assert text.endswith(f"Yang berubah: waktu penandatanganan tercetak “09.00.01”, seharusnya “{clock}”.")


def test_upload_of_an_edited_government_document_says_what_changed(site: Site) -> None:
    """Presentation 2 as the server issues it: its name edited on page 1 of 2."""
    _, pdf = issued(site)
    edited = rebuild_pages(pdf, b"(Pejabat 1)", b"(Pejabat 7)")
    verdict, text = verdict_of(upload(site, edited).text)
    assert verdict == "invalid" and text.endswith("Yang berubah: nama tercetak “Pejabat 7”, seharusnya “Pejabat 1”.")
    en = verdict_of(upload(site, edited, lang="en").text)[1]
    assert en.endswith("What changed: the name is printed as “Pejabat 7”, it should be “Pejabat 1”.")
    body = upload(site, edited, api=True).json()
    assert body["valid"] is False and body["reason"] == "edited"
    assert body["difference"] == {"fact": "name", "printed": "Pejabat 7", "ledger": "Pejabat 1", "place": "page"}
    assert [c["name"] for c in body["checks"] if c["outcome"] == "failed"] == ["page"]


def test_upload_of_an_edited_appendix_says_what_changed(site: Site) -> None:
    """Page 2 of the government document: a figure of the appendix edited."""
    index, pdf = issued(site)
    leaf_hash = site.ledger.entry(index).leaf_hash.hex()
    forged = leaf_hash[:-1] + ("0" if leaf_hash[-1] != "0" else "1")
    edited = rebuild_pages(pdf, f"({leaf_hash})".encode(), f"({forged})".encode())
    body = upload(site, edited, api=True).json()
    assert body["difference"] == {"fact": "leaf_hash", "printed": forged, "ledger": leaf_hash, "place": "page"}
    verdict, text = verdict_of(upload(site, edited).text)
    assert verdict == "invalid" and f"“{forged}”" in text and text.startswith("✗ TIDAK SAH")


def test_upload_of_a_certificate_whose_key_was_revoked_later(site: Site) -> None:
    index, pdf = signed_certificate(site.world)
    revoked = actions.revoke(
        site.world.ctx, site.world.officials[0], "laptop hilang", ADMIN_NIP, site.world.now(), ADMIN_PASSPHRASE
    ).entry
    verdict, text = verdict_of(upload(site, pdf).text)
    assert verdict == "valid" and text.startswith("✓ SAH Sertifikat ini asli")
    assert text.endswith(
        f"Kunci penanda tangan dicabut kemudian, pada {format_wib(revoked.time, 'id')} (entri #{revoked.index}). "
        "Alasan: laptop hilang. Tanda tangan ini dibuat sebelum pencabutan dan tetap sah."
    )
    body = upload(site, pdf, api=True).json()
    assert body["valid"] is True and body["reason"] is None and body["revoked"]["after_signature"] is True
    assert body["index"] == index


def test_upload_of_a_certificate_made_with_a_key_already_revoked(site: Site) -> None:
    index, revoked = revoked_before_it_signed(site.world)
    pdf = certificate_pdf(site.ledger, index, base_url="http://testserver", now=PRINTED)
    verdict, text = verdict_of(upload(site, pdf).text)
    assert verdict == "invalid" and f"sudah dicabut pada {format_wib(site.ledger.entry(revoked).time, 'id')}" in text
    body = upload(site, pdf, api=True).json()
    assert body["valid"] is False and body["reason"] == "key_revoked" and body["revoked"]["after_signature"] is False


def test_upload_names_an_altered_attachment(site: Site) -> None:
    index, pdf = signed_certificate(site.world)
    leaf = attachments(pdf)[f"entry-{index}.json"].replace(b"smart-city", b"smart-citx")
    body = upload(site, rebuild(pdf, {f"entry-{index}.json": leaf}), api=True).json()
    assert body["reason"] == "edited"
    assert {c["name"] for c in body["checks"] if c["outcome"] == "failed"} >= {"inclusion"}


def test_upload_names_a_certificate_of_another_ledger(site: Site, ledger_factory_other: LedgerFactory) -> None:
    _, foreign = signed_certificate(ledger_factory_other)
    page = upload(site, foreign, lang="en")
    assert "verdict-invalid" in page.text and "This certificate comes from another ledger, not this one." in page.text
    body = upload(site, foreign, api=True).json()
    assert body["valid"] is False and body["reason"] == "foreign"


@pytest.fixture()
def ledger_factory_other(tmp_path) -> LedgerFactory:
    from ledger.db import make_engine
    from ledger.schema import migrate
    from ledger.store import Ledger
    from signing.keystore import KeyStore

    from ..factories import FAST_KDF

    engine = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    migrate(engine)
    return LedgerFactory(Ledger(engine), KeyStore(tmp_path / "other-keys", FAST_KDF)).created().with_commitment()


@pytest.mark.parametrize(
    ("data", "status", "id_message", "en_message"),
    [
        (b"PK\x03\x04 not a pdf", 415, "Berkas ini bukan PDF.", "This file is not a PDF."),
        (
            b"%PDF-1.7\n" + bytes(range(256)) * 8,
            422,
            "Berkas PDF ini rusak dan tidak dapat dibaca.",
            "This PDF file is damaged and cannot be read.",
        ),
    ],
)
def test_upload_of_junk_is_a_clear_4xx(site: Site, data: bytes, status: int, id_message: str, en_message: str) -> None:
    api = upload(site, data, api=True)
    assert api.status_code == status and api.json() == {"detail": id_message}
    assert upload(site, data, lang="en", api=True).json() == {"detail": en_message}
    page = upload(site, data)
    assert page.status_code == status and id_message in page.text and 'type="file"' in page.text


@pytest.mark.parametrize("pdf_lang", ["id", "en"])
def test_upload_of_the_summary_says_to_check_each_row_by_its_qr(site: Site, pdf_lang: str) -> None:
    site.world.sign(1)
    summary = site.client().get(f"/commitments/smart-city/certificate.pdf?lang={pdf_lang}").content
    api = upload(site, summary, api=True)
    assert api.status_code == 422 and api.json()["detail"].startswith("Berkas ini adalah rekapitulasi penandatanganan")
    assert "Periksa setiap baris dengan memindai kode QR di sampingnya" in api.json()["detail"]
    page = upload(site, summary, lang="en")
    assert page.status_code == 422 and "Check each row by scanning the QR code beside it" in page.text


def test_upload_of_a_pdf_that_is_not_a_certificate(site: Site) -> None:
    other = certificate_pdf(site.ledger, site.world.sign(1).entry.index, base_url="http://testserver", now=PRINTED)
    bare = rebuild(other, drop=tuple(attachments(other)))
    api = upload(site, bare, api=True)
    assert api.status_code == 422 and api.json()["detail"].startswith("PDF ini bukan sertifikat Ikrar")
    index, pdf = signed_certificate(site.world, 2)
    stripped = upload(site, rebuild(pdf, drop=(f"entry-{index}.tlog-proof",)), lang="en", api=True)
    assert stripped.status_code == 422
    assert stripped.json() == {"detail": "This certificate is incomplete: one of its evidence attachments is missing."}


def test_upload_limits(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    from web import routes_verify

    monkeypatch.setattr(routes_verify, "MAX_UPLOAD", 1024 * 1024)
    for size in (1024 * 1024 + 10_000, 2 * 1024 * 1024):  # refused as it is read; refused by its length
        big = upload(site, b"%PDF-1.7\n" + b"0" * size, api=True)
        assert big.status_code == 413 and big.json() == {"detail": "Berkas terlalu besar (maks. 1 MB)."}
    empty = site.client().post("/api/v1/verify", files={"file": ("x.pdf", b"", "application/pdf")})
    assert empty.status_code == 400 and empty.json() == {"detail": "Pilih berkas PDF sertifikat terlebih dahulu."}
    none = site.client().post("/api/v1/verify", data={"x": "1"})  # the schema says `file` is required
    assert none.status_code == 400 and none.json() == {"detail": "Pilih berkas PDF sertifikat terlebih dahulu."}
    page = site.client().post("/verify/upload", data={"x": "1"})
    assert page.status_code == 400 and "Pilih berkas PDF sertifikat terlebih dahulu." in page.text


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.one_of(
        st.binary(min_size=1, max_size=2000),
        st.binary(max_size=2000).map(lambda b: b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\n" + b),
    )
)
def test_garbage_uploads_are_never_a_server_error(site: Site, data: bytes) -> None:
    response = upload(site, data, api=True)
    assert 400 <= response.status_code < 500 and response.json()["detail"]


@pytest.mark.parametrize(
    ("difference", "id_text", "en_text"),
    [
        (
            Difference("time", "09.00.00", "07.58.13"),
            "Yang berubah: waktu penandatanganan tercetak “09.00.00”, seharusnya “07.58.13”.",
            "What changed: the signing time is printed as “09.00.00”, it should be “07.58.13”.",
        ),
        (
            Difference(None, "Dicetak ulang", "SERTIFIKAT"),
            "Yang berubah: tercetak “Dicetak ulang”, seharusnya “SERTIFIKAT”.",
            "What changed: printed “Dicetak ulang”, it should be “SERTIFIKAT”.",
        ),
        (
            Difference(None, "Lunas", None),
            "Yang berubah: halaman memuat “Lunas”, yang tidak ada di buku besar.",
            "What changed: the page shows “Lunas”, which is not in the ledger.",
        ),
        (
            Difference("agency", None, "Dinas 1"),
            "Yang berubah: “Dinas 1” dari buku besar tidak ada di halaman.",
            "What changed: “Dinas 1” from the ledger is missing from the page.",
        ),
    ],
)
def test_each_kind_of_difference_is_said_in_both_languages(difference: Difference, id_text: str, en_text: str) -> None:
    assert difference_text(difference, Translator("id")) == id_text
    assert difference_text(difference, Translator("en")) == en_text


def test_a_verdict_of_no_entry_yet_is_not_kept_once_the_signature_is_there(site: Site) -> None:
    c = site.client()
    next_index = site.ledger.size()
    before = c.get(f"/v/{next_index}")
    assert before.status_code == 404 and before.headers["cache-control"] == "no-store"
    assert verdict_of(before.text)[0] == "invalid"
    assert site.world.sign(1).entry.index == next_index
    after = c.get(f"/v/{next_index}")
    assert after.status_code == 200 and verdict_of(after.text)[0] == "valid"
