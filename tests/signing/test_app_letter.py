"""The Surat Rekomendasi (issue 15 point 4): one letter per decision, its QR code, its
evidence, and its verification by scan, by upload and offline — on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from ledger.application import CHECKLIST
from ledger.db import make_engine
from ledger.errors import NotFound
from ledger.schema import migrate
from ledger.store import Ledger
from signing import apps
from signing.app_letter import FORMAT, MANIFEST, grant_in_force, render_letter
from signing.cert_words import format_nip
from signing.doc_kop import Letterhead
from signing.errors import Reason
from signing.keystore import KeyStore
from signing.verify_app import examine, examine_app_entry, load_app_entry
from signing.verify_cert import examine_certificate, examine_upload
from signing.verify_entry import Verdict
from web import cli
from web.runtime import Runtime
from web.settings import Settings

from ..certs import BASE_URL, PRINTED, attachments, read_qr_codes
from ..factories import (
    ADMIN_NIP,
    ADMIN_PASSPHRASE,
    FAST_KDF,
    LedgerFactory,
    nip,
    passphrase,
    passphrase_of,
    request_object,
)
from .documents import all_text, rebuild_pages, squash

AGENCY = "Dinas 1"  # the unit of the factory's official 1: the Kepala PD
HEAD, REVIEWER, DECIDER = 1, 2, 3
OFFICE = "Dinas Komunikasi dan Informatika"
DECISIONS = {
    "recommended": [],
    "recommended_with_notes": ["Gunakan SSO Pemerintah Kota sebelum aplikasi dioperasikan", "Uji beban dahulu"],
    "not_recommended": ["Aplikasi umum SRIKANDI sudah melayani kebutuhan ini"],
}
WORDS = {
    "recommended": "DIREKOMENDASIKAN",
    "recommended_with_notes": "DIREKOMENDASIKAN DENGAN CATATAN",
    "not_recommended": "TIDAK DIREKOMENDASIKAN",
}


def _request(**changes: Any) -> dict[str, Any]:
    """The factory's request for our Kepala PD's agency, with no files and a budget of Rp1.25 billion."""
    return request_object(AGENCY, **{"attachments": [], "budget_amount": 1_250_000_000, **changes})


def _checklist() -> dict[str, Any]:
    found = {point: {"finding": "fits", "note": ""} for point in CHECKLIST}
    found["security"] = {"finding": "concern", "note": "Rencana uji penetrasi belum dijadwalkan."}
    return found


def with_roles(world: LedgerFactory) -> LedgerFactory:
    """The roles of issue 15, given by the admin: a Kepala PD, a reviewer, the Kepala Dinas Kominfo."""
    for who, role, unit in (
        (HEAD, "pd-head", AGENCY),
        (REVIEWER, "reviewer", "Bidang Aplikasi Informatika"),
        (DECIDER, "kominfo-head", OFFICE),
    ):
        apps.assign_role(
            world.ctx, nip(who), role, unit, True, "Penetapan tugas", ADMIN_NIP, ADMIN_PASSPHRASE, world.now()
        )
    return world


def submitted(world: LedgerFactory, **changes: Any) -> str:
    appended = apps.submit_app(world.ctx, None, _request(**changes), nip(HEAD), passphrase(HEAD), world.now())
    return str(appended.entry.fields["app"])


def decided(
    world: LedgerFactory, decision: str, *, returned: bool = True, decider: str | None = None
) -> tuple[str, int]:
    """An application returned once, revised, reviewed and decided (by `decider`, default the
    factory's official 3): its id and the decision's index."""
    decider = decider or nip(DECIDER)
    app = submitted(world)
    if returned:
        apps.return_app(world.ctx, app, nip(REVIEWER), ["Rencana anggaran belum dilampirkan."], world.now())
        apps.submit_app(world.ctx, None, _request(goals="Izin terbit dalam 2 hari kerja."), nip(HEAD),
                        passphrase(HEAD), world.now(), app=app)  # fmt: skip
    apps.review_app(world.ctx, app, nip(REVIEWER), _checklist(), world.now())
    entry = apps.decide_app(world.ctx, app, decision, DECISIONS[decision], decider, passphrase_of(decider), world.now())
    return app, entry.entry.index


def letter(world: LedgerFactory, app: str, lang: str = "id") -> bytes:
    return render_letter(world.ledger, app, lang=lang, base_url=BASE_URL, now=PRINTED, letterhead=Letterhead(OFFICE))


@pytest.fixture()
def apps_world(world: LedgerFactory) -> LedgerFactory:
    return with_roles(world)


@pytest.mark.parametrize("decision", list(DECISIONS))
def test_each_decision_renders_and_verifies(apps_world: LedgerFactory, decision: str, tmp_path: Any) -> None:
    world = apps_world
    app, index = decided(world, decision)
    pdf = letter(world, app)
    text = squash(all_text(pdf))
    for fact in [
        "PEMERINTAH KOTA KEDIRI (UJI)",
        f"Nomor: {index}/IKRAR/2026",
        "Rekomendasi Aplikasi Sistem Informasi Perizinan Terpadu",
        f"Yth. Kepala {AGENCY}",
        f"{app}, revisi 2",
        "Rp1.250.000.000 (APBD), tahun anggaran 2027",
        "Penyedia: PT Contoh Teknologi",
        "Pusat Data Nasional (PDN)",
        "Perlu perhatian",
        "Rencana uji penetrasi belum dijadwalkan.",
        WORDS[decision],
        *DECISIONS[decision],
        "Pejabat 3",  # the Kepala Dinas Kominfo signed
        f"NIP {format_nip(nip(DECIDER))}",
        f"Entri buku besar #{index}",
        "Rencana anggaran belum dilampirkan.",  # the return, in the history
    ]:
        assert squash(fact) in text, fact
    assert squash(WORDS["recommended_with_notes"]) not in text or decision == "recommended_with_notes"
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.trailer["/Root"]["/Lang"] == "id"
    manifest = json.loads(attachments(pdf)[MANIFEST])
    assert manifest["format"] == FORMAT and manifest["decision_index"] == index
    assert manifest["facts"]["decision"] == decision

    offline = examine_certificate(pdf, world.ledger.verifier)
    assert offline.valid, [(c.name, c.detail) for c in offline.failures]
    assert offline.kind == "letter" and offline.letter is not None and offline.letter.app == app
    report = examine_upload(world.ledger, pdf)
    assert report.valid, [(c.name, c.detail) for c in report.failures]
    assert {c.name for c in report.checks} >= {"signatures", "letter", "facts", "page", "ledger", "office"}


def test_the_qr_code_opens_the_decisions_verify_page(apps_world: LedgerFactory) -> None:
    app, index = decided(apps_world, "recommended_with_notes")
    pdf = letter(apps_world, app)
    codes = [c.text for page in range(len(PdfReader(io.BytesIO(pdf)).pages)) for c in read_qr_codes(pdf, 150, page)]
    assert len(codes) == 1
    url = urlsplit(codes[0])
    assert codes[0].startswith(f"{BASE_URL}/v/{index}?h=")
    report = examine_app_entry(apps_world.ledger, index, parse_qs(url.query)["h"][0])
    assert report.verdict is Verdict.VALID, [(c.name, c.detail) for c in report.checks if c.failed]
    assert {c.name for c in report.checks} >= {"signatures", "role", "active_key", "inclusion", "printed"}


def test_an_edited_letter_fails_with_its_difference(apps_world: LedgerFactory) -> None:
    app, _ = decided(apps_world, "recommended")
    pdf = letter(apps_world, app)
    # one byte of the text: the decision's word on the page
    forged = rebuild_pages(pdf, b"DIREKOMENDASIKAN", b"DIREKOMENDASIKAM")
    report = examine_upload(apps_world.ledger, forged)
    assert not report.valid and report.reason is Reason.EDITED
    page = next(c for c in report.checks if c.name == "page")
    assert page.failed and page.difference is not None
    assert page.difference.ledger is not None and "DIREKOMENDASIKAN" in page.difference.ledger
    # one fact in the JSON: the decision
    manifest = attachments(pdf)[MANIFEST]
    edited = manifest.replace(b'"decision": "recommended"', b'"decision": "not_recommended"', 1)
    assert edited != manifest
    report = examine_upload(apps_world.ledger, rebuild_pages(pdf, replace={MANIFEST: edited}))
    facts = next(c for c in report.checks if c.name == "facts")
    assert facts.failed and facts.difference is not None
    assert (facts.difference.fact, facts.difference.printed, facts.difference.ledger) == (
        "decision",
        "not_recommended",
        "recommended",
    )


def test_a_letter_needs_a_decision(apps_world: LedgerFactory) -> None:
    app = submitted(apps_world)
    with pytest.raises(NotFound) as caught:
        letter(apps_world, app)
    assert caught.value.code == "app.no_decision"
    with pytest.raises(NotFound) as unknown:
        letter(apps_world, "2026-9999")
    assert unknown.value.code == "app.not_found"


def test_offline_verify_cert_passes_and_fails(
    apps_world: LedgerFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ikrar verify-cert FILE` checks a letter from its attachments alone."""
    app, _ = decided(apps_world, "not_recommended")
    out = tmp_path / "surat.pdf"
    out.write_bytes(letter(apps_world, app))
    vkey = tmp_path / "ledger.vkey"
    vkey.write_text(f"{apps_world.ledger.verifier}\n")
    monkeypatch.setenv("IKRAR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(cli, "_runtime", lambda: Runtime.with_context(Settings.from_env(), apps_world.ctx))
    done = CliRunner().invoke(cli.app, ["verify-cert", str(out), "--vkey", str(vkey)])
    assert done.exit_code == 0, done.output
    assert "VALID" in done.output and "letter" in done.output
    forged = tmp_path / "palsu.pdf"
    forged.write_bytes(rebuild_pages(out.read_bytes(), b"TIDAK DIREKOMENDASIKAN", b"  DIREKOMENDASIKAN    "))
    failed = CliRunner().invoke(cli.app, ["verify-cert", str(forged), "--vkey", str(vkey)])
    assert failed.exit_code == 1 and "page" in failed.output


def test_a_letter_of_another_ledger_or_without_an_entry_fails(apps_world: LedgerFactory, tmp_path: Path) -> None:
    app, _ = decided(apps_world, "recommended", returned=False)
    pdf = letter(apps_world, app)
    files = attachments(pdf)
    manifest = json.loads(files[MANIFEST])
    # a letter that leaves out the review: its entries no longer hold a review of the decided revision
    review = next(i for i in manifest["history"] if apps_world.ledger.entry(i).kind == "app.reviewed")
    manifest["history"].remove(review)
    cut = rebuild_pages(pdf, replace={MANIFEST: json.dumps(manifest).encode()})
    report = examine_upload(apps_world.ledger, cut)
    check = next(c for c in report.checks if c.name == "letter")
    assert check.failed and "review" in check.detail
    # a ledger that is not this letter's
    engine = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    migrate(engine)
    other = LedgerFactory(Ledger(engine), KeyStore(tmp_path / "other-keys", FAST_KDF)).created()
    foreign = examine_upload(other.ledger, pdf)
    assert not foreign.valid and foreign.reason is Reason.FOREIGN


def test_the_verify_page_refuses_a_signer_who_did_not_hold_the_role(apps_world: LedgerFactory) -> None:
    """The role check's failing twin: the same decision, read as if no role had been given."""
    app, index = decided(apps_world, "recommended", returned=False)
    with apps_world.ledger.read() as r:
        subject = load_app_entry(r, index)
    report = examine(replace(subject, events=[]))
    role = next(c for c in report.checks if c.name == "role")
    assert report.verdict is Verdict.INVALID and role.failed
    assert f"{nip(DECIDER)} was not the Kepala Dinas Kominfo" in role.detail


def test_a_withdrawn_role_ends_with_the_grant_that_replaced_it() -> None:
    """`grant_in_force` replays the rules: one Kepala Dinas Kominfo, one Kepala PD a unit."""

    @dataclass
    class Event:
        index: int
        nip: str
        role: str
        unit: str
        grant: bool

    events = [
        Event(1, "a", "kominfo-head", "Diskominfo", True),
        Event(3, "b", "kominfo-head", "Dinas Kominfo", True),  # ends a's
        Event(5, "c", "pd-head", "Dinas 1", True),
        Event(7, "d", "pd-head", "Dinas 2", True),  # another unit: c keeps theirs
        Event(9, "c", "pd-head", "Dinas 1", False),
    ]
    assert grant_in_force(events, "a", "kominfo-head", None, 2) == 1
    assert grant_in_force(events, "a", "kominfo-head", None, 4) is None
    assert grant_in_force(events, "b", "kominfo-head", None, 4) == 3
    assert grant_in_force(events, "c", "pd-head", "Dinas 1", 8) == 5
    assert grant_in_force(events, "c", "pd-head", "Dinas 2", 8) is None
    assert grant_in_force(events, "c", "pd-head", "Dinas 1", 10) is None
    assert grant_in_force(events, "d", "pd-head", "Dinas 2", 10) == 7


@pytest.mark.parametrize("kind", ["role.assigned", "app.submitted", "app.reviewed", "app.returned", "app.decided"])
def test_every_entry_of_the_process_verifies(apps_world: LedgerFactory, kind: str) -> None:
    decided(apps_world, "recommended_with_notes")
    index = max(i for i in range(apps_world.ledger.size()) if apps_world.ledger.entry(i).kind == kind)
    report = examine_app_entry(apps_world.ledger, index)
    assert report.verdict is Verdict.VALID, [(c.name, c.detail) for c in report.checks if c.failed]
    assert (report.grant is None) == (kind == "role.assigned")
    printed = next(c for c in report.checks if c.name == "printed")
    assert not printed.passed and not printed.failed  # no h= given: nothing printed to compare


def test_the_english_letter_and_its_facts(apps_world: LedgerFactory) -> None:
    app, index = decided(apps_world, "recommended_with_notes")
    pdf = letter(apps_world, app, "en")
    text = squash(all_text(pdf))
    for fact in ["RECOMMENDED WITH NOTES", "IDR 1,250,000,000 (APBD), fiscal year 2027", "Vendor: PT Contoh Teknologi",
                 f"Number: {index}/IKRAR/2026", "Page 1 of"]:  # fmt: skip
        assert squash(fact) in text, fact
    assert examine_upload(apps_world.ledger, pdf).valid


def test_a_signer_without_a_nip_is_named_without_one(apps_world: LedgerFactory) -> None:
    """The Kepala Dinas Kominfo's block prints "NIP …" only for a NIP, as the naskah does."""
    head = apps_world.without_nip("Kepala Dinas Uji", "Kepala Dinas Komunikasi dan Informatika")
    apps.assign_role(apps_world.ctx, head, "kominfo-head", OFFICE, True, "Pelantikan", ADMIN_NIP, ADMIN_PASSPHRASE,
                     apps_world.now())  # fmt: skip
    app, _ = decided(apps_world, "recommended", returned=False, decider=head)
    pdf = letter(apps_world, app)
    text = squash(all_text(pdf))
    assert squash("Kepala Dinas Uji") in text and squash(f"NIP {head}") not in text
    assert squash(f"NIP {format_nip(nip(HEAD))}") not in text  # the Kepala PD signs no block either
    assert examine_upload(apps_world.ledger, pdf).valid
