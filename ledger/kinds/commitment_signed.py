"""`commitment.signed`: an official's signature over the statement `ikrar/signature/v1`
(see `ledger.statements`) built from these fields, the ledger's origin and the entry's
time; `signature` is base64 Ed25519. The signature is verified at every append and in
every audit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import Conflict
from ..statements import Statement, decode_signature
from . import Kind

if TYPE_CHECKING:
    from ..entries import Entry
    from ..state import State


def check(entry: Entry, state: State) -> None:
    f = entry.fields
    slug, nip = f["slug"], f["nip"]
    c = state.commitment(slug)
    if c is None:
        raise Conflict(f"commitment {slug!r} is not published", code="commitment.not_published", slug=slug)
    if (c.index, c.text_sha256) != (f["commitment_index"], f["commitment_sha256"]):
        raise Conflict(f"signature names another text of commitment {slug!r}", code="commitment.other_text", slug=slug)
    if nip not in c.signers:
        raise Conflict(
            f"official {nip} is not a required signatory of {slug!r}", code="sign.not_signatory", nip=nip, slug=slug
        )
    if state.has_signed(slug, nip):
        raise Conflict(f"official {nip} has already signed {slug!r}", code="sign.already", nip=nip, slug=slug)
    active = state.active_key(nip)
    if active is None or active != f["key"]:
        raise Conflict(
            f"the key is not the active key of official {nip} (revoked or never enrolled)",
            code="sign.key_inactive",
            nip=nip,
        )


def verify(entry: Entry, origin: str) -> None:
    """Raises SignatureRejected unless the official's signature verifies."""
    Statement.of_fields(origin, entry.fields, entry.time).verify(decode_signature(entry.fields["signature"]))


def apply(entry: Entry, state: State) -> None:
    f = entry.fields
    state.add_signature(f["slug"], f["nip"], f["key"], entry.index, entry.time)


KIND = Kind(
    "commitment.signed",
    {
        "slug": str,
        "commitment_sha256": str,
        "commitment_index": int,
        "nip": str,
        "key": str,
        "signature": str,
    },
    check,
    apply,
    verify,
)
