"""C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys, and their verifier keys.

A verifier key is ``name+hex(keyid)+base64(0x01 ‖ pub32)`` with
``keyid = SHA-256(name ‖ "\\n" ‖ 0x01 ‖ pub32)[:4]``. A note is its text (lines ending in
``\\n``), a blank line, then one or more lines ``— name base64(keyid ‖ signature)``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from dataclasses import dataclass
from typing import NewType

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import NoteInvalid

KeyID = NewType("KeyID", bytes)
ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "  # em dash and a space
MAX_NOTE_BYTES = 1 << 20
MAX_SIGNATURES = 100


def b64decode(text: str, what: str) -> bytes:
    """Strict standard base64 (RFC 4648 §4); NoteInvalid names `what` on failure."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as e:
        raise NoteInvalid(f"{what} is not valid base64", code="base64.invalid", what=what) from e


def _check_name(name: str) -> None:
    # str.split() cuts at exactly the characters for which str.isspace() holds.
    if not name or "+" in name or name.split() != [name] or not name.isprintable():
        raise NoteInvalid(
            f"key name {name!r} must be non-empty, printable, with no spaces and no '+'",
            code="vkey.name",
            name=name,
        )


@functools.lru_cache(maxsize=4096)
def key_id(name: str, public_key: bytes) -> KeyID:
    """The 4-byte key id of an Ed25519 public key under `name`."""
    return KeyID(hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()[:4])


@dataclass(frozen=True)
class VerifierKey:
    """An Ed25519 signed-note verifier key."""

    name: str
    public_key: bytes  # the 32 raw bytes

    def __post_init__(self) -> None:
        _check_name(self.name)
        if len(self.public_key) != 32:
            raise NoteInvalid("an Ed25519 public key is 32 bytes", code="vkey.malformed")

    @property
    def key_id(self) -> KeyID:
        return key_id(self.name, self.public_key)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the raw public key, hex: what certificates print for people to compare."""
        return hashlib.sha256(self.public_key).hexdigest()

    def __str__(self) -> str:
        return _verifier_key_text(self.name, self.public_key)

    def verify(self, message: bytes, signature: bytes) -> None:
        """Check a raw Ed25519 signature by this key over `message`; raises NoteInvalid."""
        try:
            _ed25519(self.public_key).verify(signature, message)
        except InvalidSignature as e:
            raise NoteInvalid(
                f"signature by {self.name} does not verify", code="note.signature_invalid", name=self.name
            ) from e

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """Parse ``name+keyid+base64``; raises NoteInvalid naming what is wrong."""
        return _parse_verifier_key(text) if cls is VerifierKey else cls._parse(text)

    @classmethod
    def _parse(cls, text: str) -> VerifierKey:
        text = text.strip()
        parts = text.split("+", 2)  # the name has no '+'; base64 may
        if len(parts) != 3:
            raise NoteInvalid("a verifier key has the form name+keyid+base64key", code="vkey.malformed")
        name, hex_id, encoded = parts
        raw = b64decode(encoded, "the verifier key's key")
        if len(raw) != 33 or raw[0] != ED25519:
            raise NoteInvalid("the verifier key is not an Ed25519 key (type 0x01 and 32 bytes)", code="vkey.malformed")
        key = cls(name, raw[1:])
        if hex_id != key.key_id.hex():
            raise NoteInvalid("the verifier key's key id does not match its name and key", code="vkey.key_id")
        return key


@functools.lru_cache(maxsize=4096)
def _verifier_key_text(name: str, public_key: bytes) -> str:
    encoded = base64.b64encode(bytes([ED25519]) + public_key).decode()
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


@functools.lru_cache(maxsize=4096)
def _parse_verifier_key(text: str) -> VerifierKey:
    """Keys recur (every signature names its key): parse each text once. Failures are not cached."""
    return VerifierKey._parse(text)


@functools.lru_cache(maxsize=4096)
def _ed25519(public_key: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(public_key)


class NoteSigner:
    """Signs notes with an Ed25519 private key under a name. Never logs or exposes the key."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        self.verifier = VerifierKey(name, private_key.public_key().public_bytes_raw())
        self._key = private_key

    def __repr__(self) -> str:
        return f"NoteSigner({self.verifier})"

    def sign(self, text: str) -> str:
        """Return the signed note for `text`, which must be non-empty lines ending in a newline."""
        _check_text(text)
        signature = self._key.sign(text.encode())
        encoded = base64.b64encode(self.verifier.key_id + signature).decode()
        return f"{text}\n{SIGNATURE_PREFIX}{self.verifier.name} {encoded}\n"

    def sign_statement(self, message: bytes) -> bytes:
        """The raw Ed25519 signature over an Ikrar statement (`ledger.statements`), whose
        first line names its purpose: never a note's text, whose first line is the origin."""
        if not message.startswith(b"ikrar/"):
            raise ValueError("not an Ikrar statement")
        return self._key.sign(message)


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteInvalid("note text must end with a newline", code="note.text_end")
    if "\n\n" in text or text.startswith("\n"):
        raise NoteInvalid("note text must not contain a blank line", code="note.text_blank_line")
    if not text.replace("\n", "").isprintable():
        raise NoteInvalid("note text must not contain control characters", code="note.text_control_chars")


def open_note(note: str | bytes, verifier: VerifierKey) -> str:
    """Verify a signed note against `verifier` and return its text.

    Signatures by other keys are allowed and ignored; at least one must be by `verifier`
    and every one by `verifier` must verify. Raises NoteInvalid naming what is wrong.
    """
    if isinstance(note, bytes):
        if len(note) > MAX_NOTE_BYTES:
            raise NoteInvalid("note is too large", code="note.too_large")
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError as e:
            raise NoteInvalid("note is not UTF-8", code="note.not_utf8") from e
    if len(note) > MAX_NOTE_BYTES:
        raise NoteInvalid("note is too large", code="note.too_large")
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise NoteInvalid("note has no blank line before its signatures", code="note.unsigned")
    text, sig_lines = note[: split + 1], note[split + 2 : -1].split("\n")
    _check_text(text)
    if len(sig_lines) > MAX_SIGNATURES:
        raise NoteInvalid("note has too many signatures", code="note.too_many_signatures")
    verified = False
    for line in sig_lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteInvalid("malformed signature line", code="note.signature_line")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        raw = b64decode(encoded, "a signature")
        if not name or len(raw) < 5:
            raise NoteInvalid("malformed signature line", code="note.signature_line")
        if name == verifier.name and raw[:4] == verifier.key_id:
            verifier.verify(text.encode(), raw[4:])
            verified = True
    if not verified:
        key = f"{verifier.name}+{verifier.key_id.hex()}"
        raise NoteInvalid(f"note is not signed by {key}", code="note.not_signed_by", key=key)
    return text
