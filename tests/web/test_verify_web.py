"""The verify pages, the upload check and the certificate downloads, through the app."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signing import actions
from signing.certificate import certificate_pdf
from tests.factories import ADMIN_NIP, ADMIN_PASSPHRASE

from ..certs import PRINTED, attachments, read_qr_codes, rebuild, signed_certificate
from ..factories import LedgerFactory
from .conftest import Site


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


def test_a_revoked_key_shows_since_when(site: Site) -> None:
    index = site.world.sign(1).entry.index
    actions.revoke(
        site.world.ctx, site.world.officials[0], "laptop hilang", ADMIN_NIP, site.world.now(), ADMIN_PASSPHRASE
    )
    page = site.client().get(f"/v/{index}")
    assert "verdict-key_revoked" in page.text and "KUNCI DICABUT" in page.text and "laptop hilang" in page.text
    api = site.client().get(f"/api/v1/verify/{index}").json()
    assert api["verdict"] == "key_revoked" and api["revoked"]["reason"] == "laptop hilang"


def test_entries_without_a_certificate_are_404_in_the_pages_language(site: Site) -> None:
    c = site.client()
    assert c.get("/v/1").status_code == 404
    assert c.get("/certificates/1.pdf").status_code == 404
    missing = c.get("/api/v1/verify/99999")
    assert missing.status_code == 404 and "detail" in missing.json()
    assert c.get("/api/v1/verify/1").json() == {
        "detail": "Entri ini bukan tanda tangan, jadi tidak memiliki sertifikat."
    }
    assert c.get("/commitments/nope/certificate.pdf").status_code == 404
    assert c.get("/api/v1/verify/-1").status_code == 422


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
    assert b"CERTIFICATE" in english.content or "ikrar-certificate" in english.headers["content-disposition"]


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
    _, pdf = signed_certificate(site.world)
    edited = rebuild(pdf, page_edit=(b"(Pejabat 1)", b"(Pejabat 7)"))
    page = upload(site, edited)
    assert page.status_code == 200 and "verdict-invalid" in page.text
    assert "Sertifikat ini telah diubah setelah diterbitkan." in page.text
    assert "the page says &#39;Pejabat 7&#39; where the ledger says &#39;Pejabat 1&#39;" in page.text
    body = upload(site, edited, api=True).json()
    assert body["valid"] is False and body["reason"] == "edited"
    failed = [c for c in body["checks"] if c["outcome"] == "failed"]
    assert [c["name"] for c in failed] == ["page"]


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


def test_upload_of_a_pdf_that_is_not_a_certificate(site: Site) -> None:
    site.world.sign(1)
    summary = site.client().get("/commitments/smart-city/certificate.pdf").content
    api = upload(site, summary, api=True)
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
