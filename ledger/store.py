"""The log: the serialized append, and the doors to reading it.

Appends are serialized across threads, processes and hosts by the database itself:
SQLite's write lock (``BEGIN IMMEDIATE``) or a PostgreSQL transaction-level advisory lock.
Inside that one transaction the entry, the new Merkle nodes, the signed checkpoint and the
derived rows are written, or nothing is. Every append admits the entry by the ledger's
rules and verifies the signatures it carries (`rules.admit`); there is no other way in.

Reading goes through `Ledger.read()`, one consistent snapshot (`reader.Reader`); the few
`Ledger` read methods below are shorthands that each open one.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from .audit import StoredCheckpoint, StoredEntry
from .checkpoint import Checkpoint, TlogProof
from .db import CHECKPOINT, ENTRY, INSERT, META, TABLES, make_engine, snapshot, writer
from .derived import DbState
from .entries import ZERO_HASH, Entry, make_entry
from .errors import AlreadyInitialized, Conflict, InvalidInput, LedgerError, NotInitialized
from .merkle import CompactRange, Hash, frontier
from .models import CheckpointRow, EntryRow, LedgerMeta, MerkleNodeRow
from .note import NoteSigner, VerifierKey
from .reader import Reader, TreeNodes
from .register import Register
from .rules import admit, apply, check
from .state import CommitmentInfo

logger = logging.getLogger(__name__)

_PG_APPEND_LOCK = 0x696B726172  # "ikrar"
_BATCH = 2000
_HEAD = select(ENTRY.idx, ENTRY.leaf_hash).order_by(ENTRY.idx.desc()).limit(1)

_Tip = tuple[int, bytes, tuple[Hash, ...]]


@dataclass(frozen=True)
class Appended:
    """What an append wrote: the entry and the checkpoint that now covers it."""

    entry: Entry
    checkpoint: Checkpoint


class Ledger:
    """One ledger in one database. Safe to share between threads; many processes may open it."""

    def __init__(self, engine: Engine | str) -> None:
        self.engine = make_engine(engine) if isinstance(engine, str) else engine
        self._writer = writer(self.engine)
        self._origin: str | None = None
        self._verifier: VerifierKey | None = None
        self._tip: _Tip | None = None  # (size, last leaf hash, frontier hashes) after this object's last append
        self._commitments: dict[str, CommitmentInfo] = {}  # see DbState

    def __repr__(self) -> str:
        return f"Ledger({self.engine.url.render_as_string(hide_password=True)})"

    # -- identity ---------------------------------------------------------------------

    def _load_meta(self) -> None:
        with self.engine.connect() as c:
            meta = {name: value for name, value in c.execute(select(META.name, META.value))}
        if "origin" not in meta:
            raise NotInitialized("no ledger here yet: run `ikrar init` first", code="ledger.not_initialized")
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

    @functools.cached_property
    def register(self) -> Register:
        """The register of people and their logins, in the same database (not on the ledger)."""
        return Register(self.engine)

    # -- reading ----------------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[Reader]:
        """One consistent snapshot of the ledger. Raises NotInitialized before `ikrar init`."""
        origin, verifier = self.origin, self.verifier
        with snapshot(self.engine) as conn, conn.begin():
            yield Reader(conn, origin, verifier)

    def size(self) -> int:
        with self.engine.connect() as c:
            last = c.execute(select(func.max(ENTRY.idx))).scalar()
        return 0 if last is None else int(last) + 1

    def entry(self, index: int) -> Entry:
        """Raises NotFound when there is no entry `index`."""
        with self.read() as r:
            return r.entry(index)

    def entries(self, start: int = 0, limit: int = 100) -> list[Entry]:
        with self.read() as r:
            return r.entries(start, limit)

    def checkpoint(self, size: int | None = None) -> Checkpoint:
        """The signed checkpoint of `size` (default: the latest); raises NotFound."""
        with self.read() as r:
            return r.checkpoint(size)

    def root(self, size: int | None = None) -> Hash:
        with self.read() as r:
            return r.root(size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[Hash]:
        """Raises InvalidInput unless 0 <= index < size <= the ledger's size."""
        with self.read() as r:
            return r.inclusion_proof(index, size)

    def tlog_proof(self, index: int, size: int | None = None) -> TlogProof:
        """The C2SP tlog-proof of entry `index` against the checkpoint of `size` (default: latest)."""
        with self.read() as r:
            return r.tlog_proof(index, size)

    def consistency_proof(self, old: int, new: int) -> list[Hash]:
        """Raises InvalidInput unless 0 < old <= new <= the ledger's size."""
        with self.read() as r:
            return r.consistency_proof(old, new)

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
        t = ENTRY
        return self._pages((t.idx, t.leaf, t.kind, t.leaf_hash, t.prev, t.time), batch)

    def iter_checkpoints(self, batch: int = _BATCH) -> Iterator[Row[Any]]:
        """Every stored checkpoint in size order; rows with attributes size and note."""
        return self._pages((CHECKPOINT.size, CHECKPOINT.note), batch)

    def stored_entries(self) -> Iterator[StoredEntry]:
        """The rows as the audit reads them: each row's own columns beside its leaf."""
        return map(StoredEntry._make, self.iter_rows())

    def stored_checkpoints(self) -> Iterator[StoredCheckpoint]:
        return map(StoredCheckpoint._make, self.iter_checkpoints())

    # -- writing ----------------------------------------------------------------------

    def _lock(self, conn: Connection) -> None:
        if self.engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_APPEND_LOCK})")

    def create(self, org: str, origin: str, signer: NoteSigner, now: datetime) -> Appended:
        """Write the first entry, `ledger.created`, and its checkpoint.

        Raises AlreadyInitialized when this database already holds a ledger.
        """
        if signer.verifier.name != origin:
            raise InvalidInput(
                f"the ledger key must be named after the origin {origin!r}", code="ledger.key_name", origin=origin
            )
        fields = {"org": org, "origin": origin, "ledger_key": str(signer.verifier)}
        entry = make_entry(0, "ledger.created", now, ZERO_HASH, fields)
        already = AlreadyInitialized("this database already holds a ledger; nothing was changed", code="ledger.exists")
        try:
            with self._writer.begin() as conn:
                self._lock(conn)
                if (
                    conn.execute(select(func.count()).select_from(TABLES[EntryRow])).scalar()
                    or conn.execute(select(META.name).where(META.name == "origin")).first()
                ):
                    raise already
                conn.execute(
                    INSERT[LedgerMeta],
                    [
                        {"name": "origin", "value": origin},
                        {"name": "org", "value": org},
                        {"name": "ledger_key", "value": str(signer.verifier)},
                    ],
                )
                checkpoint, tip = self._write_entry(conn, entry, signer, origin)
        except IntegrityError as e:
            raise already from e
        self._origin, self._verifier, self._tip = origin, signer.verifier, tip
        logger.info("ledger created origin=%s key=%s", origin, signer.verifier)
        return Appended(entry, checkpoint)

    def precheck(self, kind: str, fields: Mapping[str, Any], now: datetime) -> None:
        """Ask the ledger's rules whether an entry of `kind` with `fields` could be appended
        now, without writing or verifying its signatures (an action asks before it opens a
        key). Raises as `append` would: InvalidInput or Conflict. `append` asks again, under
        its lock."""
        with snapshot(self.engine) as conn, conn.begin():
            head = conn.execute(_HEAD).first()
            if head is None:
                raise NotInitialized("no ledger here yet: run `ikrar init` first", code="ledger.not_initialized")
            check(make_entry(head[0] + 1, kind, now, head[1], fields), DbState(conn, self.origin, self._commitments))

    def append(self, kind: str, fields: Mapping[str, Any], signer: NoteSigner, now: datetime) -> Appended:
        """Append one entry under the ledger's rules, with its signatures verified, and sign
        the new checkpoint.

        Raises InvalidInput (malformed fields), Conflict (a rule refuses it),
        SignatureRejected (a signature it carries fails), NotInitialized, or LedgerError
        when the database is busy or fails; in every case nothing is written.
        """
        if signer.verifier != self.verifier:
            raise InvalidInput("this key does not sign this ledger's checkpoints", code="ledger.wrong_signer")
        try:
            with self._writer.begin() as conn:
                self._lock(conn)
                head = conn.execute(_HEAD).first()
                if head is None:
                    raise NotInitialized("no ledger here yet: run `ikrar init` first", code="ledger.not_initialized")
                entry = make_entry(head[0] + 1, kind, now, head[1], fields)
                state = DbState(conn, self.origin, self._commitments)
                admit(entry, state)
                checkpoint, tip = self._write_entry(conn, entry, signer, self.origin)
                apply(entry, state)
        except IntegrityError as e:
            raise Conflict(
                "the entry conflicts with one written at the same moment; nothing was written", code="append.race"
            ) from e
        except OperationalError as e:
            raise LedgerError(
                f"the database refused the append ({e.orig}); nothing was written", code="append.refused"
            ) from e
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
        return CompactRange(size, TreeNodes(conn).subtree_hashes(frontier(size)))

    def _write_entry(self, conn: Connection, entry: Entry, signer: NoteSigner, origin: str) -> tuple[Checkpoint, _Tip]:
        n = entry.index
        tree = self._frontier(conn, n, entry.prev)
        leaf = entry.leaf_hash
        completed = tree.append(leaf)
        conn.execute(
            INSERT[EntryRow],
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
            conn.execute(INSERT[MerkleNodeRow], [{"level": level, "idx": i, "hash": h} for (level, i), h in completed])
        checkpoint = Checkpoint(origin, n + 1, tree.root()).signed(signer)
        conn.execute(INSERT[CheckpointRow], {"size": n + 1, "note": checkpoint.note})
        return checkpoint, (n + 1, leaf, tree.hashes)
