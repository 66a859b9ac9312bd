"""The verification of applications (`signing.apps`): roles, the request from the form and
its attachments, the Kepala PD's signature, the review, the return, the decision, and what
a page shows of an application — on SQLite and PostgreSQL; every refusal clear and writing
nothing."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest
from pypdf import PdfWriter

from ledger.application import CHECKLIST, MAX_ATTACHMENT, canonical_request
from ledger.audit import audit
from ledger.canonical import canonical_json
from ledger.errors import Conflict, InvalidInput, NotFound
from ledger.register import DraftRecord
from ledger.statements import AppDecision, AppRequest, decode_signature
from signing import apps
from signing.errors import NotAllowed, WrongPassphrase
from signing.sandbox import Sandbox
from tests.factories import ADMIN_NIP, ADMIN_PASSPHRASE, LedgerFactory, nip, passphrase
from tests.hostile_pdfs import flate_bomb

AGENCY = "Dinas 1"  # the unit of the factory's official 1, our Kepala PD
HEAD, REVIEWER, DECIDER, OPERATOR = 1, 2, 3, 4


def _pdf(pages: int = 1, password: str | None = None) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    if password is not None:
        writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _form(**changes: str) -> dict[str, str]:
    """The request form as a browser sends it: strings, ticked boxes "on", unticked absent."""
    form = {
        "name": "  Sistem Informasi   Perizinan Terpadu ",
        "description": "Layanan perizinan daring\r\nuntuk warga dan pelaku usaha.\r\n",
        "developer_unit": "Bidang Perizinan",
        "user_unit": "Seksi Pelayanan",
        "contact": "Budi, 0354-123456, perizinan@kedirikota.go.id",
        "legal_basis": "Perpres 95/2018 tentang SPBE",
        "problem": "Permohonan izin masih di atas kertas.",
        "need": "Permohonan dan pelacakan izin secara daring.",
        "kind": "new",
        "shared_app": "",
        "shared_why_not": "",
        "goals": "Izin terbit dalam 3 hari kerja.",
        "users_internal": "on",
        "users_external": "on",
        "users_count": "25.000",
        "target_date": "2026-11-30",
        "budget_amount": "Rp 1.250.000.000",
        "budget_source": "APBD",
        "fiscal_year": "2026",
        "builder": "vendor",
        "vendor": "PT Contoh Teknologi",
        "data_processed": "Identitas pemohon, data usaha",
        "personal_data": "on",
        "dpia_done": "on",
        "hosting": "pdn",
        "hosting_reason": "",
        "splp": "on",
        "integration_note": "Terhubung ke OSS melalui SPLP",
        "security_testing": "Uji penetrasi oleh BSSN sebelum operasi",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v != "<absent>"}


def _checklist(finding: str = "fits") -> dict[str, Any]:
    note = "" if finding == "fits" else "Perlu dibahas"
    return {point: {"finding": finding, "note": note} for point in CHECKLIST}


@pytest.fixture()
def roles(world: LedgerFactory) -> LedgerFactory:
    """The world with an operator (official 4), and the roles of issue 15 given by the admin."""
    world.official(OPERATOR)
    for who, role, unit in (
        (HEAD, "pd-head", AGENCY),
        (OPERATOR, "pd-operator", AGENCY),
        (REVIEWER, "reviewer", "Bidang Aplikasi Informatika"),
        (DECIDER, "kominfo-head", "Dinas Komunikasi dan Informatika"),
    ):
        apps.assign_role(
            world.ctx, nip(who), role, unit, True, "Penetapan tugas", ADMIN_NIP, ADMIN_PASSPHRASE, world.now()
        )
    return world


def _request(world: LedgerFactory, **changes: str) -> dict[str, Any]:
    attachment = apps.keep_attachment(
        world.ledger, "Kerangka Acuan Kerja", "C:\\fakepath\\kak.pdf", _pdf(), world.now()
    )
    return apps.request_from_form(_form(**changes), [attachment], AGENCY, nip(OPERATOR))


def _submitted(world: LedgerFactory, **changes: str) -> str:
    """An operator's draft, signed by the Kepala PD: the new application's id."""
    draft = apps.save_draft(world.ctx, AGENCY, _request(world, **changes), nip(OPERATOR), world.now())
    return str(apps.submit_app(world.ctx, draft, None, nip(HEAD), passphrase(HEAD), world.now()).entry.fields["app"])


def _unchanged(world: LedgerFactory, attempt: Callable[[], object], error: type[Exception], code: str) -> Exception:
    size, note = world.ledger.size(), world.ledger.checkpoint().note
    with pytest.raises(error) as caught:
        attempt()
    assert getattr(caught.value, "code", None) == code, caught.value
    assert (world.ledger.size(), world.ledger.checkpoint().note) == (size, note)
    return caught.value


def _status(world: LedgerFactory, app: str) -> str:
    with world.ledger.read() as r:
        record = r.application(app)
    assert record is not None
    return record.status


def _key_never_opened(world: LedgerFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("the key was opened")

    monkeypatch.setattr(world.keys, "signer", refuse)


# -- the whole flow --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decision", "notes"),
    [
        ("recommended", []),
        ("recommended_with_notes", ["Gunakan SSO kota", "  ", "Uji beban sebelum operasi"]),
        ("not_recommended", ["Aplikasi umum SRIKANDI sudah melayani kebutuhan ini"]),
    ],
)
def test_the_whole_flow(roles: LedgerFactory, decision: str, notes: list[str]) -> None:
    world, ctx = roles, roles.ctx
    request = _request(world)
    assert request["name"] == "Sistem Informasi Perizinan Terpadu"
    assert request["description"] == "Layanan perizinan daring\nuntuk warga dan pelaku usaha."
    assert (request["budget_amount"], request["users_count"], request["fiscal_year"]) == (1_250_000_000, 25_000, 2026)
    assert (request["users_internal"], request["specific_personal_data"], request["sso"]) == (True, False, False)
    assert request["attachments"][0]["file"] == "kak.pdf" and request["prepared_by"] == nip(OPERATOR)

    draft = apps.save_draft(ctx, AGENCY, request, nip(OPERATOR), world.now())
    first = apps.submit_app(ctx, draft, None, nip(HEAD), passphrase(HEAD), world.now()).entry
    app = first.fields["app"]
    assert (app, first.fields["revision"]) == ("2026-0001", 1)
    assert world.ledger.register.draft(draft) is None  # signed: the draft is gone
    statement = AppRequest.of_fields(world.ledger.origin, first.fields, first.time)
    statement.verify(decode_signature(first.fields["signature"]))
    assert f"application 2026-0001 1\nrequest {first.fields['request_sha256']}\n" in statement.text()

    apps.review_app(ctx, app, nip(REVIEWER), _checklist("concern"), world.now(), revision=1)
    apps.return_app(ctx, app, nip(REVIEWER), ["Lengkapi rencana anggaran biaya", ""], world.now())
    assert _status(world, app) == "returned"

    revised = _request(world, budget_amount="1.100.000.000")
    draft = apps.save_draft(ctx, AGENCY, revised, nip(OPERATOR), world.now(), app=app)
    second = apps.submit_app(ctx, draft, None, nip(HEAD), passphrase(HEAD), world.now()).entry
    assert (second.fields["app"], second.fields["revision"]) == (app, 2)

    apps.review_app(ctx, app, nip(REVIEWER), _checklist(), world.now(), revision=2)
    decided = apps.decide_app(ctx, app, decision, notes, nip(DECIDER), passphrase(DECIDER), world.now()).entry
    AppDecision.of_fields(world.ledger.origin, decided.fields, decided.time).verify(
        decode_signature(decided.fields["signature"])
    )

    with world.ledger.read() as r:
        view = apps.application_view(r, app)
    assert _status(world, app) == decision
    kept = [n.strip() for n in notes if n.strip()]
    assert (view.status, view.revision, view.agency) == (decision, 2, AGENCY)
    assert [type(e).__name__ for e in view.history] == [
        "Submitted",
        "Reviewed",
        "Returned",
        "Submitted",
        "Reviewed",
        "Decided",
    ]
    assert view.first.index == first.index and view.first.time == first.time and view.first.nip == nip(HEAD)
    assert view.request == revised and view.revisions[0].request == request
    assert view.request["budget_amount"] == 1_100_000_000
    assert view.returns[0].reasons == ("Lengkapi rencana anggaran biaya",) and view.returned_of(1) is not None
    assert view.reviews_of(1)[0].checklist["security"] == {"finding": "concern", "note": "Perlu dibahas"}
    reviewer = view.reviews_of(2)[0].identity
    assert reviewer is not None and reviewer.name == f"Pejabat {REVIEWER}"
    assert view.decision is not None
    assert (view.decision.decision, view.decision.notes, view.decision.nip) == (decision, tuple(kept), nip(DECIDER))
    assert view.decision.index == decided.index and view.updated_time == decided.time
    assert view.decision.request_sha256 == second.fields["request_sha256"]
    assert (view.decision.name, view.decision.capacity) == (f"Pejabat {DECIDER}", f"Kepala Dinas {DECIDER}")

    # after a decision nothing more follows; a new request gets the next id
    _unchanged(
        world, lambda: apps.review_app(ctx, app, nip(REVIEWER), _checklist(), world.now()), NotAllowed, "app.state"
    )
    assert _submitted(world) == "2026-0002"
    report = audit(world.ledger.stored_entries(), world.ledger.stored_checkpoints(), world.ledger.verifier)
    assert report.size == world.ledger.size()


def test_the_view_is_read_from_the_entries_only(roles: LedgerFactory) -> None:
    """Drafts never reach a page: a new draft for a returned application changes nothing shown."""
    world = roles
    app = _submitted(world)
    apps.return_app(world.ctx, app, nip(REVIEWER), ["Tambahkan analisis kebutuhan"], world.now())
    apps.save_draft(world.ctx, AGENCY, _request(world, name="Nama Baru"), nip(OPERATOR), world.now(), app=app)
    with world.ledger.read() as r:
        view = apps.application_view(r, app)
        with pytest.raises(NotFound, match="no application 2026-0099"):
            apps.application_view(r, "2026-0099")
    assert view.request["name"] == "Sistem Informasi Perizinan Terpadu" and view.status == "returned"


# -- who may do what -------------------------------------------------------------------------


def test_a_decision_by_anyone_but_the_kominfo_head_is_refused_before_the_key_opens(
    roles: LedgerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = roles
    app = _submitted(world)
    apps.review_app(world.ctx, app, nip(REVIEWER), _checklist(), world.now())
    _key_never_opened(world, monkeypatch)
    for who in (REVIEWER, HEAD):
        error = _unchanged(
            world,
            partial(apps.decide_app, world.ctx, app, "recommended", [], nip(who), passphrase(who), world.now()),
            NotAllowed,
            "app.not_decider",
        )
        assert "not the Kepala Dinas Kominfo" in str(error)


def test_the_rules_refuse_a_forged_decision(roles: LedgerFactory) -> None:
    """Past the action's own checks, the ledger refuses a decision signed by a reviewer."""
    world = roles
    app = _submitted(world)
    apps.review_app(world.ctx, app, nip(REVIEWER), _checklist(), world.now())
    decided = apps.decide_app(world.ctx, app, "recommended", [], nip(DECIDER), passphrase(DECIDER), world.now())
    other = _submitted(world)
    apps.review_app(world.ctx, other, nip(REVIEWER), _checklist(), world.now())
    with world.ledger.read() as r:
        record, key = r.application(other), r.active_key(nip(REVIEWER))
    assert record is not None and key is not None and world.signer is not None
    forged = {**decided.entry.fields, "app": other, "request_sha256": record.request_sha256}
    forged |= {"nip": nip(REVIEWER), "key": key.key}
    signer = world.signer
    _unchanged(
        world,
        lambda: world.ledger.append("app.decided", forged, signer, world.now()),
        Conflict,
        "app.not_decider",
    )


