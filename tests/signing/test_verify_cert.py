"""Offline verification of certificate PDFs, and their check against a ledger (upload)."""

from __future__ import annotations

import base64
import io
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfWriter
from sqlalchemy import text

from ledger.checkpoint import Checkpoint, TlogProof
from ledger.entries import make_entry
from ledger.errors import NotFound
from ledger.merkle import MemoryTree, inclusion_proof
from ledger.note import NoteSigner, VerifierKey
from signing import actions
from signing.certificate import certificate_pdf, render_certificate
from signing.checks import Outcome
from signing.errors import (
    AttachmentMissing,
    CertificateDamaged,
    CertificateEdited,
    CertificateInvalid,
    ForeignCertificate,
    NotACertificate,
    NotAPdf,
    Reason,
)
from signing.facts import Evidence
from signing.verify_cert import (
    KeyTrust,
    examine_certificate,
    examine_upload,
    verify_certificate,
)
from tests.factories import ADMIN_NIP, ADMIN_PASSPHRASE

from ..certs import BASE_URL, PRINTED, attachments, rebuild, signed_certificate
from ..factories import ORIGIN, LedgerFactory


@pytest.fixture()
def cert(world: LedgerFactory) -> tuple[LedgerFactory, int, bytes]:
    index, pdf = signed_certificate(world)
    return world, index, pdf


@pytest.fixture()
def cert1(world: LedgerFactory) -> tuple[LedgerFactory, int, bytes]:
    """A certificate in presentation 1 (Ikrar 0.1's page, standard fonts: its text is legible in its drawing)."""
    index = world.sign(1).entry.index
    return world, index, certificate_pdf(world.ledger, index, base_url=BASE_URL, now=PRINTED, presentation=1)


def failed(report, name: str) -> str:
    check = next(c for c in report.checks if c.name == name)
    assert check.outcome is Outcome.FAILED, check
    return check.detail


def test_genuine_offline_with_only_the_embedded_key_is_intact_but_says_where_trust_comes_from(cert) -> None:
    _world, index, pdf = cert
    report = examine_certificate(pdf)
    assert report.intact and not report.valid
    assert report.key_trust is KeyTrust.EMBEDDED_ONLY
    key = report.checks[0]
    assert key.name == "key" and key.outcome is Outcome.NOT_CHECKED
    assert "trust must come from a key published elsewhere" in key.detail
    assert report.facts is not None and report.facts.index == index
    report.verify()  # nothing failed


def test_genuine_with_the_trusted_key_is_valid(cert) -> None:
    world, _index, pdf = cert
    report = verify_certificate(pdf, world.ledger.verifier)
    assert report.valid and report.key_trust is KeyTrust.TRUSTED


def test_a_certificate_of_another_ledger_is_foreign(cert) -> None:
    _world, _, pdf = cert
    other = VerifierKey(ORIGIN, Ed25519PrivateKey.generate().public_key().public_bytes_raw())
    report = examine_certificate(pdf, other)
    assert report.intact and not report.valid and report.reason is Reason.FOREIGN
    assert "comes from another ledger" in failed(report, "key")
    with pytest.raises(ForeignCertificate, match="another ledger"):
        report.verify()


def test_an_edited_printed_fact_is_named(cert1) -> None:
    world, _, pdf = cert1
    forged = rebuild(pdf, page_edit=(b"(Pejabat 1)", b"(Pejabat 7)"))
    report = examine_certificate(forged, world.ledger.verifier)
    assert not report.valid and report.reason is Reason.EDITED
    assert failed(report, "page") == "the page says 'Pejabat 7' where the ledger says 'Pejabat 1'"
    with pytest.raises(CertificateEdited, match="Pejabat 7"):
        report.verify()


def test_an_edited_time_on_the_page_is_named(cert1) -> None:
    _world, _, pdf = cert1
    forged = rebuild(pdf, page_edit=(b"pukul 09.", b"pukul 08."))
    assert "pukul 08." in failed(examine_certificate(forged), "page")


