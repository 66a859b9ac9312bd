"""A damaged key file is reported as damaged, never as a wrong passphrase: cut short, its
PEM armour or base64 garbled, its DER lengths not adding up. (One byte changed inside the
ciphertext cannot be told from a wrong passphrase: the format has no MAC.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from signing.errors import KeyFileInvalid, WrongPassphrase
from signing.keystore import KeyStore
from tests.factories import FAST_KDF

SECRET = "sandi-rahasia-panjang"


def _damaged(tmp_path: Path, damage) -> tuple[KeyStore, object]:
    keys = KeyStore(tmp_path, FAST_KDF)
    vkey = keys.create("kedirikota.go.id/ikrar/official/1", SECRET)
    path = keys.path_for(vkey)
    path.write_bytes(damage(path.read_bytes()))
    return keys, vkey


DAMAGES = {
    "cut after the armour's start": lambda pem: pem[:60],
    "cut in the middle": lambda pem: pem[: len(pem) // 2],
    "cut before the end line": lambda pem: pem[: pem.index(b"-----END")],
    "a base64 line lost": lambda pem: b"\n".join(pem.split(b"\n")[:1] + pem.split(b"\n")[2:]),
    "base64 garbled": lambda pem: pem[:50] + b"!!" + pem[52:],
    "the last characters cut": lambda pem: pem[:-45] + pem[-36:],
}


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_a_damaged_key_file_is_damaged_whatever_the_passphrase(tmp_path: Path, damage) -> None:
    keys, vkey = _damaged(tmp_path, damage)
    for passphrase in (SECRET, "another-passphrase"):
        with pytest.raises(KeyFileInvalid, match="is damaged .*restore it from a backup") as caught:
            keys.check(vkey, passphrase)  # type: ignore[arg-type]
        assert caught.value.code == "keyfile.damaged"


def test_a_whole_key_file_with_a_wrong_passphrase_is_a_wrong_passphrase(tmp_path: Path) -> None:
    keys, vkey = _damaged(tmp_path, lambda pem: pem)
    with pytest.raises(WrongPassphrase, match="does not open"):
        keys.check(vkey, "another-passphrase")  # type: ignore[arg-type]
    keys.check(vkey, SECRET)  # type: ignore[arg-type]
