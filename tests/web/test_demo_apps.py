"""The Kediri demo's verification of applications (rules version 5): the roles, and requests in
every state, marked as demo data, with real PDF attachments (one internal), on a ledger that
audits clean; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime
from pathlib import Path

from pypdf import PdfReader

from ledger.application import DECISIONS, STATUSES, check_checklist, check_request
from ledger.audit import audit
from ledger.nip import validate_nip
from signing.agencies import load_agencies
from signing.app_letter import render_letter
from signing.apps import application_view, check_attachment
from signing.verify_cert import KeyTrust, examine_certificate
from web import accounts
from web import demo as demo_module
from web.runtime import Runtime

from .test_demo_rules_v4 import runtime  # noqa: F401 - `runtime` is a fixture

APPLICATIONS = {  # the demo's requests by id: status, revision, PD
    "2026-0001": ("recommended", 1, "Dinas Pendidikan"),
    "2026-0002": ("recommended_with_notes", 2, "Dinas Kesehatan"),
    "2026-0003": ("not_recommended", 1, "Dinas Koperasi dan Usaha Mikro"),
    "2026-0004": ("returned", 1, "Dinas Perhubungan"),
    "2026-0005": ("submitted", 1, "Dinas Lingkungan Hidup, Kebersihan dan Pertamanan"),
}


def test_the_demo_data_of_applications_is_well_formed_and_marked() -> None:
    agencies = load_agencies()
    for person in demo_module.STAFF:
        assert validate_nip(person.nip, demo_module.VERIFICATION.date()) == person.nip and person.nip[-3] == "9"
        assert person.name.endswith("(data demo)") and person.title.endswith("Kota Kediri") and not person.asked
        assert person.unit in agencies
    nips = [p.nip for p in (*demo_module.PEOPLE, *demo_module.STAFF)]
    assert len(set(nips)) == len(nips)
    for given in demo_module.DEMO_ROLES:
        assert given.unit in agencies and given.reason.endswith("(data demo)")
    requests = (demo_module.SPMB, demo_module.RME, demo_module.RME_REVISED, demo_module.SURAT)
    for request in (*requests, demo_module.PARKIR, demo_module.SAMPAH):
        check_request(request)
        assert request["name"].endswith("(data demo)") and "Data demo" in request["description"]
        assert request["agency"] in agencies
    assert demo_module.SURAT["shared_app"] == "SRIKANDI"  # not recommended: the national shared application serves
    for checklist in (demo_module.SPMB_REVIEW, demo_module.RME_REVIEW, demo_module.SURAT_REVIEW):
        check_checklist(checklist)
    document = demo_module.RME_DOCUMENTS[1]
    pdf = demo_module.demo_pdf(document, demo_module.RME)
    assert pdf == demo_module.demo_pdf(document, demo_module.RME), "the same bytes at every build"
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "DATA DEMO" in text and "Rp1.250.000.000" in text and document.internal


def test_the_demo_ledger_holds_every_state_audits_clean_and_is_marked(runtime: Runtime) -> None:
    demo_module.build_demo(runtime)
    ledger = runtime.ledger
    with ledger.read() as r:
        records = {a.app: a for a in r.applications()}
        views = {app: application_view(r, app) for app in records}
        roles = {(h.nip, h.role, h.unit) for h in r.roles()}
        identities = r.identities(p.nip for p in demo_module.STAFF)
    assert {app: (a.status, a.revision, a.agency) for app, a in records.items()} == APPLICATIONS
    assert {a.status for a in records.values()} == set(STATUSES)  # every state
    assert roles == {(g.person.nip, g.role, g.unit) for g in demo_module.DEMO_ROLES}
    assert {nip: i.capacity for nip, i in identities.items()} == {p.nip: p.title for p in demo_module.STAFF}

    returned_then_revised = views["2026-0002"]
    assert [type(e).__name__ for e in returned_then_revised.history] == [
        "Submitted", "Returned", "Submitted", "Reviewed", "Decided",
    ]  # fmt: skip
    assert returned_then_revised.request["prepared_by"] == demo_module.DINKES_OPERATOR.nip
    assert returned_then_revised.revisions[0].request["dpia_done"] is False
    assert returned_then_revised.latest.request["dpia_done"] is True
    not_recommended = views["2026-0003"].decision
    assert not_recommended is not None and "SRIKANDI" in not_recommended.notes[0]
    for view in views.values():
        decision = view.decision
        if decision is not None:
            assert decision.decision in DECISIONS and decision.nip == demo_module.KOMINFO_HEAD.nip
            assert decision.capacity == "Kepala Dinas Komunikasi dan Informatika Kota Kediri"
    acting = views["2026-0005"].latest
    assert acting.capacity.startswith("Plt. Kepala Dinas Lingkungan Hidup")  # the acting Kepala signs
    assert not views["2026-0005"].reviews, "waiting for its review: the demo's reviewers have work"

    # every attachment is a real PDF kept in the register by its hash; one is internal
    internal = []
    for view in views.values():
        for revision in view.revisions:
            for a in revision.request["attachments"]:
                kept = ledger.register.attachment(a["sha256"])
                assert kept is not None and hashlib.sha256(kept.data).hexdigest() == a["sha256"]
                assert len(kept.data) == a["bytes"]
                check_attachment(a["file"], kept.data)
                if a["internal"]:
                    internal.append(a["file"])
    assert "rab-rme-puskesmas.pdf" in internal

    with ledger.read() as r:  # the entries, their checkpoints and every derived table agree
        report = audit(r.stored_entries(), r.stored_checkpoints(), ledger.verifier, derived=r)
        assert r.meta()["org"] == demo_module.DEMO_ORG == "Pemerintah Kota Kediri (data demo)"
    assert report.signatures == 10  # the ceremony's; the requests and decisions are signed statements of their own

    # the letter with notes verifies offline under the ledger's key
    pdf = render_letter(ledger, "2026-0002", base_url=runtime.settings.base_url, now=datetime.now(UTC))
    checked = examine_certificate(pdf, ledger.verifier)
    assert not checked.failures and checked.key_trust is KeyTrust.TRUSTED

    # every printed login of the process works
    for given in demo_module.DEMO_ROLES:
        person = given.person
        assert accounts.authenticate(ledger, person.nip, person.password, datetime.now(UTC)).nip == person.nip


def test_docs_applications_lists_the_demo_as_it_is_built() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "APPLICATIONS.md").read_text(encoding="utf-8")
    demo = doc[doc.index("## The demo") :]
    accounts_listed = {
        tuple(cell.strip(" `") for cell in line.split("|")[4:7]) for line in demo.splitlines() if "`masuk-" in line
    }
    people = [g.person for g in demo_module.DEMO_ROLES] + [demo_module.ADMIN, demo_module.SECOND_ADMIN]
    assert accounts_listed == {(p.nip, p.password, p.passphrase) for p in people}
    rows = [line for line in demo.splitlines() if line.startswith("| 2026-")]
    assert [row.split("|")[1].strip() for row in rows] == list(APPLICATIONS)
    for row, (status, _revision, agency) in zip(rows, APPLICATIONS.values(), strict=True):
        assert agency in row and status.replace("_", " ") in row
