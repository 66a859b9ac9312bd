"""The statement an official signs: short, domain-separated, checkable with openssl.

    ikrar/signature/v1
    origin kedirikota.go.id/ikrar
    commitment <SHA-256 of the text, hex> <slug>
    signer <NIP>
    key <the official's C2SP verifier key>
    time <UTC, YYYY-MM-DDTHH:MM:SSZ>

Every line ends in a newline. The Ed25519 signature is over exactly these bytes, so
``openssl pkeyutl -verify -rawin -pubin -inkey PUB.pem -in statement.txt -sigfile SIG``
checks it.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from ledger.entries import Entry, format_time
from ledger.errors import NoteInvalid, SignatureRejected
from ledger.note import VerifierKey

from .errors import SignatureInvalid

HEADER = "ikrar/signature/v1"


@dataclass(frozen=True)
class Statement:
    origin: str
    slug: str
    commitment_sha256: str
    nip: str
    key: VerifierKey
    time: datetime

    def text(self) -> str:
        return (
            f"{HEADER}\n"
            f"origin {self.origin}\n"
            f"commitment {self.commitment_sha256} {self.slug}\n"
            f"signer {self.nip}\n"
            f"key {self.key}\n"
            f"time {format_time(self.time)}\n"
        )

    def message(self) -> bytes:
        return self.text().encode()

    def verify(self, signature: bytes) -> None:
        """Raise SignatureInvalid unless `signature` is the key's signature over this statement."""
        try:
            self.key.verify(self.message(), signature)
        except NoteInvalid as e:
            raise SignatureInvalid(f"the signature of official {self.nip} does not verify") from e

    @classmethod
    def of_entry(cls, entry: Entry, origin: str) -> Statement:
        """The statement a `commitment.signed` entry claims was signed."""
        f = entry.fields
        return cls(origin, f["slug"], f["commitment_sha256"], f["nip"], VerifierKey.parse(f["key"]), entry.time)


def decode_signature(text: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise SignatureInvalid("the signature is not valid base64") from e
    if len(raw) != 64:
        raise SignatureInvalid("an Ed25519 signature is 64 bytes")
    return raw


def check_signed_entry(entry: Entry, origin: str) -> None:
    """The ledger's statement check (`ledger.rules.StatementCheck`) for append and audit.

    Raises SignatureRejected when the entry's signature does not verify.
    """
    try:
        Statement.of_entry(entry, origin).verify(decode_signature(entry.fields["signature"]))
    except (SignatureInvalid, NoteInvalid) as e:
        raise SignatureRejected(str(e)) from e