def test_extra_text_on_the_page_is_refused(cert1) -> None:
    _world, _, pdf = cert1
    forged = rebuild(pdf, page_edit=(b"(SERTIFIKAT) Tj", b"(SERTIFIKAT) Tj (PALSU) Tj"))
    assert "PALSU" in failed(examine_certificate(forged), "page")


def test_an_altered_leaf_is_not_in_the_checkpoint(cert) -> None:
    _world, index, pdf = cert
    leaf = attachments(pdf)[f"entry-{index}.json"]
    altered = leaf.replace(b'"slug":"smart-city"', b'"slug":"smart-citx"')
    assert altered != leaf
    report = examine_certificate(rebuild(pdf, {f"entry-{index}.json": altered}))
    assert report.reason is Reason.EDITED
    assert f"the signature (entry {index}) is not in the signed checkpoint" in failed(report, "inclusion")


def test_an_altered_enrolment_name_is_caught_by_its_proof(cert) -> None:
    _world, _index, pdf = cert
    files = attachments(pdf)
    enrolled = json.loads(files["certificate.json"])["entries"][1]
    leaf = files[f"entry-{enrolled}.json"].replace(b"Pejabat 1", b"Pejabat 9")
    report = examine_certificate(rebuild(pdf, {f"entry-{enrolled}.json": leaf}))
    assert f"the key's enrolment (entry {enrolled}) is not in the signed checkpoint" in failed(report, "inclusion")


def test_an_altered_proof_fails(cert) -> None:
    world, index, pdf = cert
    proof = TlogProof.parse(attachments(pdf)[f"entry-{index}.tlog-proof"])
    bad = bytearray(proof.hashes[0])
    bad[0] ^= 1
    altered = TlogProof(proof.index, (bytes(bad), *proof.hashes[1:]), proof.checkpoint_note).text().encode()
    report = examine_certificate(rebuild(pdf, {f"entry-{index}.tlog-proof": altered}), world.ledger.verifier)
    assert not report.valid and "does not lead to the root" in failed(report, "inclusion")


def test_an_altered_checkpoint_fails_its_signature(cert) -> None:
    _world, _index, pdf = cert
    files = attachments(pdf)
    manifest = json.loads(files["certificate.json"])
    size = manifest["facts"]["checkpoint_size"]
    replace = {}
    for i in manifest["entries"]:
        text = files[f"entry-{i}.tlog-proof"].decode()
        replace[f"entry-{i}.tlog-proof"] = text.replace(f"\n{size}\n", f"\n{size + 1}\n").encode()
    report = examine_certificate(rebuild(pdf, replace))
    assert "the checkpoint is not signed by the ledger key" in failed(report, "checkpoint")
    assert report.reason is Reason.EDITED


def test_a_replaced_ledger_key_is_foreign_and_no_longer_signs_the_checkpoint(cert) -> None:
    world, _index, pdf = cert
    forger = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    report = examine_certificate(rebuild(pdf, {"ledger.vkey": f"{forger.verifier}\n".encode()}), world.ledger.verifier)
    assert report.reason is Reason.FOREIGN
    assert "is not signed by the ledger key" in failed(report, "checkpoint")


def test_a_forged_official_signature_fails_the_statement_check(cert) -> None:
    """A forger who controls a ledger key of their own can make every proof hold; the
    official's signature still fails, and the city's key still tells the ledger apart."""
    world, index, pdf = cert
    ledger = world.ledger
    forger = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    entries = [ledger.entry(i) for i in range(ledger.size())]
    first = entries[0]
    entries[0] = make_entry(0, first.kind, first.time, first.prev, {**first.fields, "ledger_key": str(forger.verifier)})
    signed = entries[index]
    signature = bytearray(base64.b64decode(signed.fields["signature"]))
    signature[0] ^= 1
    entries[index] = make_entry(
        index,
        signed.kind,
        signed.time,
        signed.prev,
        {**signed.fields, "signature": base64.b64encode(bytes(signature)).decode()},
    )
    tree = MemoryTree([e.leaf_hash for e in entries])
    checkpoint = Checkpoint(ORIGIN, tree.size, tree.root()).signed(forger)
    chosen = [entries[i] for i in json.loads(attachments(pdf)["certificate.json"])["entries"]]
    proofs = tuple(
        TlogProof(e.index, tuple(inclusion_proof(e.index, tree.size, tree)), checkpoint.note) for e in chosen
    )
    evidence = Evidence(*chosen, proofs=proofs, checkpoint=checkpoint, vkey=forger.verifier)
    forged = render_certificate(evidence, base_url=BASE_URL, now=PRINTED)
    report = examine_certificate(forged)
    assert next(c for c in report.checks if c.name == "inclusion").passed
    assert "does not verify" in failed(report, "statement")
    assert examine_certificate(forged, ledger.verifier).reason is Reason.FOREIGN


