"""Storage of the ledger (SQLite by default, PostgreSQL by URL) and the serialized append.

Appends are serialized across threads, processes and hosts by the database itself:
SQLite's write lock (``BEGIN IMMEDIATE``) or a PostgreSQL transaction-level advisory lock.
Inside that one transaction the entry, the new Merkle nodes, the signed checkpoint and
the projections are written, or nothing is. SQLite runs in WAL mode with
``synchronous=FULL``, so a committed append survives a crash or a power cut.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, tuple_
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session, col, select

from .audit import StoredCheckpoint, StoredEntry
from .checkpoint import Checkpoint, TlogProof
from .entries import ZERO_HASH, Entry, entry_from_leaf, make_entry
from .errors import AlreadyInitialized, Conflict, InvalidInput, LedgerError, NotFound, NotInitialized
from .merkle import CompactRange, Hash, Node, consistency_proof, frontier, inclusion_proof, root_hash
from .models import (
    CheckpointRow,
    Commitment,
    CommitmentSigner,
    EntryRow,
    LedgerMeta,
    MerkleNodeRow,
    OfficialKey,
    Signature,
)
from .note import NoteSigner, VerifierKey
from .rules import CommitmentInfo, StatementCheck, check

logger = logging.getLogger(__name__)

_PG_APPEND_LOCK = 0x696B726172  # "ikrar"
_BATCH = 2000


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` URLs and use the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    """An engine set up for the ledger: durable SQLite, or PostgreSQL with pre-ping."""
    url = normalize_url(url)
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=60000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("ikrar_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@dataclass(frozen=True)
class Appended:
    """What an append wrote: the entry and the checkpoint that now covers it."""

    entry: Entry
    checkpoint: Checkpoint


class _DbNodes:
    """`merkle.NodeSource` over the entry and merkle_node tables."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def subtree_hashes(self, nodes: Sequence[Node]) -> list[Hash]:
        leaves = [i for level, i in nodes if level == 0]
        inner = [(level, i) for level, i in nodes if level > 0]
        found: dict[Node, bytes] = {}
        if leaves:
            rows = self._s.exec(select(EntryRow.idx, EntryRow.leaf_hash).where(col(EntryRow.idx).in_(leaves)))
            found.update({(0, i): h for i, h in rows})
        if inner:
            key = tuple_(MerkleNodeRow.level, MerkleNodeRow.idx)
            rows = self._s.exec(select(MerkleNodeRow.level, MerkleNodeRow.idx, MerkleNodeRow.hash).where(key.in_(inner)))
            found.update({(level, i): h for level, i, h in rows})
        missing = [n for n in nodes if n not in found]
        if missing:
            raise LedgerError(f"the tree store lacks subtree {missing[0]}: the database is damaged, run `ikrar audit`")
        return [Hash(found[n]) for n in nodes]


class DbState:
    """`rules.State` answered from the projection tables, inside the append transaction."""

    def __init__(self, session: Session, origin: str) -> None:
        self._s = session
        self.origin = origin

    def active_key(self, nip: str) -> str | None:
        q = select(OfficialKey.key).where(OfficialKey.nip == nip, col(OfficialKey.revoked_index).is_(None))
        return self._s.exec(q).first()

    def key_known(self, key: str) -> bool:
        return self._s.get(OfficialKey, key) is not None

    def commitment(self, slug: str) -> CommitmentInfo | None:
        row = self._s.get(Commitment, slug)
        if row is None:
            return None
        q = select(CommitmentSigner.nip).where(CommitmentSigner.slug == slug).order_by(CommitmentSigner.position)
        return CommitmentInfo(row.published_index, row.text_sha256, tuple(self._s.exec(q)))

    def has_signed(self, slug: str, nip: str) -> bool:
        q = select(Signature.idx).where(Signature.slug == slug, Signature.nip == nip)
        return self._s.exec(q).first() is not None

    def apply(self, entry: Entry) -> None:
        f, s = entry.fields, self._s
        if entry.kind == "key.enrolled":
            s.add(OfficialKey(key=f["key"], nip=f["nip"], enrolled_index=entry.index, enrolled_at=entry.time))
        elif entry.kind == "key.revoked":
            row = s.get(OfficialKey, f["key"])
            assert row is not None  # the rules checked it is the active key
            row.revoked_index, row.revoked_at, row.revoked_reason = entry.index, entry.time, f["reason"]
            s.add(row)
        elif entry.kind == "commitment.published":
            s.add(Commitment(slug=f["slug"], title=f["title"], text=f["text"], text_sha256=f["text_sha256"],
                             published_index=entry.index, published_at=entry.time))
            s.add_all(CommitmentSigner(slug=f["slug"], nip=nip, position=i) for i, nip in enumerate(f["signers"]))
        elif entry.kind == "commitment.signed":
            s.add(Signature(idx=entry.index, slug=f["slug"], nip=f["nip"], key=f["key"], signed_at=entry.time))


