"""Storage of the ledger (SQLite by default, PostgreSQL by URL) and the serialized append.

Appends are serialized across threads, processes and hosts by the database itself:
SQLite's write lock (``BEGIN IMMEDIATE``) or a PostgreSQL transaction-level advisory lock.
Inside that one transaction the entry, the new Merkle nodes, the signed checkpoint and
the projections are written, or nothing is. SQLite runs in WAL mode with
``synchronous=FULL``, so a committed append survives a crash or a power cut.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, Select, and_, bindparam, create_engine, event, func, or_, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session, select

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
# Entry indexes and tree sizes are SQL INTEGER columns, 32-bit on PostgreSQL: a larger
# number asked for is answered here (no such entry) and never reaches the database, where
# it would be an error ("integer out of range") instead of a clear "not found".
MAX_SIZE = 2**31 - 1
_COMMITMENT_CACHE = 4096
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


_Tip = tuple[int, bytes, tuple[Hash, ...]]


@dataclass(frozen=True)
class Appended:
    """What an append wrote: the entry and the checkpoint that now covers it."""

    entry: Entry
    checkpoint: Checkpoint


_ENTRY = EntryRow.__table__.c  # type: ignore[attr-defined]
_NODE = MerkleNodeRow.__table__.c  # type: ignore[attr-defined]
_KEY = OfficialKey.__table__.c  # type: ignore[attr-defined]
_COMMITMENT = Commitment.__table__.c  # type: ignore[attr-defined]
_SIGNER = CommitmentSigner.__table__.c  # type: ignore[attr-defined]
_SIGNATURE = Signature.__table__.c  # type: ignore[attr-defined]

# The append path's statements, built once: each append runs a handful of them, and
# building and keying a statement costs more than SQLite takes to run it.
_HEAD = select(_ENTRY.idx, _ENTRY.leaf_hash).order_by(_ENTRY.idx.desc()).limit(1)
_LAST_INDEX = select(func.max(_ENTRY.idx))
_ACTIVE_KEY = select(_KEY.key).where(_KEY.nip == bindparam("nip"), _KEY.revoked_index.is_(None)).limit(1)
_KEY_KNOWN = select(_KEY.key).where(_KEY.key == bindparam("key"))
_COMMITMENT_ROW = select(_COMMITMENT.published_index, _COMMITMENT.text_sha256).where(
    _COMMITMENT.slug == bindparam("slug")
)
_SIGNERS = select(_SIGNER.nip).where(_SIGNER.slug == bindparam("slug")).order_by(_SIGNER.position)
_HAS_SIGNED = (
    select(_SIGNATURE.idx).where(_SIGNATURE.slug == bindparam("slug"), _SIGNATURE.nip == bindparam("nip")).limit(1)
)
_REVOKE = (
    update(OfficialKey.__table__)
    .where(_KEY.key == bindparam("b_key"))  # type: ignore[arg-type]
    .values(revoked_index=bindparam("b_index"), revoked_at=bindparam("b_at"), revoked_reason=bindparam("b_reason"))
)
_INSERT = {
    model: model.__table__.insert()
    for model in (  # type: ignore[attr-defined]
        EntryRow,
        MerkleNodeRow,
        CheckpointRow,
        LedgerMeta,
        OfficialKey,
        Commitment,
        CommitmentSigner,
        Signature,
    )
}


_LEAF_HASHES = select(_ENTRY.idx, _ENTRY.leaf_hash).where(_ENTRY.idx.in_(bindparam("leaves", expanding=True)))


@functools.lru_cache(maxsize=128)
def _nodes_query(count: int) -> Select[Any]:
    """The stored hashes of `count` perfect subtrees, bound as l0, i0, l1, i1, ...

    One (level = ? AND idx = ?) term a node, so SQLite answers each from the primary key
    (a row-value IN list would scan the whole table: a million rows at 1M entries). Built
    once per count: building the expression costs more than running it.
    """
    terms = (and_(_NODE.level == bindparam(f"l{n}"), _NODE.idx == bindparam(f"i{n}")) for n in range(count))
    return select(_NODE.level, _NODE.idx, _NODE.hash).where(or_(*terms))


class _DbNodes:
    """`merkle.NodeSource` over the entry and merkle_node tables, on a session or a connection."""

    def __init__(self, db: Session | Connection) -> None:
        self._db = db

    def subtree_hashes(self, nodes: Sequence[Node]) -> list[Hash]:
        leaves = [i for level, i in nodes if level == 0]
        inner = [(level, i) for level, i in nodes if level > 0]
        found: dict[Node, bytes] = {}
        if leaves:
            found.update({(0, i): h for i, h in self._db.execute(_LEAF_HASHES, {"leaves": leaves})})
        if inner:
            params = {f"{p}{n}": v for n, node in enumerate(inner) for p, v in zip("li", node, strict=True)}
            found.update({(level, i): h for level, i, h in self._db.execute(_nodes_query(len(inner)), params)})
        missing = [n for n in nodes if n not in found]
        if missing:
            raise LedgerError(f"the tree store lacks subtree {missing[0]}: the database is damaged, run `ikrar audit`")
        return [Hash(found[n]) for n in nodes]


class DbState:
    """`rules.State` answered from the projection tables, inside the append transaction.

    `commitments` is the ledger's cache of published commitments: a commitment's index,
    text hash and signatories are written once, with its entry, and never change, so
    what was read once (committed) holds for every later append.
    """

    def __init__(self, conn: Connection, origin: str, commitments: dict[str, CommitmentInfo] | None = None) -> None:
        self._c = conn
        self.origin = origin
        self._commitments = {} if commitments is None else commitments

    def active_key(self, nip: str) -> str | None:
        return self._c.execute(_ACTIVE_KEY, {"nip": nip}).scalar()

    def key_known(self, key: str) -> bool:
        return self._c.execute(_KEY_KNOWN, {"key": key}).first() is not None

    def commitment(self, slug: str) -> CommitmentInfo | None:
        info = self._commitments.get(slug)
        if info is not None:
            return info
        row = self._c.execute(_COMMITMENT_ROW, {"slug": slug}).first()
        if row is None:
            return None
        info = CommitmentInfo(row[0], row[1], tuple(self._c.execute(_SIGNERS, {"slug": slug}).scalars()))
        if len(self._commitments) >= _COMMITMENT_CACHE:
            self._commitments.clear()
        self._commitments[slug] = info
        return info

    def has_signed(self, slug: str, nip: str) -> bool:
        return self._c.execute(_HAS_SIGNED, {"slug": slug, "nip": nip}).first() is not None

    def apply(self, entry: Entry) -> None:
        f, c = entry.fields, self._c
        if entry.kind == "key.enrolled":
            c.execute(
                _INSERT[OfficialKey],
                {"key": f["key"], "nip": f["nip"], "enrolled_index": entry.index, "enrolled_at": entry.time},
            )
        elif entry.kind == "key.revoked":  # the rules checked it is the active key
            c.execute(_REVOKE, {"b_key": f["key"], "b_index": entry.index, "b_at": entry.time, "b_reason": f["reason"]})
        elif entry.kind == "commitment.published":
            c.execute(
                _INSERT[Commitment],
                {
                    "slug": f["slug"],
                    "title": f["title"],
                    "text": f["text"],
                    "text_sha256": f["text_sha256"],
                    "published_index": entry.index,
                    "published_at": entry.time,
                },
            )
            c.execute(
                _INSERT[CommitmentSigner],
                [{"slug": f["slug"], "nip": nip, "position": i} for i, nip in enumerate(f["signers"])],
            )
        elif entry.kind == "commitment.signed":
            c.execute(
                _INSERT[Signature],
                {"idx": entry.index, "slug": f["slug"], "nip": f["nip"], "key": f["key"], "signed_at": entry.time},
            )


def _size(c: Connection) -> int:
    last = c.execute(_LAST_INDEX).scalar()
    return 0 if last is None else last + 1


class Ledger:
    """One ledger in one database. Safe to share between threads; many processes may open it."""

    def __init__(self, engine: Engine | str) -> None:
        self.engine = make_engine(engine) if isinstance(engine, str) else engine
        self._writer = self.engine.execution_options(ikrar_write=True)
        self._origin: str | None = None
        self._verifier: VerifierKey | None = None
        self._tip: _Tip | None = None  # (size, last leaf hash, frontier hashes) after this object's last append
        self._commitments: dict[str, CommitmentInfo] = {}  # see DbState

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
        if self._origin is not None:  # loaded (or created) once: a ledger is never un-initialized
            return True
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

    def _lock(self, conn: Connection) -> None:
        if self.engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_APPEND_LOCK})")

    def create(self, org: str, origin: str, signer: NoteSigner, now: datetime) -> Appended:
        """Write the first entry, `ledger.created`, and its checkpoint.

        Raises AlreadyInitialized when this database already holds a ledger.
        """
        if signer.verifier.name != origin:
            raise InvalidInput(f"the ledger key must be named after the origin {origin!r}")
        fields = {"org": org, "origin": origin, "ledger_key": str(signer.verifier)}
        entry = make_entry(0, "ledger.created", now, ZERO_HASH, fields)
        try:
            with self._writer.begin() as conn:
                self._lock(conn)
                meta = LedgerMeta.__table__.c  # type: ignore[attr-defined]
                if (
                    conn.execute(select(func.count()).select_from(EntryRow.__table__)).scalar()  # type: ignore[arg-type]
                    or conn.execute(select(meta.name).where(meta.name == "origin")).first()
                ):
                    raise AlreadyInitialized("this database already holds a ledger; nothing was changed")
                conn.execute(
                    _INSERT[LedgerMeta],
                    [
                        {"name": "origin", "value": origin},
                        {"name": "org", "value": org},
                        {"name": "ledger_key", "value": str(signer.verifier)},
                    ],
                )
                checkpoint, tip = self._write_entry(conn, entry, signer, origin)
        except IntegrityError as e:
            raise AlreadyInitialized("this database already holds a ledger; nothing was changed") from e
        self._origin, self._verifier, self._tip = origin, signer.verifier, tip
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
            with self._writer.begin() as conn:
                self._lock(conn)
                head = conn.execute(_HEAD).first()
                if head is None:
                    raise NotInitialized("no ledger here yet: run `ikrar init` first")
                entry = make_entry(head[0] + 1, kind, now, head[1], fields)
                state = DbState(conn, self.origin, self._commitments)
                check(entry, state, statement_check)
                checkpoint, tip = self._write_entry(conn, entry, signer, self.origin)
                state.apply(entry)
        except IntegrityError as e:
            raise Conflict("the entry conflicts with one written at the same moment; nothing was written") from e
        except OperationalError as e:
            raise LedgerError(f"the database refused the append ({e.orig}); nothing was written") from e
        self._tip = tip  # committed: the next append here may start from it
        logger.info("appended index=%d kind=%s leaf=%s", entry.index, kind, entry.leaf_hash.hex())
        return Appended(entry, checkpoint)

    def _frontier(self, conn: Connection, size: int, head: bytes) -> CompactRange:
        """The compact range of the first `size` entries, whose last has leaf hash `head`.

        The last append made here left it in `_tip`; it is still right when the head is the
        entry that append wrote (the log is append-only). Otherwise, after another process
        or host appended, it is read from the tree store.
        """
        tip = self._tip
        if tip is not None and tip[0] == size and tip[1] == head:
            return CompactRange(size, tip[2])
        return CompactRange(size, _DbNodes(conn).subtree_hashes(frontier(size)))

    def _write_entry(self, conn: Connection, entry: Entry, signer: NoteSigner, origin: str) -> tuple[Checkpoint, _Tip]:
        n = entry.index
        tree = self._frontier(conn, n, entry.prev)
        leaf = entry.leaf_hash
        completed = tree.append(leaf)
        conn.execute(
            _INSERT[EntryRow],
            {
                "idx": n,
                "kind": entry.kind,
                "time": entry.time,
                "prev": entry.prev,
                "leaf_hash": leaf,
                "leaf": entry.leaf,
            },
        )
        if completed:
            conn.execute(_INSERT[MerkleNodeRow], [{"level": level, "idx": i, "hash": h} for (level, i), h in completed])
        checkpoint = Checkpoint(origin, n + 1, tree.root()).signed(signer)
        conn.execute(_INSERT[CheckpointRow], {"size": n + 1, "note": checkpoint.note})
        return checkpoint, (n + 1, leaf, tree.hashes)

    # -- reading ----------------------------------------------------------------------

    def _read(self) -> Connection:
        """A short read transaction (one consistent snapshot) on plain columns, no ORM."""
        return self.engine.connect()

    def size(self) -> int:
        with self._read() as c:
            return _size(c)

    def entry(self, index: int) -> Entry:
        """Raises NotFound when there is no entry `index`."""
        leaf = None
        if isinstance(index, int) and 0 <= index < MAX_SIZE:
            with self._read() as c:
                leaf = c.execute(select(_ENTRY.leaf).where(_ENTRY.idx == index)).scalar()
        if leaf is None:
            raise NotFound(f"there is no entry {index}")
        return entry_from_leaf(leaf)

    def entries(self, start: int = 0, limit: int = 100) -> list[Entry]:
        if start < 0 or not 0 < limit <= 1000:
            raise InvalidInput("start must be >= 0 and limit between 1 and 1000")
        if start >= MAX_SIZE:
            return []
        with self._read() as c:
            q = select(_ENTRY.leaf).where(_ENTRY.idx >= start).order_by(_ENTRY.idx).limit(limit)
            return [entry_from_leaf(leaf) for leaf in c.execute(q).scalars()]

    def _pages(self, columns: Sequence[Any], batch: int) -> Iterator[Row[Any]]:
        """Rows of `columns` (the first is the key) in key order, one short read per batch.

        Plain column rows, not ORM objects: a full audit or export reads millions.
        """
        key, after = columns[0], -1
        while True:
            with self.engine.connect() as c:
                rows = c.execute(select(*columns).where(key > after).order_by(key).limit(batch)).all()
            yield from rows
            if len(rows) < batch:
                return
            after = rows[-1][0]

    def iter_rows(self, batch: int = _BATCH) -> Iterator[Row[Any]]:
        """Every stored entry in index order, read in batches (for audits and exports).

        Each row has the entry table's columns as attributes: idx, leaf, kind, leaf_hash,
        prev, time (in the order of `StoredEntry`'s fields).
        """
        t = _ENTRY
        return self._pages((t.idx, t.leaf, t.kind, t.leaf_hash, t.prev, t.time), batch)

    def iter_checkpoints(self, batch: int = _BATCH) -> Iterator[Row[Any]]:
        """Every stored checkpoint in size order; rows with attributes size and note."""
        t = CheckpointRow.__table__.c  # type: ignore[attr-defined]
        return self._pages((t.size, t.note), batch)

    def stored_entries(self) -> Iterator[StoredEntry]:
        """The rows as the audit reads them: each row's own columns beside its leaf."""
        return map(StoredEntry._make, self.iter_rows())

    def stored_checkpoints(self) -> Iterator[StoredCheckpoint]:
        return map(StoredCheckpoint._make, self.iter_checkpoints())

    def checkpoint(self, size: int | None = None) -> Checkpoint:
        """The signed checkpoint of `size` (default: the latest); raises NotFound."""
        t = CheckpointRow.__table__.c  # type: ignore[attr-defined]
        note = None
        with self._read() as c:
            if size is None:
                note = c.execute(select(t.note).order_by(t.size.desc()).limit(1)).scalar()
            elif isinstance(size, int) and 0 < size <= MAX_SIZE:
                note = c.execute(select(t.note).where(t.size == size)).scalar()
        if note is None:
            raise NotFound("no ledger here yet" if size is None else f"there is no checkpoint of size {size}")
        return Checkpoint.open(note, self.verifier, self.origin)

    def _resolve_size(self, size: int | None, c: Connection) -> int:
        latest = _size(c)
        if size is None:
            return latest
        if not 0 < size <= latest:
            raise InvalidInput(f"size {size} is not between 1 and the ledger's size {latest}")
        return size

    def root(self, size: int | None = None) -> Hash:
        with self._read() as c:
            return root_hash(self._resolve_size(size, c), _DbNodes(c))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[Hash]:
        """Raises InvalidInput unless 0 <= index < size <= the ledger's size."""
        with self._read() as c:
            return inclusion_proof(index, self._resolve_size(size, c), _DbNodes(c))

    def tlog_proof(self, index: int, size: int | None = None) -> TlogProof:
        """The C2SP tlog-proof of entry `index` against the checkpoint of `size` (default: latest)."""
        with self._read() as c:
            size = self._resolve_size(size, c)
        checkpoint = self.checkpoint(size)
        return TlogProof(index, tuple(self.inclusion_proof(index, checkpoint.size)), checkpoint.note)

    def consistency_proof(self, old: int, new: int) -> list[Hash]:
        """Raises InvalidInput unless 0 < old <= new <= the ledger's size."""
        with self._read() as c:
            self._resolve_size(new, c)
            return consistency_proof(old, new, _DbNodes(c))
