"""Rules version 5 (issue 15) in the standalone verifier: roles given by an entry
(`role.assigned`, `ikrar/role/v1`), requests signed by the Kepala PD (`app.submitted`,
`ikrar/app-request/v1`), reviews and returns, and decisions signed by the Kepala Dinas Kominfo
(`app.decided`, `ikrar/app-decision/v1`).

The ledgers are built by hand (`handmade.py`): every statement written out from the published
format and genuinely signed with the person's key, every checkpoint signed with the ledger's
key — what whoever holds the database and the ledger's passphrase could write — so that each
forged entry breaks only the rule under test. The standalone verifier must name it, and Ikrar's
own `verify-export` must name the same entry in the same words. The last test verifies a
ledger that Ikrar itself made through the whole process.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ledger.errors import ChainBroken
from ledger.export import verify_export
from ledger.note import VerifierKey
from ledger.statements import AppDecision, encode_signature
from signing import apps
from tests.factories import ADMIN_NIP, ADMIN_PASSPHRASE, LedgerFactory, nip, passphrase

from .handmade import (
    ORIGIN,
    VKEY,
    Person,
    build,
    canonical,
    created,
    decided,
    enrolled,
    person,
    published,
    returned,
    reviewed,
    role_assigned,
    rules,
    submitted,
)
from .test_ikrar_verify import broken_at, iv, standalone
from .test_vouching import Forgery, accepted, exported, forge, key_of, openssl_verifies, refused_by_both

KEY = iv.VKey.parse(VKEY)
Entry = tuple[str, str, dict[str, Any]]

ADMIN = person(1, "Admin Kominfo", "Pranata Komputer Ahli Muda", "Dinas Komunikasi dan Informatika")
SECOND_ADMIN = person(2, "Admin Kedua", "Pranata Komputer Ahli Pertama", "Dinas Komunikasi dan Informatika")
HEALTH = "Dinas Kesehatan"
EDUCATION = "Dinas Pendidikan"
KOMINFO = "Dinas Komunikasi dan Informatika"
HEAD = person(3, "dr. Sari Wulandari", "Kepala Dinas Kesehatan Kota Kediri", HEALTH)
OPERATOR = person(5, "Budi Santoso", "Pranata Komputer Ahli Pertama", HEALTH)
REVIEWER = person(7, "Rina Kusuma", "Pranata Komputer Ahli Madya", KOMINFO)
DECIDER = person(9, "Ir. Agus Prasetyo", "Kepala Dinas Komunikasi dan Informatika Kota Kediri", KOMINFO)
OTHER_HEAD = person(11, "Drs. Hadi Wijaya", "Kepala Dinas Pendidikan Kota Kediri", EDUCATION)
NEXT_DECIDER = person(13, "Dewi Lestari", "Sekretaris Dinas Komunikasi dan Informatika", KOMINFO)
PEOPLE = (SECOND_ADMIN, HEAD, OPERATOR, REVIEWER, DECIDER, OTHER_HEAD, NEXT_DECIDER)
APP = "2026-0001"


def request(agency: str = HEALTH, **changed: Any) -> dict[str, Any]:
    """A complete request of `agency`, every member as the format has it; `changed` replaces some."""
    obj: dict[str, Any] = {
        "name": "Sistem Informasi Rujukan Puskesmas",
        "description": "Rujukan pasien dari puskesmas ke rumah sakit daerah.\nTercatat dan terlacak.",
        "agency": agency,
        "developer_unit": "Bidang Pelayanan Kesehatan",
        "user_unit": "Puskesmas se-Kota Kediri",
        "contact": "Budi Santoso, (0354) 123456, dinkes@kedirikota.go.id",
        "legal_basis": "Perpres 95/2018 tentang SPBE",
        "problem": "Rujukan ditulis tangan dan sering hilang.",
        "need": "Rujukan elektronik yang dapat dilacak.",
        "kind": "new",
        "shared_app": "SATUSEHAT",
        "shared_why_not": "SATUSEHAT belum menyediakan rujukan antarfasilitas daerah.",
        "goals": "Waktu rujukan turun separuh.",
        "users_internal": True,
        "users_external": False,
        "users_count": 250,
        "target_date": "2026-12-31",
        "budget_amount": 350_000_000,
        "budget_source": "APBD",
        "fiscal_year": 2027,
        "builder": "vendor",
        "vendor": "PT Contoh Teknologi",
        "data_processed": "Identitas dan riwayat rujukan pasien.",
        "personal_data": True,
        "specific_personal_data": True,
        "dpia_done": False,
        "hosting": "pdn",
        "hosting_reason": "",
        "splp": True,
        "sso": True,
        "integration_note": "",
        "security_testing": "Uji penetrasi oleh BSSN sebelum operasi.",
        "attachments": [
            {
                "title": "Kerangka Acuan Kerja",
                "file": "kak.pdf",
                "sha256": hashlib.sha256(b"kak").hexdigest(),
                "bytes": 123456,
                "internal": False,
            }
        ],
        "prepared_by": OPERATOR.nip,
    }
    return obj | changed


def checklist(**changed: dict[str, str]) -> dict[str, Any]:
    points = ("architecture", "duplication", "hosting", "integration", "security", "personal_data")
    return {point: {"finding": "fits", "note": ""} for point in points} | changed


def sha(obj: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(obj).encode()).hexdigest()


@dataclass
class World:
    """A handmade ledger of rules `version`, entry by entry, a minute apart."""

    version: int = 5
    entries: list[Entry] = field(default_factory=list)
    minutes: Iterator[int] = field(default_factory=lambda: iter(range(10_000)))

    def t(self) -> str:
        m = next(self.minutes)
        return f"2026-02-{1 + m // 1440:02d}T{m // 60 % 24:02d}:{m % 60:02d}:00Z"

    def add(self, *made: Callable[[str], Entry]) -> World:
        for make in made:
            self.entries.append(make(self.t()))
        return self

    @property
    def last(self) -> int:
        return len(self.entries) - 1


def staffed(version: int = 5) -> World:
    """A ledger of rules `version` with an admin and every person of PEOPLE enrolled; from
    version 5 the roles: HEAD the pd-head and OPERATOR a pd-operator of HEALTH, REVIEWER a
    reviewer, DECIDER the kominfo-head, OTHER_HEAD the pd-head of EDUCATION."""
    world = World(version)
    world.add(lambda t: created(t, rules=version), lambda t: enrolled(t, ADMIN, "admin"))
    world.add(*[lambda t, p=p: enrolled(t, p, "admin" if p is SECOND_ADMIN else "official", ADMIN) for p in PEOPLE])
    if version >= 5:
        world.add(
            lambda t: role_assigned(t, HEAD, "pd-head", HEALTH, ADMIN),
            lambda t: role_assigned(t, OPERATOR, "pd-operator", HEALTH, ADMIN),
            lambda t: role_assigned(t, REVIEWER, "reviewer", KOMINFO, ADMIN),
            lambda t: role_assigned(t, DECIDER, "kominfo-head", KOMINFO, ADMIN),
            lambda t: role_assigned(t, OTHER_HEAD, "pd-head", EDUCATION, ADMIN),
        )
    return world


def under_review(version: int = 5) -> World:
    """`staffed`, and application APP submitted by HEAD (revision 1)."""
    return staffed(version).add(lambda t: submitted(t, APP, 1, request(), HEAD))


def reviewed_once() -> World:
    return under_review().add(lambda t: reviewed(t, APP, 1, REVIEWER, checklist()))


def full_flow() -> World:
    """Request, review, return, revision 2, review, decision: every step of the process."""
    second = request(budget_amount=300_000_000, dpia_done=True)
    return reviewed_once().add(
        lambda t: returned(t, APP, 1, REVIEWER, ["DPIA belum dilakukan.", "Anggaran perlu dirinci per komponen."]),
        lambda t: submitted(t, APP, 2, second, HEAD),
        lambda t: reviewed(t, APP, 2, REVIEWER, checklist(hosting={"finding": "concern", "note": "Pastikan di PDN."})),
        lambda t: decided(t, APP, 2, sha(second), "recommended_with_notes", ["Gunakan PDN."], DECIDER),
    )


def verdict(world: World, folder: Path) -> Any:
    """The standalone verifier's report on the world's ledger, or the Broken naming the first
    broken entry; Ikrar's `verify-export` of the same folder reaches the same verdict, in the
    same words."""
    build(folder, world.entries)
    ours: Any
    try:
        ours = verify_export(folder, VerifierKey.parse(VKEY))
    except ChainBroken as e:
        ours = e
    try:
        theirs = iv.verify_export(folder, KEY)[0]
    except iv.Broken as e:
        assert isinstance(ours, ChainBroken), f"Ikrar accepts what the verifier refuses: {e}"
        assert (ours.index, ours.reason) == (e.index, e.reason), f"Ikrar: {ours}; the verifier: {e}"
        return e
    assert not isinstance(ours, ChainBroken), f"Ikrar refuses what the verifier accepts: {ours}"
    assert (ours.size, ours.root) == (theirs.size, theirs.root)
    return theirs


def refused(world: World, folder: Path, words: str) -> str:
    """The verifier's reason for refusing the world's last entry, which holds `words`, in this
    process and on the command line."""
    broken = verdict(world, folder)
    assert isinstance(broken, iv.Broken), f"the ledger verified; expected {words!r}"
    kind = world.entries[-1][0]
    assert broken.index == world.last, broken
    assert broken.reason.startswith(f"{kind} breaks a rule: "), broken.reason
    assert words in broken.reason, broken.reason
    result = standalone("export", folder, "--vkey", VKEY)
    assert result.returncode == 1 and broken_at(result.stderr) == world.last, result.stderr
    assert f"BROKEN at entry {world.last}: {broken.reason}" in result.stderr
    return str(broken.reason)


# -- what holds -------------------------------------------------------------------------------------


def test_a_full_flow_of_rules_5_verifies(tmp_path: Path) -> None:
    world = full_flow().add(
        lambda t: submitted(t, "2026-0002", 1, request(EDUCATION, name="Rapor Digital"), OTHER_HEAD),
        lambda t: reviewed(t, "2026-0002", 1, DECIDER, checklist()),  # the Kepala Dinas reviews too
        lambda t: decided(t, "2026-0002", 1, sha(request(EDUCATION, name="Rapor Digital")), "recommended", [], DECIDER),
        lambda t: submitted(t, "2026-0003", 1, request(kind="licence", builder="in_house", vendor=""), HEAD),
        lambda t: reviewed(t, "2026-0003", 1, REVIEWER, checklist()),
        lambda t: decided(
            t,
            "2026-0003",
            1,
            sha(request(kind="licence", builder="in_house", vendor="")),
            "not_recommended",
            ["SATUSEHAT melayani kebutuhan ini.", "Gunakan aplikasi umum."],
            DECIDER,
        ),
    )
    report = verdict(world, tmp_path / "x")
    assert isinstance(report, iv.Report), report
    assert (report.size, report.rules, report.signatures) == (len(world.entries), 5, 0)
    result = standalone("export", tmp_path / "x", "--vkey", VKEY)
    assert result.returncode == 0 and result.stdout.startswith(f"OK: {len(world.entries)} entries"), result.stderr


def test_a_role_is_withdrawn_and_granted_again(tmp_path: Path) -> None:
    world = staffed().add(
        lambda t: role_assigned(t, OPERATOR, "pd-operator", HEALTH, ADMIN, grant=False, reason="Pindah tugas"),
        lambda t: role_assigned(t, OPERATOR, "pd-operator", HEALTH, SECOND_ADMIN, reason="Kembali bertugas"),
        lambda t: role_assigned(t, REVIEWER, "reviewer", "Bidang Aplikasi Informatika", ADMIN),  # a second office
    )
    assert isinstance(verdict(world, tmp_path / "x"), iv.Report)


def test_rules_5_raised_by_a_ledger_rules_entry_hold_from_there_on(tmp_path: Path) -> None:
    world = staffed(4)
    world.add(lambda t: published(t, "komitmen"), lambda t: rules(t, 5))
    world.add(
        lambda t: role_assigned(t, HEAD, "pd-head", HEALTH, ADMIN),
        lambda t: role_assigned(t, REVIEWER, "reviewer", KOMINFO, ADMIN),
        lambda t: role_assigned(t, DECIDER, "kominfo-head", KOMINFO, ADMIN),
        lambda t: submitted(t, APP, 1, request(), HEAD),
        lambda t: reviewed(t, APP, 1, REVIEWER, checklist()),
        lambda t: decided(t, APP, 1, sha(request()), "recommended", [], DECIDER),
    )
    report = verdict(world, tmp_path / "x")
    assert isinstance(report, iv.Report) and report.rules == 5, report


def test_the_statements_are_the_published_lines() -> None:
    """The verifier's statements, line for line, as the format (and handmade.py) writes them."""
    world = full_flow()
    made = {kind: (time, f) for kind, time, f in world.entries}
    time, f = made["app.decided"]
    entry = iv.Entry(0, "app.decided", iv.parse_time(time), bytes(32), f, b"")
    assert iv.app_decision_text(ORIGIN, entry) == (
        f"ikrar/app-decision/v1\norigin {ORIGIN}\napplication {APP} 2\nrequest {f['request_sha256']}\n"
        f"decision recommended_with_notes\nnote Gunakan PDN.\nsigner {DECIDER.nip}\nname {DECIDER.name}\n"
        f"capacity {DECIDER.title}\nkey {DECIDER.key}\ntime {time}\n"
    )
    time, f = made["role.assigned"]
    entry = iv.Entry(0, "role.assigned", iv.parse_time(time), bytes(32), f, b"")
    assert iv.role_text(ORIGIN, entry) == (
        f"ikrar/role/v1\norigin {ORIGIN}\nnip {OTHER_HEAD.nip}\nrole pd-head\nunit {EDUCATION}\ngrant yes\n"
        f"reason Surat Keputusan\ntime {time}\n"
    )