def _entry(row: EntryRow) -> Entry:
    return entry_from_leaf(row.leaf)


class Ledger:
    """One ledger in one database. Safe to share between threads; many processes may open it."""

    def __init__(self, engine: Engine | str) -> None:
        self.engine = make_engine(engine) if isinstance(engine, str) else engine
        self._writer = self.engine.execution_options(ikrar_write=True)
        self._origin: str | None = None
        self._verifier: VerifierKey | None = None

    def __repr__(self) -> str:
        return f"Ledger({self.engine.url.render_as_string(hide_password=True)})"

    # -- identity ---------------------------------------------------------------------

    def _load_meta(self) -> None:
        with Session(self.engine) as s:
            meta = {m.name: m.value for m in s.exec(select(LedgerMeta))}
        if "origin" not in meta:
            raise NotInitialized("no ledger here yet: run `ikrar init` first")
        self._origin, self._verifier = meta["origin"], VerifierKey.parse(meta["ledger_key"])

    def is_initialized(self) -> bool:
        try:
            self._load_meta()
        except NotInitialized:
            return False
        except (OperationalError, DBAPIError):
            return False  # no schema yet
        return True

    @property
    def origin(self) -> str:
        if self._origin is None:
            self._load_meta()
        assert self._origin is not None
        return self._origin

    @property
    def verifier(self) -> VerifierKey:
        """The ledger's verifier key (checkpoint signer), as recorded at `init`."""
        if self._verifier is None:
            self._load_meta()
        assert self._verifier is not None
        return self._verifier

    def session(self) -> Session:
        """A read session over the ledger's tables (projections, register)."""
        return Session(self.engine)

    # -- writing ----------------------------------------------------------------------

    def _write(self) -> Session:
        return Session(self._writer, expire_on_commit=False)

    def _lock(self, s: Session) -> None:
        if self.engine.dialect.name == "postgresql":
            s.connection().exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_APPEND_LOCK})")

    def create(self, org: str, origin: str, signer: NoteSigner, now: datetime) -> Appended:
        """Write the first entry, `ledger.created`, and its checkpoint.

        Raises AlreadyInitialized when this database already holds a ledger.
        """
        if signer.verifier.name != origin:
            raise InvalidInput(f"the ledger key must be named after the origin {origin!r}")
        fields = {"org": org, "origin": origin, "ledger_key": str(signer.verifier)}
        entry = make_entry(0, "ledger.created", now, ZERO_HASH, fields)
        try:
            with self._write() as s, s.begin():
                self._lock(s)
                if s.exec(select(func.count()).select_from(EntryRow)).one() or s.get(LedgerMeta, "origin"):
                    raise AlreadyInitialized("this database already holds a ledger; nothing was changed")
                s.add(LedgerMeta(name="origin", value=origin))
                s.add(LedgerMeta(name="org", value=org))
                s.add(LedgerMeta(name="ledger_key", value=str(signer.verifier)))
                checkpoint = self._write_entry(s, entry, signer, origin)
        except IntegrityError as e:
            raise AlreadyInitialized("this database already holds a ledger; nothing was changed") from e
        self._origin, self._verifier = origin, signer.verifier
        logger.info("ledger created origin=%s key=%s", origin, signer.verifier)
        return Appended(entry, checkpoint)

    def append(
        self,
        kind: str,
        fields: dict[str, Any],
        signer: NoteSigner,
        now: datetime,
        statement_check: StatementCheck | None = None,
    ) -> Appended:
        """Append one entry under the ledger's rules and sign the new checkpoint.

        Raises InvalidInput (malformed fields), Conflict (a rule refuses it), NotInitialized,
        or LedgerError when the database is busy or fails; in every case nothing is written.
        """
        if signer.verifier != self.verifier:
            raise InvalidInput("this key does not sign this ledger's checkpoints")
        try:
            with self._write() as s, s.begin():
                self._lock(s)
                head = s.exec(select(EntryRow.idx, EntryRow.leaf_hash).order_by(col(EntryRow.idx).desc()).limit(1)).first()
                if head is None:
                    raise NotInitialized("no ledger here yet: run `ikrar init` first")
                entry = make_entry(head[0] + 1, kind, now, head[1], fields)
                state = DbState(s, self.origin)
                check(entry, state, statement_check)
                checkpoint = self._write_entry(s, entry, signer, self.origin)
                state.apply(entry)
        except IntegrityError as e:
            raise Conflict("the entry conflicts with one written at the same moment; nothing was written") from e
        except OperationalError as e:
            raise LedgerError(f"the database refused the append ({e.orig}); nothing was written") from e
        logger.info("appended index=%d kind=%s leaf=%s", entry.index, kind, entry.leaf_hash.hex())
        return Appended(entry, checkpoint)

    def _write_entry(self, s: Session, entry: Entry, signer: NoteSigner, origin: str) -> Checkpoint:
        n = entry.index
        tree = CompactRange(n, _DbNodes(s).subtree_hashes(frontier(n)))
        completed = tree.append(entry.leaf_hash)
        s.add(EntryRow(idx=n, kind=entry.kind, time=entry.time, prev=entry.prev, leaf_hash=entry.leaf_hash, leaf=entry.leaf))
        s.add_all(MerkleNodeRow(level=level, idx=i, hash=h) for (level, i), h in completed)
        checkpoint = Checkpoint(origin, n + 1, tree.root()).signed(signer)
        s.add(CheckpointRow(size=n + 1, note=checkpoint.note))
        return checkpoint

    # -- reading ----------------------------------------------------------------------

    def size(self) -> int:
        with Session(self.engine) as s:
            last = s.exec(select(func.max(EntryRow.idx))).one()
        return 0 if last is None else last + 1

    def entry(self, index: int) -> Entry:
        """Raises NotFound when there is no entry `index`."""
        with Session(self.engine) as s:
            row = s.get(EntryRow, index) if isinstance(index, int) and 0 <= index < 2**62 else None
        if row is None:
            raise NotFound(f"there is no entry {index}")
        return _entry(row)

    def entries(self, start: int = 0, limit: int = 100) -> list[Entry]:
        if start < 0 or not 0 < limit <= 1000:
            raise InvalidInput("start must be >= 0 and limit between 1 and 1000")
        with Session(self.engine) as s:
            q = select(EntryRow).where(EntryRow.idx >= start).order_by(EntryRow.idx).limit(limit)
            return [_entry(row) for row in s.exec(q)]

    def iter_rows(self, batch: int = _BATCH) -> Iterator[EntryRow]:
        """Every stored entry row in index order, read in batches (for audits and exports)."""
        after = -1
        while True:
            with Session(self.engine) as s:
                q = select(EntryRow).where(EntryRow.idx > after).order_by(EntryRow.idx).limit(batch)
                rows = list(s.exec(q))
            yield from rows
            if len(rows) < batch:
                return
            after = rows[-1].idx

    def iter_checkpoints(self, batch: int = _BATCH) -> Iterator[CheckpointRow]:
        after = -1
        while True:
            with Session(self.engine) as s:
                q = select(CheckpointRow).where(CheckpointRow.size > after).order_by(CheckpointRow.size).limit(batch)
                rows = list(s.exec(q))
            yield from rows
            if len(rows) < batch:
                return
            after = rows[-1].size

    def stored_entries(self) -> Iterator[StoredEntry]:
        """The rows as the audit reads them: each row's own columns beside its leaf."""
        for row in self.iter_rows():
            yield StoredEntry(row.idx, row.leaf, row.kind, row.leaf_hash, row.prev, row.time)

    def stored_checkpoints(self) -> Iterator[StoredCheckpoint]:
        for row in self.iter_checkpoints():
            yield StoredCheckpoint(row.size, row.note)

    def checkpoint(self, size: int | None = None) -> Checkpoint:
        """The signed checkpoint of `size` (default: the latest); raises NotFound."""
        with Session(self.engine) as s:
            if size is None:
                row = s.exec(select(CheckpointRow).order_by(col(CheckpointRow.size).desc()).limit(1)).first()
            else:
                row = s.get(CheckpointRow, size) if isinstance(size, int) and 0 < size < 2**62 else None
        if row is None:
            raise NotFound("no ledger here yet" if size is None else f"there is no checkpoint of size {size}")
        return Checkpoint.open(row.note, self.verifier, self.origin)

    def _resolve_size(self, size: int | None) -> int:
        latest = self.size()
        if size is None:
            return latest
        if not 0 < size <= latest:
            raise InvalidInput(f"size {size} is not between 1 and the ledger's size {latest}")
        return size

    def root(self, size: int | None = None) -> Hash:
        size = self._resolve_size(size)
        with Session(self.engine) as s:
            return root_hash(size, _DbNodes(s))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[Hash]:
        """Raises InvalidInput unless 0 <= index < size <= the ledger's size."""
        size = self._resolve_size(size)
        with Session(self.engine) as s:
            return inclusion_proof(index, size, _DbNodes(s))

    def tlog_proof(self, index: int, size: int | None = None) -> TlogProof:
        """The C2SP tlog-proof of entry `index` against the checkpoint of `size` (default: latest)."""
        checkpoint = self.checkpoint(self._resolve_size(size))
        return TlogProof(index, tuple(self.inclusion_proof(index, checkpoint.size)), checkpoint.note)

    def consistency_proof(self, old: int, new: int) -> list[Hash]:
        """Raises InvalidInput unless 0 < old <= new <= the ledger's size."""
        self._resolve_size(new)
        with Session(self.engine) as s:
            return consistency_proof(old, new, _DbNodes(s))