def test_edited_stated_facts_are_named(cert) -> None:
    _world, _index, pdf = cert
    manifest = json.loads(attachments(pdf)["certificate.json"])
    manifest["facts"]["agency"] = "Dinas Lain"
    report = examine_certificate(rebuild(pdf, {"certificate.json": json.dumps(manifest).encode()}))
    assert failed(report, "facts") == "certificate.json says agency is Dinas Lain where the ledger says Dinas 1"


def test_a_missing_attachment_is_named(cert) -> None:
    _world, index, pdf = cert
    with pytest.raises(AttachmentMissing, match=f"entry-{index}.tlog-proof"):
        examine_certificate(rebuild(pdf, drop=(f"entry-{index}.tlog-proof",)))
    with pytest.raises(AttachmentMissing, match="ledger.vkey"):
        examine_certificate(rebuild(pdf, drop=("ledger.vkey",)))


def test_a_pdf_without_evidence_is_not_a_certificate(cert) -> None:
    _world, _index, pdf = cert
    with pytest.raises(NotACertificate, match="carries no Ikrar evidence"):
        examine_certificate(rebuild(pdf, drop=tuple(attachments(pdf))))
    blank = PdfWriter()
    blank.add_blank_page(595, 842)
    out = io.BytesIO()
    blank.write(out)
    with pytest.raises(NotACertificate) as e:
        examine_certificate(out.getvalue())
    assert e.value.reason is Reason.NOT_CERTIFICATE


