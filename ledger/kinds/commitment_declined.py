"""`commitment.declined` (rules version 4 on): a required signatory declines to sign a
commitment, for a `reason`, signed with their own key over `ikrar/decline/v1` (see
`ledger.statements`; its time is the entry's). The fields name the commitment as a
signature does (`slug`, `commitment_sha256`, `commitment_index`), the official (`nip`) and
their active `key`; `signature` is base64 Ed25519.

A decline is final: the rules of a signature hold for it (`commitment_signed.check_answer`:
on the list, not signed, not declined before, the active key, before the deadline), and no
signature follows it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import Conflict
from ..state import IDENTITY_RULES, Declined
from ..statements import Decline, decode_signature, one_line
from . import Kind
from .commitment_signed import check_answer

if TYPE_CHECKING:
    from ..entries import Entry
    from ..state import State


def check(entry: Entry, state: State) -> None:
    f = entry.fields
    if state.rules < IDENTITY_RULES:
        raise Conflict("a commitment is declined from rules version 4 on", code="decline.early")
    check_answer(entry, state, "decline")
    if not f["reason"].strip():
        raise Conflict("a decline needs a reason", code="decline.reason")
    one_line(f["reason"], "reason")


def verify(entry: Entry, origin: str) -> None:
    """Raises SignatureRejected unless the official's signature of the decline verifies."""
    Decline.of_fields(origin, entry.fields, entry.time).verify(decode_signature(entry.fields["signature"]))


def apply(entry: Entry, state: State) -> None:
    f = entry.fields
    state.add_decline(Declined(entry.index, entry.time, f["slug"], f["nip"], f["key"], f["reason"]))


KIND = Kind(
    "commitment.declined",
    {
        "slug": str,
        "commitment_sha256": str,
        "commitment_index": int,
        "nip": str,
        "key": str,
        "reason": str,
        "signature": str,
    },
    check,
    apply,
    verify,
)