# -- the failures the issue names -------------------------------------------------------------------


def test_a_decision_signed_by_anyone_but_the_kominfo_head_is_refused(tmp_path: Path) -> None:
    """The reviewer signs a decision with their own, active key, over the exact statement."""
    world = reviewed_once().add(lambda t: decided(t, APP, 1, sha(request()), "recommended", [], REVIEWER))
    reason = refused(world, tmp_path / "x", "")
    assert reason == (
        f"app.decided breaks a rule: official {REVIEWER.nip} is not the Kepala Dinas Kominfo (role kominfo-head): "
        "only they decide"
    )


def test_a_decision_by_the_kominfo_head_replaced_is_refused(tmp_path: Path) -> None:
    """A new grant of kominfo-head ends the previous holder's: their key no longer decides."""
    world = reviewed_once().add(
        lambda t: role_assigned(t, NEXT_DECIDER, "kominfo-head", "Diskominfo Kota Kediri", ADMIN),
        lambda t: decided(t, APP, 1, sha(request()), "recommended", [], DECIDER),
    )
    refused(world, tmp_path / "x", f"official {DECIDER.nip} is not the Kepala Dinas Kominfo")
    world.entries[-1] = decided(world.entries[-1][1], APP, 1, sha(request()), "recommended", [], NEXT_DECIDER)
    assert isinstance(verdict(world, tmp_path / "y"), iv.Report)


