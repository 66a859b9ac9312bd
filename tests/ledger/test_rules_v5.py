"""Rules version 5 (issue 15): roles given by admins' signed entries, and applications that
Diskominfo verifies — a request signed by the Kepala PD, reviews and returns, and a decision
signed by the Kepala Dinas Kominfo.

The shapes (`ledger.application`), every kind at append (each refusal names its code, and
nothing is written), through the reader, in the audit (a decision forged past the rules, a
tampered derived row), by `rebuild`, and with `openssl` for the three statements; on SQLite
and on PostgreSQL. The register's drafts and attachments too.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update
from typer.testing import CliRunner

from ledger.application import (
    APP_ID,
    CHECKLIST,
    MAX_ATTACHMENTS,
    canonical_checklist,
    canonical_request,
    check_checklist,
    check_notes,
    check_reasons,
    check_request,
    parse_checklist,
    parse_request,
    request_sha256,
)
from ledger.audit import audit
from ledger.canonical import canonical_json
from ledger.checkpoint import Checkpoint
from ledger.db import APP, APP_EVENT, CHECKPOINT, ENTRY, INSERT, ROLE, TABLES
from ledger.entries import entry_from_leaf, make_entry
from ledger.errors import ChainBroken, Conflict, DerivedMismatch, InvalidInput, NotFound, SignatureRejected
from ledger.merkle import CompactRange
from ledger.models import AppEventRow, Application, CheckpointRow, EntryRow, RoleGrant
from ledger.note import VerifierKey
from ledger.register import DraftRecord
from ledger.state import APPS_RULES, RULES
from ledger.statements import APP_DECISION_V1, APP_REQUEST_V1, ROLE_V1, AppDecision, AppRequest, Role
from ledger.times import format_time, parse_time
from signing import actions
from tests.factories import (
    ADMIN_NIP,
    ADMIN_PASSPHRASE,
    FAST_KDF,
    KOMINFO,
    PD,
    LedgerFactory,
    append_decision,
    append_request,
    append_return,
    append_review,
    append_role,
    apps_world,
    checklist_object,
    nip,
    request_object,
)
from tests.ledger.test_rules_v4 import _openssl_verifies
from web.cli import app as cli
from web.errors import message_of
from web.i18n import Translator

HEAD, REVIEWER, DECIDER = nip(1), nip(2), nip(3)


def _audit(world: LedgerFactory) -> None:
    """The whole audit, derived tables included."""
    with world.ledger.read() as r:
        audit(r.stored_entries(), r.stored_checkpoints(), world.ledger.verifier, derived=r)


def _refused(world: LedgerFactory, attempt: Callable[[], Any], code: str, error: type[Exception] = Conflict) -> None:
    """`attempt` is refused with `code`, nothing is written, and the web says why in Indonesian
    and in English (`web.errors`, `web/locales/*/ledger5.json`)."""
    size = world.ledger.size()
    with pytest.raises(error) as caught:
        attempt()
    assert getattr(caught.value, "code", None) == code, caught.value
    assert world.ledger.size() == size
    for lang in ("id", "en"):  # said in both languages, every field of the message filled
        said = message_of(caught.value, Translator(lang))
        assert "{" not in said and "ledger5." not in said, said
    assert message_of(caught.value, Translator("id")) != str(caught.value)  # a message of its own


@pytest.fixture()
def apps(world: LedgerFactory) -> LedgerFactory:
    """`world` with the roles of the applications: official 1 the Kepala PD of `PD`, 2 a
    Diskominfo reviewer, 3 the Kepala Dinas Kominfo."""
    apps_world(world)
    return world


def _submitted(world: LedgerFactory, app: str = "2026-0001") -> str:
    append_request(world, app, HEAD)
    return app


def _reviewed(world: LedgerFactory, app: str = "2026-0001") -> str:
    _submitted(world, app)
    append_review(world, app, REVIEWER)
    return app


# -- the shapes: requests, checklists, notes and reasons -----------------------------------


def test_a_request_is_checked_written_canonically_and_read_back() -> None:
    request = request_object()
    check_request(request)
    text = canonical_request(request)
    assert text == canonical_json(request).decode() and text.startswith('{"agency":')
    assert parse_request(text) == request
    assert request_sha256(text) == hashlib.sha256(text.encode()).hexdigest()
    assert APP_ID.fullmatch("2026-0001") and not APP_ID.fullmatch("26-0001") and not APP_ID.fullmatch("2026-0001 ")
    assert not APP_ID.fullmatch("２０２６-0001")  # ASCII digits only


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"name": None}, "name", "missing"),
        ({"colour": "red"}, "colour", "unexpected"),
        ({"users_count": True}, "users_count", "type"),  # a bool is no number here
        ({"users_internal": 1}, "users_internal", "type"),
        ({"fiscal_year": "2027"}, "fiscal_year", "type"),
        ({"name": "   "}, "name", "blank"),
        ({"name": "x" * 121}, "name", "too_long"),
        ({"description": "x" * 2001}, "description", "too_long"),
        ({"name": "Satu\nDua"}, "name", "line_break"),
        ({"contact": "a\rb"}, "contact", "line_break"),
        ({"name": "Sistem\u00a0Perizinan"}, "name", "control_chars"),  # a no-break space, as pasted
        ({"problem": "bel\x07"}, "problem", "control_chars"),
        ({"kind": "purchase"}, "kind", "choice"),
        ({"hosting": "cloud"}, "hosting", "choice"),
        ({"builder": "Vendor"}, "builder", "choice"),
        ({"users_count": -1}, "users_count", "range"),
        ({"budget_amount": 10**15 + 1}, "budget_amount", "range"),
        ({"fiscal_year": 1999}, "fiscal_year", "range"),
        ({"target_date": "2027-02-30"}, "target_date", "date"),
        ({"target_date": "30-06-2027"}, "target_date", "date"),
        ({"target_date": 20270630}, "target_date", "type"),
        ({"vendor": " "}, "vendor", "required"),
        ({"shared_app": "SRIKANDI"}, "shared_why_not", "required"),
        ({"hosting": "other"}, "hosting_reason", "required"),
        ({"personal_data": False, "specific_personal_data": True}, "specific_personal_data", "personal_data"),
        ({"prepared_by": "operator"}, "prepared_by", "identifier"),
        ({"attachments": "kak.pdf"}, "attachments", "type"),
    ],
)
def test_a_request_out_of_shape_is_refused_naming_the_field(change: dict[str, Any], field: str, problem: str) -> None:
    request = {k: v for k, v in (request_object() | change).items() if v is not None}
    with pytest.raises(InvalidInput) as caught:
        check_request(request)
    assert caught.value.code == "app.request"
    assert (caught.value.params["field"], caught.value.params["problem"]) == (field, problem), caught.value
    assert field in str(caught.value)


def test_the_answers_that_ask_for_another_are_accepted_with_it() -> None:
    check_request(request_object(shared_app="SRIKANDI", shared_why_not="Tidak melayani perizinan."))
    check_request(request_object(builder="in_house", vendor=""))
    check_request(request_object(hosting="other", hosting_reason="Server milik kementerian."))
    check_request(request_object(personal_data=False, specific_personal_data=False, attachments=[], prepared_by=nip(4)))
    check_request(request_object(prepared_by="pn-7kq3xa", description="Baris satu.\nBaris dua.\tTab."))


@pytest.mark.parametrize(
    ("attachments", "field", "problem"),
    [
        (
            [{"title": "KAK", "file": "kak.pdf", "sha256": "a" * 64, "bytes": 1, "internal": False}] * 2,
            "attachments.1.sha256",
            "twice",
        ),
        (
            [{"title": "KAK", "file": "kak.pdf", "sha256": "A" * 64, "bytes": 1, "internal": False}],
            "attachments.0.sha256",
            "sha256",
        ),
        (
            [{"title": "KAK", "file": "kak.pdf", "sha256": "a" * 64, "bytes": 0, "internal": False}],
            "attachments.0.bytes",
            "range",
        ),
        (
            [{"title": "KAK", "file": "kak.pdf", "sha256": "a" * 64, "bytes": 10 * 1024 * 1024 + 1, "internal": False}],
            "attachments.0.bytes",
            "range",
        ),
        (
            [{"title": "", "file": "kak.pdf", "sha256": "a" * 64, "bytes": 1, "internal": False}],
            "attachments.0.title",
            "blank",
        ),
        ([{"title": "KAK", "file": "kak.pdf", "sha256": "a" * 64, "bytes": 1}], "attachments.0.internal", "missing"),
        (["kak.pdf"], "attachments.0", "type"),
        (
            [
                {"title": f"L{i}", "file": f"{i}.pdf", "sha256": f"{i:064x}", "bytes": 1, "internal": False}
                for i in range(MAX_ATTACHMENTS + 1)
            ],
            "attachments",
            "too_many",
        ),
    ],
)
def test_attachments_are_listed_by_title_file_hash_size_and_whether_internal(
    attachments: list[Any], field: str, problem: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_request(request_object(attachments=attachments))
    assert (caught.value.params["field"], caught.value.params["problem"]) == (field, problem)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not json", "json"),
        ("[1, 2]", "json"),
        ('{"a": 1.5}', "json"),  # no floats in a request
        (json.dumps(request_object(), ensure_ascii=False), "not_canonical"),  # spaces, key order
        (
            json.dumps(request_object(name="Perizinan — Kota Kediri"), sort_keys=True, separators=(",", ":")),
            "not_canonical",
        ),
    ],
)
def test_a_request_text_is_its_canonical_json_or_nothing(text: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_request(text)
    assert caught.value.code == "app.request" and caught.value.params["problem"] == problem


def test_a_checklist_names_every_point_with_a_finding_and_a_note_unless_it_fits() -> None:
    checklist = checklist_object(duplication=("concern", "Mirip aplikasi SiCantik nasional."))
    assert parse_checklist(canonical_checklist(checklist)) == checklist
    bad: list[tuple[Any, str, str]] = [
        ({k: v for k, v in checklist.items() if k != "security"}, "security", "missing"),
        (checklist | {"budget": {"finding": "fits", "note": ""}}, "budget", "unexpected"),
        (checklist_object(hosting=("concern", " ")), "hosting.note", "required"),
        (checklist_object(hosting=("does_not_fit", "")), "hosting.note", "required"),
        (checklist_object(security=("bad", "x")), "security.finding", "choice"),
        (checklist_object(security=("concern", "x" * 2001)), "security.note", "too_long"),
        (checklist | {"architecture": "fits"}, "architecture", "type"),
        (checklist | {"architecture": {"finding": "fits"}}, "architecture.note", "missing"),
    ]
    for obj, field, problem in bad:
        with pytest.raises(InvalidInput) as caught:
            check_checklist(obj)
        assert caught.value.code == "app.checklist"
        assert (caught.value.params["field"], caught.value.params["problem"]) == (field, problem), obj
    assert tuple(checklist) == CHECKLIST


def test_notes_follow_the_decision_and_reasons_are_given() -> None:
    check_notes("recommended", [])
    check_notes("recommended_with_notes", ["Gunakan SSO kota."])
    check_notes("not_recommended", ["SRIKANDI melayani kebutuhan ini."] * 20)
    cases: list[tuple[str, list[Any], str, str]] = [
        ("approved", [], "decision", "choice"),
        ("recommended", ["x"], "notes", "not_allowed"),
        ("recommended_with_notes", [], "notes", "too_few"),
        ("not_recommended", ["x"] * 21, "notes", "too_many"),
        ("not_recommended", [" "], "notes.0", "blank"),
        ("not_recommended", ["ok", "dua\nbaris"], "notes.1", "line_break"),
        ("not_recommended", ["x" * 2001], "notes.0", "too_long"),
        ("not_recommended", [3], "notes.0", "type"),
    ]
    for decision, notes, field, problem in cases:
        with pytest.raises(InvalidInput) as caught:
            check_notes(decision, notes)
        assert caught.value.code == "app.notes"
        assert (caught.value.params["field"], caught.value.params["problem"]) == (field, problem)
    check_reasons(["Lengkapi KAK.", "Anggaran belum dirinci.\nLihat RAB halaman 2."])  # a reason may run on
    for reasons, field, problem in (
        ([], "reasons", "too_few"),
        ([""], "reasons.0", "blank"),
        (["x"] * 21, "reasons", "too_many"),
    ):
        with pytest.raises(InvalidInput) as caught:
            check_reasons(reasons)
        assert caught.value.code == "app.reasons" and caught.value.params["problem"] == problem
        assert caught.value.params["field"] == field


# -- roles ---------------------------------------------------------------------------------


def test_roles_are_given_withdrawn_and_read_in_force(world: LedgerFactory) -> None:
    given = append_role(world, nip(1), "pd-operator", PD, reason="SK Kepala Dinas 12/2026")
    append_role(world, nip(2), "pd-operator", PD)  # many operators a unit
    append_role(world, nip(1), "reviewer", KOMINFO)
    withdrawn = append_role(world, nip(1), "pd-operator", PD, grant=False, reason="Pindah bidang")
    assert given.entry.fields["grant"] is True and withdrawn.entry.fields["grant"] is False
    with world.ledger.read() as r:
        assert [(g.nip, g.role, g.unit) for g in r.roles()] == [
            (nip(2), "pd-operator", PD),
            (nip(1), "reviewer", KOMINFO),
        ]
        assert r.holds_role(nip(1), "reviewer") and r.holds_role(nip(1), "reviewer", KOMINFO)
        assert not r.holds_role(nip(1), "reviewer", PD) and not r.holds_role(nip(1), "pd-operator")
        events = r.role_events(nip(1))
    assert [(e.role, e.grant, e.reason, e.attested_by) for e in events] == [
        ("pd-operator", True, "SK Kepala Dinas 12/2026", ADMIN_NIP),
        ("reviewer", True, "Penugasan", ADMIN_NIP),
        ("pd-operator", False, "Pindah bidang", ADMIN_NIP),
    ]
    assert events[0].ended_index == withdrawn.entry.index and events[1].ended_index is None
    append_role(world, nip(1), "pd-operator", PD)  # given again after a withdrawal
    _audit(world)


def test_one_kepala_pd_a_unit_and_one_kepala_dinas_kominfo_in_the_ledger(world: LedgerFactory) -> None:
    first = append_role(world, nip(1), "pd-head", PD)
    append_role(world, nip(1), "pd-head", "Dinas Perhubungan")  # a Plt. heading a second PD
    second = append_role(world, nip(2), "pd-head", PD)  # the new Kepala PD: the previous grant ends
    append_role(world, nip(2), "kominfo-head", KOMINFO)
    append_role(world, nip(3), "kominfo-head", "Dinas Kominfo (Plt.)")  # one in the whole ledger
    with world.ledger.read() as r:
        heads = [(g.nip, g.unit) for g in r.roles(role="pd-head")]
        assert heads == [(nip(2), PD), (nip(1), "Dinas Perhubungan")]  # by unit
        assert [g.nip for g in r.roles(role="kominfo-head")] == [nip(3)]
        ended = {e.index: e for e in r.role_events()}
    assert ended[first.entry.index].ended_index == second.entry.index
    assert ended[first.entry.index].ended_time == second.entry.time
    _refused(world, lambda: append_role(world, nip(1), "pd-head", PD, grant=False), "role.not_held")
    _refused(world, lambda: append_role(world, nip(2), "kominfo-head", KOMINFO, grant=False), "role.not_held")
    _audit(world)


def test_a_role_is_refused_at_append_for_each_broken_rule(world: LedgerFactory) -> None:
    world.official(4, enrol=False)  # registered, never enrolled
    append_role(world, nip(1), "reviewer", KOMINFO)
    admin_key = str(actions.active_key(world.ledger, ADMIN_NIP))
    official_key = str(actions.active_key(world.ledger, nip(2)))
    cases: list[tuple[Callable[[], Any], str]] = [
        (lambda: append_role(world, nip(4), "reviewer", KOMINFO), "role.unknown"),
        (lambda: append_role(world, nip(2), "kepala", KOMINFO), "role.role"),
        (lambda: append_role(world, nip(2), "reviewer", " "), "role.unit"),
        (lambda: append_role(world, nip(2), "reviewer", "Dinas\nKominfo"), "statement.line_break"),
        (lambda: append_role(world, nip(2), "reviewer", KOMINFO, reason=""), "role.reason"),
        (lambda: append_role(world, nip(2), "reviewer", KOMINFO, reason="a\nb"), "statement.line_break"),
        (lambda: append_role(world, nip(1), "reviewer", KOMINFO), "role.held"),
        (lambda: append_role(world, nip(2), "reviewer", KOMINFO, grant=False), "role.not_held"),
        (lambda: append_role(world, ADMIN_NIP, "kominfo-head", KOMINFO), "key.self_attested"),
        (lambda: append_role(world, nip(2), "reviewer", KOMINFO, by=nip(1)), "key.attester_not_admin"),
        (lambda: append_role(world, nip(2), "reviewer", KOMINFO, attested_by=nip(3)), "key.voucher_name"),
        (lambda: append_role(world, nip(2), "reviewer", KOMINFO, attester=admin_key + " "), "key.spelling"),
        (
            lambda: append_role(world, nip(2), "reviewer", KOMINFO, attester=str(world.ledger.verifier)),
            "key.attester_not_admin",
        ),
        (lambda: append_role(world, "19750314 200104 1 002", "reviewer", KOMINFO), "key.nip_form"),
    ]
    for attempt, code in cases:
        _refused(world, attempt, code)
    with pytest.raises(InvalidInput, match="must be bool"):
        append_role(world, nip(2), "reviewer", KOMINFO, grant="yes")
    # signed by another key than the attester's: the signature fails
    sig = world.keys.sign(VerifierKey.parse(official_key), "rahasia-tanda-2-tangan", b"x")
    _refused(
        world,
        lambda: append_role(world, nip(2), "reviewer", KOMINFO, attestation=base64.b64encode(sig).decode()),
        "statement.signature",
        SignatureRejected,
    )
    actions.revoke(world.ctx, nip(2), "Laptop hilang", ADMIN_NIP, world.now(), ADMIN_PASSPHRASE)
    _refused(world, lambda: append_role(world, nip(2), "reviewer", KOMINFO), "role.no_key")
    _audit(world)


def test_a_withdrawal_needs_no_active_key(world: LedgerFactory) -> None:
    append_role(world, nip(2), "reviewer", KOMINFO)
    actions.revoke(world.ctx, nip(2), "Pensiun", ADMIN_NIP, world.now(), ADMIN_PASSPHRASE)
    append_role(world, nip(2), "reviewer", KOMINFO, grant=False, reason="Pensiun")
    with world.ledger.read() as r:
        assert not r.holds_role(nip(2), "reviewer")
    _audit(world)


def test_rules_5_come_with_the_ledger_rules_entry_and_not_before(ledger_factory: LedgerFactory) -> None:
    world = ledger_factory.created(rules=4).with_commitment(officials=3)
    _refused(world, lambda: append_role(world, nip(1), "pd-head", PD), "role.early")
    _refused(world, lambda: append_request(world, "2026-0001", nip(1)), "app.early")
    _refused(world, lambda: append_review(world, "2026-0001", nip(2)), "app.early")
    _refused(world, lambda: append_return(world, "2026-0001", nip(2), ["x"]), "app.early")
    _refused(world, lambda: append_decision(world, "2026-0001", nip(3)), "app.early")
    raised = world.ledger.raise_rules(world.signer, world.now())  # type: ignore[arg-type]
    assert raised is not None and raised.entry.fields == {"version": RULES} and RULES == APPS_RULES == 5
    apps_world(world)
    append_request(world, "2026-0001", HEAD)
    _audit(world)


# -- applications --------------------------------------------------------------------------


def test_a_request_goes_back_revised_reviewed_and_decided(apps: LedgerFactory) -> None:
    world = apps
    first = append_request(world, "2026-0001", HEAD, request_object(prepared_by=nip(4)))
    append_review(world, "2026-0001", REVIEWER, obj=checklist_object(security=("concern", "Belum ada uji.")))
    returned = append_return(world, "2026-0001", REVIEWER, ["Lengkapi rencana uji keamanan."])
    with world.ledger.read() as r:
        record = r.application("2026-0001")
        assert record is not None and (record.status, record.revision) == ("returned", 1)
        assert record.updated_time == returned.entry.time
    revised = request_object(security_testing="Uji penetrasi BSSN; pemindaian kerentanan bulanan.")
    second = append_request(world, "2026-0001", HEAD, revised, revision=2)
    append_review(world, "2026-0001", DECIDER, revision=2)  # the Kepala Dinas may review too
    append_review(world, "2026-0001", REVIEWER, revision=2)  # and a revision may be reviewed twice
    decided = append_decision(world, "2026-0001", DECIDER, "recommended_with_notes", ["Gunakan SSO kota."], revision=2)
    other = append_request(world, "2026-0002", HEAD, request_object(name="Aplikasi Kedua", kind="licence"))
    with world.ledger.read() as r:
        record = r.application("2026-0001")
        assert record is not None
        assert (record.status, record.revision, record.decision) == (
            "recommended_with_notes",
            2,
            "recommended_with_notes",
        )
        assert record.request_sha256 == second.entry.fields["request_sha256"] != first.entry.fields["request_sha256"]
        assert (record.first_index, record.submitted_index) == (first.entry.index, second.entry.index)
        assert (record.decided_index, record.decided_time) == (decided.entry.index, decided.entry.time)
        assert (record.agency, record.name, record.kind, record.fiscal_year) == (PD, revised["name"], "new", 2027)
        assert [a.app for a in r.applications()] == ["2026-0002", "2026-0001"]  # newest first
        assert [a.app for a in r.applications(status="submitted")] == ["2026-0002"]
        assert [a.app for a in r.applications(agency=PD, year=2026)] == ["2026-0002", "2026-0001"]
        assert r.applications(year=2027) == [] and r.applications(agency="Dinas Lain") == []
        assert r.application_counts() == {PD: {"submitted": 1, "recommended_with_notes": 1}}
        entries = r.application_entries("2026-0001")
        assert [e.kind for e in entries] == [
            "app.submitted", "app.reviewed", "app.returned", "app.submitted", "app.reviewed", "app.reviewed", "app.decided"
        ]  # fmt: skip
        events = r.app_events("2026-0001")
        assert [(e.kind, e.revision, e.by) for e in events][-1] == ("app.decided", 2, DECIDER)
        assert events[-1].decision == "recommended_with_notes"
        assert r.next_app_id(2026) == "2026-0003" and r.next_app_id(2027) == "2027-0001"
        assert r.application("2026-0009") is None and r.application_entries("2026-0009") == []
    assert other.entry.fields["agency"] == PD
    _refused(world, lambda: append_review(world, "2026-0001", REVIEWER, revision=2), "app.state")  # decided: final
    _refused(world, lambda: append_request(world, "2026-0001", HEAD, revised, revision=3), "app.state")
    _audit(world)


def test_a_request_is_refused_at_append_for_each_broken_rule(apps: LedgerFactory) -> None:
    world = apps
    request = request_object()
    text = canonical_json(request).decode()
    spaced = json.dumps(request)
    blank = request_object(name=" ")
    other = request_object(agency="Dinas Perhubungan")
    cases: list[tuple[Callable[[], Any], str]] = [
        (lambda: append_request(world, "26-0001", HEAD), "app.id"),
        (lambda: append_request(world, "2026-0001", HEAD, revision=0), "app.revision_low"),
        (lambda: append_request(world, "2026-0001", HEAD, revision=2), "app.not_found"),
        (lambda: append_request(world, "2026-0001", HEAD, blank), "app.request"),
        (
            lambda: append_request(world, "2026-0001", HEAD, request=spaced, request_sha256=request_sha256(spaced)),
            "app.request",
        ),
        (lambda: append_request(world, "2026-0001", HEAD, request=text, request_sha256="0" * 64), "app.request_sha256"),
        (lambda: append_request(world, "2026-0001", HEAD, agency="Dinas Perhubungan"), "app.agency"),
        (lambda: append_request(world, "2026-0001", HEAD, other), "app.not_head"),
        (lambda: append_request(world, "2026-0001", REVIEWER), "app.not_head"),
        (
            lambda: append_request(world, "2026-0001", HEAD, key=str(actions.active_key(world.ledger, nip(2)))),
            "app.key_inactive",
        ),
        (lambda: append_request(world, "2026-0001", HEAD, name="Pejabat Lain"), "app.identity"),
        (lambda: append_request(world, "2026-0001", HEAD, capacity="Kepala Dinas"), "app.identity"),
    ]
    for attempt, code in cases:
        _refused(world, attempt, code)
    sig = base64.b64encode(
        world.keys.sign(actions.active_key(world.ledger, HEAD), "rahasia-tanda-1-tangan", b"x")
    ).decode()  # type: ignore[arg-type]
    _refused(
        world, lambda: append_request(world, "2026-0001", HEAD, signature=sig), "statement.signature", SignatureRejected
    )
    _refused(
        world, lambda: append_request(world, "2026-0001", HEAD, signature="AAAA"), "signature.length", SignatureRejected
    )
    append_request(world, "2026-0001", HEAD)
    _refused(world, lambda: append_request(world, "2026-0001", HEAD), "app.exists")
    _refused(world, lambda: append_request(world, "2026-0001", HEAD, revision=2), "app.state")  # waits: not returned
    append_review(world, "2026-0001", REVIEWER)
    append_return(world, "2026-0001", REVIEWER, ["Perbaiki."])
    _refused(world, lambda: append_request(world, "2026-0001", HEAD, revision=3), "app.revision")
    append_role(world, nip(2), "pd-head", "Dinas Perhubungan")
    _refused(world, lambda: append_request(world, "2026-0001", nip(2), other, revision=2), "app.agency")  # keeps its PD
    append_role(world, world.official(4), "pd-head", PD)  # a new Kepala PD: the previous one signs no more
    _refused(world, lambda: append_request(world, "2026-0001", HEAD, revision=2), "app.not_head")
    append_request(world, "2026-0001", nip(4), revision=2)
    _audit(world)


def test_a_revoked_key_signs_no_request(apps: LedgerFactory) -> None:
    world = apps
    key = str(actions.active_key(world.ledger, HEAD))
    actions.revoke(world.ctx, HEAD, "Laptop hilang", ADMIN_NIP, world.now(), ADMIN_PASSPHRASE)
    _refused(world, lambda: append_request(world, "2026-0001", HEAD, key=key), "app.key_inactive")


def test_reviews_and_returns_are_refused_at_append_for_each_broken_rule(apps: LedgerFactory) -> None:
    world = apps
    _refused(world, lambda: append_review(world, "2026-0001", REVIEWER), "app.not_found")
    _refused(world, lambda: append_return(world, "2026-0001", REVIEWER, ["x"]), "app.not_found")
    _submitted(world)
    bad = checklist_object(hosting=("concern", ""))
    cases: list[tuple[Callable[[], Any], str]] = [
        (lambda: append_review(world, "2026-0001", REVIEWER, revision=2), "app.revision"),
        (lambda: append_review(world, "2026-0001", HEAD), "app.not_reviewer"),
        (lambda: append_review(world, "2026-0001", nip(9)), "app.not_reviewer"),
        (lambda: append_review(world, "2026-0001", REVIEWER, obj=bad), "app.checklist"),
        (
            lambda: append_review(world, "2026-0001", REVIEWER, checklist=json.dumps(checklist_object())),
            "app.checklist",
        ),
        (lambda: append_return(world, "2026-0001", REVIEWER, []), "app.reasons"),
        (lambda: append_return(world, "2026-0001", REVIEWER, ["ok", "  "]), "app.reasons"),
        (lambda: append_return(world, "2026-0001", REVIEWER, ["x"] * 21), "app.reasons"),
        (lambda: append_return(world, "2026-0001", REVIEWER, ["x" * 2001]), "app.reasons"),
        (lambda: append_return(world, "2026-0001", HEAD, ["x"]), "app.not_reviewer"),
        (lambda: append_return(world, "2026-0001", REVIEWER, ["x"], revision=2), "app.revision"),
    ]
    for attempt, code in cases:
        _refused(world, attempt, code)
    with pytest.raises(InvalidInput, match="list of strings"):
        append_return(world, "2026-0001", REVIEWER, [1])  # type: ignore[list-item]
    append_return(world, "2026-0001", DECIDER, ["Dikembalikan oleh Kepala Dinas."])  # kominfo-head may return
    _refused(world, lambda: append_review(world, "2026-0001", REVIEWER), "app.state")
    _refused(world, lambda: append_return(world, "2026-0001", REVIEWER, ["lagi"]), "app.state")
    append_role(world, REVIEWER, "reviewer", KOMINFO, grant=False, reason="Mutasi")
    append_request(world, "2026-0001", HEAD, revision=2)
    _refused(world, lambda: append_review(world, "2026-0001", REVIEWER, revision=2), "app.not_reviewer")
    _audit(world)


def test_only_the_kepala_dinas_kominfo_decides_and_only_after_a_review(apps: LedgerFactory) -> None:
    world = apps
    _refused(world, lambda: append_decision(world, "2026-0001", DECIDER), "app.not_found")
    _submitted(world)
    _refused(world, lambda: append_decision(world, "2026-0001", DECIDER), "app.unreviewed")
    append_review(world, "2026-0001", REVIEWER)
    reviewer_key = str(actions.active_key(world.ledger, REVIEWER))
    cases: list[tuple[Callable[[], Any], str]] = [
        (lambda: append_decision(world, "2026-0001", REVIEWER), "app.not_decider"),
        (lambda: append_decision(world, "2026-0001", HEAD), "app.not_decider"),
        (lambda: append_decision(world, "2026-0001", ADMIN_NIP), "app.not_decider"),
        (lambda: append_decision(world, "2026-0001", DECIDER, revision=2), "app.revision"),
        (lambda: append_decision(world, "2026-0001", DECIDER, request_sha256="0" * 64), "app.request_sha256"),
        (lambda: append_decision(world, "2026-0001", DECIDER, "recommended", ["catatan"]), "app.notes"),
        (lambda: append_decision(world, "2026-0001", DECIDER, "recommended_with_notes", []), "app.notes"),
        (lambda: append_decision(world, "2026-0001", DECIDER, "not_recommended", ["dua\nbaris"]), "app.notes"),
        (lambda: append_decision(world, "2026-0001", DECIDER, "approved"), "app.notes"),
        (lambda: append_decision(world, "2026-0001", DECIDER, key=reviewer_key), "app.key_inactive"),
        (lambda: append_decision(world, "2026-0001", DECIDER, capacity="Kepala Dinas Kominfo"), "app.identity"),
    ]
    for attempt, code in cases:
        _refused(world, attempt, code)
    sig = base64.b64encode(bytes(64)).decode()
    _refused(
        world,
        lambda: append_decision(world, "2026-0001", DECIDER, signature=sig),
        "statement.signature",
        SignatureRejected,
    )
    append_role(world, world.official(4), "kominfo-head", KOMINFO)
    _refused(world, lambda: append_decision(world, "2026-0001", DECIDER), "app.not_decider")  # replaced
    decided = append_decision(world, "2026-0001", nip(4), "not_recommended", ["SRIKANDI sudah melayani."])
    assert decided.entry.fields["notes"] == ["SRIKANDI sudah melayani."]
    _refused(world, lambda: append_decision(world, "2026-0001", nip(4)), "app.state")
    _audit(world)


def test_a_returned_revision_is_not_decided(apps: LedgerFactory) -> None:
    world = apps
    _reviewed(world)
    append_return(world, "2026-0001", REVIEWER, ["Kurang lengkap."])
    _refused(world, lambda: append_decision(world, "2026-0001", DECIDER), "app.state")
    append_request(world, "2026-0001", HEAD, revision=2)
    _refused(world, lambda: append_decision(world, "2026-0001", DECIDER, revision=2), "app.unreviewed")  # a new review


# -- the statements, checked by openssl ----------------------------------------------------


def test_the_three_statements_verify_with_openssl(apps: LedgerFactory, tmp_path: Path) -> None:
    world = apps
    origin = world.ledger.origin
    role = append_role(world, world.official(4), "pd-operator", PD)
    request = append_request(world, "2026-0001", HEAD)
    append_review(world, "2026-0001", REVIEWER)
    decision = append_decision(world, "2026-0001", DECIDER, "recommended_with_notes", ["Pakai SSO.", "Hosting di PDN."])
    f = role.entry.fields
    role_text = Role.of_fields(origin, f, role.entry.time).text()
    assert role_text == (
        f"{ROLE_V1}\norigin {origin}\nnip {nip(4)}\nrole pd-operator\nunit {PD}\ngrant yes\nreason Penugasan\n"
        f"time {format_time(role.entry.time)}\n"
    )
    assert _openssl_verifies(tmp_path, role_text, f["attester"], f["attestation"])
    assert not _openssl_verifies(tmp_path, role_text.replace("grant yes", "grant no"), f["attester"], f["attestation"])
    f = request.entry.fields
    request_text = AppRequest.of_fields(origin, f, request.entry.time).text()
    lines = request_text.splitlines()
    assert lines[:3] == [APP_REQUEST_V1, f"origin {origin}", "application 2026-0001 1"]
    assert lines[3:] == [
        f"request {f['request_sha256']}",
        f"agency {PD}",
        f"signer {HEAD}",
        "name Pejabat 1",
        "capacity Kepala Dinas 1",
        f"key {f['key']}",
        f"time {format_time(request.entry.time)}",
    ]
    assert request_text.endswith("\n") and _openssl_verifies(tmp_path, request_text, f["key"], f["signature"])
    assert not _openssl_verifies(tmp_path, request_text.replace(" 1\n", " 2\n", 1), f["key"], f["signature"])
    f = decision.entry.fields
    decision_text = AppDecision.of_fields(origin, f, decision.entry.time).text()
    assert decision_text.splitlines()[:7] == [
        APP_DECISION_V1,
        f"origin {origin}",
        "application 2026-0001 1",
        f"request {request.entry.fields['request_sha256']}",
        "decision recommended_with_notes",
        "note Pakai SSO.",
        "note Hosting di PDN.",
    ]
    assert decision_text.splitlines()[7] == f"signer {DECIDER}"
    assert _openssl_verifies(tmp_path, decision_text, f["key"], f["signature"])
    swapped = decision_text.replace("note Pakai SSO.\nnote Hosting di PDN.", "note Hosting di PDN.\nnote Pakai SSO.")
    assert not _openssl_verifies(tmp_path, swapped, f["key"], f["signature"])  # the notes' order is signed


def test_a_recommended_decision_has_no_note_line() -> None:
    key = VerifierKey("o/official/x", bytes(32))
    text = AppDecision(
        "o", "2026-0001", 1, "a" * 64, "recommended", (), "x", "N", "C", key, parse_time("2026-12-06T01:00:00Z")
    ).text()
    assert "\nnote " not in text and "\ndecision recommended\nsigner x\n" in text


# -- the audit, the derived tables, rebuild ------------------------------------------------


def _forge(world: LedgerFactory, kind: str, fields: Callable[[datetime], dict[str, Any]]) -> int:
    """Write one entry straight into the entries table, past the rules, with its checkpoint
    re-signed by the ledger's key (as someone holding the database and its passphrase could)."""
    assert world.signer is not None
    with world.ledger.read() as r:
        entries = [entry_from_leaf(s.leaf) for s in r.stored_entries()]
    moment = world.now()
    forged = make_entry(len(entries), kind, moment, entries[-1].leaf_hash, fields(moment))
    tree = CompactRange()
    for entry in [*entries, forged]:
        tree.append(entry.leaf_hash)
    note = Checkpoint(world.ledger.origin, tree.size, tree.root()).signed(world.signer).note
    with world.ledger.engine.begin() as c:
        c.execute(
            insert(TABLES[EntryRow]).values(
                idx=forged.index,
                kind=kind,
                time=moment,
                prev=bytes(forged.prev),
                leaf_hash=bytes(forged.leaf_hash),
                leaf=forged.leaf,
            )
        )
        c.execute(insert(TABLES[CheckpointRow]).values(size=tree.size, note=note))
    return forged.index