def test_a_decision_waits_for_a_review(roles: LedgerFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    world = roles
    app = _submitted(world)
    _key_never_opened(world, monkeypatch)
    _unchanged(
        world,
        lambda: apps.decide_app(world.ctx, app, "recommended", [], nip(DECIDER), passphrase(DECIDER), world.now()),
        NotAllowed,
        "app.unreviewed",
    )


def test_a_request_by_anyone_but_the_kepala_pd_is_refused(
    roles: LedgerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = roles
    draft = apps.save_draft(world.ctx, AGENCY, _request(world), nip(OPERATOR), world.now())
    _key_never_opened(world, monkeypatch)
    for who in (OPERATOR, DECIDER):
        error = _unchanged(
            world,
            partial(apps.submit_app, world.ctx, draft, None, nip(who), passphrase(who), world.now()),
            NotAllowed,
            "app.not_head",
        )
        assert f"not the Kepala of {AGENCY}" in str(error)
    assert world.ledger.register.draft(draft) is not None


def test_only_the_pds_people_prepare_and_only_reviewers_review(roles: LedgerFactory) -> None:
    world = roles
    request = _request(world)
    with pytest.raises(NotAllowed, match="neither the Kepala nor an operator") as caught:
        apps.save_draft(world.ctx, AGENCY, request, nip(REVIEWER), world.now())
    assert caught.value.code == "app.not_operator"
    head_draft = apps.save_draft(world.ctx, AGENCY, request, nip(HEAD), world.now())
    saved = world.ledger.register.draft(head_draft)
    assert saved is not None and '"prepared_by":""' in saved.request_json  # the Kepala prepared it
    operators = apps.save_draft(world.ctx, AGENCY, request, nip(OPERATOR), world.now())
    apps.save_draft(world.ctx, AGENCY, request, nip(HEAD), world.now(), draft_id=operators)  # the Kepala edits it
    saved = world.ledger.register.draft(operators)
    assert saved is not None and saved.prepared_by == nip(HEAD)
    assert f'"prepared_by":"{nip(OPERATOR)}"' in saved.request_json  # the operator prepared it still
    with pytest.raises(NotFound) as missing:
        apps.save_draft(world.ctx, "Dinas 2", request, nip(HEAD), world.now(), draft_id=operators)
    assert missing.value.code == "app.draft_not_found"
    app = _submitted(world)
    _unchanged(
        world,
        lambda: apps.review_app(world.ctx, app, nip(OPERATOR), _checklist(), world.now()),
        NotAllowed,
        "app.not_reviewer",
    )
    _unchanged(
        world,
        lambda: apps.return_app(world.ctx, app, nip(HEAD), ["Tidak lengkap"], world.now()),
        NotAllowed,
        "app.not_reviewer",
    )
    _unchanged(
        world,
        lambda: apps.review_app(world.ctx, "2026-0042", nip(REVIEWER), _checklist(), world.now()),
        NotFound,
        "app.not_found",
    )
    _unchanged(
        world,
        lambda: apps.review_app(world.ctx, app, nip(REVIEWER), _checklist(), world.now(), revision=2),
        NotAllowed,
        "app.revision",
    )
    # the Kepala Dinas Kominfo may review too
    apps.review_app(world.ctx, app, nip(DECIDER), _checklist(), world.now())


def test_a_new_kominfo_head_ends_the_previous_ones_role(roles: LedgerFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    world = roles
    apps.assign_role(
        world.ctx,
        nip(REVIEWER),
        "kominfo-head",
        "Dinas Komunikasi dan Informatika",
        True,
        "Pelantikan Kepala Dinas baru",
        ADMIN_NIP,
        ADMIN_PASSPHRASE,
        world.now(),
    )
    with world.ledger.read() as r:
        assert r.holds_role(nip(REVIEWER), "kominfo-head") and not r.holds_role(nip(DECIDER), "kominfo-head")
    app = _submitted(world)
    apps.review_app(world.ctx, app, nip(REVIEWER), _checklist(), world.now())
    _key_never_opened(world, monkeypatch)
    _unchanged(
        world,
        lambda: apps.decide_app(world.ctx, app, "recommended", [], nip(DECIDER), passphrase(DECIDER), world.now()),
        NotAllowed,
        "app.not_decider",
    )


def test_role_refusals(roles: LedgerFactory) -> None:
    world, ctx = roles, roles.ctx
    _unchanged(
        world,
        lambda: apps.assign_role(
            ctx, nip(HEAD), "pd-head", AGENCY, True, "Lagi", ADMIN_NIP, ADMIN_PASSPHRASE, world.now()
        ),
        NotAllowed,
        "role.held",
    )
    _unchanged(
        world,
        lambda: apps.assign_role(ctx, nip(HEAD), "boss", AGENCY, True, "x", ADMIN_NIP, ADMIN_PASSPHRASE, world.now()),
        InvalidInput,
        "role.role",
    )
    _unchanged(
        world,
        lambda: apps.assign_role(
            ctx,
            nip(HEAD),
            "pd-head",
            "Dinas Entah",
            True,
            "x",
            ADMIN_NIP,
            ADMIN_PASSPHRASE,
            world.now(),
            agencies=["Dinas 1", "Dinas 2"],
        ),
        InvalidInput,
        "official.unit_unknown",
    )
    _unchanged(
        world,
        lambda: apps.assign_role(
            ctx, nip(HEAD), "reviewer", "Diskominfo", True, "x", ADMIN_NIP, "bukan-sandi-admin", world.now()
        ),
        WrongPassphrase,
        "passphrase.wrong",
    )
    _unchanged(
        world,
        lambda: apps.assign_role(
            ctx, ADMIN_NIP, "reviewer", "Diskominfo", True, "x", ADMIN_NIP, ADMIN_PASSPHRASE, world.now()
        ),
        NotAllowed,
        "key.self_attested",
    )
    withdrawn = apps.assign_role(
        ctx, nip(OPERATOR), "pd-operator", AGENCY, False, "Pindah tugas", ADMIN_NIP, ADMIN_PASSPHRASE, world.now()
    )
    assert withdrawn.entry.fields["grant"] is False
    with pytest.raises(NotAllowed) as caught:
        apps.save_draft(ctx, AGENCY, _request(world), nip(OPERATOR), world.now())
    assert caught.value.code == "app.not_operator"


# -- passphrases and ids ---------------------------------------------------------------------


def test_a_wrong_passphrase_appends_nothing(roles: LedgerFactory) -> None:
    world = roles
    draft = apps.save_draft(world.ctx, AGENCY, _request(world), nip(OPERATOR), world.now())
    _unchanged(
        world,
        lambda: apps.submit_app(world.ctx, draft, None, nip(HEAD), "bukan-sandinya", world.now()),
        WrongPassphrase,
        "passphrase.wrong",
    )
    assert world.ledger.register.draft(draft) is not None  # kept for the next try
    app = str(apps.submit_app(world.ctx, draft, None, nip(HEAD), passphrase(HEAD), world.now()).entry.fields["app"])
    apps.review_app(world.ctx, app, nip(REVIEWER), _checklist(), world.now())
    _unchanged(
        world,
        lambda: apps.decide_app(world.ctx, app, "recommended", [], nip(DECIDER), "bukan-sandinya", world.now()),
        WrongPassphrase,
        "passphrase.wrong",
    )


def test_a_request_given_whole_and_an_id_taken_meanwhile(roles: LedgerFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line submits a request object; an id another append took first is chosen again."""
    world = roles
    first = _submitted(world)
    real = apps._next_id
    calls: list[str] = []

    def stale_once(ctx: Any, moment: datetime) -> str:  # the precheck asks first, the append next
        calls.append(real(ctx, moment))
        return first if len(calls) == 2 else calls[-1]

    monkeypatch.setattr(apps, "_next_id", stale_once)
    appended = apps.submit_app(world.ctx, None, _request(world), nip(HEAD), passphrase(HEAD), world.now())
    assert appended.entry.fields["app"] == "2026-0002" and len(calls) == 3


def test_the_id_takes_the_year_in_wib(roles: LedgerFactory) -> None:
    world = roles
    world.ledger.clock = lambda: datetime(2027, 1, 2, tzinfo=UTC)
    new_year_wib = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)  # 1 January 2027, 00:30 WIB
    draft = apps.save_draft(world.ctx, AGENCY, _request(world), nip(OPERATOR), world.now())
    appended = apps.submit_app(world.ctx, draft, None, nip(HEAD), passphrase(HEAD), new_year_wib)
    assert appended.entry.fields["app"] == "2027-0001"


def test_submit_needs_one_source_and_a_returned_app(roles: LedgerFactory) -> None:
    world = roles
    request = _request(world)
    _unchanged(
        world,
        lambda: apps.submit_app(world.ctx, None, None, nip(HEAD), passphrase(HEAD), world.now()),
        InvalidInput,
        "app.source",
    )
    _unchanged(
        world,
        lambda: apps.submit_app(world.ctx, 999, None, nip(HEAD), passphrase(HEAD), world.now()),
        NotFound,
        "app.draft_not_found",
    )
    app = _submitted(world)
    _unchanged(
        world,
        lambda: apps.submit_app(world.ctx, None, request, nip(HEAD), passphrase(HEAD), world.now(), app=app),
        NotAllowed,
        "app.state",
    )
    with pytest.raises(NotAllowed) as caught:
        apps.save_draft(world.ctx, AGENCY, request, nip(OPERATOR), world.now(), app=app)
    assert caught.value.code == "app.state"
    apps.return_app(world.ctx, app, nip(REVIEWER), ["Bukan kewenangan Dinas 1"], world.now())
    world.official(5)
    apps.assign_role(
        world.ctx, nip(5), "pd-head", "Dinas 5", True, "Penetapan", ADMIN_NIP, ADMIN_PASSPHRASE, world.now()
    )
    elsewhere = {**request, "agency": "Dinas 5"}
    with pytest.raises(NotAllowed, match="is Dinas 1's, not Dinas 5's") as caught:
        apps.save_draft(world.ctx, "Dinas 5", elsewhere, nip(5), world.now(), app=app)
    assert caught.value.code == "app.agency" and caught.value.params["agency"] == AGENCY
    _unchanged(
        world,
        lambda: apps.submit_app(world.ctx, None, elsewhere, nip(5), passphrase(5), world.now(), app=app),
        NotAllowed,
        "app.agency",
    )


# -- attachments -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code", "message"),
    [
        (b"%PDF-" + b"0" * MAX_ATTACHMENT, "app.attachment_size", "larger than 10 MB"),
        (b"PK\x03\x04 a zip, named .pdf", "app.attachment_not_pdf", "not a PDF"),
        (b"", "app.attachment_not_pdf", "is empty"),
        (b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n", "app.attachment_damaged", "cannot be read as a PDF"),
        (_pdf(password="rahasia"), "app.attachment_damaged", "encrypted with a password"),
    ],
    ids=["too-large", "zip", "empty", "damaged", "encrypted"],
)
def test_attachments_refused(data: bytes, code: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        apps.check_attachment("kak.pdf", data)
    assert caught.value.code == code
    assert caught.value.params["file"] == "kak.pdf" and caught.value.params["limit"] == MAX_ATTACHMENT


def test_an_attachment_is_read_within_the_sandboxs_limits() -> None:
    """A PDF is read in a worker under limits (`signing.sandbox`): past them it is refused
    as unreadable, never read on; a bomb's streams are never inflated."""
    impatient = Sandbox(slots=1, wall_seconds=0.001)
    with pytest.raises(InvalidInput, match="too costly to read") as caught:
        apps.check_attachment("kak.pdf", _pdf(), impatient)
    assert caught.value.code == "app.attachment_damaged"
    apps.check_attachment("bom.pdf", flate_bomb())  # 64 MB inflated if read naively


def test_an_attachment_is_kept_by_its_hash(roles: LedgerFactory) -> None:
    world = roles
    data = _pdf(pages=2)
    apps.check_attachment("kak.pdf", data)  # a PDF of two pages, well within the limit
    kept = apps.keep_attachment(world.ledger, "  ", "/home/u/RAB 2026.pdf", data, world.now(), internal=True)
    assert (kept.title, kept.file, kept.size, kept.internal) == ("RAB 2026.pdf", "RAB 2026.pdf", len(data), True)
    stored = world.ledger.register.attachment(kept.sha256)
    assert stored is not None and stored.data == data
    with pytest.raises(InvalidInput) as caught:
        apps.keep_attachment(world.ledger, "RAB", "dir/", data, world.now())
    assert caught.value.code == "app.attachment_name"
    with pytest.raises(InvalidInput, match="attached before") as caught:
        apps.request_from_form(_form(), [kept, kept], AGENCY, "")
    assert (caught.value.params["field"], caught.value.params["problem"]) == ("attachments.1.sha256", "twice")


# -- the form --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"name": "x" * 121}, "name", "too_long"),
        ({"budget_amount": "1,25 milyar"}, "budget_amount", "number"),
        ({"budget_amount": "1.25.000"}, "budget_amount", "number"),
        ({"users_count": "100.000.001"}, "users_count", "range"),
        ({"fiscal_year": "1999"}, "fiscal_year", "range"),
        ({"kind": "hibah"}, "kind", "choice"),
        ({"target_date": "30/11/2026"}, "target_date", "date"),
        ({"target_date": "2026-02-30"}, "target_date", "date"),
        ({"splp": "mungkin"}, "splp", "checkbox"),
        ({"goals": "Tujuan\x00"}, "goals", "control_chars"),
    ],
)
def test_form_errors_name_the_field(changes: dict[str, str], field: str, problem: str) -> None:
    """A field filled in but wrong in itself is refused, half-filled form or not."""
    for form in (_form(**changes), changes):
        with pytest.raises(InvalidInput) as caught:
            apps.request_from_form(form, [], AGENCY, "")
        error = caught.value
        assert (error.code, error.params["field"], error.params["problem"]) == ("app.field", field, problem), error
        assert field in str(error)


def test_form_errors_are_all_named_at_once() -> None:
    with pytest.raises(InvalidInput) as caught:
        apps.request_from_form(_form(name="x" * 121, budget_amount="banyak", hosting="awan"), [], AGENCY, "")
    problems = [(p["field"], p["problem"]) for p in caught.value.params["problems"]]
    assert problems == [("name", "too_long"), ("budget_amount", "number"), ("hosting", "choice")]
    assert caught.value.params["field"] == "name"


# -- drafts saved half filled ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "missing"),
    [
        ({"name": "   "}, [("name", "blank")]),
        ({"budget_amount": ""}, [("budget_amount", "blank")]),
        ({"kind": "<absent>"}, [("kind", "blank")]),
        ({"target_date": "<absent>", "fiscal_year": ""}, [("target_date", "blank"), ("fiscal_year", "blank")]),
        ({"vendor": ""}, [("vendor", "required")]),
        ({"shared_app": "SRIKANDI"}, [("shared_why_not", "required")]),
        ({"hosting": "other"}, [("hosting_reason", "required")]),
        ({"personal_data": "<absent>", "specific_personal_data": "on"}, [("specific_personal_data", "personal_data")]),
        (
            {"name": "", "hosting": "other", "vendor": ""},
            [("name", "blank"), ("vendor", "required"), ("hosting_reason", "required")],
        ),
    ],
)
def test_a_blank_field_is_left_out_and_named_as_missing(
    changes: dict[str, str], missing: list[tuple[str, str]]
) -> None:
    """Not a refusal: the form gives what is filled in, and `missing_of` names, in the form's
    order, each field the request needs and each answer another asks for."""
    request = apps.request_from_form(_form(**changes), [], AGENCY, "")
    assert [(m["field"], m["problem"]) for m in apps.missing_of(request)] == missing
    for field, problem in missing:
        assert (field in request) == (problem == "personal_data")  # a blank is left out, a box is always there
    assert not apps.missing_of(apps.request_from_form(_form(), [], AGENCY, ""))


def test_a_half_filled_form_is_kept_as_typed(roles: LedgerFactory) -> None:
    world = roles
    kept = apps.keep_attachment(world.ledger, "KAK", "kak.pdf", _pdf(), world.now())
    typed = {"name": " Aplikasi  Antrean ", "budget_amount": "Rp 75.000.000", "builder": "vendor", "sso": "on"}
    request = apps.request_from_form(typed, [kept], AGENCY, nip(OPERATOR))
    unticked = ("users_internal", "users_external", "personal_data", "specific_personal_data", "dpia_done", "splp")
    assert request == {
        "name": "Aplikasi Antrean",
        "budget_amount": 75_000_000,
        "builder": "vendor",
        "sso": True,
        **dict.fromkeys(unticked, False),
        "agency": AGENCY,
        "attachments": [kept.to_json()],
        "prepared_by": nip(OPERATOR),
    }
    size = world.ledger.size()
    draft = apps.save_draft(world.ctx, AGENCY, request, nip(OPERATOR), world.now())
    saved = world.ledger.register.draft(draft)
    assert saved is not None and world.ledger.size() == size  # drafts are not on the ledger
    assert saved.request_json == canonical_json(request).decode()  # the same canonical JSON, fewer keys
    view = apps.draft_view(saved)
    assert dict(view.request) == request and view.name == "Aplikasi Antrean" and not view.complete
    assert ("vendor", "required") in [(m["field"], m["problem"]) for m in view.missing]
    assert view.missing[0] == {"field": "description", "problem": "blank"}


def test_a_complete_draft_is_stored_whole_as_before(roles: LedgerFactory) -> None:
    world = roles
    request = _request(world)
    assert request["shared_app"] == "" and request["vendor"] == "PT Contoh Teknologi"  # whole: blanks are ""
    draft = apps.save_draft(world.ctx, AGENCY, request, nip(OPERATOR), world.now())
    saved = world.ledger.register.draft(draft)
    assert saved is not None and saved.request_json == canonical_request(request)
    assert apps.draft_view(saved).complete
    # a draft completed from an incomplete one is stored whole too
    partial = {k: v for k, v in request.items() if k not in ("shared_app", "shared_why_not", "hosting_reason")}
    again = apps.save_draft(world.ctx, AGENCY, partial, nip(OPERATOR), world.now(), draft_id=draft)
    assert again == draft and world.ledger.register.draft(draft).request_json == canonical_request(request)  # type: ignore[union-attr]


def test_a_field_wrong_in_itself_is_never_stored(roles: LedgerFactory) -> None:
    world = roles
    drafts = world.ledger.register.drafts()
    for wrong, problem in (
        ({"budget_amount": "banyak"}, "type"),
        ({"target_date": "30/11/2026"}, "date"),
        ({"name": "x" * 121}, "too_long"),
        ({"kind": "hibah"}, "choice"),
        ({"nama": "salah kunci"}, "unexpected"),
    ):
        with pytest.raises(InvalidInput) as caught:
            apps.save_draft(
                world.ctx, AGENCY, {"agency": AGENCY, "attachments": [], **wrong}, nip(OPERATOR), world.now()
            )
        assert (caught.value.code, caught.value.params["problem"]) == ("app.request", problem)
    assert world.ledger.register.drafts() == drafts


def test_an_incomplete_draft_is_never_signed_until_completed(
    roles: LedgerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = roles
    partial = apps.request_from_form({"name": "Aplikasi Antrean", "hosting": "other"}, [], AGENCY, nip(OPERATOR))
    draft = apps.save_draft(world.ctx, AGENCY, partial, nip(OPERATOR), world.now())
    with monkeypatch.context() as m:
        _key_never_opened(world, m)
        error = _unchanged(
            world,
            lambda: apps.submit_app(world.ctx, draft, None, nip(HEAD), passphrase(HEAD), world.now()),
            Conflict,
            "app.request",
        )
    assert isinstance(error, Conflict)  # a 409 on the web
    assert (error.params["field"], error.params["problem"], error.params["draft"]) == ("description", "blank", draft)
    assert "hosting_reason" in error.params["missing"] and "name" not in error.params["missing"]
    assert f"draft {draft} is not complete yet (description, " in str(error)
    assert world.ledger.register.draft(draft) is not None
    # the operator completes it (the same draft); the Kepala signs it
    form = apps.request_from_form(_form(hosting="other", hosting_reason="Awan pemerintah"), [], AGENCY, nip(OPERATOR))
    apps.save_draft(world.ctx, AGENCY, form, nip(OPERATOR), world.now(), draft_id=draft)
    entry = apps.submit_app(world.ctx, draft, None, nip(HEAD), passphrase(HEAD), world.now()).entry
    assert entry.kind == "app.submitted" and entry.fields["request"] == canonical_request(form)
    assert world.ledger.register.draft(draft) is None


def test_a_draft_saved_whole_by_an_earlier_version_signs_and_revises(roles: LedgerFactory) -> None:
    """Drafts stored before this version were always whole: they open complete, sign, and a
    revision's draft revises as before."""
    world = roles
    whole = _request(world)
    old = DraftRecord(None, AGENCY, None, canonical_request(whole), nip(OPERATOR), world.now())
    draft = world.ledger.register.save_draft(old)
    stored = world.ledger.register.draft(draft)
    assert stored is not None and apps.draft_view(stored).complete and dict(apps.draft_view(stored).request) == whole
    app = str(apps.submit_app(world.ctx, draft, None, nip(HEAD), passphrase(HEAD), world.now()).entry.fields["app"])
    apps.return_app(world.ctx, app, nip(REVIEWER), ["Lengkapi RAB"], world.now())
    revised = {**whole, "budget_amount": 900_000_000}
    old = DraftRecord(None, AGENCY, app, canonical_request(revised), nip(OPERATOR), world.now())
    draft = world.ledger.register.save_draft(old)
    again = apps.save_draft(world.ctx, AGENCY, revised, nip(HEAD), world.now(), draft_id=draft)  # the Kepala edits it
    assert again == draft
    second = apps.submit_app(world.ctx, draft, None, nip(HEAD), passphrase(HEAD), world.now()).entry
    assert (second.fields["app"], second.fields["revision"]) == (app, 2)
    assert second.fields["request"] == canonical_request({**revised, "prepared_by": nip(OPERATOR)})


@pytest.mark.parametrize(
    ("written", "amount"),
    [("1.250.000.000", 1_250_000_000), ("1250000000", 1_250_000_000), ("Rp1.250.000,00", 1_250_000), ("0", 0)],
)
def test_rupiah_as_people_write_it(written: str, amount: int) -> None:
    request = apps.request_from_form(_form(budget_amount=written), [], AGENCY, "")
    assert request["budget_amount"] == amount


def test_a_decisions_notes_and_a_returns_reasons_are_checked(roles: LedgerFactory) -> None:
    world = roles
    app = _submitted(world)
    _unchanged(
        world,
        lambda: apps.return_app(world.ctx, app, nip(REVIEWER), [" ", ""], world.now()),
        InvalidInput,
        "app.reasons",
    )
    apps.review_app(world.ctx, app, nip(REVIEWER), _checklist(), world.now())
    for decision, notes, code in (
        ("recommended", ["Catatan"], "app.notes"),
        ("not_recommended", [], "app.notes"),
        ("maybe", [], "app.notes"),
    ):
        _unchanged(
            world,
            partial(apps.decide_app, world.ctx, app, decision, notes, nip(DECIDER), passphrase(DECIDER), world.now()),
            InvalidInput,
            code,
        )
    _unchanged(
        world,
        lambda: apps.review_app(world.ctx, app, nip(REVIEWER), {"architecture": {}}, world.now()),
        InvalidInput,
        "app.checklist",
    )
