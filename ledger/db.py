"""The database edge of the ledger: the engine (SQLite by default, PostgreSQL by URL) and
the table handles that the log, the derived tables, the reader and the register share.

Only modules of `ledger/` touch SQL. SQLite runs in WAL mode with ``synchronous=FULL``, so
a committed transaction survives a crash or a power cut; a write transaction takes the
write lock at once (``BEGIN IMMEDIATE``) when opened on `writer(engine)`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event

from .models import (
    Account,
    CheckpointRow,
    Commitment,
    CommitmentSigner,
    EnrolmentToken,
    EntryRow,
    LedgerMeta,
    MerkleNodeRow,
    Official,
    OfficialKey,
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


def writer(engine: Engine) -> Engine:
    """The engine whose transactions take the write lock at once (BEGIN IMMEDIATE on SQLite)."""
    return engine.execution_options(ikrar_write=True)


def snapshot(engine: Engine) -> Connection:
    """A connection for one consistent read: on PostgreSQL a REPEATABLE READ transaction, on
    SQLite (WAL) a deferred transaction whose snapshot is taken at its first read."""
    if engine.dialect.name == "postgresql":
        return engine.connect().execution_options(isolation_level="REPEATABLE READ")
    return engine.connect()
