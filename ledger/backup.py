"""Backups that restore: a consistent copy of a running ledger, checked before it is trusted.

Copying the database file of a running server is not a backup: SQLite keeps committed
transactions in its write-ahead log beside the file, so a plain copy can silently lack
acknowledged signatures. `backup` uses SQLite's online backup (a consistent snapshot, while
the server keeps writing) and then audits the copy; `restore` audits a backup before it
replaces anything, and replaces the database in one rename. On PostgreSQL the backup is
`pg_dump`'s: `pg_backup_command` says how, and `check_pg_dump` checks that a dump holds the
ledger's tables.

The database is only part of what must be kept: the key directory (the officials' and the
ledger's encrypted keys) and the ledger passphrase are kept too — apart from each other.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from .audit import AuditReport, audit
from .db import make_read_only_engine
from .errors import InvalidInput, LedgerError

LEDGER_TABLES = ("entry", "checkpoint", "merkle_node", "ledger_meta", "official_key", "signature")


class BackupError(LedgerError):
    """A backup could not be made, read or restored; nothing was replaced."""

    code = "backup.failed"


@dataclass(frozen=True)
class Backup:
    """A backup written and checked: where, and what its audit saw."""

    path: Path
    report: AuditReport


def sqlite_path(engine: Engine) -> Path:
    """The file of a SQLite ledger; raises InvalidInput for another database."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        raise InvalidInput(
            "this is not a SQLite database file: back PostgreSQL up with pg_dump", code="backup.not_sqlite"
        )
    return Path(database)


def audit_file(path: Path) -> AuditReport:
    """Audit the ledger in a SQLite file (entries, checkpoints, derived tables), read-only.

    Raises BackupError when it is not a ledger, ChainBroken or DerivedMismatch when it is broken.
    """
    from .store import Ledger  # the store builds on this package's modules, not the other way

    if not path.is_file():
        raise BackupError(f"{path} is not a file", code="backup.missing", path=str(path))
    engine = make_read_only_engine(f"sqlite:///{path.resolve()}")
    try:
        ledger = Ledger(engine)
        if not ledger.is_initialized():
            raise BackupError(f"{path} holds no Ikrar ledger", code="backup.not_a_ledger", path=str(path))
        with ledger.read() as r:
            return audit(r.stored_entries(), r.stored_checkpoints(), ledger.verifier, derived=r)
    finally:
        engine.dispose()


def backup_sqlite(engine: Engine, target: Path) -> Backup:
    """Copy the running SQLite ledger of `engine` to `target` (a new file) with SQLite's
    online backup, make it private (0600), and audit the copy.

    Raises InvalidInput (not SQLite, target exists), BackupError, ChainBroken, DerivedMismatch.
    """
    source = sqlite_path(engine)
    if target.exists():
        raise InvalidInput(f"{target} exists; back up into a new file", code="backup.exists", path=str(target))
    partial = target.with_name(target.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    try:
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(partial) as dst:
            src.backup(dst)  # one consistent snapshot, however fast the server writes meanwhile
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no WAL beside it
        os.replace(partial, target)
    except sqlite3.Error as e:
        partial.unlink(missing_ok=True)
        raise BackupError(f"the backup failed: {e}", code="backup.failed") from e
    return Backup(target, audit_file(target))


def restore_sqlite(backup: Path, engine: Engine) -> AuditReport:
    """Put `backup` back as the SQLite ledger of `engine`, after auditing it; the database
    file is replaced in one rename (stop the server first). Returns the backup's audit.

    Raises BackupError, ChainBroken or DerivedMismatch; the current database is then untouched.
    """
    report = audit_file(backup)
    target = sqlite_path(engine)
    engine.dispose()
    staged = target.with_name(target.name + ".restoring")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with open(backup, "rb") as src:
            while chunk := src.read(1 << 20):
                os.write(fd, chunk)
        os.fsync(fd)
    finally:
        os.close(fd)
    for leftover in (target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
        leftover.unlink(missing_ok=True)  # the old database's log must not be replayed onto the backup
    os.replace(staged, target)
    return report


def pg_backup_command(url: str, target: Path) -> list[str]:
    """The `pg_dump` command that backs a PostgreSQL ledger up into `target` (custom format)."""
    return ["pg_dump", "--format=custom", "--no-owner", f"--file={target}", url]


def check_pg_dump(dump: Path) -> list[str]:
    """The ledger tables a `pg_dump --format=custom` file holds; raises BackupError when one
    is missing or the file is not a dump."""
    try:
        listing = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise BackupError(f"{dump} is not a pg_dump archive pg_restore can read", code="backup.not_a_dump") from e
    found = [
        t for t in LEDGER_TABLES if any(" TABLE DATA " in line and f" {t} " in line for line in listing.splitlines())
    ]
    missing = [t for t in LEDGER_TABLES if t not in found]
    if missing:
        raise BackupError(
            f"{dump} lacks the ledger's tables {', '.join(missing)}", code="backup.incomplete", tables=missing
        )
    return found
