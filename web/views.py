"""Read models for pages, the JSON API and the command line, read through the ledger's
`Reader` (one snapshot each).

Reads only: every write goes through `signing.actions` (ledger entries) or `web.accounts`.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ledger.entries import Entry
from ledger.errors import NotFound
from ledger.identity import Identity, capacity_of
from ledger.nip import is_nip
from ledger.reader import CommitmentRecord, Enrolment, KeyRecord, OfficialRecord, Reader, SignatureRecord
from ledger.rules import SLUG
from ledger.store import Ledger
from ledger.times import as_utc
from signing.cert_words import format_nip


@dataclass(frozen=True)
class CommitmentSummary:
    slug: str
    title: str
    text_sha256: str
    published_index: int
    published_at: datetime
    required: int
    signed: int
    declined: int = 0  # rules 4: required signatories who declined (`commitment.declined`)
    deadline: datetime | None = None  # rules 4: no signature or decline after it (UTC)

    @property
    def percent(self) -> int:
        return 100 * self.signed // self.required if self.required else 0

    @property
    def waiting(self) -> int:
        """How many have neither signed nor declined."""
        return self.required - self.signed - self.declined

    def closed(self, now: datetime) -> bool:
        """Whether the deadline has passed at `now` (never, without a deadline)."""
        return self.deadline is not None and as_utc(now) > self.deadline


def _summary(c: CommitmentRecord, signed: int, declined: int = 0) -> CommitmentSummary:
    return CommitmentSummary(
        c.slug,
        c.title,
        c.text_sha256,
        c.published_index,
        c.published_at,
        len(c.signers),
        signed,
        declined,
        c.deadline,  # in force: as published, or as last extended
    )


def _summaries(r: Reader) -> list[CommitmentSummary]:
    counts, declines = r.signature_counts(), Counter(d.slug for d in r.declines())
    return [_summary(c, counts.get(c.slug, 0), declines.get(c.slug, 0)) for c in r.commitments()]


def commitment_summaries(ledger: Ledger) -> list[CommitmentSummary]:
    """Every commitment, newest first, with how many are required, have signed and have
    declined, and its deadline if it has one."""
    with ledger.read() as r:
        return _summaries(r)


@dataclass(frozen=True)
class Person:
    """Who an official is: as the ledger recorded them (their key's enrolment, or the
    identity in force at a given entry), or, for someone the ledger knows only by their
    identifier, as the register says (or only the identifier).

    `nip` is the official's identifier: an 18-digit NIP, or (rules 4) one the system gave
    someone without a NIP. Print it as a NIP only when `has_nip`."""

    nip: str
    name: str
    title: str
    unit: str
    role: str = "official"
    rank: str = ""  # pangkat/golongan (rules 4, optional)
    acting: str = ""  # "Plt." or "Plh." (rules 4, optional)
    appointment: str = ""  # the acting appointment's letter number (rules 4, optional)

    @property
    def has_nip(self) -> bool:
        """Whether the identifier is a NIP (else it is never shown as one)."""
        return is_nip(self.nip)

    @property
    def printed_nip(self) -> str:
        """The NIP as printed (``19750314 200104 1 001``); "" for an identifier that is not one."""
        return format_nip(self.nip) if self.has_nip else ""

    @property
    def capacity(self) -> str:
        """The position as written under a signature (`ledger.identity.capacity_of`):
        "Plt. Kepala Dinas ... (Nomor ...)" when acting."""
        return capacity_of(self.title, self.acting or None, self.appointment or None)

    @classmethod
    def of(cls, official: OfficialRecord | None, nip: str) -> Person:
        if official is None:
            return cls(nip, nip, "", "")
        return cls.holding(official.nip, official.identity, official.role)

    @classmethod
    def enrolled(cls, enrolment: Enrolment) -> Person:
        """As their key's enrolment entry records them."""
        return cls(enrolment.nip, enrolment.name, enrolment.title, enrolment.unit)

    @classmethod
    def holding(cls, nip: str, identity: Identity, role: str = "official") -> Person:
        """`nip` in `identity` (as an entry or the register records it)."""
        i = identity
        return cls(nip, i.name, i.title, i.unit, role, i.rank or "", i.acting or "", i.appointment or "")


@dataclass(frozen=True)
class Revocation:
    """A key's `key.revoked` entry: when (entry time, UTC) and why."""

    index: int
    at: datetime
    reason: str

    @classmethod
    def of(cls, key: KeyRecord | None) -> Revocation | None:
        if key is None or key.revoked_index is None or key.revoked_at is None:
            return None
        return cls(key.revoked_index, key.revoked_at, key.revoked_reason or "")


@dataclass(frozen=True)
class SignedBy:
    """A signature as the public pages show it: by whom, in which capacity and agency (as
    the signature itself records them from rules 4, else as the ledger recorded the signer
    at that moment), and what became of the key since."""

    person: Person
    index: int
    signed_at: datetime
    key: str
    capacity: str = ""  # the position signed in; "" means `person.capacity`
    revoked: Revocation | None = None  # the key's revocation, before or after this signature

    @property
    def signed_as(self) -> str:
        """The capacity this signature was made in."""
        return self.capacity or self.person.capacity

    @property
    def valid(self) -> bool:
        """Made while its key was active: a key revoked later leaves it valid."""
        return self.revoked is None or self.revoked.index > self.index

    @property
    def revoked_later(self) -> Revocation | None:
        """The key's revocation when it came after this signature (the signature stays valid)."""
        return self.revoked if self.revoked is not None and self.revoked.index > self.index else None