def test_not_a_pdf_and_a_damaged_pdf_are_told_apart(cert) -> None:
    _world, _index, pdf = cert
    with pytest.raises(NotAPdf, match="not a PDF") as e:
        examine_certificate(b"PK\x03\x04 a zip file")
    assert e.value.reason is Reason.NOT_PDF
    with pytest.raises(CertificateDamaged, match="damaged") as e2:
        examine_certificate(b"%PDF-1.7\n" + bytes(range(256)) * 4)
    assert e2.value.reason is Reason.DAMAGED
    with pytest.raises(CertificateInvalid):
        examine_certificate(pdf[: len(pdf) // 3])


def test_upload_of_a_genuine_certificate_is_valid_against_the_ledger(cert) -> None:
    world, _index, pdf = cert
    world.sign(2)  # the ledger moved on: the certificate's checkpoint must still be consistent
    report = examine_upload(world.ledger, pdf)
    assert report.valid, report.failures
    assert [c.name for c in report.checks][-2:] == ["ledger", "consistency"]
    assert report.revocation is None


def test_upload_when_the_ledger_lost_the_certificates_checkpoint(cert) -> None:
    world, _index, pdf = cert
    size = world.ledger.size()
    world.sign(2)
    with world.ledger.engine.begin() as c:
        c.execute(text("DELETE FROM checkpoint WHERE size = :size"), {"size": size})
    report = examine_upload(world.ledger, pdf)
    assert not report.valid and report.reason is Reason.FOREIGN
    check = next(c for c in report.checks if c.name == "consistency")
    assert check.failed and check.reason is Reason.FOREIGN and isinstance(check.error, NotFound)
    assert check.detail == f"there is no checkpoint of size {size}" and check.code == "checkpoint.not_found"


def test_upload_names_the_reason(cert1, ledger_factory) -> None:
    world, _index, pdf = cert1
    edited = rebuild(pdf, page_edit=(b"(Kepala Dinas 1)", b"(Kepala Dinas 2)"))
    report = examine_upload(world.ledger, edited)
    assert report.reason is Reason.EDITED and "Kepala Dinas 2" in failed(report, "page")
    with pytest.raises(NotAPdf):
        examine_upload(world.ledger, b"hello")


def test_upload_of_a_certificate_from_another_ledger_is_foreign(world, tmp_path) -> None:
    from ledger.db import make_engine
    from ledger.schema import migrate
    from ledger.store import Ledger
    from signing.keystore import KeyStore

    from ..factories import FAST_KDF

    engine = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    migrate(engine)
    other = LedgerFactory(Ledger(engine), KeyStore(tmp_path / "other-keys", FAST_KDF)).created().with_commitment()
    _, foreign = signed_certificate(other)
    report = examine_upload(world.ledger, foreign)
    assert report.reason is Reason.FOREIGN
    assert "comes from another ledger" in failed(report, "key")
    assert next(c for c in report.checks if c.name == "ledger").outcome is Outcome.NOT_CHECKED


def test_upload_tells_a_revoked_key(cert) -> None:
    world, _index, pdf = cert
    actions.revoke(world.ctx, world.officials[0], "laptop hilang", ADMIN_NIP, world.now(), ADMIN_PASSPHRASE)
    report = examine_upload(world.ledger, pdf)
    assert report.valid
    assert report.revocation is not None and report.revocation.reason == "laptop hilang"


# -- garbage never crashes the verifiers --------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=4000), st.binary(max_size=4000).map(lambda b: b"%PDF-1.7\n" + b)))
def test_garbage_bytes_give_a_clear_error(data: bytes) -> None:
    try:
        examine_certificate(data)
    except CertificateInvalid as e:
        assert e.reason in set(Reason) and str(e)


@pytest.fixture()
def genuine(ledger_factory: LedgerFactory) -> tuple[bytes, object]:
    world = ledger_factory.created().with_commitment(officials=1)
    pdf = signed_certificate(world)[1]
    return pdf, examine_certificate(pdf).facts


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cuts=st.lists(
        st.tuples(st.floats(0, 1, exclude_max=True), st.binary(min_size=1, max_size=8)), min_size=1, max_size=4
    )
)
def test_a_damaged_certificate_never_crashes_and_never_claims_other_facts(genuine, cuts) -> None:
    pdf, facts = genuine
    data = bytearray(pdf)
    for where, junk in cuts:
        at = int(where * len(data))
        data[at : at + len(junk)] = junk
    try:
        report = examine_certificate(bytes(data))
    except CertificateInvalid as e:
        assert str(e)
        return
    if report.intact:  # the bytes changed were not ones that are checked (padding, offsets)
        assert report.facts == facts


def _without_mark(pdf: bytes) -> bytes:
    """A summary as printed before summaries carried their mark: the same pages and information."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    writer.add_metadata(dict(reader.metadata or {}))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_summary_is_said_to_be_one(world: LedgerFactory, lang: str) -> None:
    from signing.summary import SUMMARY_MARK, render_summary
    from signing.verify_cert import SummaryNotCertificate, examine_file, read_embedded

    world.sign(1)
    pdf = render_summary(world.ledger, "smart-city", lang=lang, base_url=BASE_URL, now=PRINTED)
    mark = json.loads(attachments(pdf)[SUMMARY_MARK])
    assert mark == {
        "format": "ikrar-summary/v1",
        "slug": "smart-city",
        "checkpoint_size": world.ledger.size(),
        "lang": lang,
        "printed_at": "2026-01-06T03:00:00Z",
    }
    for summary in (pdf, _without_mark(pdf)):
        with pytest.raises(SummaryNotCertificate, match="summary") as e:
            examine_file(summary, world.ledger.verifier)
        assert e.value.code == "cert.summary" and isinstance(e.value, NotACertificate)
        with pytest.raises(SummaryNotCertificate):
            read_embedded(summary)
    plain = PdfWriter()
    plain.add_blank_page(595, 842)
    plain.add_metadata({"/Title": "Rekapitulasi Penandatanganan: lain", "/Creator": "Word"})
    out = io.BytesIO()
    plain.write(out)
    with pytest.raises(NotACertificate) as other:  # another program's PDF of that title is no summary
        read_embedded(out.getvalue())
    assert not isinstance(other.value, SummaryNotCertificate)
