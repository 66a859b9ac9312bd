"""The statements officials sign, as the ledger's rules verify them.

Every signed statement is a short text whose first line names its purpose and version,
followed by ``key value`` lines, each ending in a newline. The Ed25519 signature is over
exactly these bytes, so ``openssl pkeyutl -verify -rawin -pubin -inkey PUB.pem -in
statement.txt -sigfile SIG`` checks it. Today one purpose:

    ikrar/signature/v1
    origin kedirikota.go.id/ikrar
    commitment <SHA-256 of the text, hex> <slug>
    signer <NIP>
    key <the official's C2SP verifier key>
    time <UTC, YYYY-MM-DDTHH:MM:SSZ>

The ledger checks an entry's statement at every append and in every audit; signing it
(opening an official's key) is `signing`'s part.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .errors import NoteInvalid, SignatureRejected
from .note import VerifierKey
from .times import format_time

SIGNATURE_V1 = "ikrar/signature/v1"


@dataclass(frozen=True)
class Statement:
    """`ikrar/signature/v1`: an official's signature on a commitment's text."""

    origin: str
    slug: str
    commitment_sha256: str
    nip: str
    key: VerifierKey
    time: datetime

    def text(self) -> str:
        return (
            f"{SIGNATURE_V1}\n"
            f"origin {self.origin}\n"
            f"commitment {self.commitment_sha256} {self.slug}\n"
            f"signer {self.nip}\n"
            f"key {self.key}\n"
            f"time {format_time(self.time)}\n"
        )

    def message(self) -> bytes:
        return self.text().encode()

    def verify(self, signature: bytes) -> None:
        """Raise SignatureRejected unless `signature` is the key's signature over this statement."""
        try:
            self.key.verify(self.message(), signature)
        except NoteInvalid as e:
            raise SignatureRejected(
                f"the signature of official {self.nip} does not verify", code="signature.invalid", nip=self.nip
            ) from e

    @classmethod
    def of_fields(cls, origin: str, fields: Mapping[str, Any], time: datetime) -> Statement:
        """The statement a `commitment.signed` entry's fields claim was signed at `time`."""
        return cls(
            origin, fields["slug"], fields["commitment_sha256"], fields["nip"], VerifierKey.parse(fields["key"]), time
        )


def decode_signature(text: str) -> bytes:
    """The 64 raw bytes of a base64 Ed25519 signature; raises SignatureRejected otherwise."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise SignatureRejected("the signature is not valid base64", code="signature.base64") from e
    if len(raw) != 64:
        raise SignatureRejected("an Ed25519 signature is 64 bytes", code="signature.length")
    return raw


def encode_signature(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