def test_a_decision_signed_with_another_key_than_the_one_named_is_refused(tmp_path: Path) -> None:
    """The fields name the Kepala Dinas Kominfo, but the reviewer's key made the signature."""
    world = reviewed_once()
    world.add(lambda t: decided(t, APP, 1, sha(request()), "recommended", [], REVIEWER))
    forged = world.entries[-1][2] | {"nip": DECIDER.nip, "key": DECIDER.key, "name": DECIDER.name}
    world.entries[-1] = ("app.decided", world.entries[-1][1], forged | {"capacity": DECIDER.title})
    assert refused(world, tmp_path / "x", "") == (
        f"app.decided breaks a rule: the decision for official {DECIDER.nip} does not verify"
    )


def test_a_request_by_someone_not_the_agencys_pd_head_is_refused(tmp_path: Path) -> None:
    world = staffed().add(lambda t: submitted(t, APP, 1, request(), OPERATOR))
    assert refused(world, tmp_path / "operator", "") == (
        f"app.submitted breaks a rule: official {OPERATOR.nip} is not the Kepala PD of '{HEALTH}' (role pd-head)"
    )
    other = staffed().add(lambda t: submitted(t, APP, 1, request(), OTHER_HEAD))  # the head of another agency
    refused(other, tmp_path / "other", f"official {OTHER_HEAD.nip} is not the Kepala PD of '{HEALTH}'")


