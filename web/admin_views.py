"""What the admin pages show about vouching (rules version 3): whether the logged-in admin
holds an active admin key to act with, the invitations that wait for a second admin's
approval (who attested, and for a replacement who revoked the previous key and why), and
the officials an admin may invite. Everything about keys is read from the ledger; the
invitations come from the register (`ledger.invitations`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from ledger.errors import NotFound
from ledger.invitations import InvitationRecord
from ledger.nip import is_nip
from ledger.reader import CommitmentRecord, KeyRecord, OfficialRecord, Reader, SignatureRecord
from ledger.register import ThrottleRecord
from ledger.rules import SLUG
from ledger.state import LEDGER
from ledger.store import Ledger
from signing.agencies import load_agencies
from signing.protocol import name_key

from .settings import Settings
from .views import OfficialStatus, official_statuses

__all__ = [
    "STATES",
    "Candidate",
    "Ceremony",
    "Filter",
    "Signatory",
    "ceremony",
    "officials_shown",
    "officials_sorted",
    "shown",
    "Standing",
    "Waiting",
    "candidates",
    "pending_invitations",
    "standing",
    "waiting",
    "waiting_for",
]

# Why an admin may not act with their own key, or approve one invitation: catalogue keys.
NO_KEY = "vouching.own.none"
NOT_ADMIN_KEY = "vouching.own.not_admin"
ATTESTER = "vouching.cannot.attester"
REVOKER = "vouching.cannot.revoker"
THEMSELF = "vouching.cannot.self"
NO_ADMIN_KEY = "vouching.cannot.no_key"


@dataclass(frozen=True)
class Standing:
    """The admin's own key, and `problem`: None when it is an active admin key they can
    invite, approve and revoke with; else the catalogue key saying why they cannot."""

    key: KeyRecord | None
    problem: str | None

    @property
    def can_vouch(self) -> bool:
        return self.problem is None


def _is_admin_key(r: Reader, key: KeyRecord) -> bool:
    """Whether the active `key` was enrolled as an admin's key (only such a key vouches)."""
    return r.entry(key.enrolled_index).fields.get("role") == "admin"


def standing(ledger: Ledger, nip: str) -> Standing:
    with ledger.read() as r:
        key = r.active_key(nip)
        admin = key is not None and _is_admin_key(r, key)
    if key is None:
        return Standing(None, NO_KEY)
    return Standing(key, None if admin else NOT_ADMIN_KEY)


@dataclass(frozen=True)
class Waiting:
    """An invitation waiting for a second admin's approval, with what the approver should
    know; `refusal` is why the admin looking at it may not approve it (None: they may)."""

    invitation: InvitationRecord
    attester: OfficialRecord | None  # None: attested with the ledger's own key
    previous: KeyRecord | None  # the official's last revoked key: this one replaces it
    revoked_by: str | None  # who revoked it: a NIP, or `ledger`
    revoker: OfficialRecord | None
    refusal: str | None

    @property
    def replacement(self) -> bool:
        return self.previous is not None

    @property
    def attester_label(self) -> str | None:
        """Who attested, as a page names them (None: the ledger's key)."""
        return _label(self.attester, self.invitation.attested_by)

    @property
    def revoker_label(self) -> str | None:
        """Who revoked the previous key, as a page names them (None: the ledger's key)."""
        return _label(self.revoker, self.revoked_by) if self.revoked_by else None


def _label(person: OfficialRecord | None, nip: str) -> str | None:
    if nip == LEDGER:
        return None
    return f"{person.name} (NIP {nip})" if person else f"NIP {nip}"


def _last_revoked(r: Reader, nip: str) -> tuple[KeyRecord | None, str | None]:
    revoked = [k for k in r.enrolled_keys(nip) if k.revoked_index is not None]
    if not revoked:
        return None, None
    last = max(revoked, key=lambda k: k.revoked_index or 0)
    assert last.revoked_index is not None
    return last, str(r.entry(last.revoked_index).fields["by"])


def _refusal(invitation: InvitationRecord, revoked_by: str | None, viewer: str, own: Standing) -> str | None:
    """Why `viewer` may not approve `invitation` (as the rules of `kinds.key_enrolled` say), or None."""
    if viewer == invitation.nip:
        return THEMSELF
    if viewer == invitation.attested_by:
        return ATTESTER
    if viewer == revoked_by:
        return REVOKER
    return None if own.can_vouch else NO_ADMIN_KEY


