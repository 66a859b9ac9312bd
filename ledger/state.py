"""What the rules read and what each entry changes: the ledger's state after an entry.

The rules of every kind (`ledger.kinds`) read the state before an entry through `State`
and record what the entry changes through its verbs (`add_key`, `revoke_key`,
`add_commitment`, `add_signature`, and from rules version 3 `add_admin`, `add_invitation`,
`note_revoker`; `note_identity` for every enrolment, and from rules version 4 `update_identity`,
`set_deadline`, `add_decline`; from rules version 5 `assign_role`, `submit_app`,
`add_app_event`).
Two implementations answer them: `MemoryState` here,
which an audit builds while it streams, and `derived.DbState`, which answers from the
derived tables under the append lock and writes them.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from .application import SINGLE_HOLDER, SINGLE_PER_UNIT
from .identity import Identity

FIRST_RULES = 1  # a ledger that names no version keeps the first rules
RULES = 5  # the newest version of the rules this code knows (see `kinds.ledger_rules`)
TIME_ORDER_RULES = 2  # from this version on, entry times never go backwards
VOUCHING_RULES = 3  # from this version on, keys are vouched for and revoked by admins' signatures
IDENTITY_RULES = 4  # from this version on: identifiers without a NIP, identities updated, the capacity
# signed, declines and deadlines
APPS_RULES = 5  # from this version on: roles given by entries, and applications verified by Diskominfo
LEDGER = "ledger"  # who attested, approved or revoked, when it was the ledger's own key
SignedAs = tuple[str, str, str]  # the name, capacity and unit a rules-4 signature names


@dataclass(frozen=True)
class CommitmentInfo:
    """What the rules need of a published commitment."""

    index: int
    text_sha256: str
    signers: tuple[str, ...]


@dataclass(frozen=True)
class Published:
    """Everything a `commitment.published` entry records, for the derived tables."""

    slug: str
    title: str
    text: str
    text_sha256: str
    index: int
    time: datetime
    signers: tuple[str, ...]
    deadline: datetime | None = None  # from rules version 4: no signature or decline after it


@dataclass(frozen=True)
class Updated:
    """Everything an `official.updated` entry records, for the derived tables."""

    index: int
    time: datetime
    nip: str
    identity: Identity
    reason: str
    attested_by: str


@dataclass(frozen=True)
class Declined:
    """Everything a `commitment.declined` entry records, for the derived tables."""

    index: int
    time: datetime
    slug: str
    nip: str
    key: str
    reason: str


@dataclass(frozen=True)
class Assigned:
    """Everything a `role.assigned` entry records (rules version 5), for the derived tables."""

    index: int
    time: datetime
    nip: str
    role: str
    unit: str
    grant: bool
    reason: str
    attested_by: str

    def ends(self) -> tuple[str | None, str | None] | None:
        """Which grants in force of `role` this entry ends, as (NIP, unit), None meaning any:
        a withdrawal ends the official's own for `unit`; a grant of ``pd-head`` every other
        holder's for `unit` (one a unit), of ``kominfo-head`` every other holder's (one in
        the ledger); any other grant ends none (None)."""
        if not self.grant:
            return (self.nip, self.unit)
        if self.role in SINGLE_PER_UNIT:
            return (None, self.unit)
        if self.role in SINGLE_HOLDER:
            return (None, None)
        return None


@dataclass(frozen=True)
class AppInfo:
    """What the rules need of an application: its latest revision, the status it is in, the
    SHA-256 of that revision's request, its agency, and whether that revision was reviewed."""

    revision: int
    status: str
    request_sha256: str
    agency: str
    reviewed: bool


@dataclass(frozen=True)
class Submitted:
    """Everything an `app.submitted` entry records (rules version 5), for the derived tables:
    the request's essentials that the register lists (`name`, `kind`, `fiscal_year`)."""

    index: int
    time: datetime
    app: str
    revision: int
    request_sha256: str
    agency: str
    name: str
    kind: str
    fiscal_year: int
    nip: str