def _run_cli(world: LedgerFactory, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    monkeypatch.setenv("IKRAR_DATABASE_URL", db_url)
    monkeypatch.setenv("IKRAR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("IKRAR_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("IKRAR_KDF_ITERATIONS", str(FAST_KDF))
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner().invoke(cli, list(args))


def test_a_decision_forged_by_another_than_the_kepala_dinas_fails_the_audit(
    apps: LedgerFactory, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reviewer's genuine signature over a decision, written into the entries table past the
    rules and under a re-signed checkpoint: `ikrar audit` names that entry."""
    world = apps
    _reviewed(world)
    with world.ledger.read() as r:
        record = r.application("2026-0001")
    assert record is not None
    key = actions.active_key(world.ledger, REVIEWER)
    assert key is not None

    def fields(moment: datetime) -> dict[str, Any]:
        f = {
            "app": "2026-0001",
            "revision": 1,
            "request_sha256": record.request_sha256,
            "decision": "recommended",
            "notes": [],
            "nip": REVIEWER,
            "key": str(key),
            "name": "Pejabat 2",
            "capacity": "Kepala Dinas 2",
        }
        text = AppDecision.of_fields(world.ledger.origin, f, moment).text()
        return f | {
            "signature": base64.b64encode(world.keys.sign(key, "rahasia-tanda-2-tangan", text.encode())).decode()
        }

    index = _forge(world, "app.decided", fields)
    assert world.ledger.size() == index + 1
    with (
        pytest.raises(
            ChainBroken, match=f"entry {index}: app.decided breaks a rule: .*not the Kepala Dinas Kominfo"
        ) as caught,
        world.ledger.read() as r,
    ):
        audit(r.stored_entries(), r.stored_checkpoints(), world.ledger.verifier)
    assert caught.value.index == index
    result = _run_cli(world, db_url, tmp_path, monkeypatch, "audit")
    assert result.exit_code == 1, result.output
    assert f"BROKEN at entry {index}" in result.output and "Kepala Dinas Kominfo" in result.output


def test_rebuild_reproduces_the_derived_tables_of_roles_and_applications(apps: LedgerFactory) -> None:
    world = apps
    _reviewed(world)
    append_return(world, "2026-0001", REVIEWER, ["Lengkapi."])
    append_request(world, "2026-0001", HEAD, revision=2)
    append_review(world, "2026-0001", REVIEWER, revision=2)
    append_decision(world, "2026-0001", DECIDER, "not_recommended", ["Aplikasi umum tersedia."], revision=2)
    append_request(world, "2026-0002", HEAD)
    append_role(world, nip(2), "pd-head", PD)  # ends official 1's grant

    def rows() -> dict[str, list[Any]]:
        with world.ledger.engine.connect() as c:
            return {
                name: [tuple(row) for row in c.execute(select(table).order_by(*table.primary_key.columns))]
                for name, table in (
                    ("role_grant", TABLES[RoleGrant]),
                    ("application", TABLES[Application]),
                    ("app_event", TABLES[AppEventRow]),
                )
            }

    before = rows()
    assert len(before["role_grant"]) == 4 and len(before["application"]) == 2 and len(before["app_event"]) == 7
    with world.ledger.engine.begin() as c:
        c.execute(delete(TABLES[AppEventRow]))
        c.execute(update(TABLES[Application]).values(status="recommended"))
        c.execute(update(TABLES[RoleGrant]).values(ended_index=None, ended_at=None))
    with pytest.raises(DerivedMismatch):
        _audit(world)
    world.ledger.rebuild()
    assert rows() == before
    _audit(world)


@pytest.mark.parametrize(
    ("table", "change", "where"),
    [
        ("application", {"status": "recommended"}, "status differ"),
        ("application", {"agency": "Dinas Lain"}, "agency differ"),
        ("application", {"request_sha256": "0" * 64}, "request_sha256 differ"),
        ("application", {"reviewed_index": None}, "reviewed_index differ"),
        ("role_grant", {"ended_index": None}, "ended_index"),
        ("role_grant", {"unit": "Dinas Lain"}, "unit differ"),
        ("app_event", {"by": nip(9)}, "by differ"),
    ],
)
def test_the_derived_check_catches_a_tampered_row(
    apps: LedgerFactory, table: str, change: dict[str, Any], where: str
) -> None:
    world = apps
    _reviewed(world)
    append_role(world, nip(2), "pd-head", PD)  # ends a grant: official 1's row says when
    handles = {
        "application": (TABLES[Application], APP.app == "2026-0001"),
        "role_grant": (TABLES[RoleGrant], ROLE.role == "pd-head"),
        "app_event": (TABLES[AppEventRow], APP_EVENT.kind == "app.reviewed"),
    }
    target, condition = handles[table]
    with world.ledger.engine.begin() as c:
        c.execute(update(target).where(condition).values(**change))
    with pytest.raises(DerivedMismatch, match=where) as caught:
        _audit(world)
    assert caught.value.table == table


def test_the_derived_check_catches_a_row_no_entry_makes(apps: LedgerFactory) -> None:
    world = apps
    _submitted(world)
    fake = {
        "app": "2026-0099",
        "revision": 1,
        "status": "recommended",
        "agency": PD,
        "name": "Palsu",
        "kind": "new",
        "fiscal_year": 2027,
        "request_sha256": "0" * 64,
        "first_index": 1,
        "first_time": world.clock,
        "submitted_index": 1,
        "submitted_time": world.clock,
        "decided_index": None,
        "decided_time": None,
        "decision": None,
        "updated_time": world.clock,
    }
    with world.ledger.engine.begin() as c:
        c.execute(INSERT[Application], fake)
    with pytest.raises(DerivedMismatch, match="app=2026-0099: a row no entry makes is stored"):
        _audit(world)


def test_the_audit_of_a_ledger_with_roles_and_applications_holds_in_parallel(apps: LedgerFactory) -> None:
    world = apps
    _reviewed(world)
    append_decision(world, "2026-0001", DECIDER)
    with world.ledger.read() as r:
        report = audit(r.stored_entries(), r.stored_checkpoints(), world.ledger.verifier, workers=2, derived=r)
    assert report.size == world.ledger.size()
    with world.ledger.engine.connect() as c:
        kinds = set(c.execute(select(ENTRY.kind)).scalars())
        assert {"role.assigned", "app.submitted", "app.reviewed", "app.decided"} <= kinds
        assert c.execute(select(CHECKPOINT.size).order_by(CHECKPOINT.size.desc())).scalar() == report.size


# -- the register: drafts and attachments --------------------------------------------------


def test_drafts_are_saved_listed_and_deleted(ledger_factory: LedgerFactory) -> None:
    world = ledger_factory.created()
    register = world.ledger.register
    text = canonical_request(request_object())
    first = register.save_draft(DraftRecord(None, PD, None, text, nip(5), world.now()))
    second = register.save_draft(DraftRecord(None, "Dinas Perhubungan", "2026-0003", "{}", nip(6), world.now()))
    assert first != second
    saved = register.draft(first)
    assert saved is not None and (saved.agency, saved.app, saved.request_json, saved.prepared_by) == (
        PD,
        None,
        text,
        nip(5),
    )
    assert saved.updated_at.tzinfo is not None
    assert register.save_draft(DraftRecord(first, PD, None, "{}", nip(1), world.now())) == first
    assert register.draft(first).request_json == "{}"  # type: ignore[union-attr]
    assert [d.id for d in register.drafts()] == [first, second]  # the latest saved first
    assert [d.id for d in register.drafts(PD)] == [first]
    register.delete_draft(first)
    register.delete_draft(first)  # gone already: nothing happens
    assert register.draft(first) is None and [d.id for d in register.drafts()] == [second]
    with pytest.raises(NotFound) as caught:
        register.save_draft(DraftRecord(first, PD, None, "{}", nip(1), world.now()))
    assert caught.value.code == "app.draft_not_found"


def test_attachments_are_kept_once_by_their_sha256(ledger_factory: LedgerFactory) -> None:
    world = ledger_factory.created()
    register = world.ledger.register
    data = b"%PDF-1.7\n" + bytes(range(256)) * 40
    digest = hashlib.sha256(data).hexdigest()
    register.put_attachment(digest, "kak.pdf", data, world.now())
    register.put_attachment(digest, "salinan.pdf", data, world.now())  # the same file again: kept as it was
    kept = register.attachment(digest)
    assert kept is not None and (kept.file_name, kept.bytes, kept.data) == ("kak.pdf", len(data), data)
    assert register.attachment("0" * 64) is None
    with pytest.raises(InvalidInput) as caught:
        register.put_attachment("0" * 64, "lain.pdf", data, world.now())
    assert caught.value.code == "app.attachment_sha256"
