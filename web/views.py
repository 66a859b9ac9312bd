"""Read models for pages, the JSON API and the command line, from the ledger's projections.

Reads only: every write goes through `signing.actions` (ledger entries) or `web.accounts`.
"""

from __future__ import annotations

import base64
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select

from ledger.entries import Entry
from ledger.errors import NotFound
from ledger.models import (
    Commitment,
    CommitmentSigner,
    LedgerMeta,
    Official,
    OfficialKey,
    Signature,
)
from ledger.rules import SLUG
from ledger.store import Ledger

from .models import Account, EnrolmentToken, as_utc


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


def _summary(c: Commitment, required: int, signed: int) -> CommitmentSummary:
    return CommitmentSummary(
        c.slug, c.title, c.text_sha256, c.published_index, as_utc(c.published_at), required, signed
    )


def commitment_summaries(ledger: Ledger) -> list[CommitmentSummary]:
    """Every commitment, newest first, with how many are required and how many have signed."""
    with ledger.session() as s:
        required = Counter(
            dict(s.exec(select(CommitmentSigner.slug, func.count()).group_by(CommitmentSigner.slug)).all())
        )
        signed = Counter(dict(s.exec(select(Signature.slug, func.count()).group_by(Signature.slug)).all()))
        rows = s.exec(select(Commitment).order_by(col(Commitment.published_index).desc())).all()
    return [_summary(c, required[c.slug], signed[c.slug]) for c in rows]


@dataclass(frozen=True)
class Person:
    """Who an official is, as the register says (or only the NIP, for someone not in it)."""

    nip: str
    name: str
    title: str
    unit: str
    role: str = "official"

    @classmethod
    def of(cls, official: Official | None, nip: str) -> Person:
        if official is None:
            return cls(nip, nip, "", "")
        return cls(official.nip, official.name, official.title, official.unit, official.role)


@dataclass(frozen=True)
class SignedBy:
    person: Person
    index: int
    signed_at: datetime
    key: str


@dataclass(frozen=True)
class CommitmentView:
    commitment: Commitment
    signed: list[SignedBy]
    pending: list[Person]

    @property
    def summary(self) -> CommitmentSummary:
        return _summary(self.commitment, len(self.signed) + len(self.pending), len(self.signed))

    def asks(self, nip: str) -> bool:
        """Whether `nip` is a required signatory who has not signed yet."""
        return any(person.nip == nip for person in self.pending)


def commitment_view(ledger: Ledger, slug: str) -> CommitmentView:
    """The commitment with who signed (in signing order) and who has not. Raises NotFound."""
    with ledger.session() as s:
        commitment = s.get(Commitment, slug) if SLUG.fullmatch(slug) else None
        if commitment is None:
            raise NotFound(f"there is no commitment {slug!r}")
        nips = list(
            s.exec(
                select(CommitmentSigner.nip).where(CommitmentSigner.slug == slug).order_by(CommitmentSigner.position)
            )
        )
        people = {o.nip: o for o in s.exec(select(Official).where(col(Official.nip).in_(nips)))}
        signatures = list(s.exec(select(Signature).where(Signature.slug == slug).order_by(Signature.idx)))
    done = {sig.nip for sig in signatures}
    signed = [
        SignedBy(Person.of(people.get(sig.nip), sig.nip), sig.idx, as_utc(sig.signed_at), sig.key) for sig in signatures
    ]
    pending = [Person.of(people.get(nip), nip) for nip in nips if nip not in done]
    return CommitmentView(commitment, signed, pending)


@dataclass(frozen=True)
class OfficialStatus:
    person: Person
    key: OfficialKey | None  # the newest key, active or revoked
    has_login: bool
    link_expires: datetime | None  # a pending enrolment link

    @property
    def key_state(self) -> str:
        if self.key is None:
            return "none"
        return "active" if self.key.revoked_index is None else "revoked"


def official_statuses(ledger: Ledger, now: datetime) -> list[OfficialStatus]:
    """Everyone registered, by name, with their key, login and pending enrolment link."""
    with ledger.session() as s:
        keys = {k.nip: k for k in s.exec(select(OfficialKey).order_by(OfficialKey.enrolled_index))}
        logins = set(s.exec(select(Account.nip)))
        links: dict[str, datetime] = {}
        for t in s.exec(select(EnrolmentToken).where(col(EnrolmentToken.used_at).is_(None))):
            expires = as_utc(t.expires_at)
            if expires > now:
                links[t.nip] = max(links.get(t.nip, expires), expires)
        officials = list(s.exec(select(Official).order_by(Official.name)))
    return [OfficialStatus(Person.of(o, o.nip), keys.get(o.nip), o.nip in logins, links.get(o.nip)) for o in officials]


@dataclass(frozen=True)
class Duty:
    """A commitment an official is asked to sign, and their signature when they have."""

    summary: CommitmentSummary
    signature: Signature | None


def duties(ledger: Ledger, nip: str) -> list[Duty]:
    with ledger.session() as s:
        slugs = set(s.exec(select(CommitmentSigner.slug).where(CommitmentSigner.nip == nip)))
        mine = {sig.slug: sig for sig in s.exec(select(Signature).where(Signature.nip == nip))}
    return [Duty(c, mine.get(c.slug)) for c in commitment_summaries(ledger) if c.slug in slugs]


def active_key(ledger: Ledger, nip: str) -> OfficialKey | None:
    with ledger.session() as s:
        q = select(OfficialKey).where(OfficialKey.nip == nip, col(OfficialKey.revoked_index).is_(None))
        return s.exec(q).first()


def people(ledger: Ledger, nips: set[str]) -> dict[str, Person]:
    with ledger.session() as s:
        found = {o.nip: Person.of(o, o.nip) for o in s.exec(select(Official).where(col(Official.nip).in_(nips)))}
    return {nip: found.get(nip, Person.of(None, nip)) for nip in nips}


def ledger_org(ledger: Ledger) -> str | None:
    """The organisation named at `ikrar init` (None before there is a ledger)."""
    try:
        with ledger.session() as s:
            row = s.get(LedgerMeta, "org")
    except DBAPIError:  # no schema yet is the same as no ledger
        return None
    return row.value if row else None


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
