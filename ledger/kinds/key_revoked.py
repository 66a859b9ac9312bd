"""`key.revoked`: an official's key withdrawn; from this entry on it signs nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import Conflict
from . import Kind

if TYPE_CHECKING:
    from ..entries import Entry
    from ..state import State


def check(entry: Entry, state: State) -> None:
    f = entry.fields
    if state.active_key(f["nip"]) != f["key"]:
        raise Conflict(
            f"official {f['nip']} has no active key {f['key']!r} to revoke", code="key.none_to_revoke", nip=f["nip"]
        )
    if not f["reason"].strip():
        raise Conflict("a revocation needs a reason", code="key.revoke_reason")


def apply(entry: Entry, state: State) -> None:
    f = entry.fields
    state.revoke_key(f["nip"], f["key"], entry.index, entry.time, f["reason"])


KIND = Kind("key.revoked", {"nip": str, "key": str, "reason": str, "by": str}, check, apply)
