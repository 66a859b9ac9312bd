"""The database schema lives in Alembic migrations (`ledger/migrations`); `migrate` brings
a database up to date, one process at a time; `check_schema` tells a reader whether the
schema is the one this program knows, without changing anything."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from .db import file_lock
from .errors import LedgerError, NotInitialized

logger = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
_PG_MIGRATE_LOCK = 0x696B72616D  # "ikram": session-level advisory lock held while migrating


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


@cache
def _known_revisions() -> tuple[str, tuple[str, ...]]:
    """This program's newest revision, and every revision it knows."""
    scripts = ScriptDirectory.from_config(alembic_config(None))  # type: ignore[arg-type]
    head = scripts.get_current_head()
    assert head is not None
    return head, tuple(s.revision for s in scripts.walk_revisions())


@dataclass(frozen=True)
class SchemaVersion:
    """The database's schema revision beside this program's newest (`head`)."""

    current: str | None  # None: no schema at all yet
    head: str
    known: bool  # this program knows `current` (False: a newer Ikrar made it)

    @property
    def is_current(self) -> bool:
        return self.current == self.head

    @property
    def is_older(self) -> bool:
        return self.current is not None and self.known and not self.is_current

    @property
    def is_newer(self) -> bool:
        return self.current is not None and not self.known


def schema_version(engine: Engine) -> SchemaVersion:
    """Read the schema's revision (nothing is written). Raises sqlalchemy's DBAPIError when
    the database cannot be read."""
    head, known = _known_revisions()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        conn.rollback()
    return SchemaVersion(current, head, current is None or current in known)


def _newer(version: SchemaVersion) -> LedgerError:
    return LedgerError(
        f"this database's schema (revision {version.current}) is newer than this program knows "
        f"(revision {version.head}): a newer Ikrar wrote it; use that version (or newer) here",
        code="schema.newer",
        revision=version.current,
        head=version.head,
    )


def check_schema(engine: Engine) -> SchemaVersion:
    """For a reader: the schema must be the one this program knows, and is never changed.

    Raises NotInitialized (no schema yet), LedgerError ``schema.newer`` (a newer Ikrar made
    it) or ``schema.older`` (an older Ikrar made it, and it was not upgraded)."""
    version = schema_version(engine)
    if version.current is None:
        raise NotInitialized("no ledger here yet: run `ikrar init` first", code="ledger.not_initialized")
    if version.is_newer:
        raise _newer(version)
    if version.is_older:
        raise LedgerError(
            f"this database's schema is older (revision {version.current}) than this program's "
            f"(revision {version.head}), and reading never upgrades it: read it with the Ikrar version "
            "that made it, or upgrade a writable copy with `ikrar doctor --fix`",
            code="schema.older",
            revision=version.current,
            head=version.head,
        )
    return version


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """One migrating process at a time per database: a PostgreSQL session-level advisory
    lock, or an exclusive `flock` on the file beside a SQLite database that its writers
    queue on (`ledger.db.Writer`)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"SELECT pg_advisory_lock({_PG_MIGRATE_LOCK})")
            try:
                yield
            finally:
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_PG_MIGRATE_LOCK})")
        return
    database = engine.url.database
    with file_lock(f"{database}-ikrar.lock" if database and database != ":memory:" else None):
        yield


def migrate(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade every table to `revision` (default: the newest). Processes that
    start at once migrate one after the other (the later ones then find nothing to do).

    Raises LedgerError ``schema.newer`` when a newer Ikrar made the schema (it is left as
    it is), or sqlalchemy's DBAPIError when the database cannot be used."""
    if revision == "head":
        version = schema_version(engine)
        if version.is_current:
            return
        if version.is_newer:
            raise _newer(version)
    with _migration_lock(engine):
        version = schema_version(engine)  # again, under the lock: another process may have done it
        if version.is_newer:
            raise _newer(version)
        if revision == "head" and version.is_current:
            return
        logger.info("migrating the schema from %s to %s", version.current, revision)
        command.upgrade(alembic_config(engine), revision)
