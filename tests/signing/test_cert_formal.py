"""The certificate as a government document (presentation 2, issue 12 point 8)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from ledger.errors import InvalidInput
from signing import actions, doc_fonts
from signing.certificate import certificate_pdf, draw_certificate
from signing.doc_kop import Letterhead
from signing.errors import CertificateEdited
from signing.verify_cert import examine_certificate, examine_upload, page_drawing, read_embedded

from ..certs import BASE_URL, PRINTED, attachments, rasterize, read_qr_codes, rebuild
from ..factories import LedgerFactory, nip, passphrase
from .documents import created, squash, standalone_says, text_of, world3  # noqa: F401 - world3 is a fixture

LEGACY = Path(__file__).parents[1] / "vectors" / "legacy-0.1"
HEAD = Letterhead("Dinas Komunikasi dan Informatika")  # the settings' default: the emblem's placeholder


def test_the_government_document_says_what_the_issue_asks_and_verifies(world3: LedgerFactory) -> None:
    index = world3.sign(1).entry.index
    pdf = certificate_pdf(world3.ledger, index, base_url=BASE_URL, now=PRINTED, letterhead=HEAD)
    first, second = squash(text_of(pdf, 0)), squash(text_of(pdf, 1))
    year = world3.ledger.entry(index).time.year
    for fact in [
        "PEMERINTAH KOTA KEDIRI (UJI)",
        "DINAS KOMUNIKASI DAN INFORMATIKA",
        "BUKTI PENANDATANGANAN ELEKTRONIK",
        f"Nomor: {index}/IKRAR/{year}",
        "TANDA TANGAN ELEKTRONIK TIDAK TERSERTIFIKASI",
        "Dengan ini diterangkan bahwa:",
        "Pejabat 1",
        "Halaman 1 dari 2",
    ]:
        assert squash(fact) in first, fact
    assert "SERTIFIKAT" not in first
    assert squash("LAMPIRAN: BUKTI TEKNIS") in second and squash("Halaman 2 dari 2") in second
    assert world3.ledger.entry(index).leaf_hash.hex() in second
    report = examine_upload(world3.ledger, pdf)
    assert report.valid, [(c.name, c.detail) for c in report.failures]
    codes = read_qr_codes(pdf, dpi=150)
    assert len(codes) == 1 and codes[0].text.startswith(f"{BASE_URL}/v/{index}?h=")
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.trailer["/Root"]["/Lang"] == "id"
    assert reader.metadata is not None and reader.metadata["/CreationDate"] == "D:20260106030000+00'00'"
    fonts = {str(f) for p in reader.pages for f in p["/Resources"]["/Font"].values()}
    assert fonts  # embedded TrueType subsets
    english = certificate_pdf(world3.ledger, index, lang="en", base_url=BASE_URL, now=PRINTED, letterhead=HEAD)
    assert squash("PROOF OF ELECTRONIC SIGNATURE") in squash(text_of(english)) and "Page1of2" in squash(
        text_of(english)
    )
    assert examine_certificate(english, world3.ledger.verifier).valid


def test_the_number_pattern_emblem_and_letterhead_are_printed_and_kept(world3: LedgerFactory, tmp_path: Path) -> None:
    index = world3.sign(2).entry.index
    emblem = tmp_path / "lambang.png"
    rasterize(certificate_pdf(world3.ledger, index, base_url=BASE_URL, now=PRINTED, letterhead=HEAD), 20).save(emblem)
    head = Letterhead.from_files(
        "Dinas Kominfo", "Jl. Basuki Rahmat No. 15, Kediri", "470/{index}/419.116/{year}", emblem
    )
    pdf = certificate_pdf(world3.ledger, index, base_url=BASE_URL, now=PRINTED, letterhead=head)
    text = squash(text_of(pdf))
    assert squash(f"Nomor: 470/{index}/419.116/2026") in text and squash("Jl. Basuki Rahmat No. 15") in text
    assert "LAMBANG" not in text  # the image, not the placeholder
    assert "kop-emblem" in attachments(pdf)
    assert examine_upload(world3.ledger, pdf).valid
    again = certificate_pdf(world3.ledger, index, base_url=BASE_URL, now=PRINTED, letterhead=head)
    assert again == pdf  # deterministic: the number is assigned on the ledger
    with pytest.raises(InvalidInput, match="must name"):
        Letterhead.from_files("X", "", "IKRAR/{year}", None)
    with pytest.raises(InvalidInput, match="only"):
        Letterhead.from_files("X", "", "{index}/{month}", None)


def test_a_name_outside_windows_1252_prints_exactly(ledger_factory: LedgerFactory) -> None:
    world = created(ledger_factory)
    name = "Ṣaṭyā Łukasz 李"
    actions.register_official(world.ledger, nip(1), name, "Kepala Dinas", "Dinas Kominfo", "official", world.now())
    world.invite(1)
    actions.enrol(world.ctx, nip(1), passphrase(1), world.now())
    actions.publish(world.ctx, "smart-city", "Komitmen", "Teks.\n", [nip(1)], "admin", world.now())
    index = actions.sign(world.ctx, "smart-city", nip(1), passphrase(1), world.now()).entry.index
    pdf = certificate_pdf(world.ledger, index, base_url=BASE_URL, now=PRINTED, letterhead=HEAD)
    assert squash(name) in squash(text_of(pdf))
    assert examine_upload(world.ledger, pdf).valid


def test_without_dejavu_the_standard_fonts_are_used_and_it_still_verifies(
    world3: LedgerFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = world3.sign(1).entry.index
    monkeypatch.setattr(doc_fonts, "DEJAVU_DIR", tmp_path)  # no fonts here
    pdf = certificate_pdf(world3.ledger, index, base_url=BASE_URL, now=PRINTED, letterhead=HEAD)
    assert read_embedded(pdf).presentation.fonts == "standard"
    assert examine_certificate(pdf, world3.ledger.verifier).valid


def test_an_old_certificate_still_verifies_and_renders_identically() -> None:
    data = (LEGACY / "certificate-5.pdf").read_bytes()
    report = examine_certificate(data)
    assert report.intact and report.presentation.version == 1
    embedded = read_embedded(data)
    ours = page_drawing(draw_certificate(report.facts, embedded.vkey.fingerprint, embedded.presentation))
    assert ours == page_drawing(data)


def test_an_unknown_presentation_is_refused(world3: LedgerFactory) -> None:
    index = world3.sign(1).entry.index
    pdf = certificate_pdf(world3.ledger, index, base_url=BASE_URL, now=PRINTED, letterhead=HEAD)
    manifest = attachments(pdf)["certificate.json"].replace(b'"presentation": 2', b'"presentation": 9')
    with pytest.raises(CertificateEdited, match="presentation"):
        examine_certificate(rebuild(pdf, {"certificate.json": manifest}))


def test_the_summary_has_the_letterhead_numbers_each_qr_and_prints_pending_in_dark_ink(world3: LedgerFactory) -> None:
    from signing.summary import render_summary

    second = world3.sign(2).entry.index
    pdf = render_summary(world3.ledger, "smart-city", base_url=BASE_URL, now=PRINTED, letterhead=HEAD)
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    content = page.get_contents().get_data()
    assert b"0.784314 0.568627 0.164706" not in content  # the pale amber of before: only dark ink now
    text = squash(text_of(pdf))
    for fact in ["DINAS KOMUNIKASI DAN INFORMATIKA", "REKAPITULASI PENANDATANGANAN", "Halaman 1 dari 1"]:
        assert squash(fact) in text, fact
    assert text.count("Belummenandatangani") == 2
    # the row number is printed twice for a signed row: in the first column and beside its QR code
    assert text.index("Pejabat1") < text.index("Pejabat2") < text.index("Pejabat3")
    assert [c.text for c in read_qr_codes(pdf, dpi=150)] == [
        f"{BASE_URL}/v/{second}?h={world3.ledger.entry(second).leaf_hash.hex()[:16]}"
    ]


def test_the_standalone_verifier_reads_the_new_presentation(world3: LedgerFactory, tmp_path: Path) -> None:
    """certificate.json keeps its format (ikrar-certificate/v1): an outside verifier that reads
    it checks the government document as it checks the first certificates."""
    index = world3.sign(1).entry.index
    pdf = certificate_pdf(world3.ledger, index, base_url=BASE_URL, now=PRINTED, letterhead=HEAD)
    assert "VALID" in standalone_says(pdf, world3.ledger.verifier, tmp_path)


def test_a_rules_4_signature_prints_the_capacity_it_was_made_in(world: LedgerFactory, tmp_path: Path) -> None:
    """After a mutasi to an acting position (`official.updated`), the certificate and the summary
    print the name, capacity and unit the signature names; an identifier that is no NIP is
    never printed as one. What it prints verifies, here and in the standalone verifier."""
    from signing.summary import render_summary

    world.update(1, title="Kepala Dinas Perhubungan", unit="Dinas 1", acting="Plt.", appointment="800/45/2026")
    capacity = "Plt. Kepala Dinas Perhubungan (Nomor 800/45/2026)"
    index = world.sign(1).entry.index
    assert world.ledger.entry(index).fields["capacity"] == capacity
    pdf = certificate_pdf(world.ledger, index, base_url=BASE_URL, now=PRINTED, letterhead=HEAD)
    first = squash(text_of(pdf, 0))
    assert squash(f"Jabatan:{capacity}") in first and squash("Nama:Pejabat 1") in first
    assert squash("Kepala Dinas 1") not in first
    report = examine_upload(world.ledger, pdf)
    assert report.valid and report.facts is not None and report.facts.position == capacity
    assert "VALID" in standalone_says(pdf, world.ledger.verifier, tmp_path)
    summary = squash(text_of(render_summary(world.ledger, "smart-city", base_url=BASE_URL, now=PRINTED)))
    assert squash(f"Pejabat 1{capacity}Dinas 1") in summary
    mayor = world.without_nip()
    actions.publish(world.ctx, "walikota", "Komitmen Wali Kota", "Teks.\n", [mayor], "admin", world.now())
    signed = world.sign(mayor, slug="walikota").entry.index
    text = squash(text_of(certificate_pdf(world.ledger, signed, base_url=BASE_URL, now=PRINTED, letterhead=HEAD)))
    assert squash("Nama:Wali Kota Uji") in text and "NIP" not in text and mayor not in text
    summary = squash(text_of(render_summary(world.ledger, "walikota", base_url=BASE_URL, now=PRINTED)))
    assert squash("Wali Kota Uji") in summary and "NIP" not in summary and mayor not in summary
