"""`ikrar doctor [--fix]`: the leftovers of a crash are found, and mended where that is safe
(never a key file that an entry names; an orphan is moved aside, not deleted)."""

from __future__ import annotations

import hashlib
import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ledger.db import make_engine
from ledger.register import DraftRecord
from ledger.store import Ledger
from signing.keystore import KeyStore
from tests.factories import FAST_KDF, PD, LedgerFactory, append_request, apps_world, nip, request_object
from tests.test_cli import ikrar  # noqa: F401 - the command line in-process, shared
from web import accounts
from web.doctor import ATTACHMENT_GRACE, _unused_attachments

HEAD_OF_PD = nip(1)  # `apps_world`: official 1 is the Kepala PD of `PD`


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


# -- attachments no request names ---------------------------------------------------------------


def _pdf(n: int) -> tuple[str, bytes]:
    data = b"%PDF-1.4\n%" + str(n).encode() + b"\n%%EOF\n"
    return hashlib.sha256(data).hexdigest(), data


def test_an_attachment_no_request_names_is_deleted_once_old_and_named_ones_never(world: LedgerFactory) -> None:
    """A form sent back keeps the PDFs it received; one never saved leaves them unused. Doctor
    names those older than its grace, and `--fix` deletes only them: a file a request on the
    ledger names (any revision), or a draft names, stays, and so does a recent one."""
    apps_world(world)
    register = world.ledger.register
    old = world.now() - ATTACHMENT_GRACE - timedelta(hours=1)
    (on_ledger, a), (in_draft, b), (unused, c), (recent, d) = (_pdf(n) for n in range(4))
    for sha, data in ((on_ledger, a), (in_draft, b), (unused, c)):
        register.put_attachment(sha, f"{sha[:6]}.pdf", data, old)
    register.put_attachment(recent, "baru.pdf", d, world.now())
    kept = {"title": "KAK", "file": "kak.pdf", "bytes": len(a), "internal": False}
    append_request(world, "2026-0001", HEAD_OF_PD, request_object(attachments=[{**kept, "sha256": on_ledger}]))
    draft = request_object(attachments=[{**kept, "sha256": in_draft}])
    register.save_draft(DraftRecord(None, PD, None, json.dumps(draft), nip(1), world.now()))

    found = _unused_attachments(world.ledger, world.now(), fix=False)
    assert [f.what for f in found] == [
        f"attachment '{unused[:6]}.pdf' ({len(c)} bytes, sha256 {unused}), kept {old:%Y-%m-%d %H:%M} UTC, "
        "is named by no request and no draft; `--fix` deletes it"
    ]
    assert register.attachment(unused) is not None  # only named without --fix
    fixed = _unused_attachments(world.ledger, world.now(), fix=True)
    assert [f.fixed for f in fixed] == [True]
    assert register.attachment(unused) is None
    assert all(register.attachment(sha) is not None for sha in (on_ledger, in_draft, recent))
    assert _unused_attachments(world.ledger, world.now(), fix=False) == []
