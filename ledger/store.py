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
import time as _time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from . import outbox
from .audit import AuditReport, audit
from .checkpoint import Checkpoint, TlogProof
from .db import CHECKPOINT, ENTRY, INSERT, META, TABLES, make_engine, snapshot, writer
from .derived import DbState, rebuild_derived
from .derived_check import EchoCheck
from .entries import ZERO_HASH, Entry, entry_from_leaf, make_entry
from .errors import AlreadyInitialized, Conflict, InvalidInput, LedgerError, NotInitialized
from .invitations import Invitations
from .kinds import KINDS
from .kinds.ledger_created import rules_of
from .merkle import CompactRange, Hash, frontier
from .models import CheckpointRow, EntryRow, LedgerMeta, MerkleNodeRow
from .note import NoteSigner, VerifierKey
from .reader import Reader, TreeNodes, tree_size
from .register import Register
from .rules import admit, apply, check
from .state import FIRST_RULES, RULES, TIME_ORDER_RULES, CommitmentInfo
from .stored import StoredCheckpoint, StoredEntry
from .times import as_utc, format_time

logger = logging.getLogger(__name__)

_PG_APPEND_LOCK = 0x696B726172  # "ikrar"
_BATCH = 2000
_HEAD = select(ENTRY.idx, ENTRY.leaf_hash, ENTRY.time).order_by(ENTRY.idx.desc()).limit(1)
_LAST_NOTE = select(CHECKPOINT.note).order_by(CHECKPOINT.size.desc()).limit(1)
MAX_AHEAD = timedelta(minutes=5)  # an entry's time may be this far ahead of the server's clock
MAX_WAIT = timedelta(seconds=1)  # a clock this little behind the last entry is waited for

Clock = Callable[[], datetime]
Fields = Mapping[str, Any] | Callable[[datetime], Mapping[str, Any]]


def system_clock() -> datetime:
    return datetime.now(UTC)


_Tip = tuple[int, bytes, tuple[Hash, ...]]


@dataclass(frozen=True)
class Appended:
    """What an append wrote: the entry and the checkpoint that now covers it."""

    entry: Entry
    checkpoint: Checkpoint


