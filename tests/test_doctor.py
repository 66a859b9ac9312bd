"""`ikrar doctor [--fix]`: the leftovers of a crash are found, and mended where that is safe
(never a key file that an entry names; an orphan is moved aside, not deleted)."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ledger.db import make_engine
from ledger.store import Ledger
from signing.keystore import KeyStore
from tests.factories import FAST_KDF, nip
from tests.test_cli import ikrar  # noqa: F401 - the command line in-process, shared
from web import accounts


def _aged(path: Path, minutes: int = 60) -> Path:
    then = time.time() - minutes * 60
    os.utime(path, (then, then))
    return path


def _ledger(tmp_path: Path) -> Ledger:
    return Ledger(make_engine(f"sqlite:///{tmp_path / 'data' / 'ikrar.db'}"))


def test_nothing_wrong_exits_0(ikrar, tmp_path: Path) -> None:
    ikrar("init", "--org", "Kota")
    assert "Nothing to mend" in ikrar("doctor").output


def test_an_empty_passphrase_file_blocks_init_until_doctor_removes_it(ikrar, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    empty = tmp_path / "data" / "ledger-passphrase"
    empty.touch(mode=0o600)
    assert "is empty" in ikrar("init", "--org", "Kota", ok=False).output
    found = ikrar("doctor", ok=False).output
    assert "ledger-passphrase is empty" in found and "--fix` removes it" in found
    assert empty.exists()
    assert "removed" in ikrar("doctor", "--fix").output
    assert not empty.exists()
    ikrar("init", "--org", "Kota")
    assert "Nothing to mend" in ikrar("doctor").output


def test_an_empty_passphrase_file_is_kept_while_a_ledger_key_needs_it(ikrar, tmp_path: Path) -> None:
    ikrar("init", "--org", "Kota")
    secret = tmp_path / "data" / "ledger-passphrase"
    secret.write_text("")
    found = ikrar("doctor", "--fix", ok=False).output
    assert "restore the file from a backup" in found
    assert secret.exists()


def test_orphan_key_files_are_moved_aside_and_recorded_keys_never_touched(ikrar, tmp_path: Path) -> None:
    ikrar("init", "--org", "Kota")
    ikrar(
        "official",
        "add",
        "--nip",
        nip(1),
        "--name",
        "Admin",
        "--title",
        "Pranata",
        "--unit",
        "Kominfo",
        "--role",
        "admin",
    )
    (tmp_path / "pass").write_text("sandi-rahasia-panjang\n")
    ikrar("official", "enrol", "--nip", nip(1), "--passphrase-file", str(tmp_path / "pass"))  # the first admin
    keys = KeyStore(tmp_path / "keys", FAST_KDF)
    recorded = sorted(keys.directory.glob("*.pem"))
    for path in recorded:
        _aged(path)
    orphan = _aged(keys.path_for(keys.create("kedirikota.go.id/ikrar/official/" + nip(2), "sandi-yatim-piatu")))
    fresh = keys.path_for(keys.create("kedirikota.go.id/ikrar/official/" + nip(3), "sandi-baru-saja-dibuat"))
    leftover = keys.directory / "half-written.tmp"
    leftover.write_text("")
    _aged(leftover)
    found = ikrar("doctor", ok=False).output
    assert orphan.name in found and leftover.name in found
    assert fresh.name not in found  # perhaps an enrolment under way
    assert all(p.name not in found for p in recorded)
    fixed = ikrar("doctor", "--fix").output
    assert "moved to" in fixed
    assert not orphan.exists() and (keys.directory / "orphaned" / orphan.name).exists()
    assert all(p.exists() for p in recorded) and fresh.exists()
    assert "Nothing to mend" in ikrar("doctor").output


def test_a_link_used_up_by_an_unfinished_enrolment_is_released(ikrar, tmp_path: Path) -> None:
    ikrar("init", "--org", "Kota")
    ikrar("official", "add", "--nip", nip(1), "--name", "Pejabat", "--title", "Kepala", "--unit", "Dinas")
    ledger = _ledger(tmp_path)
    now = datetime.now(UTC)
    token, _ = accounts.issue_enrolment(ledger, nip(1), "test", now, 72)
    accounts.claim_enrolment(ledger, token, now)  # ... and the process died here
    with pytest.raises(Exception, match="link"):
        accounts.pending_enrolment(ledger, token, now)
    found = ikrar("doctor", ok=False).output
    assert f"an enrolment link of {nip(1)}" in found and "never finished" in found
    ikrar("doctor", "--fix")
    assert accounts.pending_enrolment(ledger, token, now + timedelta(minutes=1)).nip == nip(1)
    assert "Nothing to mend" in ikrar("doctor").output


def test_a_finished_enrolment_link_is_not_a_leftover(ikrar, tmp_path: Path) -> None:
    ikrar("init", "--org", "Kota")
    ikrar("official", "add", "--nip", nip(1), "--name", "Pejabat", "--title", "Kepala", "--unit", "Dinas")
    ledger = _ledger(tmp_path)
    now = datetime.now(UTC)
    token, _ = accounts.issue_enrolment(ledger, nip(1), "test", now, 72)
    accounts.claim_enrolment(ledger, token, now)
    accounts.set_password(ledger, nip(1), "kata-sandi-yang-panjang", now)
    assert "Nothing to mend" in ikrar("doctor").output
