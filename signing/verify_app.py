"""Online verification of an entry of the application process (rules version 5): the page a
Surat Rekomendasi's QR code opens, and the verify page of every `app.*` and `role.assigned`
entry.

`examine_app_entry` answers VALID or INVALID for entry `index`, reading what its checks need
from one snapshot of the ledger, then running each as a step, in the order the page lists them:

    1. signatures   the signature the entry carries verifies: the Kepala PD's request
                    (``ikrar/app-request/v1``), the Kepala Dinas Kominfo's decision
                    (``ikrar/app-decision/v1``), the admin's attestation of a role
                    (``ikrar/role/v1``); a review or a return carries none (the checkpoint signs it)
    2. role         whoever acted held the role it takes when they acted: ``pd-head`` of the
                    request's agency, ``kominfo-head`` for a decision, ``reviewer`` (or
                    ``kominfo-head``) for a review or a return; for a role, an admin's key
    3. active_key   the key that signed was enrolled before the entry and not revoked before it
    4-7.            inclusion, consistency, chain and printed, as a signature's
                    (`signing.verify_entry`)

Who held a role when is replayed from the ledger's `role.assigned` entries
(`app_letter.grant_in_force`), by the rules of `ledger.kinds.role_assigned`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.application import DECIDER, PD_HEAD, REVIEWER, REVIEWERS
from ledger.checkpoint import Checkpoint
from ledger.entries import Entry
from ledger.errors import LedgerError, NotFound
from ledger.reader import KeyRecord, Reader, RoleEvent
from ledger.rules import verify as verify_signatures
from ledger.store import Ledger

from .app_letter import APP_KINDS, DECIDED, REVIEWED, ROLE_ASSIGNED, SIGNED_AS, SUBMITTED, grant_in_force
from .checks import Check, Failed, Read, attempt, establish, got, run
from .errors import NoCertificate
from .facts import enrolment_index, revocation_of
from .verify_entry import (
    EntrySubject,
    Verdict,
    active_key_step,
    chain_step,
    consistency_step,
    inclusion_step,
    printed_step,
)

APP_ENTRY_KINDS = (*APP_KINDS, ROLE_ASSIGNED)
"""The kinds of the application process; each has a verify page."""
ACTED_AS = {**SIGNED_AS, REVIEWED: REVIEWER, "app.returned": REVIEWER}  # the role each kind takes


@dataclass(frozen=True)
class AppEntryReport:
    """What the verify page of an application's entry shows: the verdict, the entry, the
    grant by which its actor held their role (None for a role's own entry), each check."""

    index: int
    verdict: Verdict
    checks: tuple[Check, ...]
    entry: Entry
    grant: int | None
    latest: Checkpoint

    @property
    def kind(self) -> str:
        return self.entry.kind

    @property
    def decides(self) -> bool:
        """True for a decision: the entry a Surat Rekomendasi is printed for."""
        return self.entry.kind == DECIDED

    @property
    def printed_mismatch(self) -> bool:
        """True when the QR's `h` was given and is not this entry's."""
        return any(c.name == "printed" and c.failed for c in self.checks)


@dataclass(frozen=True)
class AppSubject:
    """What the checks of entry `index` read, from one snapshot; `base` is what a signature's
    checks read (`verify_entry.EntrySubject`), for the steps they share."""

    base: EntrySubject
    events: Read[list[RoleEvent]]
    key: Read[KeyRecord | None]  # the signing or attesting key's record
    key_role: Read[str | None]  # the role its enrolment gave (official or admin)


def _actor_key(entry: Entry) -> str | None:
    """The key whose signature the entry carries: the signer's, or the attesting admin's."""
    key = entry.fields.get("key") if entry.kind in SIGNED_AS else entry.fields.get("attester")
    return key if isinstance(key, str) else None


def _key_role(r: Reader, key: str | None) -> str | None:
    record = r.key(key) if key is not None else None
    return None if record is None else r.entry(record.enrolled_index).fields.get("role")


def load_app_entry(r: Reader, index: int, h: str | None = None) -> AppSubject:
    """Read what the checks of entry `index` need. Raises NotFound (no such entry) or
    NoCertificate (not an entry of the application process)."""
    entry = r.entry(index)
    if entry.kind not in APP_ENTRY_KINDS:
        raise NoCertificate(f"entry {index} is a {entry.kind} entry, not one of the application process")
    latest = r.checkpoint()
    key = _actor_key(entry)
    none = LedgerError(f"entry {index} ({entry.kind}) carries no signature of its own: the checkpoint signs it")
    appended = attempt(lambda: r.checkpoint(index + 1))
    base = EntrySubject(
        index=index,
        signed=entry,
        h=h,
        origin=r.origin,
        ledger_name=r.verifier.name,
        size=r.size(),
        latest=latest,
        enrolled=none if key is None else attempt(lambda: enrolment_index(r, key)),
        revocation=none if key is None else attempt(lambda: revocation_of(r, key)),
        appended=appended,
        inclusion_proof=attempt(lambda: r.inclusion_proof(index, got(appended).size)),
        consistency_proof=attempt(lambda: r.consistency_proof(got(appended).size, latest.size)),
        before=attempt(lambda: r.entry(index - 1)),
        facts=NoCertificate(f"entry {index} is no signature of a commitment"),
    )
    return AppSubject(
        base,
        attempt(r.role_events),
        none if key is None else attempt(lambda: r.key(key)),
        none if key is None else attempt(lambda: _key_role(r, key)),
    )


def _signatures(s: AppSubject) -> str:
    """1. The signature the entry carries verifies."""
    entry = s.base.signed
    verify_signatures(entry, s.base.origin)
    if entry.kind == ROLE_ASSIGNED:
        return f"the admin's Ed25519 attestation of the role verifies with the key {entry.fields['attester']}"
    what = "request" if entry.kind == SUBMITTED else "decision"
    return f"the {what}'s Ed25519 signature verifies with the key {entry.fields['key']}"


def _grant(s: AppSubject) -> int:
    """The grant in force by which the entry's actor held the role its kind takes; raises Failed."""
    entry, f = s.base.signed, s.base.signed.fields
    events = got(s.events)
    nip = f["nip"] if entry.kind in SIGNED_AS else f["by"]
    if entry.kind == SUBMITTED:
        granted = grant_in_force(events, nip, PD_HEAD, f["agency"], entry.index)
        held = f"Kepala of {f['agency']} (pd-head)"
    elif entry.kind == DECIDED:
        granted = grant_in_force(events, nip, DECIDER, None, entry.index)
        held = "the Kepala Dinas Kominfo (kominfo-head)"
    else:
        found = [grant_in_force(events, nip, role, None, entry.index) for role in REVIEWERS]
        granted = max((g for g in found if g is not None), default=None)
        held = "a Diskominfo reviewer (reviewer or kominfo-head)"
    if granted is None:
        raise Failed(f"{nip} was not {held} when entry {entry.index} was appended")
    return granted


def _role(s: AppSubject) -> tuple[str, int | None]:
    """2. Whoever acted held the role the entry's kind takes, when they acted; and by which
    grant (None for a role's own entry, attested by an admin's key)."""
    entry = s.base.signed
    if entry.kind == ROLE_ASSIGNED:
        record, role = got(s.key), got(s.key_role)
        f = entry.fields
        if record is None or record.nip != f["attested_by"] or role != "admin":
            raise Failed(f"the attesting key is not an admin's key of {f['attested_by']}")
        return f"the role was attested by admin {f['attested_by']} with their own admin key", None
    granted = _grant(s)
    nip = entry.fields.get("nip") or entry.fields["by"]
    held = f"{nip} held the role {ACTED_AS[entry.kind]} by the grant at entry {granted} when this entry was appended"
    return held, granted


def examine(s: AppSubject) -> AppEntryReport:
    """Run the steps over `s`, in order, and say what they found."""
    base = s.base
    kind = base.signed.kind
    signed = kind in SIGNED_AS or kind == ROLE_ASSIGNED
    checks = []
    if signed:
        checks.append(run("signatures", _signatures, s))
    role, grant = establish("role", _role, s)
    checks.append(role)
    if signed:
        checks.append(run("active_key", active_key_step, base))
    inclusion = run("inclusion", inclusion_step, base)
    checks += [
        inclusion,
        run("consistency", consistency_step, base, needs=(inclusion,)),
        run("chain", chain_step, base),
        run("printed", printed_step, base),
    ]
    verdict = Verdict.INVALID if any(c.failed for c in checks) else Verdict.VALID
    return AppEntryReport(base.index, verdict, tuple(checks), base.signed, grant, base.latest)


def examine_app_entry(ledger: Ledger, index: int, h: str | None = None) -> AppEntryReport:
    """Verify entry `index` of the application process against one snapshot of the ledger; `h`
    is the QR code's leaf-hash prefix. Every finding is a check in the report.

    Raises NotFound (no such entry) or NoCertificate (not an entry of the application process).
    """
    if index < 0:
        raise NotFound(f"no entry has the index {index}", code="entry.not_found", index=index)
    with ledger.read() as r:
        subject = load_app_entry(r, index, h)
    return examine(subject)
