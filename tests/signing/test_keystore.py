"""Keys at rest: encrypted PKCS#8 that openssl opens, 0600, never in clear, never in a log."""

from __future__ import annotations

import logging
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from signing.errors import KeyFileInvalid, KeyNotFound, WrongPassphrase
from signing.keystore import KeyStore
from tests.factories import FAST_KDF

OPENSSL = shutil.which("openssl")
PASS = "sandi-rahasia-panjang"


@pytest.fixture()
def store(tmp_path: Path) -> KeyStore:
    return KeyStore(tmp_path / "keys", FAST_KDF)


def test_key_file_is_encrypted_0600_and_opens_only_with_the_passphrase(store: KeyStore) -> None:
    vkey = store.create("kedirikota.go.id/ikrar/official/197503142001041001", PASS)
    path = store.path_for(vkey)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.directory.stat().st_mode) == 0o700
    pem = path.read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    with pytest.raises(TypeError):  # cryptography itself refuses to open it without a password
        load_pem_private_key(pem, None)
    with pytest.raises(WrongPassphrase, match="does not open"):
        store.check(vkey, PASS + "x")
    store.check(vkey, PASS)


@pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed")
def test_the_kdf_is_deliberately_slow_by_default(tmp_path: Path) -> None:
    store = KeyStore(tmp_path)
    vkey = store.create("n", PASS)
    der = subprocess.run(
        [OPENSSL, "asn1parse", "-in", str(store.path_for(vkey))], capture_output=True, text=True, check=True
    ).stdout
    assert "PBES2" in der and "PBKDF2" in der and "hmacWithSHA256" in der and "aes-256-cbc" in der
    assert ":0927C0" in der  # 600,000 iterations, in hex


@pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed")
def test_openssl_opens_the_key_with_the_passphrase(store: KeyStore) -> None:
    vkey = store.create("ledger", PASS)
    path = store.path_for(vkey)
    ok = subprocess.run(
        [OPENSSL, "pkey", "-in", str(path), "-passin", f"pass:{PASS}", "-pubout", "-outform", "DER"],
        capture_output=True,
        check=True,
    )
    assert ok.stdout[-32:] == vkey.public_key
    bad = subprocess.run([OPENSSL, "pkey", "-in", str(path), "-passin", "pass:salah", "-noout"], capture_output=True)
    assert bad.returncode != 0


def test_refuses_missing_group_readable_and_foreign_files(store: KeyStore, tmp_path: Path) -> None:
    vkey = store.create("a", PASS)
    other = KeyStore(tmp_path / "other", FAST_KDF)
    with pytest.raises(KeyNotFound, match="no key file for a"):
        other.check(vkey, PASS)
    path = store.path_for(vkey)
    path.chmod(0o644)
    with pytest.raises(KeyFileInvalid, match="readable by others"):
        store.check(vkey, PASS)
    path.chmod(0o600)
    second = store.create("a", PASS)
    path.write_bytes(store.path_for(second).read_bytes())  # another key under this key's name
    with pytest.raises(KeyFileInvalid, match="does not hold the key"):
        store.check(vkey, PASS)


def test_no_key_material_or_passphrase_in_logs_or_repr(store: KeyStore, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    vkey = store.create("kedirikota.go.id/ikrar", PASS)
    signer = store.note_signer(vkey, PASS)
    signer.sign("x\n")
    pem = store.path_for(vkey).read_text()
    logged = caplog.text + repr(signer) + repr(store)
    assert PASS not in logged
    assert pem.splitlines()[1] not in logged
    assert "key created" in caplog.text  # the log says what happened, by id
