"""The database edge of the ledger: the engine (SQLite by default, PostgreSQL by URL) and
the table handles that the log, the derived tables, the reader and the register share.

Only modules of `ledger/` touch SQL. SQLite runs in WAL mode with ``synchronous=FULL``, so
a committed transaction survives a crash or a power cut; a write transaction takes the
write lock at once (``BEGIN IMMEDIATE``) when opened on `writer(engine)`.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from .errors import LedgerError
from .models import (
    Account,
    AppAttachment,
    AppDraft,
    AppEventRow,
    Application,
    CheckpointRow,
    Commitment,
    CommitmentSigner,
    Decline,
    EnrolmentToken,
    EntryRow,
    Invitation,
    LedgerMeta,
    LockLift,
    LoginThrottle,
    MailOutbox,
    MerkleNodeRow,
    Official,
    OfficialKey,
    OfficialUpdate,
    RoleGrant,
    Signature,
    Throttle,
    WebSession,
)

# Entry indexes and tree sizes are SQL INTEGER columns, 32-bit on PostgreSQL: a larger
# number asked for is answered here (no such entry) and never reaches the database, where
# it would be an error ("integer out of range") instead of a clear "not found".
MAX_SIZE = 2**31 - 1

# Plain column handles: the hot paths build Core statements on them, not ORM queries.
ENTRY = EntryRow.__table__.c  # type: ignore[attr-defined]
NODE = MerkleNodeRow.__table__.c  # type: ignore[attr-defined]
CHECKPOINT = CheckpointRow.__table__.c  # type: ignore[attr-defined]
META = LedgerMeta.__table__.c  # type: ignore[attr-defined]
KEY = OfficialKey.__table__.c  # type: ignore[attr-defined]
COMMITMENT = Commitment.__table__.c  # type: ignore[attr-defined]
SIGNER = CommitmentSigner.__table__.c  # type: ignore[attr-defined]
SIGNATURE = Signature.__table__.c  # type: ignore[attr-defined]
OFFICIAL = Official.__table__.c  # type: ignore[attr-defined]
ACCOUNT = Account.__table__.c  # type: ignore[attr-defined]
SESSION = WebSession.__table__.c  # type: ignore[attr-defined]
TOKEN = EnrolmentToken.__table__.c  # type: ignore[attr-defined]
THROTTLE = Throttle.__table__.c  # type: ignore[attr-defined]
INVITATION = Invitation.__table__.c  # type: ignore[attr-defined]
OUTBOX = MailOutbox.__table__.c  # type: ignore[attr-defined]
LOGIN_THROTTLE = LoginThrottle.__table__.c  # type: ignore[attr-defined]
LOCK_LIFT = LockLift.__table__.c  # type: ignore[attr-defined]
UPDATE = OfficialUpdate.__table__.c  # type: ignore[attr-defined]
DECLINE = Decline.__table__.c  # type: ignore[attr-defined]
ROLE = RoleGrant.__table__.c  # type: ignore[attr-defined]
APP = Application.__table__.c  # type: ignore[attr-defined]
APP_EVENT = AppEventRow.__table__.c  # type: ignore[attr-defined]
DRAFT = AppDraft.__table__.c  # type: ignore[attr-defined]
ATTACHMENT = AppAttachment.__table__.c  # type: ignore[attr-defined]

_MODELS: tuple[Any, ...] = (
    EntryRow,
    MerkleNodeRow,
    CheckpointRow,
    LedgerMeta,
    OfficialKey,
    Commitment,
    CommitmentSigner,
    Signature,
    Official,
    Account,
    WebSession,
    EnrolmentToken,
    Throttle,
    Invitation,
    MailOutbox,
    LoginThrottle,
    LockLift,
    OfficialUpdate,
    Decline,
    RoleGrant,
    Application,
    AppEventRow,
    AppDraft,
    AppAttachment,
)
TABLES = {model: model.__table__ for model in _MODELS}
INSERT = {model: table.insert() for model, table in TABLES.items()}


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


def make_read_only_engine(url: str) -> Engine:
    """An engine that can only read (the reading commands, an auditor's copy): it never
    writes, never creates a file beside the database, and works on a read-only copy.

    SQLite is opened as a ``mode=ro`` URI with ``PRAGMA query_only``; a copy that cannot be
    written at all (a read-only file or folder) is opened ``immutable=1``, since nobody can
    be writing it then (SQLite could not make its shared-memory file beside it otherwise).
    PostgreSQL sessions are ``READ ONLY``.
    """
    url = normalize_url(url)
    parsed = make_url(url)
    if not url.startswith("sqlite"):
        engine = create_engine(url, pool_pre_ping=True)

        @event.listens_for(engine, "connect")
        def _read_only(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            cursor.close()
            dbapi_connection.commit()

        return engine
    database = parsed.database or ""
    if not database or database == ":memory:":
        return make_engine(url)
    path = os.path.abspath(database)
    if not os.path.exists(path):
        raise LedgerError(
            f"there is no database at {path}: run `ikrar init` first, or point IKRAR_DATABASE_URL at the copy to read",
            code="database.missing",
            path=path,
        )
    folder_writable = os.access(os.path.dirname(path), os.W_OK)
    wal = f"{path}-wal"
    unwritten_wal = os.path.exists(wal) and os.path.getsize(wal) > 0
    immutable = not (os.access(path, os.W_OK) and folder_writable) and not unwritten_wal
    mode = "immutable=1" if immutable else "mode=ro"
    engine = create_engine(
        f"sqlite:///file:{quote(path)}?{mode}&uri=true",
        connect_args={"timeout": 60, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in ("query_only=ON", "busy_timeout=60000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


# What every failure of the database driver is raised as (the database down, a full disk, a
# lost connection), wherever in the ledger it happens: the shells translate it with
# `database_error`, in their one error handler, without importing SQLAlchemy themselves.
DriverError = DBAPIError


def database_error(e: DBAPIError, url: str | None = None) -> LedgerError:
    """The ledger's error for a failure the database driver raised (`sqlalchemy.exc.DBAPIError`),
    with a code that the command line and the web show in one place: the disk is full
    (``database.full``), the database is read-only here (``database.read_only``), cannot be
    reached or refused (``database.unavailable``), or failed otherwise (``database.failed``)."""
    where = f" at {make_url(normalize_url(url)).render_as_string(hide_password=True)}" if url else ""
    reason = " ".join(str(e.orig).split()) if e.orig is not None else type(e).__name__
    said = reason.lower()
    if "disk is full" in said or "no space left" in said or "could not extend file" in said:
        code, advice = "database.full", "the disk holding it is full: free some space, then try again"
    elif "readonly database" in said or "read-only transaction" in said:
        code, advice = "database.read_only", "it can only be read here: use a writable copy for this command"
    elif isinstance(e, OperationalError):
        code, advice = "database.unavailable", "check that it is running and that IKRAR_DATABASE_URL points at it"
    else:
        code, advice = "database.failed", "try again, and if it persists run `ikrar doctor`"
    error = LedgerError(f"the database{where} failed ({reason}): {advice}", code=code)
    error.__cause__ = e
    return error


class Writer:
    """Write transactions on one database, one at a time, without sleeping.

    SQLite lets one writer in at a time and makes the others poll (its busy handler
    sleeps, longer and longer: under sixteen signers at once a signature waited seconds).
    So writers queue first on a lock that wakes the next at once — a thread lock within
    the process and an exclusive `flock` on a file beside the database across processes —
    and only then take SQLite's write lock (``BEGIN IMMEDIATE``), which is then free.
    PostgreSQL needs none of this: its row and advisory locks wait without polling.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine.execution_options(ikrar_write=True)
        self._path: str | None = None
        if engine.dialect.name == "sqlite":
            database = engine.url.database
            self._path = f"{database}-ikrar.lock" if database and database != ":memory:" else ""
        self._thread_lock = _thread_lock(self._path or "") if self._path is not None else None

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        if self._thread_lock is None:
            with self._engine.begin() as conn:
                yield conn
            return
        with self._thread_lock, file_lock(self._path), self._engine.begin() as conn:
            yield conn


_THREAD_LOCKS: dict[str, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


def _thread_lock(path: str) -> threading.Lock:
    with _THREAD_LOCKS_GUARD:
        return _THREAD_LOCKS.setdefault(os.path.abspath(path) if path else "", threading.Lock())


@contextmanager
def file_lock(path: str | None) -> Iterator[None]:
    if not path:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # blocks; the kernel wakes the next waiter at release
        yield
    finally:
        os.close(fd)  # releases the lock


def writer(engine: Engine) -> Writer:
    """Write transactions on `engine`, queued without sleeping (see `Writer`)."""
    return Writer(engine)


def snapshot(engine: Engine) -> Connection:
    """A connection for one consistent read: on PostgreSQL a REPEATABLE READ transaction, on
    SQLite (WAL) a deferred transaction whose snapshot is taken at its first read."""
    if engine.dialect.name == "postgresql":
        return engine.connect().execution_options(isolation_level="REPEATABLE READ")
    return engine.connect()