def test_a_request_with_a_wrong_sha256_is_refused(tmp_path: Path) -> None:
    world = staffed().add(lambda t: submitted(t, APP, 1, request(), HEAD, request_sha256=sha(request(name="Lain"))))
    assert refused(world, tmp_path / "x", "") == (
        "app.submitted breaks a rule: request_sha256 is not the SHA-256 of the request"
    )


def test_a_decision_without_a_review_is_refused(tmp_path: Path) -> None:
    world = under_review().add(lambda t: decided(t, APP, 1, sha(request()), "recommended", [], DECIDER))
    assert refused(world, tmp_path / "x", "") == (
        f"app.decided breaks a rule: revision 1 of application '{APP}' was not reviewed yet"
    )


def test_a_review_of_an_earlier_revision_does_not_count_for_the_next(tmp_path: Path) -> None:
    world = reviewed_once().add(
        lambda t: returned(t, APP, 1, REVIEWER, ["Lengkapi KAK."]),
        lambda t: submitted(t, APP, 2, request(name="Sistem Rujukan"), HEAD),
        lambda t: decided(t, APP, 2, sha(request(name="Sistem Rujukan")), "recommended", [], DECIDER),
    )
    refused(world, tmp_path / "x", f"revision 2 of application '{APP}' was not reviewed yet")


# -- every other rule of version 5, each forged past -------------------------------------------------


def _revoked(time: str, who: Person) -> Entry:
    text = f"ikrar/revocation/v1\norigin {ORIGIN}\nnip {who.nip}\nkey {who.key}\nreason Kunci hilang\ntime {time}\n"
    fields = {"nip": who.nip, "key": who.key, "reason": "Kunci hilang", "by": ADMIN.nip}
    return "key.revoked", time, fields | {"revoker": ADMIN.key, "revocation": ADMIN.sign(text)}


def _revoked_operator() -> World:
    return staffed().add(lambda t: _revoked(t, OPERATOR))


def _withdrawn_head() -> World:
    return staffed().add(lambda t: role_assigned(t, HEAD, "pd-head", HEALTH, ADMIN, grant=False, reason="Pensiun"))


def _replaced_head() -> World:
    return staffed().add(lambda t: role_assigned(t, OPERATOR, "pd-head", HEALTH, ADMIN, reason="Plt. Kepala Dinas"))


def _decided_app() -> World:
    return reviewed_once().add(lambda t: decided(t, APP, 1, sha(request()), "recommended", [], DECIDER))


def _returned_app() -> World:
    return reviewed_once().add(lambda t: returned(t, APP, 1, REVIEWER, ["Lengkapi KAK."]))


def _role(who: Person, role: str, unit: str, by: Person = ADMIN, **kw: Any) -> Callable[[str], Entry]:
    return lambda t: role_assigned(t, who, role, unit, by, **kw)


