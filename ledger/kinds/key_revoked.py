"""`key.revoked`: an official's key withdrawn; from this entry on it signs nothing.

From rules version 3 on the revoking admin signs it (`ikrar/revocation/v1`, see
`ledger.statements`): `revoker` is their key, which must be an active admin key, `by`
their NIP, and `revocation` the base64 Ed25519 signature; or the ledger's own key revokes
(`by` ``ledger``: whoever holds the ledger's passphrase on the server)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import Conflict
from ..note import VerifierKey
from ..state import LEDGER, VOUCHING_RULES
from ..statements import Revocation, decode_signature, one_line
from . import Kind

if TYPE_CHECKING:
    from ..entries import Entry
    from ..state import State

SIGNED = {"revoker": str, "revocation": str}


def check(entry: Entry, state: State) -> None:
    f = entry.fields
    if state.active_key(f["nip"]) != f["key"]:
        raise Conflict(
            f"official {f['nip']} has no active key {f['key']!r} to revoke", code="key.none_to_revoke", nip=f["nip"]
        )
    if not f["reason"].strip():
        raise Conflict("a revocation needs a reason", code="key.revoke_reason")
    if state.rules < VOUCHING_RULES:
        if f.keys() & SIGNED.keys():
            raise Conflict("a signed revocation before rules version 3", code="key.vouching_early", nip=f["nip"])
        return
    if not f.keys() >= SIGNED.keys():
        raise Conflict(
            f"the revocation of official {f['nip']}'s key is not signed by an admin (rules version 3)",
            code="key.revoke_unsigned",
            nip=f["nip"],
        )
    one_line(f["reason"], "reason")
    revoker = f["revoker"]
    if str(VerifierKey.parse(revoker)) != revoker:
        raise Conflict("the revoker is not written in its one C2SP spelling", code="key.spelling", what="revoker")
    actual = LEDGER if revoker == state.ledger_key else state.admin_of(revoker)
    if actual is None:
        raise Conflict(
            "the key that signed the revocation is not an active admin key at this point of the ledger",
            code="key.revoker_not_admin",
            nip=f["nip"],
        )
    if f["by"] != actual:
        raise Conflict(f"the revoker is named {f['by']!r} but the key is {actual!r}'s", code="key.voucher_name")


def verify(entry: Entry, origin: str) -> None:
    """Raises SignatureRejected unless the revocation's signature (from rules version 3) verifies."""
    f = entry.fields
    if f.keys() >= SIGNED.keys():  # otherwise the rules refuse it (`check`)
        statement = Revocation(origin, f["nip"], f["key"], f["reason"], entry.time)
        statement.verify(VerifierKey.parse(f["revoker"]), decode_signature(f["revocation"]))


def apply(entry: Entry, state: State) -> None:
    f = entry.fields
    state.revoke_key(f["nip"], f["key"], entry.index, entry.time, f["reason"])
    state.note_revoker(f["nip"], f["by"])


KIND = Kind("key.revoked", {"nip": str, "key": str, "reason": str, "by": str}, check, apply, verify, optional=SIGNED)
