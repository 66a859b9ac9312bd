"""Builders for ledgers in tests: exact times, fast key derivation, readable names."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session

from ledger.errors import NoteInvalid
from ledger.note import NoteSigner
from ledger.state import RULES, VOUCHING_RULES
from ledger.statements import AppDecision, AppRequest, Role
from ledger.store import Appended, Ledger
from signing import actions, vouching
from signing.actions import Context
from signing.keystore import KeyStore

FAST_KDF = 1000  # tests only; the default is 600,000
ORIGIN = "test.kedirikota.go.id/ikrar"
T0 = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)


def nip(n: int) -> str:
    """A plausible, distinct NIP: born 1975-03-14, appointed 2001-04, male, sequence n."""
    return f"19750314200104100{n:1d}" if n < 10 else f"1975031420010410{n:02d}"


def passphrase(n: int) -> str:
    return f"rahasia-tanda-{n}-tangan"


def passphrase_of(identifier: str) -> str:
    """The signing passphrase the factory gives the official of a NIP or identifier."""
    for n in range(100):
        if nip(n) == identifier:
            return passphrase(n)
    return f"rahasia-tanda-{identifier}-tangan"


ADMIN, SECOND_ADMIN = 99, 98  # the factory's Diskominfo admins: nip(ADMIN), nip(SECOND_ADMIN)
ADMIN_NIP, ADMIN_PASSPHRASE = nip(ADMIN), passphrase(ADMIN)


@dataclass
class LedgerFactory:
    ledger: Ledger
    keys: KeyStore
    clock: datetime = T0
    officials: list[str] = field(default_factory=list)
    signer: NoteSigner | None = None

    def now(self) -> datetime:
        self.clock += timedelta(minutes=1)
        return self.clock

    @property
    def ctx(self) -> Context:
        assert self.signer is not None, "call created() first"
        return Context(self.ledger, self.keys, self.signer)

    def created(self, rules: int = RULES) -> LedgerFactory:
        """The ledger, keeping `rules` from its start (default: the newest)."""
        self.signer = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
        self.ledger.create("Pemerintah Kota Kediri (uji)", ORIGIN, self.signer, self.now(), rules=rules)
        return self

    def admin(self) -> str:
        """The founding admin (enrolled on first need, attested by the ledger's key)."""
        if self.ledger.register.has_account(nip(ADMIN)) or actions.active_key(self.ledger, nip(ADMIN)):
            return nip(ADMIN)
        actions.register_official(
            self.ledger, nip(ADMIN), "Admin Diskominfo", "Pranata Komputer", "Dinas Kominfo", "admin", self.now()
        )
        actions.enrol(self.ctx, nip(ADMIN), passphrase(ADMIN), self.now())
        return nip(ADMIN)

    def invite(self, n: int, by: int = ADMIN) -> vouching.Invited:
        """The admin `by` invites official `n` (rules version 3: every key is vouched for)."""
        if by == ADMIN:
            self.admin()
        official = actions.get_official(self.ledger, nip(n))
        return vouching.invite(self.ctx, official, nip(by), passphrase(by), self.now(), hours=72)

    def second_admin(self) -> str:
        """A second admin: invited by the first, approved with the ledger's key, enrolled."""
        self.admin()
        actions.register_official(
            self.ledger, nip(SECOND_ADMIN), "Admin Kedua", "Pranata Komputer", "Dinas Kominfo", "admin", self.now()
        )
        self.invite(SECOND_ADMIN)
        official = actions.get_official(self.ledger, nip(SECOND_ADMIN))
        vouching.approve(self.ctx, official, vouching.LEDGER, None, self.now())
        actions.enrol(self.ctx, nip(SECOND_ADMIN), passphrase(SECOND_ADMIN), self.now())
        return nip(SECOND_ADMIN)

    def approve(self, n: int, by: int = SECOND_ADMIN) -> None:
        """The admin `by` approves official `n`'s pending invitation (a replacement key)."""
        if by == SECOND_ADMIN and actions.active_key(self.ledger, nip(SECOND_ADMIN)) is None:
            self.second_admin()
        vouching.approve(self.ctx, actions.get_official(self.ledger, nip(n)), nip(by), passphrase(by), self.now())

    def official(self, n: int, enrol: bool = True) -> str:
        actions.register_official(
            self.ledger, nip(n), f"Pejabat {n}", f"Kepala Dinas {n}", f"Dinas {n}", "official", self.now()
        )
        if enrol:
            if vouching.rules_version(self.ctx) >= VOUCHING_RULES:
                self.invite(n)
            actions.enrol(self.ctx, nip(n), passphrase(n), self.now())
        self.officials.append(nip(n))
        return nip(n)

    def without_nip(self, name: str = "Wali Kota Uji", title: str = "Wali Kota Kediri", enrol: bool = True) -> str:
        """An official without a NIP (rules version 4): registered with the identifier the
        system gives, invited and enrolled; returns the identifier. Their passphrase is
        `passphrase_of(identifier)`."""
        official = actions.register_official(
            self.ledger, None, name, title, "Pemerintah Kota Kediri", "official", self.now()
        )
        if enrol:
            self.admin()
            vouching.invite(self.ctx, official, nip(ADMIN), passphrase(ADMIN), self.now(), hours=72)
            actions.enrol(self.ctx, official.nip, passphrase_of(official.nip), self.now())
        self.officials.append(official.nip)
        return official.nip

    def with_commitment(
        self, officials: int = 3, slug: str = "smart-city", deadline: datetime | None = None
    ) -> LedgerFactory:
        for n in range(1, officials + 1):
            self.official(n)
        actions.publish(
            self.ctx, slug, "Komitmen Bersama", "Kami berkomitmen.\n", self.officials, "admin", self.now(), deadline
        )
        return self

    def sign(self, n: int | str, slug: str = "smart-city"):
        """Official `n` (a number of `nip`, or an identifier) signs."""
        who = nip(n) if isinstance(n, int) else n
        return actions.sign(self.ctx, slug, who, passphrase_of(who), self.now())

    def decline(self, n: int | str, reason: str = "Sedang cuti di luar negeri", slug: str = "smart-city"):
        """Official `n` declines the commitment (rules version 4)."""
        who = nip(n) if isinstance(n, int) else n
        return actions.decline(self.ctx, slug, who, passphrase_of(who), reason, self.now())

    def update(self, n: int | str, reason: str = "Mutasi jabatan", by: int = ADMIN, **identity: str):
        """The admin `by` records official `n`'s new identity (`actions.update_official` parts)."""
        who = nip(n) if isinstance(n, int) else n
        self.admin()
        return actions.update_official(self.ctx, who, nip(by), passphrase(by), reason, self.now(), **identity)


def tables(ledger: Ledger) -> Session:
    """A session over the stored tables, for tests that look at what was written (the
    application itself reads only through `Ledger.read()` and `Ledger.register`)."""
    return Session(ledger.engine)


# -- rules version 5: roles and applications, appended as the rules see them ---------------
#
# These build the entries themselves (fields and signatures), so that a test reaches the
# ledger's rules at append without an action's own checks before them; `override` replaces
# fields before the statement is signed (a signature of its own is kept when given).

PD = "Dinas Komunikasi dan Informatika"  # the agency of the factory's sample requests
KOMINFO = "Dinas Komunikasi dan Informatika Kota Kediri"  # the Kepala Dinas Kominfo's office


def request_object(agency: str = PD, **changes: Any) -> dict[str, Any]:
    """A complete request to verify an application (`ledger.application.check_request`)."""
    request: dict[str, Any] = {
        "name": "Sistem Informasi Perizinan Terpadu",
        "description": "Layanan perizinan daring untuk warga dan pelaku usaha.",
        "agency": agency,
        "developer_unit": "Bidang Aplikasi Informatika",
        "user_unit": "Bidang Pelayanan Perizinan",
        "contact": "Bidang Aplikasi, (0354) 682955, aptika@kedirikota.go.id",
        "legal_basis": "Perpres 95/2018 tentang SPBE",
        "problem": "Permohonan izin masih dilayani dengan berkas kertas.",
        "need": "Permohonan, verifikasi, dan penerbitan izin secara daring.",
        "kind": "new",
        "shared_app": "",
        "shared_why_not": "",
        "goals": "Izin terbit dalam tiga hari kerja.",
        "users_internal": True,
        "users_external": True,
        "users_count": 5000,
        "target_date": "2027-06-30",
        "budget_amount": 350_000_000,
        "budget_source": "APBD",
        "fiscal_year": 2027,
        "builder": "vendor",
        "vendor": "PT Contoh Teknologi",
        "data_processed": "Identitas pemohon, data usaha, dokumen persyaratan.",
        "personal_data": True,
        "specific_personal_data": False,
        "dpia_done": True,
        "hosting": "pdn",
        "hosting_reason": "",
        "splp": True,
        "sso": True,
        "integration_note": "Terhubung ke OSS melalui SPLP.",
        "security_testing": "Uji penetrasi oleh BSSN sebelum operasi.",
        "attachments": [
            {"title": "Kerangka Acuan Kerja", "file": "kak.pdf", "sha256": "a" * 64, "bytes": 1234, "internal": False},
            {"title": "Rencana Anggaran Biaya", "file": "rab.pdf", "sha256": "b" * 64, "bytes": 4321, "internal": True},
        ],
        "prepared_by": "",
    }
    return request | changes


def checklist_object(**findings: tuple[str, str]) -> dict[str, Any]:
    """A reviewer's checklist (`ledger.application.check_checklist`): every point ``fits``
    unless `findings` gives it a (finding, note)."""
    from ledger.application import CHECKLIST

    points = {point: ("fits", "") for point in CHECKLIST} | findings
    return {point: {"finding": finding, "note": note} for point, (finding, note) in points.items()}


def _signed(world: LedgerFactory, who: str, statement: Callable[[], str]) -> str:
    """Base64 of `who`'s signature with their active key over the statement; 64 zero bytes
    when there is nothing to sign with (no active key, or a statement that cannot be written)."""
    key = actions.active_key(world.ledger, who)
    try:
        text = statement()
    except NoteInvalid:
        key = None
    if key is None:
        return base64.b64encode(bytes(64)).decode()
    return base64.b64encode(world.keys.sign(key, passphrase_of(who), text.encode())).decode()


def append_role(
    world: LedgerFactory,
    who: str,
    role: str,
    unit: str,
    grant: bool = True,
    reason: str = "Penugasan",
    by: str = ADMIN_NIP,
    **override: Any,
) -> Appended:
    """A `role.assigned` entry: the admin `by` gives (or withdraws) `role` for `unit` to `who`."""
    assert world.signer is not None
    world.admin()
    moment = world.now()
    attester = actions.active_key(world.ledger, by)
    fields: dict[str, Any] = {"nip": who, "role": role, "unit": unit, "grant": grant, "reason": reason}
    fields |= {"attested_by": by, "attester": str(attester) if attester else ""} | override
    signed = {k: v for k, v in fields.items() if k != "attestation"}
    text = lambda: Role.of_fields(world.ledger.origin, signed, moment).text()  # noqa: E731
    fields.setdefault("attestation", _signed(world, by, text))
    return world.ledger.append("role.assigned", fields, world.signer, moment)


def _signer_fields(world: LedgerFactory, who: str) -> dict[str, Any]:
    with world.ledger.read() as r:
        identity = r.identities([who]).get(who)
    key = actions.active_key(world.ledger, who)
    return {
        "nip": who,
        "key": str(key) if key else "",
        "name": identity.name if identity else "",
        "capacity": identity.capacity if identity else "",
    }


def append_request(
    world: LedgerFactory,
    app: str,
    who: str,
    obj: dict[str, Any] | None = None,
    revision: int = 1,
    **override: Any,
) -> Appended:
    """An `app.submitted` entry: `who` (the Kepala PD) signs revision `revision` of the request
    object `obj` (default: `request_object()`)."""
    from ledger.application import request_sha256
    from ledger.canonical import canonical_json

    assert world.signer is not None
    moment = world.now()
    obj = request_object() if obj is None else obj
    text = canonical_json(obj).decode()
    fields: dict[str, Any] = {
        "app": app,
        "revision": revision,
        "request": text,
        "request_sha256": request_sha256(text),
        "agency": obj.get("agency", ""),
        **_signer_fields(world, who),
    } | override
    signed = {k: v for k, v in fields.items() if k != "signature"}
    statement = lambda: AppRequest.of_fields(world.ledger.origin, signed, moment).text()  # noqa: E731
    fields.setdefault("signature", _signed(world, who, statement))
    return world.ledger.append("app.submitted", fields, world.signer, moment)


def append_review(
    world: LedgerFactory, app: str, by: str, revision: int = 1, obj: Any = None, **override: Any
) -> Appended:
    """An `app.reviewed` entry: the reviewer `by`'s checklist `obj` (default: every point fits)
    on revision `revision`."""
    from ledger.canonical import canonical_json

    assert world.signer is not None
    text = canonical_json(checklist_object() if obj is None else obj).decode()
    fields = {"app": app, "revision": revision, "by": by, "checklist": text} | override
    return world.ledger.append("app.reviewed", fields, world.signer, world.now())


def append_return(
    world: LedgerFactory, app: str, by: str, reasons: list[str], revision: int = 1, **override: Any
) -> Appended:
    """An `app.returned` entry: the reviewer `by` sends revision `revision` back, for `reasons`."""
    assert world.signer is not None
    fields = {"app": app, "revision": revision, "by": by, "reasons": reasons} | override
    return world.ledger.append("app.returned", fields, world.signer, world.now())


def append_decision(
    world: LedgerFactory,
    app: str,
    who: str,
    decision: str = "recommended",
    notes: list[str] | None = None,
    revision: int = 1,
    **override: Any,
) -> Appended:
    """An `app.decided` entry: `who` (the Kepala Dinas Kominfo) signs the decision."""
    assert world.signer is not None
    with world.ledger.read() as r:
        record = r.application(app)
    moment = world.now()
    fields: dict[str, Any] = {
        "app": app,
        "revision": revision,
        "request_sha256": record.request_sha256 if record else "0" * 64,
        "decision": decision,
        "notes": [] if notes is None else notes,
        **_signer_fields(world, who),
    } | override
    signed = {k: v for k, v in fields.items() if k != "signature"}
    statement = lambda: AppDecision.of_fields(world.ledger.origin, signed, moment).text()  # noqa: E731
    fields.setdefault("signature", _signed(world, who, statement))
    return world.ledger.append("app.decided", fields, world.signer, moment)


def apps_world(world: LedgerFactory) -> dict[str, str]:
    """Roles for the applications' tests in `world` (officials 1-3 enrolled): official 1 is
    the Kepala PD of `PD`, official 2 a Diskominfo reviewer, official 3 the Kepala Dinas
    Kominfo. Returns their NIPs by role."""
    append_role(world, nip(1), "pd-head", PD)
    append_role(world, nip(2), "reviewer", KOMINFO)
    append_role(world, nip(3), "kominfo-head", KOMINFO)
    return {"pd-head": nip(1), "reviewer": nip(2), "kominfo-head": nip(3)}