def _request(obj: dict[str, Any] | str, head: Person = HEAD, revision: int = 1, **kw: Any) -> Callable[[str], Entry]:
    return lambda t: submitted(t, APP, revision, obj, head, **kw)


def _decision(decision: str = "recommended", notes: list[str] | None = None, **kw: Any) -> Callable[[str], Entry]:
    return lambda t: decided(t, APP, 1, sha(request()), decision, notes or [], DECIDER, **kw)


def _flipped(field_name: str, make: Callable[[str], Entry]) -> Callable[[str], Entry]:
    def forged(t: str) -> Entry:
        kind, time, f = make(t)
        raw = bytearray(iv.b64(f[field_name], "signature"))
        raw[0] ^= 1
        return kind, time, f | {field_name: iv.base64.b64encode(bytes(raw)).decode()}

    return forged


def _entry(kind: str, **fields: Any) -> Callable[[str], Entry]:
    return lambda t: (kind, t, fields)


Scenario = tuple[Callable[[], World], Callable[[str], Entry], str]
SCENARIOS: dict[str, Scenario] = {
    # roles
    "a role before rules 5": (
        lambda: staffed(4),
        _role(HEAD, "pd-head", HEALTH),
        "a role is given by an entry from rules version 5 on",
    ),
    "an unknown role": (
        staffed,
        _role(HEAD, "kepala", HEALTH),
        "role 'kepala' is not one of pd-head, pd-operator, reviewer, kominfo-head",
    ),
    "a role of someone never enrolled": (
        staffed,
        _role(person(21, "X", "Y", HEALTH), "pd-operator", HEALTH),
        "was never enrolled",
    ),
    "a role for a blank unit": (staffed, _role(OPERATOR, "reviewer", " "), "the unit is blank"),
    "a role for a unit of two lines": (
        staffed,
        _role(OPERATOR, "reviewer", "Dinas\nKominfo"),
        "the unit holds a line break",
    ),
    "a role without a reason": (
        staffed,
        _role(OPERATOR, "reviewer", KOMINFO, reason=" "),
        "the reason is blank",
    ),
    "a role granted twice": (
        staffed,
        _role(HEAD, "pd-head", HEALTH),
        f"official {HEAD.nip} already holds pd-head for '{HEALTH}'",
    ),
    "a role withdrawn that is not held": (
        staffed,
        _role(HEAD, "pd-head", EDUCATION, grant=False),
        "does not hold pd-head for 'Dinas Pendidikan': nothing to withdraw",
    ),
    "a role attested by the official": (
        staffed,
        _role(SECOND_ADMIN, "reviewer", KOMINFO, by=SECOND_ADMIN),
        f"official {SECOND_ADMIN.nip} attests their own role",
    ),
    "a role attested by an official's key": (
        staffed,
        _role(OPERATOR, "reviewer", KOMINFO, by=HEAD),
        "is not an active admin key",
    ),
    "a role attestation with one byte flipped": (
        staffed,
        _flipped("attestation", _role(OPERATOR, "reviewer", KOMINFO)),
        f"the role for official {OPERATOR.nip} does not verify",
    ),
    # requests
    "a request before rules 5": (
        lambda: staffed(4),
        _request(request()),
        "applications are kept on the ledger from rules version 5 on",
    ),
    "a request by a withdrawn pd-head": (
        _withdrawn_head,
        _request(request()),
        f"official {HEAD.nip} is not the Kepala PD of '{HEALTH}' (role pd-head)",
    ),
    "a request by the pd-head replaced": (
        _replaced_head,
        _request(request()),
        f"official {HEAD.nip} is not the Kepala PD of '{HEALTH}' (role pd-head)",
    ),
    "a request naming another agency than its own": (
        staffed,
        _request(request(), agency=EDUCATION),
        "agency is not the request's agency",
    ),
    "a request of another agency's head for it": (
        staffed,
        _request(request(EDUCATION), agency=HEALTH),
        "agency is not the request's agency",
    ),
    "an application id of another form": (
        staffed,
        lambda t: submitted(t, "26-1", 1, request(), HEAD),
        "application id '26-1' is not YYYY-NNNN",
    ),
    "an application id used before": (
        _decided_app,
        _request(request(name="Lagi")),
        f"application id '{APP}' is taken",
    ),
    "a revision 0": (staffed, _request(request(), revision=0), f"revision 0 of application '{APP}' is below 1"),
    "a revision 2 of an app never submitted": (staffed, _request(request(), revision=2), "was never submitted"),
    "a revision 2 without a return": (
        under_review,
        _request(request(), revision=2),
        f"application '{APP}' is submitted: only a returned request is revised",
    ),
    "a revision 3 after revision 1 returned": (
        _returned_app,
        _request(request(), revision=3),
        f"application '{APP}' was returned at revision 1: the next is 2",
    ),
    "a request not in canonical form": (
        staffed,
        _request(canonical(request()).replace('{"agency"', '{ "agency"')),
        "the request is not written in its canonical JSON (RFC 8785)",
    ),
    "a request missing a member": (
        staffed,
        _request({k: v for k, v in request().items() if k != "goals"}),
        "the request's goals is missing",
    ),
    "a request with a member too many": (
        staffed,
        _request(request(price=1)),
        "the request's price is not a field of it",
    ),
    "a request with a blank name": (staffed, _request(request(name=" ")), "the request's name is blank"),
    "a request with a name of two lines": (
        staffed,
        _request(request(name="A\nB")),
        "the request's name holds a line break",
    ),
    "a request of an unknown kind": (
        staffed,
        _request(request(kind="rent")),
        "the request's kind is not one of new, development, licence, subscription",
    ),
    "a request with a count as text": (
        staffed,
        _request(request(users_count="250")),
        "the request's users_count must be of JSON type integer",
    ),
    "a request with a flag as a number": (
        staffed,
        _request(request(sso=1)),
        "the request's sso must be of JSON type boolean",
    ),
    "a request with a fiscal year out of range": (
        staffed,
        _request(request(fiscal_year=1999)),
        "the request's fiscal_year is not within 2000..2100",
    ),
    "a request with no real date": (
        staffed,
        _request(request(target_date="2026-02-30")),
        "the request's target_date is not a date written YYYY-MM-DD",
    ),
    "a request of a vendor without a name": (
        staffed,
        _request(request(vendor="")),
        "the request's vendor is required when a vendor builds it",
    ),
    "a request hosted elsewhere without a reason": (
        staffed,
        _request(request(hosting="other")),
        "the request's hosting_reason is required when it is hosted elsewhere",
    ),
    "a shared app named without why not": (
        staffed,
        _request(request(shared_why_not="")),
        "the request's shared_why_not is required when a shared application is named",
    ),
    "specific personal data without personal data": (
        staffed,
        _request(request(personal_data=False)),
        "the request's specific_personal_data is true although personal_data is false",
    ),
    "an attachment too large": (
        staffed,
        _request(request(attachments=[request()["attachments"][0] | {"bytes": 10 * 1024 * 1024 + 1}])),
        "the request's attachments.0.bytes is not within 1..10485760",
    ),
    "eleven attachments": (
        staffed,
        _request(request(attachments=request()["attachments"] * 11)),
        "the request's attachments holds more than 10",
    ),
    "an attachment with a hash in capitals": (
        staffed,
        _request(request(attachments=[request()["attachments"][0] | {"sha256": "A" * 64}])),
        "the request's attachments.0.sha256 is not 64 lowercase hex digits",
    ),
    "a request prepared by no one known": (
        staffed,
        _request(request(prepared_by="operator")),
        "the request's prepared_by is neither a NIP nor an identifier Ikrar gives",
    ),
    "a request in another name than the head's": (
        staffed,
        _request(request(), name="dr. Sari"),
        "the name or capacity signed is not official",
    ),
    "a request with a character that cannot be shown": (
        staffed,
        _request(request(description="Rujukan\u0007pasien")),
        "the request's description holds characters that cannot be shown",
    ),
    "a request with a fraction": (
        staffed,
        _request(canonical(request(users_count=2.5))),
        "the request is not JSON: 2.5 is not an integer",
    ),
    "a file attached twice": (
        staffed,
        _request(request(attachments=request()["attachments"] * 2)),
        "the request's attachments.1.sha256 names a file attached before",
    ),
    "a revision of another agency's application": (
        _returned_app,
        _request(request(EDUCATION), head=OTHER_HEAD, revision=2),
        f"application '{APP}' belongs to '{HEALTH}'",
    ),
    "a role granted to an official whose key was revoked": (
        _revoked_operator,
        _role(OPERATOR, "reviewer", KOMINFO),
        f"official {OPERATOR.nip} holds no active key: no role for them",
    ),
    "a request with one byte flipped": (
        staffed,
        _flipped("signature", _request(request())),
        f"the request for official {HEAD.nip} does not verify",
    ),
    # reviews and returns
    "a review before rules 5": (
        lambda: staffed(4),
        lambda t: reviewed(t, APP, 1, REVIEWER, checklist()),
        "applications are kept on the ledger from rules version 5 on",
    ),
    "a review of an app never submitted": (
        staffed,
        lambda t: reviewed(t, APP, 1, REVIEWER, checklist()),
        f"application '{APP}' was never submitted",
    ),
    "a review by the pd-head": (
        under_review,
        lambda t: reviewed(t, APP, 1, HEAD, checklist()),
        "is not a reviewer of Diskominfo (role reviewer or kominfo-head)",
    ),
    "a review of another revision": (
        under_review,
        lambda t: reviewed(t, APP, 2, REVIEWER, checklist()),
        f"application '{APP}' waits at revision 1, not 2",
    ),
    "a review of a returned app": (
        _returned_app,
        lambda t: reviewed(t, APP, 1, REVIEWER, checklist()),
        "is returned: only a request that waits is reviewed, returned or decided",
    ),
    "a checklist without a point": (
        under_review,
        lambda t: reviewed(t, APP, 1, REVIEWER, {k: v for k, v in checklist().items() if k != "security"}),
        "the checklist's security is missing",
    ),
    "a concern without a note": (
        under_review,
        lambda t: reviewed(t, APP, 1, REVIEWER, checklist(security={"finding": "concern", "note": " "})),
        "the checklist's security.note is required when the finding is not 'fits'",
    ),
    "an unknown finding": (
        under_review,
        lambda t: reviewed(t, APP, 1, REVIEWER, checklist(hosting={"finding": "ok", "note": ""})),
        "the checklist's hosting.finding is not one of fits, concern, does_not_fit",
    ),
    "a checklist not in canonical form": (
        under_review,
        _entry(
            "app.reviewed", app=APP, revision=1, by=REVIEWER.nip, checklist=canonical(checklist()).replace(":", ": ", 1)
        ),
        "the checklist is not written in its canonical JSON (RFC 8785)",
    ),
    "a return without reasons": (
        under_review,
        lambda t: returned(t, APP, 1, REVIEWER, []),
        "a request is returned with at least one reason",
    ),
    "a return with a blank reason": (
        under_review,
        lambda t: returned(t, APP, 1, REVIEWER, ["Lengkapi KAK.", ""]),
        "reasons.1 is blank",
    ),
    "a return by an operator": (
        under_review,
        lambda t: returned(t, APP, 1, OPERATOR, ["Tidak lengkap."]),
        "is not a reviewer of Diskominfo (role reviewer or kominfo-head)",
    ),
    "a return after the decision": (
        _decided_app,
        lambda t: returned(t, APP, 1, REVIEWER, ["Terlambat."]),
        "is recommended: only a request that waits is reviewed, returned or decided",
    ),
    # decisions
    "a decision before rules 5": (
        lambda: staffed(4),
        _decision(),
        "applications are kept on the ledger from rules version 5 on",
    ),
    "a second decision": (
        _decided_app,
        _decision("not_recommended", ["Berubah pikiran."]),
        "is recommended: only a request that waits is reviewed, returned or decided",
    ),
    "a decision of a returned app": (
        _returned_app,
        _decision(),
        "is returned: only a request that waits is reviewed, returned or decided",
    ),
    "a decision naming another request": (
        reviewed_once,
        lambda t: decided(t, APP, 1, sha(request(name="Lain")), "recommended", [], DECIDER),
        f"the decision names another request than revision 1 of application '{APP}'",
    ),
    "an unknown decision": (
        reviewed_once,
        _decision("approved"),
        "decision 'approved' is not one of recommended, recommended_with_notes, not_recommended",
    ),
    "a recommendation with notes": (
        reviewed_once,
        _decision("recommended", ["Catatan."]),
        "a decision 'recommended' carries no notes (choose 'recommended_with_notes')",
    ),
    "a decision with notes without notes": (
        reviewed_once,
        _decision("recommended_with_notes"),
        "a decision 'recommended_with_notes' needs at least one note",
    ),
    "a refusal without reasons": (
        reviewed_once,
        _decision("not_recommended"),
        "a decision 'not_recommended' needs at least one note",
    ),
    "a note of two lines": (
        reviewed_once,
        _decision("not_recommended", ["Satu\nDua"]),
        "notes.0 holds a line break",
    ),
    "a note too long": (
        reviewed_once,
        _decision("not_recommended", ["x" * 2001]),
        "notes.0 is longer than 2000 characters",
    ),
    "a decision in another capacity": (
        reviewed_once,
        _decision(capacity="Plt. Kepala Dinas"),
        "the name or capacity signed is not official",
    ),
    "a decision with one byte flipped": (
        reviewed_once,
        _flipped("signature", _decision()),
        f"the decision for official {DECIDER.nip} does not verify",
    ),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS), ids=list(SCENARIOS))