@dataclass(frozen=True)
class AppEvent:
    """An `app.reviewed`, `app.returned` or `app.decided` entry (rules version 5) and what it
    changes, as its kind's module says: `kind` is the entry's kind, `by` who reviewed, returned
    or signed; `review` marks the revision reviewed, `status` is the application's new status
    (None: unchanged), `decision` the decision signed."""

    index: int
    time: datetime
    kind: str
    app: str
    revision: int
    by: str
    review: bool = False
    status: str | None = None
    decision: str | None = None


def status_after(info: AppInfo, event: AppEvent) -> AppInfo:
    """The application after a review, a return or a decision (`AppEvent`)."""
    status = info.status if event.status is None else event.status
    return AppInfo(info.revision, status, info.request_sha256, info.agency, info.reviewed or event.review)


class State(Protocol):
    """The state before an entry, as the rules read it, and the verbs that change it."""

    origin: str
    ledger_key: str  # the ledger's verifier key (its checkpoints' signer)
    rules: int  # the version of the rules in force
    last_time: datetime | None  # the time of the entry before

    def active_key(self, nip: str) -> str | None: ...
    def key_known(self, key: str) -> bool: ...
    def had_key(self, nip: str) -> bool: ...  # ever, revoked or not
    def invitation_used(self, nip: str, invitation: str) -> bool: ...  # by an earlier key of the official
    def admin_of(self, key: str) -> str | None: ...  # the NIP whose active admin key `key` is
    def had_admin(self) -> bool: ...  # an admin key was ever enrolled, revoked or not
    def revoked_by(self, nip: str) -> str | None: ...  # who revoked the official's last revoked key
    def commitment(self, slug: str) -> CommitmentInfo | None: ...
    def has_signed(self, slug: str, nip: str) -> bool: ...
    def identity(self, nip: str) -> Identity | None: ...  # in force: the latest enrolment or update
    def deadline(self, slug: str) -> datetime | None: ...  # the commitment's, as last extended
    def has_declined(self, slug: str, nip: str) -> bool: ...
    def holds_role(self, nip: str, role: str, unit: str | None = None) -> bool: ...  # None: for any unit
    def application(self, app: str) -> AppInfo | None: ...

    def set_rules(self, version: int) -> None: ...
    def add_key(self, nip: str, key: str, index: int, time: datetime) -> None: ...
    def add_admin(self, nip: str, key: str) -> None: ...
    def add_invitation(self, nip: str, invitation: str) -> None: ...
    def revoke_key(self, nip: str, key: str, index: int, time: datetime, reason: str) -> None: ...
    def note_revoker(self, nip: str, by: str) -> None: ...
    def add_commitment(self, published: Published) -> None: ...
    def add_signature(
        self, slug: str, nip: str, key: str, index: int, time: datetime, signed_as: SignedAs | None = None
    ) -> None: ...
    def note_identity(self, nip: str, identity: Identity) -> None: ...  # an enrolment's
    def update_identity(self, updated: Updated) -> None: ...
    def set_deadline(self, slug: str, deadline: datetime) -> None: ...  # an extension's
    def add_decline(self, declined: Declined) -> None: ...
    def assign_role(self, assigned: Assigned) -> None: ...  # ends the grants it ends (`Assigned.ends`); a grant holds
    def submit_app(self, submitted: Submitted) -> None: ...
    def add_app_event(self, event: AppEvent) -> None: ...


