"""A certificate states how the signer's key was vouched for (issue 10, point 4): when it
was enrolled (entry and time in WIB), on whose attestation and, for a replacement, with
whose approval — read from the `key.enrolled` entry it carries, so proven offline and by
upload, and compared on the page like every other printed fact. `certificate.json` keeps
its one format, so outside verifiers read it as before; a certificate of a ledger from
before rules version 3 is printed exactly as it always was.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.note import NoteSigner
from signing import actions
from signing.cert_draw import render_page
from signing.cert_layout import page_lines
from signing.cert_words import format_nip
from signing.certificate import MANIFEST, certificate_pdf
from signing.facts import STATED, Vouching
from signing.verify_cert import Reason, examine_certificate, examine_upload, page_drawing, read_embedded
from signing.wording import format_short_wib
from tests.factories import ADMIN_NIP, ADMIN_PASSPHRASE, ORIGIN, SECOND_ADMIN, LedgerFactory, nip

from ..certs import BASE_URL, PRINTED, attachments, rebuild

ROOT = Path(__file__).parents[2]
STANDALONE = ROOT / "verifier" / "ikrar_verify.py"
LEGACY = ROOT / "tests" / "vectors" / "legacy-0.1"
NEW_PASSPHRASE = "kunci-baru-sekali-1"


def _replacement_certificate(world: LedgerFactory, presentation: int = 2) -> tuple[int, int, bytes]:
    """Official 1's key revoked by the first admin, replaced on his attestation with the second
    admin's approval, then used to sign: (the enrolment's index, the signature's, its certificate)."""
    world.second_admin()
    actions.revoke(world.ctx, nip(1), "laptop hilang", ADMIN_NIP, world.now(), ADMIN_PASSPHRASE)
    world.invite(1)
    world.approve(1, by=SECOND_ADMIN)
    enrolled = actions.enrol(world.ctx, nip(1), NEW_PASSPHRASE, world.now()).entry
    index = actions.sign(world.ctx, "smart-city", nip(1), NEW_PASSPHRASE, world.now()).entry.index
    pdf = certificate_pdf(world.ledger, index, base_url=BASE_URL, now=PRINTED, presentation=presentation)
    return enrolled.index, index, pdf