def waiting(ledger: Ledger, viewer: str, now: datetime, only: str | None = None) -> list[Waiting]:
    """The pending invitations that need an approval and have none yet, oldest first (of
    the official `only`, when given), as the admin `viewer` sees them."""
    pending = [
        i
        for i in ledger.invitations.pending(now)
        if i.needs_approval and i.approved_by is None and (only is None or i.nip == only)
    ]
    if not pending:
        return []
    own = standing(ledger, viewer)
    with ledger.read() as r:
        revocations = {i.nip: _last_revoked(r, i.nip) for i in pending}
        people = _people(r, [i.attested_by for i in pending] + [by for _k, by in revocations.values() if by])
    shown = []
    for i in pending:
        previous, revoked_by = revocations[i.nip]
        shown.append(
            Waiting(
                i,
                people.get(i.attested_by),
                previous,
                revoked_by,
                people.get(revoked_by) if revoked_by else None,
                _refusal(i, revoked_by, viewer, own),
            )
        )
    return shown


def waiting_for(ledger: Ledger, viewer: str, nip: str, now: datetime) -> Waiting | None:
    """The official's invitation waiting for an approval, or None."""
    found = waiting(ledger, viewer, now, only=nip)
    return found[-1] if found else None


def _people(r: Reader, nips: Iterable[str]) -> dict[str, OfficialRecord]:
    wanted = {n for n in nips if n != LEDGER}
    return {o.nip: o for o in r.officials(wanted)} if wanted else {}


@dataclass(frozen=True)
class Candidate:
    """An official without an active key, whom an admin may invite: `replacement` when they
    had a key (their new one then needs a second admin's approval, as an admin's does), and
    their pending invitation, if any (a new one replaces it)."""

    status: OfficialStatus
    pending: InvitationRecord | None

    @property
    def needs_approval(self) -> bool:
        return self.status.key is not None or self.status.person.role == "admin"


def candidates(ledger: Ledger, now: datetime) -> list[Candidate]:
    """Everyone registered who has no active key, by name."""
    invitations = pending_invitations(ledger, now)
    return [
        Candidate(o, invitations.get(o.person.nip)) for o in official_statuses(ledger, now) if o.key_state != "active"
    ]


def pending_invitations(ledger: Ledger, now: datetime) -> dict[str, InvitationRecord]:
    """Each official's unused, unexpired invitation (the newest), by NIP."""
    return {i.nip: i for i in ledger.invitations.pending(now)}


# -- the operator's view of one commitment's ceremony ------------------------------------------

NO_KEY_YET, ENROLMENT_PENDING, LOCKED, NOT_SIGNED = "no_key", "pending", "locked", "not_signed"
SIGNED, DECLINED = "signed", "declined"
STATES = (NO_KEY_YET, ENROLMENT_PENDING, LOCKED, NOT_SIGNED, SIGNED, DECLINED)  # as the filter offers them


@dataclass(frozen=True)
class Signatory:
    """One required signatory of a commitment as the operator sees them on the day: `place`
    in the published (protocol) order, who they are (the register's record; a NIP the
    register no longer holds is shown by its number), and what stands between them and a
    signature. `state` is the one the row is filed under (`STATES`)."""

    place: int
    nip: str
    official: OfficialRecord | None
    key: KeyRecord | None  # the active key
    has_login: bool
    invitation: InvitationRecord | None  # unused, unexpired
    link_expires: datetime | None  # a pending password link (an official with a key)
    locks: tuple[ThrottleRecord, ...]
    signature: SignatureRecord | None
    decline: Decline | None

    @property
    def name(self) -> str:
        return self.official.name if self.official else self.nip

    @property
    def title(self) -> str:
        """The position as the register holds it, "Plt." or "Plh." before it when acting."""
        o = self.official
        if o is None:
            return ""
        return f"{o.acting} {o.title}" if o.acting else o.title

    @property
    def unit(self) -> str:
        return self.official.unit if self.official else ""

    @property
    def email(self) -> str | None:
        return self.official.email if self.official else None

    @property
    def shown_nip(self) -> str | None:
        """The NIP to print, or None for an identifier that is not one (rules version 4)."""
        return self.nip if is_nip(self.nip) else None

    @property
    def waits_for_approval(self) -> bool:
        i = self.invitation
        return i is not None and i.needs_approval and i.approved_by is None

    @property
    def state(self) -> str:
        if self.signature is not None:
            return SIGNED
        if self.decline is not None:
            return DECLINED
        if self.locks:
            return LOCKED
        if self.key is None:
            pending = self.invitation is not None or self.link_expires is not None
            return ENROLMENT_PENDING if pending else NO_KEY_YET
        return NOT_SIGNED

    @property
    def can_be_reminded(self) -> bool:
        """Whether a reminder has something to ask of them: not signed, not declined."""
        return self.signature is None and self.decline is None


@dataclass(frozen=True)
class Decline:
    """A `commitment.declined` entry (rules version 4): who declined, why, and when."""

    index: int
    time: datetime
    reason: str