def test_an_entry_forged_past_the_rules_of_version_5_is_refused(tmp_path: Path, scenario: str) -> None:
    before, forged, words = SCENARIOS[scenario]
    world = before()
    assert isinstance(verdict(world, tmp_path / "before"), iv.Report)
    refused(world.add(forged), tmp_path / "forged", words)


def test_a_decision_signed_by_a_revoked_key_is_refused(tmp_path: Path) -> None:
    """The Kepala Dinas Kominfo keeps the role, but a revoked key signs nothing."""
    world = reviewed_once()
    world.add(lambda t: _revoked(t, DECIDER), _decision())
    refused(world, tmp_path / "x", f"the key is not the active key of official {DECIDER.nip}")


def test_what_rules_5_brings_is_an_unknown_kind_to_no_one(tmp_path: Path) -> None:
    """A field of the wrong type breaks the entry as a leaf, whatever the rules."""
    world = staffed().add(
        lambda t: ("role.assigned", t, role_assigned(t, HEAD, "reviewer", KOMINFO, ADMIN)[2] | {"grant": "yes"})
    )
    broken = verdict(world, tmp_path / "x")
    assert isinstance(broken, iv.Broken) and broken.index == world.last
    assert broken.reason == "the leaf is not a valid entry: role.assigned field 'grant' must be bool"