def _standalone(pdf: bytes, tmp_path: Path, vkey: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "cert.pdf").write_bytes(pdf)
    return subprocess.run(
        [sys.executable, str(STANDALONE), "cert", str(tmp_path / "cert.pdf"), "--vkey", vkey],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_replacement_keys_certificate_states_its_enrolment_and_approver_and_verifies(
    world: LedgerFactory, tmp_path: Path
) -> None:
    enrolled_index, index, pdf = _replacement_certificate(world)
    enrolled = world.ledger.entry(enrolled_index)
    when = format_short_wib(enrolled.time, "id")
    said = (
        f"Kunci penanda tangan didaftarkan di entri #{enrolled_index}, {when}, atas pernyataan admin NIP "
        f"{format_nip(ADMIN_NIP)}. Sebagai kunci pengganti, kunci ini disetujui oleh admin NIP "
        f"{format_nip(nip(SECOND_ADMIN))}."
    )
    report = examine_certificate(pdf, world.ledger.verifier)
    assert report.valid, [(c.name, c.detail) for c in report.checks]
    facts = report.facts
    assert facts is not None and facts.enrolled_index == enrolled_index
    assert facts.vouching == Vouching(enrolled.time, "official", ADMIN_NIP, nip(SECOND_ADMIN))
    lines = page_lines(facts, world.ledger.verifier.fingerprint, read_embedded(pdf).presentation)
    assert said in " ".join(lines), "the line(s) below the signing time"

    uploaded = examine_upload(world.ledger, pdf)
    assert uploaded.valid, [(c.name, c.detail) for c in uploaded.checks]
    done = _standalone(pdf, tmp_path, str(world.ledger.verifier))
    assert done.returncode == 0 and "VALID" in done.stdout, done.stdout + done.stderr

    # certificate.json keeps the format every verifier reads: the vouching is the entry's.
    manifest = json.loads(attachments(pdf)[MANIFEST])
    assert set(manifest["facts"]) == set(STATED) and "vouching" not in manifest["facts"]

    english = certificate_pdf(world.ledger, index, lang="en", base_url=BASE_URL, now=PRINTED)
    assert examine_certificate(english, world.ledger.verifier).valid
    lines = page_lines(facts, world.ledger.verifier.fingerprint, read_embedded(english).presentation)
    assert any(line.startswith(f"The signer's key was enrolled at entry #{enrolled_index},") for line in lines)
    assert "As a replacement key, it was approved by admin NIP" in " ".join(lines)


def test_a_page_that_names_another_approver_is_refused_as_edited(world: LedgerFactory) -> None:
    _, _, pdf = _replacement_certificate(world, presentation=1)  # its text is legible in its drawing
    second, other = format_nip(nip(SECOND_ADMIN)).encode(), format_nip(nip(97)).encode()
    forged = rebuild(pdf, page_edit=(second, other))
    report = examine_certificate(forged, world.ledger.verifier)
    assert not report.valid and report.reason is Reason.EDITED
    page = next(c for c in report.checks if c.name == "page")
    assert page.failed and other.decode() in page.detail and second.decode() in page.detail, page.detail
    assert not examine_upload(world.ledger, forged).valid


def test_a_first_key_states_its_attester_and_no_approval(world: LedgerFactory) -> None:
    index = world.sign(2).entry.index
    pdf = certificate_pdf(world.ledger, index, base_url=BASE_URL, now=PRINTED)
    report = examine_certificate(pdf, world.ledger.verifier)
    assert report.valid and report.facts is not None and report.facts.vouching is not None
    text = " ".join(page_lines(report.facts, world.ledger.verifier.fingerprint, read_embedded(pdf).presentation))
    assert f"atas pernyataan admin NIP {format_nip(ADMIN_NIP)}." in text and "disetujui" not in text


def test_a_certificate_of_a_ledger_before_vouching_is_printed_as_it_always_was(
    ledger_factory: LedgerFactory,
) -> None:
    world = ledger_factory
    world.signer = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    world.ledger.create("Kota Uji", ORIGIN, world.signer, world.now(), rules=2)
    world.official(1)  # no invitation before rules version 3
    actions.publish(world.ctx, "uji", "Komitmen Uji", "Kami berkomitmen.\n", [nip(1)], "admin", world.now())
    index = world.sign(1, slug="uji").entry.index
    pdf = certificate_pdf(world.ledger, index, base_url=BASE_URL, now=PRINTED)
    report = examine_certificate(pdf, world.ledger.verifier)
    assert report.valid and report.facts is not None and report.facts.vouching is None
    lines = page_lines(report.facts, world.ledger.verifier.fingerprint, read_embedded(pdf).presentation)
    assert not any("didaftarkan" in line for line in lines)
    assert set(json.loads(attachments(pdf)[MANIFEST])["facts"]) == set(STATED)


def test_the_ikrar_0_1_certificate_is_drawn_byte_for_byte_as_it_was() -> None:
    """The page Ikrar draws today from the legacy certificate's evidence is the very content
    stream that Ikrar 0.1 printed, and its certificate.json states today's facts exactly."""
    data = (LEGACY / "certificate-5.pdf").read_bytes()
    report = examine_certificate(data)
    assert report.intact and report.facts is not None and report.facts.vouching is None
    embedded = read_embedded(data)
    ours = page_drawing(render_page(report.facts, embedded.vkey.fingerprint, embedded.presentation))
    theirs = page_drawing(data)
    assert ours.content == theirs.content and ours.resources == theirs.resources
    assert json.loads(attachments(data)[MANIFEST])["facts"] == report.facts.to_json()
