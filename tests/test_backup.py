"""Backups that restore: a consistent copy made while officials sign, audited before it is
trusted; a restore that audits first; an older backup restored is caught by a checkpoint
kept from before."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from ledger.backup import BackupError, audit_file, backup_sqlite, check_pg_dump, restore_sqlite
from ledger.db import make_engine
from ledger.schema import migrate
from ledger.store import Ledger
from signing import actions
from signing.keystore import KeyStore
from tests.factories import FAST_KDF, LedgerFactory, nip, passphrase
from tests.test_cli import _setup, ikrar  # noqa: F401 - `ikrar` is a fixture

SIGNERS = 16


@pytest.fixture()
def sqlite_world(sqlite_url: str, tmp_path: Path) -> LedgerFactory:
    """A created ledger on SQLite (backups here are SQLite's; PostgreSQL's are pg_dump's)."""
    engine = make_engine(sqlite_url)
    migrate(engine)
    return LedgerFactory(Ledger(engine), KeyStore(tmp_path / "keys", FAST_KDF)).created()


def test_a_backup_under_a_signing_load_holds_every_acknowledged_signature(
    sqlite_world: LedgerFactory, tmp_path: Path
) -> None:
    w = sqlite_world
    for n in range(1, SIGNERS + 1):
        w.official(n)
    actions.publish(w.ctx, "beban", "Beban", "Teks.\n", w.officials, "admin", w.now())
    acknowledged: list[int] = []
    started = threading.Event()

    def sign_all() -> None:
        for n in range(1, SIGNERS + 1):
            acknowledged.append(actions.sign(w.ctx, "beban", nip(n), passphrase(n), w.now).entry.index)
            if n == SIGNERS // 2:
                started.set()

    signer = threading.Thread(target=sign_all)
    signer.start()
    started.wait(60)
    before = list(acknowledged)  # acknowledged before the backup began
    made = backup_sqlite(w.ledger.engine, tmp_path / "cadangan.db")
    signer.join(60)
    assert stat.S_IMODE((tmp_path / "cadangan.db").stat().st_mode) == 0o600
    assert made.report.size >= before[-1] + 1
    copy = Ledger(make_engine(f"sqlite:///{tmp_path / 'cadangan.db'}"))
    with copy.read() as r:
        for index in before:
            assert r.entry(index).kind == "commitment.signed", index
    assert audit_file(tmp_path / "cadangan.db").size == made.report.size


def test_restore_audits_the_backup_before_replacing_anything(sqlite_world: LedgerFactory, tmp_path: Path) -> None:
    world = sqlite_world.with_commitment(officials=3)
    backup = tmp_path / "cadangan.db"
    backup_sqlite(world.ledger.engine, backup)
    damaged = tmp_path / "rusak.db"
    damaged.write_bytes(backup.read_bytes())
    engine = make_engine(f"sqlite:///{damaged}")
    with engine.begin() as c:
        c.exec_driver_sql("UPDATE entry SET leaf = x'7b7d' WHERE idx = 2")
    engine.dispose()
    size = world.ledger.size()
    with pytest.raises(Exception, match="entry 2"):
        restore_sqlite(damaged, world.ledger.engine)
    assert Ledger(world.ledger.engine).size() == size, "the ledger was not touched"
    with pytest.raises(BackupError, match="holds no Ikrar ledger"):
        empty = tmp_path / "kosong.db"
        migrate(make_engine(f"sqlite:///{empty}"))
        audit_file(empty)


def test_backup_restore_and_a_rollback_caught_by_a_kept_checkpoint(ikrar, tmp_path: Path) -> None:
    _setup(ikrar, tmp_path)
    made = ikrar("backup", str(tmp_path / "cadangan.db"))
    assert "the copy audits OK" in made.output and "key directory" in made.output
    (tmp_path / "pass1").write_text("sandi-rahasia-1-panjang\n")
    ikrar("sign", "--commitment", "smart-city", "--nip", nip(1), "--passphrase-file", str(tmp_path / "pass1"))
    kept = tmp_path / "kept-checkpoint"
    kept.write_text(ikrar("checkpoint").output)  # someone kept the checkpoint after the signature
    refused = ikrar("restore", str(tmp_path / "cadangan.db"), ok=False)
    assert "holds 4 entries, the ledger 5" in refused.output
    restored = ikrar("restore", str(tmp_path / "cadangan.db"), "--yes")
    assert "Restored 4 entries" in restored.output
    assert "OK: 4 entries" in ikrar("audit").output
    caught = ikrar("audit", "--known-checkpoint", str(kept), ok=False)
    assert "BROKEN" in caught.output and "cut off" in caught.output
    again = ikrar("backup", str(tmp_path / "cadangan.db"), ok=False)
    assert "exists" in again.output


def test_a_file_that_is_not_a_pg_dump_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "bukan.dump"
    bogus.write_bytes(b"not a dump")
    with pytest.raises(BackupError, match="not a pg_dump archive"):
        check_pg_dump(bogus)