# -- a ledger Ikrar made ------------------------------------------------------------------------------


def test_a_ledger_ikrar_made_through_the_whole_process_verifies(ledger_factory: LedgerFactory, tmp_path: Path) -> None:
    """Roles, a request signed from an operator's draft, a review, a return, revision 2, a second
    review and the Kepala Dinas Kominfo's decision, made by Ikrar's own actions: the standalone
    verifier accepts the export as Ikrar's audit does, every statement is the bytes signed (as
    openssl checks them), and a decision forged into it by the reviewer's own key is refused by
    both at the same entry, in the same words."""
    world = ledger_factory.created()
    for n in (1, 2, 3, 4):
        world.official(n)
    agency = "Dinas 1"  # the unit of the factory's official 1
    for who, role, unit in ((1, "pd-head", agency), (4, "pd-operator", agency), (2, "reviewer", "Bidang Aplikasi")):
        apps.assign_role(
            world.ctx, nip(who), role, unit, True, "Penetapan tugas", ADMIN_NIP, ADMIN_PASSPHRASE, world.now()
        )
    apps.assign_role(
        world.ctx, nip(3), "kominfo-head", KOMINFO, True, "SK Wali Kota", ADMIN_NIP, ADMIN_PASSPHRASE, world.now()
    )
    first = request(agency, prepared_by=nip(4))
    draft = apps.save_draft(world.ctx, agency, first, nip(4), world.now())
    app = str(apps.submit_app(world.ctx, draft, None, nip(1), passphrase(1), world.now()).entry.fields["app"])
    apps.review_app(
        world.ctx, app, nip(2), checklist(security={"finding": "concern", "note": "Belum ada uji."}), world.now()
    )
    apps.return_app(world.ctx, app, nip(2), ["Lengkapi rencana uji keamanan."], world.now())
    apps.submit_app(world.ctx, None, request(agency, dpia_done=True), nip(1), passphrase(1), world.now(), app=app)
    apps.review_app(world.ctx, app, nip(2), checklist(), world.now())
    apps.decide_app(world.ctx, app, "recommended_with_notes", ["Gunakan PDN."], nip(3), passphrase(3), world.now())

    report = accepted(world, exported(world, tmp_path / "export"))
    assert report.rules == 5
    entries = [
        iv.parse_entry(base64.b64decode(json.loads(line)["leaf"]))
        for line in (tmp_path / "export" / "entries.jsonl").read_text().splitlines()
    ]
    kinds = [e.kind for e in entries]
    assert kinds.count("role.assigned") == 4 and kinds.count("app.submitted") == 2 and "app.returned" in kinds
    checked = set()
    for entry in entries:
        f = entry.fields
        if entry.kind == "role.assigned":
            text, key, signature = iv.role_text(world.ledger.origin, entry), f["attester"], f["attestation"]
        elif entry.kind == "app.submitted":
            text, key, signature = iv.app_request_text(world.ledger.origin, entry), f["key"], f["signature"]
        elif entry.kind == "app.decided":
            text, key, signature = iv.app_decision_text(world.ledger.origin, entry), f["key"], f["signature"]
        else:
            continue
        assert openssl_verifies(tmp_path, text, key, signature), text
        assert not openssl_verifies(
            tmp_path, text.replace("\nkey ", "\nkey  ").replace("\ngrant ", "\ngrant  "), key, signature
        )
        checked.add(text.split("\n")[0])
    assert checked == {"ikrar/role/v1", "ikrar/app-request/v1", "ikrar/app-decision/v1"}

    # A second application, reviewed; the reviewer signs its decision with their own key.
    other = apps.submit_app(world.ctx, None, request(agency, name="Aplikasi Lain"), nip(1), passphrase(1), world.now())
    second = str(other.entry.fields["app"])
    apps.review_app(world.ctx, second, nip(2), checklist(), world.now())
    moment = world.now()
    with world.ledger.read() as r:
        identity = r.identities([nip(2)])[nip(2)]
        record = r.application(second)
    assert record is not None
    fields: dict[str, Any] = {
        "app": second,
        "revision": 1,
        "request_sha256": record.request_sha256,
        "decision": "recommended",
        "notes": [],
        "nip": nip(2),
        "key": key_of(world, nip(2)),
        "name": identity.name,
        "capacity": identity.capacity,
    }
    statement = AppDecision.of_fields(world.ledger.origin, fields, moment).text()
    raw = world.keys.signer(VerifierKey.parse(fields["key"]), passphrase(2))(statement.encode())
    words = f"official {nip(2)} is not the Kepala Dinas Kominfo (role kominfo-head): only they decide"
    forgery = Forgery("app.decided", fields | {"signature": encode_signature(raw)}, words, moment)
    reason = refused_by_both(world, forge(world, tmp_path / "forged", forgery))
    assert reason == f"app.decided breaks a rule: {words}"
