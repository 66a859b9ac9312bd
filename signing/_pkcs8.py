"""Encrypted PKCS#8 (RFC 5958) with PBES2: PBKDF2-HMAC-SHA256 and AES-256-CBC (RFC 8018).

`cryptography` writes encrypted PKCS#8 only with OpenSSL's default 2048 PBKDF2 rounds;
we want a deliberately slow KDF, so we build the EncryptedPrivateKeyInfo ourselves. The
result opens with ``openssl pkey`` and with `cryptography`'s own loader. Private: use
`signing.keystore`.
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

PBES2 = "1.2.840.113549.1.5.13"
PBKDF2 = "1.2.840.113549.1.5.12"
HMAC_SHA256 = "1.2.840.113549.2.9"
AES256_CBC = "2.16.840.1.101.3.4.1.42"
# OWASP's 2023 figure for PBKDF2-HMAC-SHA256. The count is stored in the file.
DEFAULT_ITERATIONS = 600_000


def _tlv(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + body


def _seq(*items: bytes) -> bytes:
    return _tlv(0x30, b"".join(items))


def _octets(data: bytes) -> bytes:
    return _tlv(0x04, data)


def _int(value: int) -> bytes:
    return _tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _oid(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    out = bytearray([40 * parts[0] + parts[1]])
    for value in parts[2:]:
        chunk = [value & 0x7F]
        value >>= 7
        while value:
            chunk.append(0x80 | (value & 0x7F))
            value >>= 7
        out += bytes(reversed(chunk))
    return _tlv(0x06, bytes(out))


def encrypt_pkcs8(private_der: bytes, passphrase: bytes, iterations: int = DEFAULT_ITERATIONS) -> bytes:
    """PEM of an EncryptedPrivateKeyInfo holding the unencrypted PKCS#8 DER `private_der`."""
    salt, iv = os.urandom(16), os.urandom(16)
    key = PBKDF2HMAC(hashes.SHA256(), 32, salt, iterations).derive(passphrase)
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padder.update(private_der) + padder.finalize()) + encryptor.finalize()
    kdf = _seq(_oid(PBKDF2), _seq(_octets(salt), _int(iterations), _int(32), _seq(_oid(HMAC_SHA256), b"\x05\x00")))
    algorithm = _seq(_oid(PBES2), _seq(kdf, _seq(_oid(AES256_CBC), _octets(iv))))
    der = _seq(algorithm, _octets(ciphertext))
    b64 = base64.b64encode(der).decode()
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return (
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END ENCRYPTED PRIVATE KEY-----\n"
    ).encode()


def unencrypted_der(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
