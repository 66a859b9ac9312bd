"""The joint commitment document, "Naskah Komitmen Bersama" (issue 12 point 7): its blocks in
the published order, its QR codes, its evidence, and its verification offline and by upload."""

from __future__ import annotations

import io
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from pypdf import PdfReader

from ledger.errors import NotFound
from signing import actions
from signing.cert_words import format_nip
from signing.errors import Reason
from signing.naskah import MANIFEST, naskah_pdf
from signing.verify_cert import examine_certificate, examine_upload
from signing.verify_entry import Verdict, examine_entry

from ..certs import BASE_URL, PRINTED, attachments, read_qr_codes
from ..factories import LedgerFactory, nip, passphrase
from .documents import all_text, rebuild_pages, squash, world3  # noqa: F401 - world3 is a fixture


def _naskah(world: LedgerFactory, lang: str = "id") -> bytes:
    return naskah_pdf(world.ledger, "smart-city", lang=lang, base_url=BASE_URL, now=PRINTED)


def test_blocks_in_published_order_with_pending_marked(world3: LedgerFactory) -> None:
    world3.sign(2)
    pdf = _naskah(world3)
    text = squash(all_text(pdf))
    for fact in [
        "PEMERINTAH KOTA KEDIRI (UJI)",
        "DINAS KOMUNIKASI DAN INFORMATIKA",
        "LAMBANG",
        "(contoh)",
        "NASKAH KOMITMEN BERSAMA",
        "Komitmen Bersama",
        "Kami berkomitmen.",
        "1 dari 3 penanda tangan telah menandatangani",
        f"NIP {format_nip(nip(1))}",
        "Belum menandatangani",
        "Halaman 1 dari 1",
    ]:
        assert squash(fact) in text, fact
    assert text.index("Pejabat1") < text.index("Pejabat2") < text.index("Pejabat3")  # published order
    assert text.count("Belummenandatangani") == 2
    assert "seluruhpenandatangan" not in text
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.trailer["/Root"]["/Lang"] == "id"
    assert reader.metadata is not None and reader.metadata["/CreationDate"] == "D:20260106030000+00'00'"


def test_every_qr_decodes_at_150_dpi_and_opens_a_valid_verify_page(world3: LedgerFactory) -> None:
    for n in (3, 1, 2):
        world3.sign(n)
    pdf = _naskah(world3)
    assert squash("telah ditandatangani oleh seluruh penanda tangan (3 dari 3)") in squash(all_text(pdf))
    links = [c.text for c in read_qr_codes(pdf, dpi=150)]
    assert len(links) == 3
    indexes = []
    for link in links:
        url = urlsplit(link)
        assert link.startswith(f"{BASE_URL}/v/")
        index = int(url.path.rsplit("/", 1)[1])
        report = examine_entry(world3.ledger, index, parse_qs(url.query)["h"][0])
        assert report.verdict is Verdict.VALID
        indexes.append(index)
    signers = [world3.ledger.entry(i).fields["nip"] for i in indexes]
    assert sorted(signers) == [nip(1), nip(2), nip(3)]


def test_the_upload_check_passes_and_an_edited_copy_fails(world3: LedgerFactory) -> None:
    world3.sign(1)
    pdf = _naskah(world3)
    offline = examine_certificate(pdf, world3.ledger.verifier)
    assert offline.valid, [(c.name, c.detail) for c in offline.failures]
    report = examine_upload(world3.ledger, pdf)
    assert report.valid, [(c.name, c.detail) for c in report.failures]
    assert {c.name for c in report.checks} >= {"statement", "naskah", "page", "ledger", "consistency"}

    # a block that claims a signatory signed who did not
    files = attachments(pdf)
    forged_manifest = files[MANIFEST].replace(b'"status": "pending"', b'"status": "signed"', 1)
    forged = rebuild_pages(pdf, replace={MANIFEST: forged_manifest})
    edited = examine_upload(world3.ledger, forged)
    assert not edited.valid and edited.reason is Reason.EDITED
    assert next(c for c in edited.checks if c.name == "naskah").failed


def test_an_edited_page_fails(world3: LedgerFactory) -> None:
    world3.sign(1)
    pdf = _naskah(world3)
    from pypdf import PdfWriter
    from pypdf.generic import NameObject, StreamObject

    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter()
    page = writer.add_page(reader.pages[0])
    data = page.get_contents().get_data()
    stream = StreamObject()
    stream.set_data(data + b"\nBT /F1 12 Tf 100 100 Td (PALSU) Tj ET\n")
    page[NameObject("/Contents")] = writer._add_object(stream)
    for name, content in attachments(pdf).items():
        writer.add_attachment(name, content)
    out = io.BytesIO()
    writer.write(out)
    report = examine_certificate(out.getvalue(), world3.ledger.verifier)
    assert not report.valid and report.reason is Reason.EDITED
    assert next(c for c in report.checks if c.name == "page").failed


