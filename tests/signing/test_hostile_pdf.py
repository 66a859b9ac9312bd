"""Hostile PDFs cost bounded memory and CPU: decompression bombs, a form drawn thousands of
times, enormous numbers, and what is laid over a genuine page (issue 11, points 1, 2, 6, 11)."""

from __future__ import annotations

import pickle
import resource
import time

import pytest

from signing.errors import CertificateDamaged, CertificateEdited, NotACertificate, Reason
from signing.sandbox import Busy, Sandbox
from signing.verify_cert import (
    MAX_ATTACHMENTS,
    examine_certificate,
    examine_file,
    examine_in_ledger,
    examine_upload,
    read_pdf,
)

from .. import hostile_pdfs as bombs
from ..certs import rebuild
from .test_verify_cert import cert, failed  # noqa: F401 - the fixture `cert`


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- decompression bombs: refused as soon as decoding passes a limit ------------------------------


@pytest.mark.parametrize(
    ("count", "code", "message"),
    [
        (200, "cert.too_many_attachments", "more than 32 attachments"),
        (30, "cert.filters", "filters /FlateDecode /FlateDecode"),
    ],
)
def test_many_doubly_compressed_attachments_are_refused_unread(count: int, code: str, message: str) -> None:
    bomb = bombs.attachment_bomb(count)
    assert len(bomb) < 100_000  # `count` attachments of 8 MB each, in a few tens of kB
    before = _peak_rss_mb()
    with pytest.raises(CertificateDamaged, match=message) as e:
        read_pdf(bomb)
    assert e.value.code == code
    assert _peak_rss_mb() - before < 50


def test_a_single_flate_bomb_stops_at_the_cap() -> None:
    bomb = bombs.flate_bomb()
    before = _peak_rss_mb()
    with pytest.raises(CertificateDamaged, match="larger than 1024 kB once decoded") as e:
        read_pdf(bomb)
    assert e.value.code == "cert.stream_too_large" and e.value.params == {"kb": 1024}
    assert _peak_rss_mb() - before < 50  # 64 MB were never inflated


def test_the_decoded_bytes_of_all_attachments_together_are_capped() -> None:
    bomb = bombs.attachment_bomb(count=8, each=900 * 1024)  # each under the cap of one, together over
    single = bomb.replace(b"/Filter [ /FlateDecode /FlateDecode ]", b"/Filter [ /FlateDecode ]")
    import io
    import zlib

    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import StreamObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(single)))
    for obj in writer._objects:
        if isinstance(obj, StreamObject) and obj.get("/Type") == "/EmbeddedFile":
            obj._data = zlib.compress(b"\0" * (900 * 1024))
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(CertificateDamaged, match="decodes to more than 4 MB") as e:
        read_pdf(out.getvalue())
    assert e.value.code == "cert.decoded_too_large"


def test_more_attachments_than_a_certificate_has_are_refused_before_any_is_decoded() -> None:
    with pytest.raises(CertificateDamaged, match=f"more than {MAX_ATTACHMENTS} attachments") as e:
        read_pdf(bombs.many_attachments())
    assert e.value.code == "cert.too_many_attachments"


# -- CPU bombs: the page is read only once the attachments are a certificate's ------------------


def test_a_form_bomb_without_evidence_is_not_a_certificate_at_once() -> None:
    bomb = bombs.form_bomb()
    assert len(bomb) < 5_000
    started = time.process_time()
    with pytest.raises(NotACertificate):
        examine_certificate(bomb)
    assert time.process_time() - started < 2  # its text was never extracted


def test_a_form_bomb_under_genuine_evidence_is_edited_not_slow(cert) -> None:
    _, _, pdf = cert
    forged = bombs.with_page_of(pdf, bombs.form_bomb())
    started = time.process_time()
    report = examine_certificate(forged)
    assert time.process_time() - started < 5
    assert report.reason is Reason.EDITED and not report.intact
    assert failed(report, "page")


# -- numbers in JSON ---------------------------------------------------------------------------


def test_a_5000_digit_number_in_the_manifest_is_refused_by_name(cert) -> None:
    _, _, pdf = cert
    with pytest.raises(CertificateEdited, match="certificate.json holds a number of 5000 digits") as e:
        examine_certificate(bombs.long_number_manifest(pdf))
    assert e.value.code == "cert.number_too_long"