@dataclass(frozen=True)
class Ceremony:
    commitment: CommitmentRecord
    signatories: list[Signatory]  # every required signatory, in the published order
    agencies: list[str]  # the agencies among them, in order of first appearance

    def count(self, state: str) -> int:
        return sum(1 for s in self.signatories if s.state == state)

    @property
    def signed(self) -> int:
        return self.count(SIGNED)

    @property
    def required(self) -> int:
        return len(self.signatories)

    @property
    def deadline(self) -> datetime | None:
        """The commitment's deadline in force (rules version 4), or None."""
        return self.commitment.deadline


def _declines(r: Reader, slug: str) -> dict[str, Decline]:
    """The declines of commitment `slug` (rules version 4), by NIP."""
    return {d.nip: Decline(d.index, d.declined_at, d.reason) for d in r.declines(slug)}


def ceremony(ledger: Ledger, slug: str, now: datetime) -> Ceremony:
    """Every required signatory of commitment `slug`, in published order, with their state at
    `now`. Raises NotFound."""
    with ledger.read() as r:
        commitment = r.commitment(slug) if SLUG.fullmatch(slug) else None
        if commitment is None:
            raise NotFound(f"there is no commitment {slug!r}", code="commitment.not_found", slug=slug)
        nips = commitment.signers
        signatures = {s.nip: s for s in r.signatures(slug)}
        keys = {k.nip: k for k in r.enrolled_keys() if k.active and k.nip in set(nips)}
        people = {o.nip: o for o in r.officials(nips)}
        declines = _declines(r, slug)
    logins = ledger.register.accounts()
    links = ledger.register.pending_enrolments(now)
    invitations = pending_invitations(ledger, now)
    locks: dict[str, list[ThrottleRecord]] = {}
    for lock in ledger.register.locks(now):
        locks.setdefault(lock.nip, []).append(lock)
    rows = [
        Signatory(
            place,
            nip,
            people.get(nip),
            keys.get(nip),
            nip in logins,
            invitations.get(nip),
            links.get(nip) if nip not in invitations else None,
            tuple(locks.get(nip, ())),
            signatures.get(nip),
            declines.get(nip),
        )
        for place, nip in enumerate(nips, start=1)
    ]
    agencies = list(dict.fromkeys(s.unit for s in rows if s.unit))
    return Ceremony(commitment, rows, agencies)


@dataclass(frozen=True)
class Filter:
    """What the operator looks for: a name or NIP (`q`), an agency, a state; empty: all."""

    q: str = ""
    unit: str = ""
    state: str = ""

    @classmethod
    def of(cls, q: str, unit: str, state: str, states: Iterable[str] = STATES) -> Filter:
        """The filter asked for; a state not among `states` is no filter."""
        return cls(" ".join(q.split())[:100], unit.strip()[:300], state if state in set(states) else "")

    @property
    def active(self) -> bool:
        return bool(self.q or self.unit or self.state)

    def matches(self, name: str, nip: str, unit: str, state: str | None = None) -> bool:
        if self.unit and unit != self.unit:
            return False
        if self.state and state is not None and state != self.state:
            return False
        if self.q:
            wanted = name_key(self.q)
            return wanted in name_key(name) or wanted in " ".join(name.lower().split()) or self.q in nip
        return True

    def query(self) -> str:
        """The filter as a query string (for links that keep it)."""
        return urlencode({k: v for k, v in (("q", self.q), ("unit", self.unit), ("state", self.state)) if v})


def shown(c: Ceremony, f: Filter) -> list[Signatory]:
    return [s for s in c.signatories if f.matches(s.name, s.nip, s.unit, s.state)]


def officials_sorted(statuses: Iterable[OfficialStatus]) -> list[OfficialStatus]:
    """The officials' list by name without titles ("dr. Ani" under A), then NIP."""
    return sorted(statuses, key=lambda o: (name_key(o.person.name), o.person.nip))


OFFICIAL_STATES = ("active", "none", "revoked", "role:official", "role:admin")  # key states, and roles


def officials_shown(statuses: Iterable[OfficialStatus], f: Filter) -> list[OfficialStatus]:
    """Officials matching `f`, where `f.state` is a key state or a role (`OFFICIAL_STATES`)."""
    return [
        o
        for o in statuses
        if f.matches(o.person.name, o.person.nip, o.person.unit)
        and (not f.state or f.state in (o.key_state, f"role:{o.person.role}"))
    ]


def agency_list(settings: Settings) -> list[str]:
    """The city's Perangkat Daerah in its order: ``IKRAR_AGENCIES_FILE``, or Kota Kediri's
    list (`signing.agencies`). Raises InvalidInput when the file cannot be read."""
    return list(load_agencies(settings.agencies_file))
