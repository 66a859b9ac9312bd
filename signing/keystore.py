"""The key directory: one Ed25519 private key per file, encrypted under its owner's passphrase.

Files are encrypted PKCS#8 PEM (PBES2, PBKDF2-HMAC-SHA256 with a deliberately high
iteration count, AES-256-CBC), mode 0600, named after the key's name and key id, so an
auditor or the owner can open one with ``openssl pkey -in FILE``. A private key is never
written unencrypted and never logged; callers get signatures and signers, not key bytes.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from ledger.note import NoteSigner, VerifierKey

from ._pkcs8 import DEFAULT_ITERATIONS, encrypt_pkcs8, unencrypted_der
from .errors import KeyFileInvalid, KeyNotFound, WrongPassphrase

logger = logging.getLogger(__name__)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class KeyStore:
    """A directory of encrypted private keys."""

    def __init__(self, directory: Path | str, iterations: int = DEFAULT_ITERATIONS) -> None:
        self.directory = Path(directory)
        self.iterations = iterations

    def path_for(self, vkey: VerifierKey) -> Path:
        return self.directory / f"{_UNSAFE.sub('_', vkey.name)}-{vkey.key_id.hex()}.pem"

    def create(self, name: str, passphrase: str) -> VerifierKey:
        """Make a new Ed25519 key named `name`, store it encrypted, return its verifier key."""
        if not passphrase:
            raise WrongPassphrase("a key needs a passphrase", code="passphrase.missing")
        private = Ed25519PrivateKey.generate()
        vkey = VerifierKey(name, private.public_key().public_bytes_raw())
        pem = encrypt_pkcs8(unencrypted_der(private), passphrase.encode(), self.iterations)
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.path_for(vkey)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, pem)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        logger.info("key created name=%s key_id=%s", name, vkey.key_id.hex())
        return vkey

    def _open(self, vkey: VerifierKey, passphrase: str) -> Ed25519PrivateKey:
        path = self.path_for(vkey)
        try:
            pem = path.read_bytes()
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError as e:
            raise KeyNotFound(
                f"no key file for {vkey.name} in {self.directory}",
                code="keyfile.missing",
                name=vkey.name,
                directory=self.directory,
            ) from e
        if mode & 0o077:
            raise KeyFileInvalid(
                f"{path} is readable by others (mode {mode:o}); run chmod 600 on it",
                code="keyfile.mode",
                path=path,
                mode=f"{mode:o}",
            )
        try:
            private = load_pem_private_key(pem, passphrase.encode())
        except ValueError as e:
            if b"ENCRYPTED" in pem:
                damage = _damage(pem)
                if damage is not None:
                    raise KeyFileInvalid(
                        f"{path} is damaged ({damage}): restore it from a backup; no passphrase can open it",
                        code="keyfile.damaged",
                        path=path,
                    ) from e
                raise WrongPassphrase("the passphrase does not open this key", code="passphrase.wrong") from e
            raise KeyFileInvalid(f"{path} is not an encrypted private key", code="keyfile.not_a_key", path=path) from e
        except TypeError as e:
            raise KeyFileInvalid(
                f"{path} is not encrypted; refusing to use it", code="keyfile.unencrypted", path=path
            ) from e
        if not isinstance(private, Ed25519PrivateKey) or private.public_key().public_bytes_raw() != vkey.public_key:
            raise KeyFileInvalid(
                f"{path} does not hold the key {vkey}", code="keyfile.other_key", path=path, key=str(vkey)
            )
        return private

    def check(self, vkey: VerifierKey, passphrase: str) -> None:
        """Raise WrongPassphrase (or KeyNotFound, KeyFileInvalid) unless the passphrase opens the key."""
        self._open(vkey, passphrase)

    def sign(self, vkey: VerifierKey, passphrase: str, message: bytes) -> bytes:
        """Ed25519 signature by the key `vkey` over `message`, after opening it with `passphrase`."""
        return self._open(vkey, passphrase).sign(message)

    def signer(self, vkey: VerifierKey, passphrase: str) -> Callable[[bytes], bytes]:
        """Open the key `vkey` with `passphrase` (the slow part) and return a function that
        signs messages with it; the key lives only as long as that function."""
        return self._open(vkey, passphrase).sign

    def note_signer(self, vkey: VerifierKey, passphrase: str) -> NoteSigner:
        """A signer of notes (checkpoints) with the key `vkey`; for the ledger's own key."""
        return NoteSigner(vkey.name, self._open(vkey, passphrase))


_BEGIN, _END = b"-----BEGIN ENCRYPTED PRIVATE KEY-----", b"-----END ENCRYPTED PRIVATE KEY-----"


def _damage(pem: bytes) -> str | None:
    """What makes an encrypted key file unreadable whatever the passphrase (cut short,
    garbled), or None when it is whole: an EncryptedPrivateKeyInfo (RFC 5958) in PEM, whose
    DER lengths add up exactly and whose ciphertext is whole cipher blocks. (A byte changed
    inside the ciphertext cannot be told from a wrong passphrase: the file has no MAC.)"""
    text = pem.strip()
    if not text.startswith(_BEGIN) or not text.endswith(_END):
        return "its PEM armour is cut or garbled"
    try:
        der = base64.b64decode(b"".join(text[len(_BEGIN) : -len(_END)].split()), validate=True)
    except binascii.Error:
        return "its base64 text is cut or garbled"
    try:
        tag, start, end = _tlv(der, 0)
        if tag != 0x30 or end != len(der):
            return "its outer structure does not add up"
        tag, start, algorithm_end = _tlv(der, start)
        if tag != 0x30:
            return "its encryption parameters are garbled"
        tag, start, cipher_end = _tlv(der, algorithm_end)
        if tag != 0x04 or cipher_end != end:
            return "its encrypted key does not add up"
    except IndexError:
        return "it is cut short"
    ciphertext = cipher_end - start
    if ciphertext == 0 or ciphertext % 8:
        return "its encrypted key is not whole cipher blocks"
    return None


def _tlv(der: bytes, pos: int) -> tuple[int, int, int]:
    """The tag, and where the content starts and ends, of the DER element at `pos`.
    Raises IndexError when the data ends before the element does."""
    tag, first = der[pos], der[pos + 1]
    pos += 2
    if first & 0x80:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > len(der):
            raise IndexError("length")
        length = int.from_bytes(der[pos : pos + count], "big")
        pos += count
    else:
        length = first
    if pos + length > len(der):
        raise IndexError("content")
    return tag, pos, pos + length
