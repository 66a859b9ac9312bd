"""What the rules read and what each entry changes: the ledger's state after an entry.

The rules of every kind (`ledger.kinds`) read the state before an entry through `State`
and record what the entry changes through its verbs (`add_key`, `revoke_key`,
`add_commitment`, `add_signature`, and from rules version 3 `add_admin`, `add_invitation`,
`note_revoker`; `note_identity` for every enrolment, and from rules version 4 `update_identity`,
`set_deadline`, `add_decline`).
Two implementations answer them: `MemoryState` here,
which an audit builds while it streams, and `derived.DbState`, which answers from the
derived tables under the append lock and writes them.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from .identity import Identity

FIRST_RULES = 1  # a ledger that names no version keeps the first rules
RULES = 4  # the newest version of the rules this code knows (see `kinds.ledger_rules`)
TIME_ORDER_RULES = 2  # from this version on, entry times never go backwards
VOUCHING_RULES = 3  # from this version on, keys are vouched for and revoked by admins' signatures
IDENTITY_RULES = 4  # from this version on: identifiers without a NIP, identities updated, the capacity
# signed, declines and deadlines
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
