"""What an official signs: the exact statement, checkable by anyone with openssl."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest

from ledger.note import VerifierKey
from signing.errors import SignatureInvalid
from signing.statement import Statement
from tests.factories import ORIGIN, LedgerFactory

OPENSSL = shutil.which("openssl")


def _signed(world: LedgerFactory) -> tuple[Statement, bytes]:
    entry = world.sign(1).entry
    return Statement.of_entry(entry, ORIGIN), base64.b64decode(entry.fields["signature"])


def test_statement_text_is_exact(world: LedgerFactory) -> None:
    """From rules version 4 on an official signs `ikrar/signature/v2`, naming their name and
    the capacity they sign in."""
    statement, signature = _signed(world)
    entry = world.ledger.entry(world.ledger.size() - 1)
    lines = statement.text().split("\n")
    assert lines[0] == "ikrar/signature/v2"
    assert lines[1] == f"origin {ORIGIN}"
    assert lines[2].startswith("commitment ") and lines[2].endswith(" smart-city") and len(lines[2].split()[1]) == 64
    assert lines[3] == f"signer {world.officials[0]}"
    assert lines[4] == f"name {entry.fields['name']}"
    assert lines[5] == f"capacity {entry.fields['capacity']}"
    assert lines[6] == f"key {statement.key}"
    assert lines[7].startswith("time 2026-01-05T") and lines[7].endswith("Z")
    assert lines[8] == ""
    statement.verify(signature)


def test_a_signature_before_rules_version_4_is_v1(ledger_factory: LedgerFactory) -> None:
    """A ledger that keeps rules version 3 signs, and verifies, `ikrar/signature/v1` as before."""
    world = ledger_factory.created(rules=3).with_commitment(officials=2)
    statement, signature = _signed(world)
    lines = statement.text().split("\n")
    assert lines[0] == "ikrar/signature/v1"
    assert lines[3] == f"signer {world.officials[0]}"
    assert lines[4] == f"key {statement.key}"
    assert lines[5].startswith("time ") and lines[6] == ""
    assert "name" not in world.ledger.entry(world.ledger.size() - 1).fields
    statement.verify(signature)


def test_any_change_to_the_statement_fails(world: LedgerFactory) -> None:
    statement, signature = _signed(world)
    for changed in (
        Statement(
            statement.origin + "x",
            statement.slug,
            statement.commitment_sha256,
            statement.nip,
            statement.key,
            statement.time,
        ),
        Statement(statement.origin, "lain", statement.commitment_sha256, statement.nip, statement.key, statement.time),
        Statement(statement.origin, statement.slug, "0" * 64, statement.nip, statement.key, statement.time),
        Statement(
            statement.origin,
            statement.slug,
            statement.commitment_sha256,
            world.officials[1],
            statement.key,
            statement.time,
        ),
    ):
        with pytest.raises(SignatureInvalid, match="does not verify"):
            changed.verify(signature)


@pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed")
def test_openssl_verifies_an_officials_signature(world: LedgerFactory, tmp_path: Path) -> None:
    statement, signature = _signed(world)
    vkey = VerifierKey.parse(str(statement.key))
    # SubjectPublicKeyInfo for Ed25519: a fixed 12-byte prefix, then the 32-byte key.
    spki = bytes.fromhex("302a300506032b6570032100") + vkey.public_key
    pub = tmp_path / "pub.pem"
    pub.write_text("-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(spki).decode() + "\n-----END PUBLIC KEY-----\n")
    (tmp_path / "statement.txt").write_bytes(statement.message())
    (tmp_path / "sig.bin").write_bytes(signature)
    cmd = [
        OPENSSL,
        "pkeyutl",
        "-verify",
        "-rawin",
        "-pubin",
        "-inkey",
        str(pub),
        "-in",
        str(tmp_path / "statement.txt"),
        "-sigfile",
        str(tmp_path / "sig.bin"),
    ]
    ok = subprocess.run(cmd, capture_output=True, text=True)
    assert ok.returncode == 0 and "Signature Verified Successfully" in ok.stdout
    (tmp_path / "statement.txt").write_bytes(statement.message().replace(b"smart-city", b"smart-citx"))
    assert subprocess.run(cmd, capture_output=True).returncode != 0