@dataclass(frozen=True)
class DeclinedBy:
    """A `commitment.declined` entry (rules 4): who declined, when and why."""

    person: Person
    index: int
    declined_at: datetime
    reason: str
    key: str = ""


@dataclass(frozen=True)
class Signatory:
    """One required signatory in protocol order, with their state: ``signed``, ``declined``
    or ``pending``, and the signature or the decline when there is one."""

    position: int  # 1-based place in the published order of `signers`
    person: Person
    state: str
    signature: SignedBy | None = None
    decline: DeclinedBy | None = None


@dataclass(frozen=True)
class CommitmentView:
    """A commitment and its required signatories. `signed`, `declined` and `pending` are
    each in protocol order (the published order of `signers`); `signatories` lists all in
    that order with their state; `in_ledger_order` gives the signatures as they were made."""

    commitment: CommitmentRecord
    signed: list[SignedBy]
    pending: list[Person]
    declined: list[DeclinedBy] = field(default_factory=list)

    @property
    def deadline(self) -> datetime | None:
        """The deadline in force (rules 4), or None: a commitment of rules 1-3 never has one."""
        return self.commitment.deadline

    @property
    def summary(self) -> CommitmentSummary:
        return _summary(self.commitment, len(self.signed), len(self.declined))

    def closed(self, now: datetime) -> bool:
        return self.summary.closed(now)

    @property
    def in_ledger_order(self) -> list[SignedBy]:
        return sorted(self.signed, key=lambda s: s.index)

    @property
    def signatories(self) -> list[Signatory]:
        signed = {s.person.nip: s for s in self.signed}
        declined = {d.person.nip: d for d in self.declined}
        pending = {p.nip: p for p in self.pending}
        shown = []
        for position, nip in enumerate(self.commitment.signers, start=1):
            if nip in signed:
                shown.append(Signatory(position, signed[nip].person, "signed", signature=signed[nip]))
            elif nip in declined:
                shown.append(Signatory(position, declined[nip].person, "declined", decline=declined[nip]))
            elif nip in pending:
                shown.append(Signatory(position, pending[nip], "pending"))
        return shown

    def asks(self, nip: str) -> bool:
        """Whether `nip` is a required signatory who has neither signed nor declined yet."""
        return any(person.nip == nip for person in self.pending)


def _revocations(r: Reader, keys: Iterable[str]) -> dict[str, Revocation]:
    """The revocation of each of `keys` that was revoked, by key."""
    found = {}
    for key in set(keys):
        revocation = Revocation.of(r.key(key))
        if revocation is not None:
            found[key] = revocation
    return found


def _signed_as(r: Reader, signatures: list[SignatureRecord]) -> dict[int, tuple[Person, str]]:
    """Who each signer was at their signature, and the capacity they signed in, by the
    signature's index: the name, capacity and unit the signature names (rules 4), else
    those of their identity in force on the ledger then (`Reader.signed_in`: their
    enrolment, or the latest `official.updated` before the signature)."""
    nips = {sig.index: sig.nip for sig in signatures}
    found = {}
    for index, signed in r.signed_in(signatures).items():
        person = replace(Person.holding(nips[index], signed.identity), name=signed.name, unit=signed.unit)
        found[index] = (person, signed.capacity)
    return found


def commitment_view(ledger: Ledger, slug: str) -> CommitmentView:
    """The commitment with who signed, who declined and who has not yet, each in protocol
    order: every signature with the name, capacity and unit it was made in and its key's
    revocation if any; every decline with the identity in force at it; everyone else as the
    ledger knows them now (or, never enrolled, as the register does). Raises NotFound."""
    with ledger.read() as r:
        commitment = r.commitment(slug) if SLUG.fullmatch(slug) else None
        if commitment is None:
            raise NotFound(f"there is no commitment {slug!r}", code="commitment.not_found", slug=slug)
        place = {nip: n for n, nip in enumerate(commitment.signers)}  # the protocol order, as published
        signatures = sorted(r.signatures(slug), key=lambda sig: place[sig.nip])
        declines = sorted(r.declines(slug), key=lambda d: place[d.nip])
        done = {sig.nip for sig in signatures} | {d.nip for d in declines}
        waiting = [nip for nip in commitment.signers if nip not in done]
        signed_as = _signed_as(r, signatures)
        revoked = _revocations(r, (sig.key for sig in signatures))
        declined_as = r.identities_at((d.nip, d.index) for d in declines)
        known = r.identities(waiting)
        register = {o.nip: o for o in r.officials(set(waiting) - set(known) | {d.nip for d in declines})}
    signed = []
    for sig in signatures:  # (one with no enrolment before it, which `ikrar audit` refuses: by its NIP alone)
        person, capacity = signed_as.get(sig.index, (Person.of(None, sig.nip), ""))
        signed.append(SignedBy(person, sig.index, sig.signed_at, sig.key, capacity, revoked.get(sig.key)))

    def declined_by(nip: str, index: int) -> Person:
        identity = declined_as.get((nip, index))
        return Person.holding(nip, identity) if identity is not None else Person.of(register.get(nip), nip)

    declined = [DeclinedBy(declined_by(d.nip, d.index), d.index, d.declined_at, d.reason, d.key) for d in declines]
    pending = [
        Person.holding(nip, known[nip]) if nip in known else Person.of(register.get(nip), nip) for nip in waiting
    ]
    return CommitmentView(commitment, signed, pending, declined)


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
