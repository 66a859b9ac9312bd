"""The one way to read the ledger's state: a `Reader` over one consistent snapshot.

`Ledger.read()` opens one read transaction (REPEATABLE READ on PostgreSQL; a WAL snapshot
on SQLite) and hands out a `Reader` whose named methods return frozen values: entries,
checkpoints and proofs of the log, and the records derived from its entries (keys,
commitments, signatures) and kept beside it (the register of people). Everything read
through one `Reader` belongs to the same tree size, so a page, a proof or a certificate
never mixes two states of a ledger that is growing while it is read. Database rows never
leave this module. (The shape of Trillian's read-only transaction and Tessera's
`LogReader`.)
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, or_, select

from .application import APP_ID
from .checkpoint import Checkpoint, TlogProof
from .db import (
    APP,
    APP_EVENT,
    CHECKPOINT,
    COMMITMENT,
    DECLINE,
    ENTRY,
    KEY,
    MAX_SIZE,
    META,
    NODE,
    OFFICIAL,
    ROLE,
    SIGNATURE,
    SIGNER,
    UPDATE,
)
from .entries import Entry, entry_from_leaf
from .errors import Conflict, InvalidInput, LedgerError, NotFound
from .identity import Identity
from .merkle import Hash, Node, consistency_proof, inclusion_proof, root_hash
from .note import VerifierKey
from .statements import SIGNATURE_V1, SIGNATURE_V2
from .stored import StoredCheckpoint, StoredEntry
from .times import as_utc


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)


# -- what a reader returns ----------------------------------------------------------------


@dataclass(frozen=True)
class KeyRecord:
    """An official's key as the ledger's entries made it: enrolled, and perhaps revoked."""

    key: str  # the C2SP verifier key
    nip: str
    enrolled_index: int
    enrolled_at: datetime
    revoked_index: int | None = None
    revoked_at: datetime | None = None
    revoked_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_index is None


@dataclass(frozen=True)
class Enrolment:
    """Who an official was, as their `key.enrolled` entry records it (the ledger's word,
    which no later change of the register alters)."""

    index: int
    key: str
    nip: str
    name: str
    title: str
    unit: str
    rank: str | None = None  # rules version 4 on
    acting: str | None = None
    appointment: str | None = None


@dataclass(frozen=True)
class KeyEvent:
    """A `key.enrolled` or `key.revoked` entry of one official, as the entry records it.

    `attested_by`, `approved_by` and `by` are the NIPs the entry names (or ``ledger``: the
    ledger's own key; a `by` written before rules version 3 is unsigned text). `attester`,
    `approver` and `revoker` are those admins as their own `key.enrolled` entry (of the key
    that signed) names them: the ledger's word, not the register's; None for the ledger's
    key, where the entry is not vouched, and for an unsigned `by`.
    """

    index: int
    time: datetime
    kind: str  # key.enrolled or key.revoked
    key: str  # the official's verifier key enrolled or revoked
    revoked: bool = False  # a revocation (else an enrolment)
    role: str | None = None  # of a vouched enrolment: official or admin
    attested_by: str | None = None
    approved_by: str | None = None  # a replacement key, or an admin's
    by: str | None = None  # who revoked
    reason: str | None = None  # why
    attester: Enrolment | None = None
    approver: Enrolment | None = None
    revoker: Enrolment | None = None


@dataclass(frozen=True)
class CommitmentRecord:
    """A published commitment and its required signatories, in the order published."""

    slug: str
    title: str
    text: str
    text_sha256: str
    published_index: int
    published_at: datetime
    signers: tuple[str, ...]
    deadline: datetime | None = None  # rules version 4: as last extended; no answer after it


@dataclass(frozen=True)
class SignatureRecord:
    """A `commitment.signed` entry, by what it signed and who signed it. `name`, `capacity`
    and `unit` are what a rules-4 signature (`ikrar/signature/v2`) names; None for one made
    earlier (`Reader.signed_in` gives every signature's)."""

    index: int
    slug: str
    nip: str
    key: str
    signed_at: datetime
    name: str | None = None
    capacity: str | None = None
    unit: str | None = None


@dataclass(frozen=True)
class SignedIn:
    """Who a signature was made as: the name, capacity and unit it names (`ikrar/signature/v2`),
    or for one made earlier (v1) those of the signer's identity in force at its entry (their
    enrolment, or the latest `official.updated` before it). `identity` is that identity in
    full (title, rank, acting, appointment)."""

    index: int
    name: str
    capacity: str
    unit: str
    identity: Identity
    statement: str  # ikrar/signature/v1 or ikrar/signature/v2


@dataclass(frozen=True)
class IdentityEvent:
    """An entry that set an official's identity: their `key.enrolled`, or an `official.updated`
    (with its `reason` and the admin who attested it, `attested_by`)."""

    index: int
    time: datetime
    kind: str  # key.enrolled or official.updated
    identity: Identity
    reason: str | None = None
    attested_by: str | None = None


@dataclass(frozen=True)
class DeclineRecord:
    """A `commitment.declined` entry (rules version 4)."""

    index: int
    slug: str
    nip: str
    key: str
    reason: str
    declined_at: datetime


@dataclass(frozen=True)
class RoleRecord:
    """A role in force (rules version 5): official `nip` holds `role` for `unit`, granted by
    entry `index` at `time`."""

    nip: str
    role: str
    unit: str
    index: int
    time: datetime


@dataclass(frozen=True)
class RoleEvent:
    """A `role.assigned` entry (rules version 5): a role given (`grant`) or withdrawn, for a
    `reason`, attested by the admin `attested_by`. A grant holds until `ended_index` (its
    withdrawal, or the grant of a single-holder role to another), None while in force."""

    index: int
    time: datetime
    nip: str
    role: str
    unit: str
    grant: bool
    reason: str
    attested_by: str
    ended_index: int | None = None
    ended_time: datetime | None = None


@dataclass(frozen=True)
class ApplicationRecord:
    """An application a PD asked Diskominfo to verify (rules version 5): its latest `revision`
    and `status` (`ledger.application.STATUSES`), the register's columns of that revision's
    request (`agency`, `name`, `kind`, `fiscal_year`, `request_sha256`), its first submission,
    its latest, its decision (None until decided), the time of its latest entry, and its
    latest review of this revision."""

    app: str
    revision: int
    status: str
    agency: str
    name: str
    kind: str
    fiscal_year: int
    request_sha256: str
    first_index: int
    first_time: datetime
    submitted_index: int
    submitted_time: datetime
    decided_index: int | None
    decided_time: datetime | None
    decision: str | None
    updated_time: datetime
    reviewed_index: int | None = None  # the latest `app.reviewed` of this revision, None before one


@dataclass(frozen=True)
class AppEventRecord:
    """An entry of an application (rules version 5): `kind` is ``app.submitted``,
    ``app.reviewed``, ``app.returned`` or ``app.decided``; `by` the NIP who signed, reviewed
    or returned it; `decision` a decision's."""

    index: int
    app: str
    revision: int
    kind: str
    by: str
    time: datetime
    decision: str | None = None


@dataclass(frozen=True)
class OfficialRecord:
    """A person in the register (not the ledger): who may log in, be asked to sign, enrol."""

    nip: str
    name: str
    title: str
    unit: str
    role: str
    created_at: datetime
    email: str | None = None  # the official surel dinas, where notices are mailed
    rank: str | None = None  # pangkat/golongan
    acting: str | None = None  # Plt. or Plh.
    appointment: str | None = None  # the acting appointment's letter number

    @property
    def identity(self) -> Identity:
        """The identity the register holds (an enrolment records it on the ledger)."""
        return Identity(self.name, self.title, self.unit, self.rank, self.acting, self.appointment)


# -- the snapshot ------------------------------------------------------------------------

_BATCH = 2000
_KEY_ENROLLED, _KEY_REVOKED = "key.enrolled", "key.revoked"  # the entries the key table's indexes name
_LEAF_HASHES = select(ENTRY.idx, ENTRY.leaf_hash).where(ENTRY.idx.in_(bindparam("leaves", expanding=True)))
_LAST_INDEX = select(func.max(ENTRY.idx))
_KEY_COLUMNS = (
    KEY.key,
    KEY.nip,
    KEY.enrolled_index,
    KEY.enrolled_at,
    KEY.revoked_index,
    KEY.revoked_at,
    KEY.revoked_reason,
)
_COMMITMENT_COLUMNS = (
    COMMITMENT.slug,
    COMMITMENT.title,
    COMMITMENT.text,
    COMMITMENT.text_sha256,
    COMMITMENT.published_index,
    COMMITMENT.published_at,
    COMMITMENT.deadline,
)
_SIGNATURE_COLUMNS = (
    SIGNATURE.idx,
    SIGNATURE.slug,
    SIGNATURE.nip,
    SIGNATURE.key,
    SIGNATURE.signed_at,
    SIGNATURE.name,
    SIGNATURE.capacity,
    SIGNATURE.unit,
)
_UPDATE_COLUMNS = (
    UPDATE.idx,
    UPDATE.nip,
    UPDATE.updated_at,
    UPDATE.name,
    UPDATE.title,
    UPDATE.unit,
    UPDATE.rank,
    UPDATE.acting,
    UPDATE.appointment,
    UPDATE.reason,
    UPDATE.attested_by,
)
_DECLINE_COLUMNS = (DECLINE.idx, DECLINE.slug, DECLINE.nip, DECLINE.key, DECLINE.reason, DECLINE.declined_at)
_ROLE_COLUMNS = (
    ROLE.idx,
    ROLE.assigned_at,
    ROLE.nip,
    ROLE.role,
    ROLE.unit,
    ROLE.grant,
    ROLE.reason,
    ROLE.attested_by,
    ROLE.ended_index,
    ROLE.ended_at,
)
_APP_COLUMNS = (
    APP.app,
    APP.revision,
    APP.status,
    APP.agency,
    APP.name,
    APP.kind,
    APP.fiscal_year,
    APP.request_sha256,
    APP.first_index,
    APP.first_time,
    APP.submitted_index,
    APP.submitted_time,
    APP.decided_index,
    APP.decided_time,
    APP.decision,
    APP.updated_time,
    APP.reviewed_index,
)
_APP_EVENT_COLUMNS = (
    APP_EVENT.idx,
    APP_EVENT.app,
    APP_EVENT.revision,
    APP_EVENT.kind,
    APP_EVENT.by,
    APP_EVENT.time,
    APP_EVENT.decision,
)
_OFFICIAL_COLUMNS = (
    OFFICIAL.nip,
    OFFICIAL.name,
    OFFICIAL.title,
    OFFICIAL.unit,
    OFFICIAL.role,
    OFFICIAL.created_at,
    OFFICIAL.email,
    OFFICIAL.rank,
    OFFICIAL.acting,
    OFFICIAL.appointment,
)


@functools.lru_cache(maxsize=128)
def _nodes_query(count: int) -> Any:
    """The stored hashes of `count` perfect subtrees, bound as l0, i0, l1, i1, ...

    One (level = ? AND idx = ?) term a node, so SQLite answers each from the primary key
    (a row-value IN list would scan the whole table: a million rows at 1M entries). Built
    once per count: building the expression costs more than running it.
    """
    terms = (and_(NODE.level == bindparam(f"l{n}"), NODE.idx == bindparam(f"i{n}")) for n in range(count))
    return select(NODE.level, NODE.idx, NODE.hash).where(or_(*terms))


class TreeNodes:
    """`merkle.NodeSource` over the entry and merkle_node tables of one connection."""

    def __init__(self, conn: Connection) -> None:
        self._c = conn

    def subtree_hashes(self, nodes: Sequence[Node]) -> list[Hash]:
        leaves = [i for level, i in nodes if level == 0]
        inner = [(level, i) for level, i in nodes if level > 0]
        found: dict[Node, bytes] = {}
        if leaves:
            found.update({(0, i): h for i, h in self._c.execute(_LEAF_HASHES, {"leaves": leaves})})
        if inner:
            params = {f"{p}{n}": v for n, node in enumerate(inner) for p, v in zip("li", node, strict=True)}
            found.update({(level, i): h for level, i, h in self._c.execute(_nodes_query(len(inner)), params)})
        missing = [n for n in nodes if n not in found]
        if missing:
            raise LedgerError(
                f"the tree store lacks subtree {missing[0]}: the database is damaged, run `ikrar audit`",
                code="tree.damaged",
            )
        return [Hash(found[n]) for n in nodes]


def tree_size(conn: Connection) -> int:
    last = conn.execute(_LAST_INDEX).scalar()
    return 0 if last is None else int(last) + 1


class Reader:
    """Named reads over one snapshot of the ledger. Obtain one with `Ledger.read()`.

    Every method raises NotFound, InvalidInput or returns None as it says; none writes.
    """

    def __init__(self, conn: Connection, origin: str, verifier: VerifierKey) -> None:
        self._c = conn
        self.origin = origin
        self.verifier = verifier
        self._size: int | None = None

    # -- the log ------------------------------------------------------------------------

    def size(self) -> int:
        """The number of entries in this snapshot."""
        if self._size is None:
            self._size = tree_size(self._c)
        return self._size

    def entry(self, index: int) -> Entry:
        """Raises NotFound when there is no entry `index`."""
        leaf = None
        if isinstance(index, int) and 0 <= index < MAX_SIZE:
            leaf = self._c.execute(select(ENTRY.leaf).where(ENTRY.idx == index)).scalar()
        if leaf is None:
            raise NotFound(f"there is no entry {index}", code="entry.not_found", index=index)
        return entry_from_leaf(leaf)

    def entries(self, start: int = 0, limit: int = 100) -> list[Entry]:
        """Up to `limit` (1-1000) entries from `start` on; raises InvalidInput otherwise."""
        if start < 0 or not 0 < limit <= 1000:
            raise InvalidInput("start must be >= 0 and limit between 1 and 1000", code="entries.range")
        if start >= MAX_SIZE:
            return []
        q = select(ENTRY.leaf).where(ENTRY.idx >= start).order_by(ENTRY.idx).limit(limit)
        return [entry_from_leaf(leaf) for leaf in self._c.execute(q).scalars()]

    def checkpoint(self, size: int | None = None) -> Checkpoint:
        """The signed checkpoint of `size` (default: this snapshot's latest); raises NotFound."""
        note = None
        if size is None:
            note = self._c.execute(select(CHECKPOINT.note).order_by(CHECKPOINT.size.desc()).limit(1)).scalar()
        elif isinstance(size, int) and 0 < size <= MAX_SIZE:
            note = self._c.execute(select(CHECKPOINT.note).where(CHECKPOINT.size == size)).scalar()
        if note is None:
            if size is None:
                raise NotFound("no ledger here yet", code="ledger.not_initialized")
            raise NotFound(f"there is no checkpoint of size {size}", code="checkpoint.not_found", size=size)
        return Checkpoint.open(note, self.verifier, self.origin)

    def _resolve_size(self, size: int | None) -> int:
        latest = self.size()
        if size is None:
            return latest
        if not 0 < size <= latest:
            raise InvalidInput(
                f"size {size} is not between 1 and the ledger's size {latest}",
                code="size.range",
                size=size,
                latest=latest,
            )
        return size

    def root(self, size: int | None = None) -> Hash:
        return root_hash(self._resolve_size(size), TreeNodes(self._c))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[Hash]:
        """Raises InvalidInput unless 0 <= index < size <= the ledger's size."""
        return inclusion_proof(index, self._resolve_size(size), TreeNodes(self._c))

    def tlog_proof(self, index: int, size: int | None = None) -> TlogProof:
        """The C2SP tlog-proof of entry `index` against the checkpoint of `size` (default: latest)."""
        checkpoint = self.checkpoint(self._resolve_size(size))
        return TlogProof(index, tuple(self.inclusion_proof(index, checkpoint.size)), checkpoint.note)

    def consistency_proof(self, old: int, new: int) -> list[Hash]:
        """Raises InvalidInput unless 0 < old <= new <= the ledger's size."""
        self._resolve_size(new)
        return consistency_proof(old, new, TreeNodes(self._c))

    # -- whole tables, streamed in key order (for the audit and the export) -----------

    def _stream(self, columns: Sequence[Any], *where: Any, batch: int = _BATCH) -> Iterator[tuple[Any, ...]]:
        """Rows of `columns` (the first is the key) in key order, in pages, within this snapshot."""
        key, after = columns[0], None
        while True:
            q = select(*columns).where(*where).order_by(key).limit(batch)
            if after is not None:
                q = q.where(key > after)
            rows = self._c.execute(q).all()
            yield from (tuple(row) for row in rows)
            if len(rows) < batch:
                return
            after = rows[-1][0]

    def stored_entries(self) -> Iterator[StoredEntry]:
        """Every entry row of this snapshot, as the audit reads them (its columns beside its leaf)."""
        e = ENTRY
        yield from (StoredEntry(*row) for row in self._stream((e.idx, e.leaf, e.kind, e.leaf_hash, e.prev, e.time)))

    def stored_checkpoints(self) -> Iterator[StoredCheckpoint]:
        for size, note in self._stream((CHECKPOINT.size, CHECKPOINT.note)):
            yield StoredCheckpoint(size, note)

    def stored_signature_rows(self) -> Iterator[tuple[Any, ...]]:
        """(idx, slug, nip, key, signed_at, name, capacity, unit) of every signature row, by index."""
        for idx, slug, nip, key, signed_at, name, capacity, unit in self._stream(_SIGNATURE_COLUMNS):
            yield idx, slug, nip, key, as_utc(signed_at), name, capacity, unit

    def stored_node_rows(self, level: int) -> Iterator[tuple[int, bytes]]:
        """(idx, hash) of the cached Merkle nodes of `level`, by index."""
        for idx, digest in self._stream((NODE.idx, NODE.hash), NODE.level == level):
            yield int(idx), bytes(digest)

    def node_levels(self) -> set[int]:
        return set(self._c.execute(select(NODE.level).distinct()).scalars())

    def signer_slugs(self) -> set[str]:
        return set(self._c.execute(select(SIGNER.slug).distinct()).scalars())

    def meta(self) -> dict[str, str]:
        """The ledger's own facts as stored (`origin`, `org`, `ledger_key`, `rules`)."""
        return {name: value for name, value in self._c.execute(select(META.name, META.value))}

    # -- keys -------------------------------------------------------------------------

    @staticmethod
    def _key(row: Any) -> KeyRecord:
        return KeyRecord(row[0], row[1], row[2], as_utc(row[3]), row[4], _utc(row[5]), row[6])

    def key(self, key: str) -> KeyRecord | None:
        """The record of an enrolled key (by its verifier key), or None."""
        row = self._c.execute(select(*_KEY_COLUMNS).where(KEY.key == key)).first()
        return None if row is None else self._key(row)

    def had_key(self, nip: str) -> bool:
        """Whether the official ever had a key (revoked or not)."""
        return self._c.execute(select(KEY.key).where(KEY.nip == nip).limit(1)).first() is not None

    def active_key(self, nip: str) -> KeyRecord | None:
        """The official's key that is not revoked, or None."""
        q = select(*_KEY_COLUMNS).where(KEY.nip == nip, KEY.revoked_index.is_(None)).limit(1)
        row = self._c.execute(q).first()
        return None if row is None else self._key(row)

    def enrolled_keys(self, nip: str | None = None) -> list[KeyRecord]:
        """Every key (or every key of `nip`) in the order enrolled."""
        q = select(*_KEY_COLUMNS).order_by(KEY.enrolled_index)
        if nip is not None:
            q = q.where(KEY.nip == nip)
        return [self._key(row) for row in self._c.execute(q)]

    def enrolments(self, keys: Iterable[str]) -> dict[str, Enrolment]:
        """The `key.enrolled` entry of each of `keys` (those enrolled), by key."""
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        q = select(KEY.key, ENTRY.idx, ENTRY.leaf).where(ENTRY.idx == KEY.enrolled_index, KEY.key.in_(wanted))
        found = {}
        for key, index, leaf in self._c.execute(q):
            f = entry_from_leaf(leaf).fields
            found[key] = Enrolment(
                index,
                key,
                f["nip"],
                f["name"],
                f["title"],
                f["unit"],
                f.get("rank"),
                f.get("acting"),
                f.get("appointment"),
            )
        return found

    def latest_enrolments(self, nips: Iterable[str]) -> dict[str, Enrolment]:
        """The newest `key.enrolled` entry of each of `nips` that has one, by NIP."""
        keys = self._c.execute(select(KEY.nip, KEY.key, KEY.enrolled_index).where(KEY.nip.in_(sorted(set(nips))))).all()
        newest: dict[str, tuple[int, str]] = {}
        for nip, key, index in keys:
            if nip not in newest or index > newest[nip][0]:
                newest[nip] = (index, key)
        by_key = self.enrolments(key for _index, key in newest.values())
        return {nip: by_key[key] for nip, (_index, key) in newest.items() if key in by_key}

    def key_events(self, nip: str) -> list[KeyEvent]:
        """Every `key.enrolled` and `key.revoked` entry of official `nip`, in ledger order,
        read from the entries (found by the key table's indexes, not by a scan), with the
        admins who vouched named by their own `key.enrolled` entries. Raises LedgerError when
        the key table points at an entry that is not one of them (run `ikrar audit`)."""
        q = select(KEY.key, KEY.enrolled_index, KEY.revoked_index).where(KEY.nip == nip)
        named: dict[int, tuple[str, str, str]] = {}  # index: what the key table says its entry is
        for key, enrolled, revoked in self._c.execute(q):
            named[enrolled] = (_KEY_ENROLLED, nip, key)
            if revoked is not None:
                named[revoked] = (_KEY_REVOKED, nip, key)
        if not named:
            return []
        q = select(ENTRY.leaf).where(ENTRY.idx.in_(sorted(named))).order_by(ENTRY.idx)
        entries = [entry_from_leaf(leaf) for leaf in self._c.execute(q).scalars()]
        if len(entries) != len(named) or any(
            (e.kind, e.fields.get("nip"), e.fields.get("key")) != named.get(e.index) for e in entries
        ):
            raise LedgerError(
                f"the key table names entries that are not official {nip}'s key events: the database is "
                "damaged, run `ikrar audit`"
            )
        signed_by = ("attester", "approver", "revoker")  # the fields naming the admin keys that signed
        signers = self.enrolments(e.fields[f] for e in entries for f in signed_by if f in e.fields)
        events = []
        for e in entries:
            f = e.fields
            events.append(
                KeyEvent(
                    e.index,
                    e.time,
                    e.kind,
                    f["key"],
                    revoked=named[e.index][0] == _KEY_REVOKED,
                    role=f.get("role"),
                    attested_by=f.get("attested_by"),
                    approved_by=f.get("approved_by"),
                    by=f.get("by"),
                    reason=f.get("reason"),
                    attester=signers.get(f.get("attester", "")),
                    approver=signers.get(f.get("approver", "")),
                    revoker=signers.get(f.get("revoker", "")),
                )
            )
        return events

    # -- commitments and signatures -----------------------------------------------------

    def _signers(self, slugs: Sequence[str]) -> dict[str, tuple[str, ...]]:
        q = select(SIGNER.slug, SIGNER.nip).where(SIGNER.slug.in_(slugs)).order_by(SIGNER.slug, SIGNER.position)
        found: dict[str, list[str]] = {slug: [] for slug in slugs}
        for slug, nip in self._c.execute(q):
            found[slug].append(nip)
        return {slug: tuple(nips) for slug, nips in found.items()}

    @staticmethod
    def _commitment(row: Any, signers: tuple[str, ...]) -> CommitmentRecord:
        return CommitmentRecord(row[0], row[1], row[2], row[3], row[4], as_utc(row[5]), signers, _utc(row[6]))

    def commitment(self, slug: str) -> CommitmentRecord | None:
        """The published commitment `slug`, or None."""
        row = self._c.execute(select(*_COMMITMENT_COLUMNS).where(COMMITMENT.slug == slug)).first()
        if row is None:
            return None
        return self._commitment(row, self._signers([slug])[slug])

    def commitments(self) -> list[CommitmentRecord]:
        """Every published commitment, newest first."""
        rows = self._c.execute(select(*_COMMITMENT_COLUMNS).order_by(COMMITMENT.published_index.desc())).all()
        signers = self._signers([row[0] for row in rows]) if rows else {}
        return [self._commitment(row, signers[row[0]]) for row in rows]

    def deadlines(self) -> list[datetime]:
        """Every commitment's deadline in force (rules version 4), earliest first: what a
        public page shows that changes, as one passes, without an entry."""
        q = select(COMMITMENT.deadline).where(COMMITMENT.deadline.is_not(None)).order_by(COMMITMENT.deadline)
        return [as_utc(d) for d in self._c.execute(q).scalars()]

    def commitments_for(self, nip: str) -> set[str]:
        """The slugs of the commitments that list `nip` as a required signatory."""
        return set(self._c.execute(select(SIGNER.slug).where(SIGNER.nip == nip)).scalars())

    def signature_counts(self) -> dict[str, int]:
        """How many have signed, by commitment slug."""
        q = select(SIGNATURE.slug, func.count()).group_by(SIGNATURE.slug)
        return {slug: int(n) for slug, n in self._c.execute(q)}

    @staticmethod
    def _signature(row: Any) -> SignatureRecord:
        return SignatureRecord(row[0], row[1], row[2], row[3], as_utc(row[4]), row[5], row[6], row[7])

    def signatures(self, slug: str) -> list[SignatureRecord]:
        """The signatures of commitment `slug`, in ledger order."""
        q = select(*_SIGNATURE_COLUMNS).where(SIGNATURE.slug == slug).order_by(SIGNATURE.idx)
        return [self._signature(row) for row in self._c.execute(q)]

    def signature(self, slug: str, nip: str) -> SignatureRecord | None:
        """The signature of `nip` on commitment `slug`, or None."""
        q = select(*_SIGNATURE_COLUMNS).where(SIGNATURE.slug == slug, SIGNATURE.nip == nip)
        row = self._c.execute(q).first()
        return None if row is None else self._signature(row)

    def signatures_by(self, nip: str) -> list[SignatureRecord]:
        """Every signature of `nip`, in ledger order."""
        q = select(*_SIGNATURE_COLUMNS).where(SIGNATURE.nip == nip).order_by(SIGNATURE.idx)
        return [self._signature(row) for row in self._c.execute(q)]

    def latest_signatures(self, limit: int) -> list[SignatureRecord]:
        """The `limit` newest signatures of any commitment, newest first."""
        q = select(*_SIGNATURE_COLUMNS).order_by(SIGNATURE.idx.desc()).limit(limit)
        return [self._signature(row) for row in self._c.execute(q)]

    # -- identities, declines (rules version 4) -----------------------------------------

    @staticmethod
    def _update(row: Any) -> IdentityEvent:
        return IdentityEvent(row[0], as_utc(row[2]), "official.updated", Identity(*row[3:9]), row[9], row[10])

    def stored_update_rows(self) -> list[IdentityEvent]:
        """Every `official_update` row as an event (with its NIP: `updated_nips`), by index."""
        return [self._update(row) for row in self._c.execute(select(*_UPDATE_COLUMNS).order_by(UPDATE.idx))]

    def updated_nips(self) -> dict[int, str]:
        """The NIP of every `official_update` row, by index."""
        return dict(self._c.execute(select(UPDATE.idx, UPDATE.nip)).all())

    def identity_events(self, nip: str) -> list[IdentityEvent]:
        """Every entry that set official `nip`'s identity (enrolments and updates), in ledger order."""
        enrolled = self._c.execute(select(KEY.enrolled_index).where(KEY.nip == nip)).scalars().all()
        events = [
            IdentityEvent(e.index, e.time, e.kind, Identity.of_fields(e.fields))
            for e in self._entries_at(sorted(enrolled))
        ]
        rows = self._c.execute(select(*_UPDATE_COLUMNS).where(UPDATE.nip == nip)).all()
        events += [self._update(row) for row in rows]
        return sorted(events, key=lambda event: event.index)

    def _entries_at(self, indexes: Sequence[int]) -> list[Entry]:
        if not indexes:
            return []
        q = select(ENTRY.leaf).where(ENTRY.idx.in_(list(indexes))).order_by(ENTRY.idx)
        return [entry_from_leaf(leaf) for leaf in self._c.execute(q).scalars()]

    def identities_at(self, wanted: Iterable[tuple[str, int]]) -> dict[tuple[str, int], Identity]:
        """For each (NIP, index), the official's identity in force at entry `index`: set by the
        latest of their enrolments and updates before it. Pairs with none are left out."""
        pairs = set(wanted)
        nips = sorted({nip for nip, _ in pairs})
        if not nips:
            return {}
        setters: dict[str, list[tuple[int, bool]]] = {nip: [] for nip in nips}  # (index, is an update)
        for nip, index in self._c.execute(select(KEY.nip, KEY.enrolled_index).where(KEY.nip.in_(nips))):
            setters[nip].append((index, False))
        for nip, index in self._c.execute(select(UPDATE.nip, UPDATE.idx).where(UPDATE.nip.in_(nips))):
            setters[nip].append((index, True))
        chosen: dict[tuple[str, int], tuple[int, bool]] = {}
        for nip, index in pairs:
            before = [s for s in setters[nip] if s[0] < index]
            if before:
                chosen[(nip, index)] = max(before)
        enrolments = {
            e.index: Identity.of_fields(e.fields)
            for e in self._entries_at(sorted({i for i, update in chosen.values() if not update}))
        }
        updated = sorted({i for i, update in chosen.values() if update})
        updates = {}
        if updated:
            q = select(*_UPDATE_COLUMNS).where(UPDATE.idx.in_(updated))
            updates = {row[0]: self._update(row).identity for row in self._c.execute(q)}
        return {pair: (updates if update else enrolments)[i] for pair, (i, update) in chosen.items()}

    def identities(self, nips: Iterable[str]) -> dict[str, Identity]:
        """The identity in force now of each of `nips` who was ever enrolled."""
        end = self.size()
        return {nip: identity for (nip, _), identity in self.identities_at((n, end) for n in nips).items()}

    def signed_in(self, signatures: Iterable[SignatureRecord]) -> dict[int, SignedIn]:
        """Who each signature was made as (`SignedIn`), by its index."""
        sigs = list(signatures)
        at = self.identities_at((sig.nip, sig.index) for sig in sigs)
        found = {}
        for sig in sigs:
            identity = at.get((sig.nip, sig.index))
            if identity is None:
                continue  # no enrolment before it: the audit names such a ledger broken
            if sig.capacity is not None:
                assert sig.name is not None and sig.unit is not None
                found[sig.index] = SignedIn(sig.index, sig.name, sig.capacity, sig.unit, identity, SIGNATURE_V2)
            else:
                found[sig.index] = SignedIn(
                    sig.index, identity.name, identity.capacity, identity.unit, identity, SIGNATURE_V1
                )
        return found

    @staticmethod
    def _decline(row: Any) -> DeclineRecord:
        return DeclineRecord(row[0], row[1], row[2], row[3], row[4], as_utc(row[5]))

    def declines(self, slug: str | None = None) -> list[DeclineRecord]:
        """The declines of commitment `slug` (default: of every commitment), in ledger order."""
        q = select(*_DECLINE_COLUMNS).order_by(DECLINE.idx)
        if slug is not None:
            q = q.where(DECLINE.slug == slug)
        return [self._decline(row) for row in self._c.execute(q)]

    def decline(self, slug: str, nip: str) -> DeclineRecord | None:
        """The decline of `nip` of commitment `slug`, or None."""
        row = self._c.execute(select(*_DECLINE_COLUMNS).where(DECLINE.slug == slug, DECLINE.nip == nip)).first()
        return None if row is None else self._decline(row)

    # -- roles and applications (rules version 5) ---------------------------------------

    @staticmethod
    def _role_event(row: Any) -> RoleEvent:
        index, time, nip, role, unit, grant, reason, attested_by, ended_index, ended_time = row
        return RoleEvent(
            index, as_utc(time), nip, role, unit, bool(grant), reason, attested_by, ended_index, _utc(ended_time)
        )

    def role_events(self, nip: str | None = None) -> list[RoleEvent]:
        """Every `role.assigned` entry (or every one of official `nip`), in ledger order."""
        q = select(*_ROLE_COLUMNS).order_by(ROLE.idx)
        if nip is not None:
            q = q.where(ROLE.nip == nip)
        return [self._role_event(row) for row in self._c.execute(q)]

    def roles(self, nip: str | None = None, role: str | None = None, unit: str | None = None) -> list[RoleRecord]:
        """The roles in force (of `nip`, `role`, `unit` when given), by role, unit and index."""
        q = select(ROLE.nip, ROLE.role, ROLE.unit, ROLE.idx, ROLE.assigned_at).where(
            ROLE.grant.is_(True), ROLE.ended_index.is_(None)
        )
        for column, value in ((ROLE.nip, nip), (ROLE.role, role), (ROLE.unit, unit)):
            if value is not None:
                q = q.where(column == value)
        rows = self._c.execute(q.order_by(ROLE.role, ROLE.unit, ROLE.idx)).all()
        return [RoleRecord(row[0], row[1], row[2], row[3], as_utc(row[4])) for row in rows]

    def holds_role(self, nip: str, role: str, unit: str | None = None) -> bool:
        """Whether official `nip` holds `role` (for `unit`; None: for any unit) in this snapshot."""
        return bool(self.roles(nip, role, unit))

    @staticmethod
    def _application(row: Any) -> ApplicationRecord:
        r = row
        return ApplicationRecord(
            r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], as_utc(r[9]), r[10], as_utc(r[11]), r[12],
            _utc(r[13]), r[14], as_utc(r[15]), r[16],
        )  # fmt: skip

    def applications(
        self, agency: str | None = None, status: str | None = None, year: int | None = None
    ) -> list[ApplicationRecord]:
        """The applications (of `agency`, in `status`, first submitted in `year` (WIB) when
        given), newest first (by their first submission)."""
        q = select(*_APP_COLUMNS).order_by(APP.first_index.desc())
        if agency is not None:
            q = q.where(APP.agency == agency)
        if status is not None:
            q = q.where(APP.status == status)
        if year is not None:
            q = q.where(APP.app.like(f"{year:04d}-%"))
        return [self._application(row) for row in self._c.execute(q)]

    def application(self, app: str) -> ApplicationRecord | None:
        """The application `app` (``YYYY-NNNN``), or None."""
        row = self._c.execute(select(*_APP_COLUMNS).where(APP.app == app)).first()
        return None if row is None else self._application(row)

    def application_counts(self, year: int | None = None) -> dict[str, dict[str, int]]:
        """How many applications each agency has in each status (first submitted in `year`)."""
        q = select(APP.agency, APP.status, func.count()).group_by(APP.agency, APP.status)
        if year is not None:
            q = q.where(APP.app.like(f"{year:04d}-%"))
        counts: dict[str, dict[str, int]] = {}
        for agency, status, n in self._c.execute(q):
            counts.setdefault(agency, {})[status] = int(n)
        return counts

    def app_events(self, app: str | None = None) -> list[AppEventRecord]:
        """The entries of application `app` (default: of every application), in ledger order."""
        q = select(*_APP_EVENT_COLUMNS).order_by(APP_EVENT.idx)
        if app is not None:
            q = q.where(APP_EVENT.app == app)
        return [AppEventRecord(r[0], r[1], r[2], r[3], r[4], as_utc(r[5]), r[6]) for r in self._c.execute(q)]

    def application_entries(self, app: str) -> list[Entry]:
        """Every entry of application `app` (its submissions, reviews, returns and decision),
        in ledger order, read from the entries themselves. Raises LedgerError when the derived
        table names an entry that is not one of the application's (run `ikrar audit`)."""
        indexes = self._c.execute(select(APP_EVENT.idx).where(APP_EVENT.app == app)).scalars().all()
        entries = self._entries_at(sorted(indexes))
        if len(entries) != len(indexes) or any(e.fields.get("app") != app for e in entries):
            raise LedgerError(
                f"the application table names entries that are not application {app}'s: the database is "
                "damaged, run `ikrar audit`"
            )
        return entries

    def next_app_id(self, year: int) -> str:
        """The next unused application id of `year`: ``YYYY-NNNN``, one above the highest of
        that year (``YYYY-0001`` for the first). Raises Conflict when the year's 9999 are used,
        InvalidInput for a year that is not four digits."""
        if not 1000 <= year <= 9999:
            raise InvalidInput(f"year {year} is not four digits", code="app.year", year=year)
        q = select(func.max(APP.app)).where(APP.app.like(f"{year:04d}-%"))
        highest = self._c.execute(q).scalar()
        number = 1 if highest is None else int(highest[5:]) + 1
        if number > 9999:
            raise Conflict(f"the 9999 application ids of {year} are used", code="app.ids_used", year=year)
        app = f"{year:04d}-{number:04d}"
        assert APP_ID.fullmatch(app), app
        return app

    # -- the register (people; not part of the ledger) ----------------------------------

    @staticmethod
    def _official(row: Any) -> OfficialRecord:
        return OfficialRecord(row[0], row[1], row[2], row[3], row[4], as_utc(row[5]), *row[6:])

    def official(self, nip: str) -> OfficialRecord | None:
        row = self._c.execute(select(*_OFFICIAL_COLUMNS).where(OFFICIAL.nip == nip)).first()
        return None if row is None else self._official(row)

    def officials(self, nips: Iterable[str] | None = None) -> list[OfficialRecord]:
        """Everyone in the register (or those of `nips` who are), by name."""
        q = select(*_OFFICIAL_COLUMNS).order_by(OFFICIAL.name)
        if nips is not None:
            q = q.where(OFFICIAL.nip.in_(list(nips)))
        return [self._official(row) for row in self._c.execute(q)]

    def org(self) -> str | None:
        """The organisation named at `ikrar init`."""
        return self._c.execute(select(META.value).where(META.name == "org")).scalar()