def test_a_name_outside_windows_1252_prints_exactly(ledger_factory: LedgerFactory) -> None:
    from .documents import created

    world = created(ledger_factory)
    name = "Ṣaṭyā Łukasz 李"
    actions.register_official(world.ledger, nip(1), name, "Kepala Dinas Ẓ", "Dinas Kominfo", "official", world.now())
    world.invite(1)
    actions.enrol(world.ctx, nip(1), passphrase(1), world.now())
    actions.publish(world.ctx, "smart-city", "Komitmen “Smart City” 2026", "Teks.\n", [nip(1)], "admin", world.now())
    actions.sign(world.ctx, "smart-city", nip(1), passphrase(1), world.now())
    pdf = _naskah(world)
    text = all_text(pdf)
    assert squash(name) in squash(text) and "Kepala Dinas Ẓ" in text and "“Smart City”" in text
    assert examine_upload(world.ledger, pdf).valid


def test_sixty_signatories_render_and_verify_in_bounded_time(ledger_factory: LedgerFactory) -> None:
    from .documents import created

    world = created(ledger_factory)
    nips = [world.official(n) for n in range(10, 70)]
    actions.publish(world.ctx, "besar", "Komitmen Besar", "Kami berkomitmen.\n" * 5, nips, "admin", world.now())
    for n in range(10, 40):
        actions.sign(world.ctx, "besar", nip(n), passphrase(n), world.now())
    started = time.perf_counter()
    pdf = naskah_pdf(world.ledger, "besar", base_url=BASE_URL, now=PRINTED)
    rendered = time.perf_counter() - started
    report = examine_upload(world.ledger, pdf)
    checked = time.perf_counter() - started - rendered
    assert report.valid, [(c.name, c.detail) for c in report.failures]
    assert rendered < 10 and checked < 10, (rendered, checked)
    assert len(pdf) < 1_500_000
    assert squash("30 dari 60 penanda tangan") in squash(all_text(pdf))


def test_unknown_commitment_and_english(world3: LedgerFactory) -> None:
    with pytest.raises(NotFound):
        naskah_pdf(world3.ledger, "tidak-ada", base_url=BASE_URL, now=PRINTED)
    world3.sign(1)
    pdf = _naskah(world3, "en")
    text = squash(all_text(pdf))
    assert squash("JOINT COMMITMENT") in text and squash("Not signed yet") in text and "Page1of1" in text
    assert examine_certificate(pdf, world3.ledger.verifier).valid


def test_a_decline_is_printed_with_its_reason_and_verified(world: LedgerFactory) -> None:
    """Rules version 4: an official who declines has a block saying so, proven like a signature."""
    signed = world.sign(1).entry.index
    declined = actions.decline(world.ctx, "smart-city", nip(2), passphrase(2), "Sedang cuti", world.now()).entry
    pdf = _naskah(world)
    text = squash(all_text(pdf))
    assert squash("Menolak menandatangani") in text and squash("Alasan: Sedang cuti") in text
    assert squash(f"Entri buku besar #{signed}") in text and f"#{declined.index}" in text
    assert squash("1 penanda tangan menolak menandatangani") in text
    assert text.count("Belummenandatangani") == 1
    report = examine_upload(world.ledger, pdf)
    assert report.valid, [(c.name, c.detail) for c in report.failures]
    naskah_check = next(c for c in report.checks if c.name == "naskah")
    assert "1 signed, 1 declined, 1 not yet" in naskah_check.detail
    forged = rebuild_pages(pdf, replace={MANIFEST: attachments(pdf)[MANIFEST].replace(b"Sedang cuti", b"Tidak setuju")})
    assert not examine_certificate(forged, world.ledger.verifier).valid


def test_checked_where_dejavu_is_missing_it_compares_the_text(
    world3: LedgerFactory, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A naskah printed with DejaVu, checked on a machine without it: its text is compared
    with the ledger's, and the check says that the drawing was not."""
    from signing import doc_fonts

    world3.sign(1)
    pdf = _naskah(world3)
    monkeypatch.setattr(doc_fonts, "DEJAVU_DIR", tmp_path)
    report = examine_certificate(pdf, world3.ledger.verifier)
    assert report.valid, [(c.name, c.detail) for c in report.failures]
    page = next(c for c in report.checks if c.name == "page")
    assert "fonts-dejavu-core" in page.detail