def test_a_5000_digit_number_in_an_entry_names_the_entry(cert) -> None:
    _, index, pdf = cert
    from ..certs import attachments

    leaf = attachments(pdf)[f"entry-{index}.json"]
    forged = rebuild(
        pdf, replace={f"entry-{index}.json": leaf.replace(b'"index":', b'"index":' + b"9" * 5000 + b',"x":', 1)}
    )
    report = examine_certificate(forged)
    assert f"entry-{index}.json is not a valid ledger entry" in failed(report, "entries")


# -- what is drawn over a certificate counts ---------------------------------------------------


def test_an_opaque_annotation_over_the_name_is_edited(cert) -> None:
    world, _, pdf = cert
    report = examine_upload(world.ledger, bombs.annotated(pdf))
    assert not report.valid and report.reason is Reason.EDITED
    assert "annotation" in failed(report, "page") and "FreeText" in failed(report, "page")


def test_an_extra_xobject_on_the_page_is_edited(cert) -> None:
    import io

    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    world, _, pdf = cert
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    page = writer.pages[0]
    form = DecodedStreamObject()
    form.set_data(b"1 1 1 rg 60 240 475 60 re f")
    form.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Form")})
    resources = page["/Resources"].get_object()
    resources[NameObject("/XObject")] = DictionaryObject({NameObject("/Cover"): writer._add_object(form)})
    out = io.BytesIO()
    writer.write(out)
    report = examine_upload(world.ledger, out.getvalue())
    assert report.reason is Reason.EDITED
    assert "/XObject/Cover" in failed(report, "page")


def test_a_genuine_certificate_draws_exactly_what_ikrar_draws(cert) -> None:
    world, _, pdf = cert
    assert examine_upload(world.ledger, pdf).valid


# -- the sandbox -------------------------------------------------------------------------------


def test_the_pdf_work_in_a_worker_gives_the_same_report(cert) -> None:
    world, _, pdf = cert
    sandbox = Sandbox(slots=1)
    found = sandbox.run(examine_file, pdf, world.ledger.verifier)
    assert examine_in_ledger(world.ledger, found) == examine_upload(world.ledger, pdf)
    forged = bombs.annotated(pdf)
    found = sandbox.run(examine_file, forged, world.ledger.verifier)
    assert examine_in_ledger(world.ledger, found).reason is Reason.EDITED
    assert pickle.loads(pickle.dumps(found)) == found


def test_a_worker_raises_what_the_file_is(cert) -> None:
    with pytest.raises(NotACertificate):
        Sandbox().run(examine_file, bombs.form_bomb(), None)


def _spin(seconds: float) -> int:
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
    return n


def _hog(megabytes: int) -> int:
    return len(bytearray(megabytes * 1024 * 1024))


def test_a_worker_past_its_wall_clock_is_killed_and_says_so() -> None:
    started = time.monotonic()
    with pytest.raises(CertificateDamaged, match="took too long to check") as e:
        Sandbox(wall_seconds=1, cpu_seconds=30).run(_spin, 30.0)
    assert e.value.code == "cert.too_slow"
    assert time.monotonic() - started < 5


def test_a_worker_past_its_cpu_time_is_stopped() -> None:
    with pytest.raises(CertificateDamaged, match="took too long to check"):
        Sandbox(wall_seconds=20, cpu_seconds=1).run(_spin, 30.0)


def test_a_worker_past_its_memory_is_stopped() -> None:
    with pytest.raises(CertificateDamaged, match="needs more than 64 MB") as e:
        Sandbox(memory_bytes=64 * 1024 * 1024).run(_hog, 512)
    assert e.value.code == "cert.too_costly"


def test_a_full_sandbox_refuses_at_once() -> None:
    import threading

    sandbox = Sandbox(slots=1, retry_after=7)
    worker = threading.Thread(target=lambda: sandbox.run(_spin, 2.0))
    worker.start()
    time.sleep(0.5)
    try:
        with pytest.raises(Busy) as e:
            sandbox.run(_spin, 0.0)
        assert e.value.retry_after == 7 and e.value.code == "sandbox.busy"
    finally:
        worker.join()
    assert sandbox.run(_spin, 0.0) >= 0  # the slot is free again