class Ledger:
    """One ledger in one database. Safe to share between threads; many processes may open it."""

    def __init__(self, engine: Engine | str, clock: Clock = system_clock) -> None:
        self.engine = make_engine(engine) if isinstance(engine, str) else engine
        self.clock = clock  # the server's clock: an entry's time may not run far ahead of it
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
    def invitations(self) -> Invitations:
        """The admins' signed invitations and approvals waiting for an enrolment (`ledger.invitations`)."""
        return Invitations(self.engine)

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

    def _pages(self, columns: Sequence[Any], batch: int = _BATCH) -> Iterator[Row[Any]]:
        """Rows of `columns` (the first is the key) in key order, one short read per batch.

        Short reads, so that a half-consumed stream holds no transaction open; for one
        consistent audit of a growing ledger read both streams from one `read()` instead.
        """
        key, after = columns[0], -1
        while True:
            with self.engine.connect() as c:
                rows = c.execute(select(*columns).where(key > after).order_by(key).limit(batch)).all()
            yield from rows
            if len(rows) < batch:
                return
            after = rows[-1][0]

    def stored_entries(self) -> Iterator[StoredEntry]:
        """Every stored entry row in index order, as the audit reads them."""
        t = ENTRY
        return map(StoredEntry._make, self._pages((t.idx, t.leaf, t.kind, t.leaf_hash, t.prev, t.time)))

    def stored_checkpoints(self) -> Iterator[StoredCheckpoint]:
        return map(StoredCheckpoint._make, self._pages((CHECKPOINT.size, CHECKPOINT.note)))

    # -- writing ----------------------------------------------------------------------

    def _lock(self, conn: Connection) -> None:
        if self.engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_APPEND_LOCK})")

    def create(self, org: str, origin: str, signer: NoteSigner, now: datetime, rules: int = RULES) -> Appended:
        """Write the first entry, `ledger.created`, and its checkpoint. A new ledger keeps the
        newest rules (`rules`) from its start; `rules=1` makes one as earlier versions did.

        Raises AlreadyInitialized when this database already holds a ledger.
        """
        if signer.verifier.name != origin:
            raise InvalidInput(
                f"the ledger key must be named after the origin {origin!r}", code="ledger.key_name", origin=origin
            )
        fields: dict[str, Any] = {"org": org, "origin": origin, "ledger_key": str(signer.verifier)}
        if rules != FIRST_RULES:
            fields["rules"] = rules
        entry = make_entry(0, "ledger.created", now, ZERO_HASH, fields)
        rules_of(entry)  # a version this code knows
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
                        *([{"name": "rules", "value": str(rules)}] if rules != FIRST_RULES else []),
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
            state = DbState(conn, self.origin, str(self.verifier), as_utc(head[2]), self._commitments)
            check(make_entry(head[0] + 1, kind, now, head[1], fields), state)

    def append(
        self,
        kind: str,
        fields: Fields,
        signer: NoteSigner,
        now: datetime | Clock,
        notify: Sequence[tuple[str, str]] = (),
    ) -> Appended:
        """Append one entry under the ledger's rules, with its signatures verified, and sign
        the new checkpoint.

        `now` is the entry's time, or a clock read under the append lock (live signing: the
        time is then taken in ledger order, and a clock less than a second behind the last
        entry is waited for). `fields` may be a function of the entry's time, called under
        the lock (a statement that names the time is signed there). The time may not run more
        than `MAX_AHEAD` ahead of the server's clock, nor, under rules version 2, before the
        last entry's. `notify` lists the (event, NIP) notices to mail about the entry; they
        are queued in the entry's own transaction (`ledger.outbox`).

        Raises InvalidInput (malformed fields), Conflict (a rule refuses it),
        SignatureRejected (a signature it carries fails), NotInitialized, LedgerError
        (`tree.diverged`: the tree store does not give the last signed root; or the database
        is busy or fails); in every case nothing is written.
        """
        if signer.verifier != self.verifier:
            raise InvalidInput("this key does not sign this ledger's checkpoints", code="ledger.wrong_signer")
        try:
            with self._writer.begin() as conn:
                self._lock(conn)
                head = conn.execute(_HEAD).first()
                if head is None:
                    raise NotInitialized("no ledger here yet: run `ikrar init` first", code="ledger.not_initialized")
                last_time = as_utc(head[2])
                state = DbState(conn, self.origin, str(self.verifier), last_time, self._commitments)
                moment = self._entry_time(now, last_time, state.rules)
                entry = make_entry(head[0] + 1, kind, moment, head[1], fields(moment) if callable(fields) else fields)
                admit(entry, state)
                checkpoint, tip = self._write_entry(conn, entry, signer, self.origin)
                apply(entry, state)
                self._echo(conn, entry)
                for event, nip in notify:
                    outbox.enqueue(conn, event, nip, entry.index, moment)
        except IntegrityError as e:
            raise Conflict(
                "the entry conflicts with one written at the same moment; nothing was written", code="append.race"
            ) from e
        except OperationalError as e:
            raise LedgerError(
                f"the database refused the append ({e.orig}); nothing was written", code="append.refused"
            ) from e
        self._tip = tip  # committed: the next append here may start from it
        logger.info(
            "appended index=%d kind=%s leaf=%s",
            entry.index,
            entry.kind,
            entry.leaf_hash.hex(),
            extra={"event": "ledger.appended", "kind": entry.kind, "index": entry.index, "leaf": entry.leaf_hash.hex()},
        )
        return Appended(entry, checkpoint)

    def rebuild(self, progress: Callable[[int], None] | None = None) -> AuditReport:
        """Recompute every table derived from the entries (keys, commitments, signatories,
        signatures, the Merkle node cache, the ledger's facts), after checking that the
        entries and their signed checkpoints hold; in one write transaction.

        Raises ChainBroken (the entries do not hold: nothing is rebuilt — restore a backup)
        or Conflict (entries were appended meanwhile: run it again).
        """
        with self.read() as r:
            report = audit(r.stored_entries(), r.stored_checkpoints(), self.verifier, progress)
        with self._writer.begin() as conn:
            self._lock(conn)
            if tree_size(conn) != report.size:
                raise Conflict(
                    "entries were appended while the ledger was checked; run `ikrar rebuild` again",
                    code="rebuild.moved",
                )
            reader = Reader(conn, self.origin, self.verifier)
            genesis = dict(reader.entry(0).fields)
            entries = (entry_from_leaf(row.leaf) for row in reader.stored_entries())
            rebuild_derived(conn, genesis, entries)
        self._tip = None
        self._commitments.clear()
        logger.warning("derived tables rebuilt from %d entries", report.size)
        return report

    def _echo(self, conn: Connection, entry: Entry) -> None:
        """Read back the rows just derived from `entry` and compare (raises DerivedMismatch:
        the transaction is rolled back, nothing is written)."""
        echo = EchoCheck(Reader(conn, self.origin, self.verifier))
        KINDS[entry.kind].apply(entry, echo)  # type: ignore[arg-type]  # the State verbs, as comparisons

    def _entry_time(self, now: datetime | Clock, last: datetime, rules: int) -> datetime:
        """The time of the next entry: `now`, or the clock's reading under the lock."""
        moment = now() if callable(now) else now
        behind = last - moment.replace(microsecond=0)
        if callable(now) and rules >= TIME_ORDER_RULES and timedelta(0) < behind <= MAX_WAIT:
            _time.sleep(behind.total_seconds())  # another host's clock is a little ahead: wait for it
            moment = now()
        if moment - self.clock() > MAX_AHEAD:
            raise Conflict(
                f"the time {format_time(moment)} is more than {MAX_AHEAD.seconds // 60} minutes ahead of this "
                "server's clock: check the server's time (NTP); nothing was written",
                code="time.ahead",
                time=moment,
            )
        if rules >= TIME_ORDER_RULES and moment.replace(microsecond=0) < last:
            raise Conflict(
                f"the clock says {format_time(moment)}, before the ledger's last entry at {format_time(last)}: "
                "check the server's time (NTP); nothing was written",
                code="time.behind",
                time=moment,
                last=last,
            )
        return moment

    def raise_rules(self, signer: NoteSigner, now: datetime | Clock) -> Appended | None:
        """Append `ledger.rules` when this ledger keeps an older version of the rules than
        this code knows (a ledger made by an earlier version): from that entry on the newer
        rules hold. Returns None when there is nothing to raise."""
        with snapshot(self.engine) as conn, conn.begin():
            current = int(conn.execute(select(META.value).where(META.name == "rules")).scalar() or FIRST_RULES)
        if current >= RULES:
            return None
        logger.warning("raising the ledger's rules from version %d to %d", current, RULES)
        return self.append("ledger.rules", {"version": RULES}, signer, now)

    def _frontier(self, conn: Connection, size: int, head: bytes) -> tuple[CompactRange, bool]:
        """The compact range of the first `size` entries, whose last has leaf hash `head`.

        The last append made here left it in `_tip`; it is still right when the head is the
        entry that append wrote (the log is append-only). Otherwise, after another process
        or host appended, it is read from the tree store (and the second value says so: it
        must then give the last signed root, `_guard_tree`).
        """
        tip = self._tip
        if tip is not None and tip[0] == size and tip[1] == head:
            return CompactRange(size, tip[2]), False
        return CompactRange(size, TreeNodes(conn).subtree_hashes(frontier(size))), size > 0

    def _guard_tree(self, conn: Connection, tree: CompactRange, origin: str) -> None:
        """Refuse to sign a new root unless the tree the append starts from has the root of
        the last signed checkpoint: a damaged tree store is never signed in."""
        note = conn.execute(_LAST_NOTE).scalar()
        signed = Checkpoint.open(note, self.verifier, origin) if note is not None else None
        if signed is None or signed.size != tree.size or signed.root != tree.root():
            logger.error("tree store diverges from the last signed checkpoint at size %d", tree.size)
            raise LedgerError(
                f"the tree store does not give the root of the last signed checkpoint (size {tree.size}): "
                "the database is damaged; nothing was written or signed — run `ikrar audit`",
                code="tree.diverged",
                size=tree.size,
            )

    def _write_entry(self, conn: Connection, entry: Entry, signer: NoteSigner, origin: str) -> tuple[Checkpoint, _Tip]:
        n = entry.index
        tree, from_store = self._frontier(conn, n, entry.prev)
        if from_store:  # this process's own last tree needs no second look
            self._guard_tree(conn, tree, origin)
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