class MemoryState:
    """The rules' state held in memory: what an audit builds while it streams.

    It grows with the signatures (a million in a large ledger), so it holds each one as a
    NIP in its commitment's set, with every NIP and slug interned: one shared string per
    official instead of a fresh pair of strings per entry.
    """

    def __init__(self, origin: str, rules: int = FIRST_RULES) -> None:
        self.origin = origin
        self.ledger_key = ""  # set by the first entry (`kinds.ledger_created`)
        self.rules = rules
        self.last_time: datetime | None = None
        self._active: dict[str, str] = {}
        self._keys: set[str] = set()
        self._had: set[str] = set()
        self._invitations: set[str] = set()  # of every vouched key (random, 128 bits: never two alike)
        self._admins: dict[str, str] = {}  # active admin key -> NIP
        self._had_admin = False
        self._revokers: dict[str, str] = {}
        self._commitments: dict[str, CommitmentInfo] = {}
        self._signed: dict[str, set[str]] = {}
        self._identities: dict[str, Identity] = {}
        self._deadlines: dict[str, datetime] = {}
        self._declined: dict[str, set[str]] = {}
        self._roles: dict[tuple[str, str], set[str]] = {}  # (role, unit) -> the NIPs holding it
        self._apps: dict[str, AppInfo] = {}

    def active_key(self, nip: str) -> str | None:
        return self._active.get(nip)

    def key_known(self, key: str) -> bool:
        return key in self._keys

    def had_key(self, nip: str) -> bool:
        return nip in self._had

    def invitation_used(self, nip: str, invitation: str) -> bool:
        return invitation in self._invitations

    def admin_of(self, key: str) -> str | None:
        return self._admins.get(key)

    def had_admin(self) -> bool:
        return self._had_admin

    def revoked_by(self, nip: str) -> str | None:
        return self._revokers.get(nip)

    def commitment(self, slug: str) -> CommitmentInfo | None:
        return self._commitments.get(slug)

    def has_signed(self, slug: str, nip: str) -> bool:
        signed = self._signed.get(slug)
        return signed is not None and nip in signed

    def identity(self, nip: str) -> Identity | None:
        return self._identities.get(nip)

    def deadline(self, slug: str) -> datetime | None:
        return self._deadlines.get(slug)

    def has_declined(self, slug: str, nip: str) -> bool:
        declined = self._declined.get(slug)
        return declined is not None and nip in declined

    def holds_role(self, nip: str, role: str, unit: str | None = None) -> bool:
        if unit is not None:
            return nip in self._roles.get((role, unit), ())
        return any(nip in holders for (r, _), holders in self._roles.items() if r == role)

    def application(self, app: str) -> AppInfo | None:
        return self._apps.get(app)

    def set_rules(self, version: int) -> None:
        self.rules = version

    def add_key(self, nip: str, key: str, index: int, time: datetime) -> None:
        nip = sys.intern(nip)
        self._active[nip] = key
        self._keys.add(key)
        self._had.add(nip)

    def add_admin(self, nip: str, key: str) -> None:
        self._admins[key] = nip
        self._had_admin = True

    def add_invitation(self, nip: str, invitation: str) -> None:
        self._invitations.add(invitation)

    def revoke_key(self, nip: str, key: str, index: int, time: datetime, reason: str) -> None:
        del self._active[nip]
        self._admins.pop(key, None)

    def note_revoker(self, nip: str, by: str) -> None:
        self._revokers[nip] = by

    def add_commitment(self, published: Published) -> None:
        slug = sys.intern(published.slug)
        signers = tuple(sys.intern(nip) for nip in published.signers)
        self._commitments[slug] = CommitmentInfo(published.index, published.text_sha256, signers)
        self._signed[slug] = set()
        if published.deadline is not None:
            self._deadlines[slug] = published.deadline

    def add_signature(
        self, slug: str, nip: str, key: str, index: int, time: datetime, signed_as: SignedAs | None = None
    ) -> None:
        self._signed.setdefault(sys.intern(slug), set()).add(sys.intern(nip))

    def note_identity(self, nip: str, identity: Identity) -> None:
        self._identities[sys.intern(nip)] = identity

    def update_identity(self, updated: Updated) -> None:
        self._identities[sys.intern(updated.nip)] = updated.identity

    def set_deadline(self, slug: str, deadline: datetime) -> None:
        self._deadlines[slug] = deadline

    def add_decline(self, declined: Declined) -> None:
        self._declined.setdefault(sys.intern(declined.slug), set()).add(sys.intern(declined.nip))

    def assign_role(self, assigned: Assigned) -> None:
        a, ends = assigned, assigned.ends()
        if ends is not None:
            nip, unit = ends
            for (role, held_for), holders in list(self._roles.items()):
                if role == a.role and unit in (None, held_for):
                    holders.difference_update(holders if nip is None else {nip})
                    if not holders:
                        del self._roles[(role, held_for)]
        if a.grant:
            self._roles.setdefault((a.role, a.unit), set()).add(a.nip)

    def submit_app(self, submitted: Submitted) -> None:
        s = submitted
        self._apps[s.app] = AppInfo(s.revision, "submitted", s.request_sha256, s.agency, False)

    def add_app_event(self, event: AppEvent) -> None:
        self._apps[event.app] = status_after(self._apps[event.app], event)
