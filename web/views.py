"""Read models for pages, the JSON API and the command line, read through the ledger's
`Reader` (one snapshot each).

Reads only: every write goes through `signing.actions` (ledger entries) or `web.accounts`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.entries import Entry
from ledger.errors import NotFound
from ledger.reader import CommitmentRecord, Enrolment, KeyRecord, OfficialRecord, Reader, SignatureRecord
from ledger.rules import SLUG
from ledger.store import Ledger


@dataclass(frozen=True)
class CommitmentSummary:
    slug: str
    title: str
    text_sha256: str
    published_index: int
    published_at: datetime
    required: int
    signed: int

    @property
    def percent(self) -> int:
        return 100 * self.signed // self.required if self.required else 0


def _summary(c: CommitmentRecord, signed: int) -> CommitmentSummary:
    return CommitmentSummary(c.slug, c.title, c.text_sha256, c.published_index, c.published_at, len(c.signers), signed)


def _summaries(r: Reader) -> list[CommitmentSummary]:
    counts = r.signature_counts()
    return [_summary(c, counts.get(c.slug, 0)) for c in r.commitments()]


def commitment_summaries(ledger: Ledger) -> list[CommitmentSummary]:
    """Every commitment, newest first, with how many are required and how many have signed."""
    with ledger.read() as r:
        return _summaries(r)


@dataclass(frozen=True)
class Person:
    """Who an official is: as the ledger recorded them (their key's enrolment), or, for
    someone the ledger knows only by NIP, as the register says (or only the NIP)."""

    nip: str
    name: str
    title: str
    unit: str
    role: str = "official"

    @classmethod
    def of(cls, official: OfficialRecord | None, nip: str) -> Person:
        if official is None:
            return cls(nip, nip, "", "")
        return cls(official.nip, official.name, official.title, official.unit, official.role)

    @classmethod
    def enrolled(cls, enrolment: Enrolment) -> Person:
        return cls(enrolment.nip, enrolment.name, enrolment.title, enrolment.unit)


@dataclass(frozen=True)
class SignedBy:
    person: Person
    index: int
    signed_at: datetime
    key: str


@dataclass(frozen=True)
class CommitmentView:
    commitment: CommitmentRecord
    signed: list[SignedBy]
    pending: list[Person]

    @property
    def summary(self) -> CommitmentSummary:
        return _summary(self.commitment, len(self.signed))

    def asks(self, nip: str) -> bool:
        """Whether `nip` is a required signatory who has not signed yet."""
        return any(person.nip == nip for person in self.pending)


def commitment_view(ledger: Ledger, slug: str) -> CommitmentView:
    """The commitment with who signed (in signing order) and who has not. Raises NotFound."""
    with ledger.read() as r:
        commitment = r.commitment(slug) if SLUG.fullmatch(slug) else None
        if commitment is None:
            raise NotFound(f"there is no commitment {slug!r}", code="commitment.not_found", slug=slug)
        signatures = r.signatures(slug)
        done = {sig.nip for sig in signatures}
        waiting = [nip for nip in commitment.signers if nip not in done]
        signed_as = r.enrolments(sig.key for sig in signatures)  # who they were when they signed
        known = r.latest_enrolments(waiting)
        register = {o.nip: o for o in r.officials(set(waiting) - set(known))}
    signed = [SignedBy(Person.enrolled(signed_as[sig.key]), sig.index, sig.signed_at, sig.key) for sig in signatures]
    pending = [Person.enrolled(known[nip]) if nip in known else Person.of(register.get(nip), nip) for nip in waiting]
    return CommitmentView(commitment, signed, pending)


@dataclass(frozen=True)
class OfficialStatus:
    person: Person
    key: KeyRecord | None  # the newest key, active or revoked
    has_login: bool
    link_expires: datetime | None  # a pending enrolment link

    @property
    def key_state(self) -> str:
        if self.key is None:
            return "none"
        return "active" if self.key.revoked_index is None else "revoked"


def official_statuses(ledger: Ledger, now: datetime) -> list[OfficialStatus]:
    """Everyone registered, by name, with their key, login and pending enrolment link."""
    with ledger.read() as r:
        keys = {k.nip: k for k in r.enrolled_keys()}
        officials = r.officials()
    logins = ledger.register.accounts()
    links = ledger.register.pending_enrolments(now)
    return [OfficialStatus(Person.of(o, o.nip), keys.get(o.nip), o.nip in logins, links.get(o.nip)) for o in officials]


@dataclass(frozen=True)
class Duty:
    """A commitment an official is asked to sign, and their signature when they have."""

    summary: CommitmentSummary
    signature: SignatureRecord | None


def duties(ledger: Ledger, nip: str) -> list[Duty]:
    with ledger.read() as r:
        slugs = r.commitments_for(nip)
        mine = {sig.slug: sig for sig in r.signatures_by(nip)}
        summaries = _summaries(r)
    return [Duty(c, mine.get(c.slug)) for c in summaries if c.slug in slugs]


def active_key(ledger: Ledger, nip: str) -> KeyRecord | None:
    with ledger.read() as r:
        return r.active_key(nip)


def people_by_key(r: Reader, keys: set[str]) -> dict[str, Person]:
    """Who held each of `keys`, as the key's enrolment entry records them."""
    return {key: Person.enrolled(e) for key, e in r.enrolments(keys).items()}


def ledger_org(ledger: Ledger) -> str | None:
    """The organisation named at `ikrar init` (None before there is a ledger)."""
    if not ledger.is_initialized():
        return None
    with ledger.read() as r:
        return r.org()


def entry_json(entry: Entry) -> dict[str, Any]:
    """An entry as the API gives it: the body, the exact leaf bytes (base64) and hex hashes."""
    return {
        "index": entry.index,
        "kind": entry.kind,
        "body": entry.body(),
        "leaf": base64.b64encode(entry.leaf).decode(),
        "leaf_hash": entry.leaf_hash.hex(),
        "prev": entry.prev.hex(),
    }
