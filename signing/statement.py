"""The statement an official signs, from the signing side: what `sign` puts the key to.

The format (``ikrar/signature/v1``, and from rules version 4 ``ikrar/signature/v2``,
checkable with ``openssl pkeyutl -verify -rawin``) belongs to the ledger, whose rules
verify it at every append and audit (`ledger.statements`); here it is wrapped so that a
failure speaks of the signature in this package's error family.
"""

from __future__ import annotations

from ledger import statements
from ledger.entries import Entry
from ledger.errors import SignatureRejected

from .errors import SignatureInvalid

HEADER = statements.SIGNATURE_V1


class Statement(statements.Statement):
    """`ledger.statements.Statement`, whose `verify` raises SignatureInvalid."""

    def verify(self, signature: bytes) -> None:
        """Raise SignatureInvalid unless `signature` is the key's signature over this statement."""
        try:
            super().verify(signature)
        except SignatureRejected as e:
            raise SignatureInvalid(str(e), code=e.code, **e.params) from e

    @classmethod
    def of_entry(cls, entry: Entry, origin: str) -> Statement:
        """The statement a `commitment.signed` entry claims was signed."""
        f = entry.fields
        base = statements.Statement.of_fields(origin, f, entry.time)
        return cls(
            base.origin, base.slug, base.commitment_sha256, base.nip, base.key, base.time, base.name, base.capacity
        )


def decode_signature(text: str) -> bytes:
    """The raw Ed25519 signature of base64 `text`; raises SignatureInvalid when it is not one."""
    try:
        return statements.decode_signature(text)
    except SignatureRejected as e:
        raise SignatureInvalid(str(e), code=e.code, **e.params) from e
