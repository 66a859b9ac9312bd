"""The certificate PDF: what it prints, its QR code, and the evidence it carries."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from pypdf import PdfReader

from ledger.checkpoint import TlogProof
from ledger.errors import InvalidInput, NotFound
from ledger.note import VerifierKey
from signing import actions
from signing.cert_words import format_nip
from signing.certificate import certificate_pdf, signature_indexes, write_certificates
from signing.errors import NoCertificate, NotACertificate
from signing.summary import render_summary
from signing.verify_cert import examine_certificate, examine_upload, read_pdf

from ..certs import (
    BASE_URL,
    PRINTED,
    attachments,
    qr_width_cm,
    read_qr_codes,
    signed_certificate,
)
from ..factories import LedgerFactory, nip, passphrase


def text_of(pdf: bytes, page: int = 0) -> str:
    return PdfReader(io.BytesIO(pdf)).pages[page].extract_text()


def squash(text: str) -> str:
    return "".join(text.split())


def test_the_page_prints_every_fact_in_indonesian(world: LedgerFactory) -> None:
    index, pdf = signed_certificate(world)
    entry = world.ledger.entry(index)
    key = entry.fields["key"]
    text = squash(text_of(pdf))
    cp = world.ledger.checkpoint()
    for fact in [
        "PEMERINTAH KOTA KEDIRI (UJI)",
        "SERTIFIKAT",
        "Pejabat 1",
        "Kepala Dinas 1",
        "Dinas 1",
        f"NIP {format_nip(nip(1))}",
        "Komitmen Bersama",
        "Senin, 5 Januari 2026 pukul",
        "WIB",
        f"NOMOR ENTRI BUKU BESAR {index}",
        entry.leaf_hash.hex(),
        entry.fields["commitment_sha256"],
        VerifierKey.parse(key).fingerprint,
        f"ukuran {cp.size}",
        cp.body().split("\n")[2],
        "Tanda tangan elektronik tidak tersertifikasi",
        "PSrE",
        f"{BASE_URL}/v/{index}?h={entry.leaf_hash.hex()[:16]}",
        world.ledger.verifier.fingerprint,
    ]:
        assert squash(fact) in text, fact


def test_the_signing_time_is_printed_in_wib(world: LedgerFactory) -> None:
    index, pdf = signed_certificate(world)
    utc = world.ledger.entry(index).time
    assert utc.hour + 7 == 9  # the factory's clock is 02:xx UTC
    assert squash(f"pukul 09.{utc.minute:02d}.00 WIB") in squash(text_of(pdf))


def test_english_on_request_keeps_the_honest_label(world: LedgerFactory) -> None:
    _, pdf = signed_certificate(world, lang="en")
    text = squash(text_of(pdf))
    for fact in [
        "CERTIFICATE",
        "This is to certify that",
        "Monday, 5 January 2026 at",
        "LEDGER ENTRY NUMBER",
        "Tanda tangan elektronik tidak tersertifikasi",
        "uncertified electronic signature",
    ]:
        assert squash(fact) in text, fact
    assert squash("Dengan ini menerangkan") not in text


def test_the_qr_code_scans_at_print_size_and_opens_the_verify_link(world: LedgerFactory) -> None:
    index, pdf = signed_certificate(world)
    leaf_hash = world.ledger.entry(index).leaf_hash.hex()
    codes = read_qr_codes(pdf, dpi=150)
    assert [c.text for c in codes] == [f"{BASE_URL}/v/{index}?h={leaf_hash[:16]}"]
    assert qr_width_cm(codes[0], 150) >= 3.5
    assert codes[0].ec_level in ("Q", "M", "H")


def test_the_pdf_carries_the_exact_leaf_its_proof_and_the_ledger_key(world: LedgerFactory) -> None:
    index, pdf = signed_certificate(world)
    files = attachments(pdf)
    ledger = world.ledger
    entry = ledger.entry(index)
    assert files[f"entry-{index}.json"] == entry.leaf
    assert files["ledger.vkey"].decode().strip() == str(ledger.verifier)
    proof = TlogProof.parse(files[f"entry-{index}.tlog-proof"])
    checkpoint = proof.verify(entry.leaf_hash, ledger.verifier, ledger.origin)
    assert checkpoint.size == ledger.size()
    manifest = json.loads(files["certificate.json"])
    assert manifest["index"] == index and manifest["facts"]["name"] == "Pejabat 1"
    # the entries behind the printed facts travel too: the first entry, the enrolment, the commitment
    assert set(manifest["entries"][:3]) <= {int(n[6:-5]) for n in files if n.endswith(".json") and n[6:-5].isdigit()}
    for i in manifest["entries"]:
        assert files[f"entry-{i}.json"] == ledger.entry(i).leaf


def test_a_genuine_certificate_verifies_offline(world: LedgerFactory) -> None:
    _, pdf = signed_certificate(world)
    report = examine_certificate(pdf, world.ledger.verifier)
    assert report.valid and report.intact and report.reason is None
    assert [c.name for c in report.checks] == [
        "key",
        "entries",
        "checkpoint",
        "inclusion",
        "origin",
        "statement",
        "belongs",
        "facts",
        "page",
    ]


def test_rendering_is_deterministic_for_the_same_moment(world: LedgerFactory) -> None:
    index, pdf = signed_certificate(world)
    again = certificate_pdf(world.ledger, index, base_url=BASE_URL, now=PRINTED)
    assert again == pdf


def test_only_signatures_have_certificates(world: LedgerFactory) -> None:
    with pytest.raises(NoCertificate, match="entry 1 is a key.enrolled entry"):
        certificate_pdf(world.ledger, 1, base_url=BASE_URL, now=PRINTED)
    with pytest.raises(NotFound, match="no entry 999"):
        certificate_pdf(world.ledger, 999, base_url=BASE_URL, now=PRINTED)
    index = world.sign(1).entry.index
    with pytest.raises(InvalidInput, match="language"):
        certificate_pdf(world.ledger, index, lang="fr", base_url=BASE_URL, now=PRINTED)


def test_the_summary_lists_every_signatory_with_a_scannable_link(world: LedgerFactory) -> None:
    first = world.sign(2).entry.index
    second = world.sign(1).entry.index
    pdf = render_summary(world.ledger, "smart-city", base_url=BASE_URL, now=PRINTED)
    text = squash(text_of(pdf))
    for fact in [
        "REKAPITULASI PENANDATANGANAN",
        "Komitmen Bersama",
        "2 dari 3 penanda tangan",
        "Pejabat 1",
        "Pejabat 2",
        "Pejabat 3",
        "Belum menandatangani",
        "Kepala Dinas 3",
    ]:
        assert squash(fact) in text, fact
    assert text.index("Pejabat1") < text.index("Pejabat2") < text.index("Pejabat3")  # in the published order
    links = {c.text for c in read_qr_codes(pdf, dpi=300)}
    hashes = {i: world.ledger.entry(i).leaf_hash.hex()[:16] for i in (first, second)}
    assert links == {f"{BASE_URL}/v/{i}?h={h}" for i, h in hashes.items()}
    with pytest.raises(NotFound):
        render_summary(world.ledger, "no-such", base_url=BASE_URL, now=PRINTED)
    with pytest.raises(NotACertificate):
        examine_certificate(pdf)


def test_every_certificate_of_a_commitment_into_a_folder_or_a_zip(world: LedgerFactory, tmp_path) -> None:
    for n in (1, 2, 3):
        world.sign(n)
    indexes = signature_indexes(world.ledger, "smart-city")
    seen = []
    count = write_certificates(
        world.ledger,
        "smart-city",
        tmp_path / "out",
        base_url=BASE_URL,
        now=PRINTED,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert count == 3 and seen[-1] == (3, 3)
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == sorted([f"certificate-{i}.pdf" for i in indexes] + ["smart-city-summary.pdf"])
    for i in indexes:
        assert examine_certificate(
            (tmp_path / "out" / f"certificate-{i}.pdf").read_bytes(), world.ledger.verifier
        ).valid
    write_certificates(world.ledger, "smart-city", tmp_path / "all.zip", base_url=BASE_URL, now=PRINTED)
    with zipfile.ZipFile(tmp_path / "all.zip") as z:
        assert sorted(z.namelist()) == names
        assert examine_certificate(z.read(f"certificate-{indexes[0]}.pdf")).intact
    with pytest.raises(InvalidInput, match="not an empty folder"):
        write_certificates(world.ledger, "smart-city", tmp_path / "out", base_url=BASE_URL, now=PRINTED)
    with pytest.raises(InvalidInput, match="exists already"):
        write_certificates(world.ledger, "smart-city", tmp_path / "all.zip", base_url=BASE_URL, now=PRINTED)


def test_characters_the_page_font_lacks_are_printed_as_question_marks_and_still_verify(
    ledger_factory: LedgerFactory,
) -> None:
    world = ledger_factory.created()
    actions.register_official(
        world.ledger, nip(1), "Łukasz Ngurah Rai", "Kepala Dinas", "Dinas Kominfo", "official", world.now()
    )
    world.invite(1)
    actions.enrol(world.ctx, nip(1), "rahasia-tanda-1-tangan", world.now())
    actions.publish(world.ctx, "smart-city", "Komitmen “Smart City” 2026", "Teks.\n", [nip(1)], "admin", world.now())
    _index, pdf = signed_certificate(world)
    text = text_of(pdf)
    assert "?ukasz Ngurah Rai" in text and "“Smart City”" in text
    report = examine_certificate(pdf, world.ledger.verifier)
    assert report.valid
    assert report.facts is not None and report.facts.name == "Łukasz Ngurah Rai"
    assert read_pdf(pdf).pages == 1


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize(
    "long",
    [
        "Prof. Dr. Ir. Raden Mas Bagus Hadiwijaya Kusumanegara Sastrodiningrat " * 3,  # words
        "Hadiwijayakusumanegarasastrodiningrat" * 6,  # one word wider than the page
    ],
)
def test_the_longest_accepted_name_title_and_unit_are_printed_and_verify(
    world: LedgerFactory, lang: str, long: str
) -> None:
    """Issue 11 point 10: whatever the register accepts (200 characters each), the
    certificate prints, wrapped or smaller, and it still verifies against the ledger."""
    text = long[: actions.MAX_TEXT]
    assert len(text) == actions.MAX_TEXT
    actions.register_official(world.ledger, nip(9), text, text, text, "official", world.now())
    world.invite(9)
    actions.enrol(world.ctx, nip(9), passphrase(9), world.now())
    actions.publish(world.ctx, "long", "T" * 60 + " " + "judul " * 20, "Kami.\n", [nip(9)], "admin", world.now())
    index = actions.sign(world.ctx, "long", nip(9), passphrase(9), world.now()).entry.index
    pdf = certificate_pdf(world.ledger, index, lang=lang, base_url=BASE_URL, now=PRINTED)
    report = examine_upload(world.ledger, pdf)
    assert report.valid, report.failures
    page = squash(text_of(pdf))
    assert squash(text) in page
