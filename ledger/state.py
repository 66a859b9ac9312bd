"""What the rules read and what each entry changes: the ledger's state after an entry.

The rules of every kind (`ledger.kinds`) read the state before an entry through `State`
and record what the entry changes through its verbs (`add_key`, `revoke_key`,
`add_commitment`, `add_signature`). Two implementations answer them: `MemoryState` here,
which an audit builds while it streams, and `derived.DbState`, which answers from the
derived tables under the append lock and writes them.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

FIRST_RULES = 1  # a ledger that names no version keeps the first rules
RULES = 2  # the newest version of the rules this code knows (see `kinds.ledger_rules`)
TIME_ORDER_RULES = 2  # from this version on, entry times never go backwards


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


class State(Protocol):
    """The state before an entry, as the rules read it, and the verbs that change it."""

    origin: str
    rules: int  # the version of the rules in force
    last_time: datetime | None  # the time of the entry before

    def active_key(self, nip: str) -> str | None: ...
    def key_known(self, key: str) -> bool: ...
    def commitment(self, slug: str) -> CommitmentInfo | None: ...
    def has_signed(self, slug: str, nip: str) -> bool: ...

    def set_rules(self, version: int) -> None: ...
    def add_key(self, nip: str, key: str, index: int, time: datetime) -> None: ...
    def revoke_key(self, nip: str, key: str, index: int, time: datetime, reason: str) -> None: ...
    def add_commitment(self, published: Published) -> None: ...
    def add_signature(self, slug: str, nip: str, key: str, index: int, time: datetime) -> None: ...


class MemoryState:
    """The rules' state held in memory: what an audit builds while it streams.

    It grows with the signatures (a million in a large ledger), so it holds each one as a
    NIP in its commitment's set, with every NIP and slug interned: one shared string per
    official instead of a fresh pair of strings per entry.
    """

    def __init__(self, origin: str, rules: int = FIRST_RULES) -> None:
        self.origin = origin
        self.rules = rules
        self.last_time: datetime | None = None
        self._active: dict[str, str] = {}
        self._keys: set[str] = set()
        self._commitments: dict[str, CommitmentInfo] = {}
        self._signed: dict[str, set[str]] = {}

    def active_key(self, nip: str) -> str | None:
        return self._active.get(nip)

    def key_known(self, key: str) -> bool:
        return key in self._keys

    def commitment(self, slug: str) -> CommitmentInfo | None:
        return self._commitments.get(slug)

    def has_signed(self, slug: str, nip: str) -> bool:
        signed = self._signed.get(slug)
        return signed is not None and nip in signed

    def set_rules(self, version: int) -> None:
        self.rules = version

    def add_key(self, nip: str, key: str, index: int, time: datetime) -> None:
        self._active[sys.intern(nip)] = key
        self._keys.add(key)

    def revoke_key(self, nip: str, key: str, index: int, time: datetime, reason: str) -> None:
        del self._active[nip]

    def add_commitment(self, published: Published) -> None:
        slug = sys.intern(published.slug)
        signers = tuple(sys.intern(nip) for nip in published.signers)
        self._commitments[slug] = CommitmentInfo(published.index, published.text_sha256, signers)
        self._signed[slug] = set()

    def add_signature(self, slug: str, nip: str, key: str, index: int, time: datetime) -> None:
        self._signed.setdefault(sys.intern(slug), set()).add(sys.intern(nip))
