"""`key.enrolled`: an official's public key (a C2SP verifier key named
``<origin>/official/<nip>``) with who they are at enrolment: from this entry on it signs
for them, until a `key.revoked`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import Conflict
from ..nip import validate_nip
from ..note import VerifierKey
from . import Kind

if TYPE_CHECKING:
    from ..entries import Entry
    from ..state import State


def official_key_name(origin: str, nip: str) -> str:
    """The signed-note name of an official's key: ``<origin>/official/<nip>``."""
    return f"{origin}/official/{nip}"


def check(entry: Entry, state: State) -> None:
    f = entry.fields
    nip = validate_nip(f["nip"], entry.time.date())
    vkey = VerifierKey.parse(f["key"])
    expected = official_key_name(state.origin, nip)
    if vkey.name != expected:
        raise Conflict(
            f"key name {vkey.name!r} is not {expected!r}", code="key.name", name=vkey.name, expected=expected
        )
    if state.active_key(nip) is not None:
        raise Conflict(f"official {nip} already has an active key; revoke it first", code="key.active_exists", nip=nip)
    if state.key_known(f["key"]):
        raise Conflict("this key was enrolled before; a key is enrolled once", code="key.reused")


def apply(entry: Entry, state: State) -> None:
    f = entry.fields
    state.add_key(f["nip"], f["key"], entry.index, entry.time)


KIND = Kind("key.enrolled", {"nip": str, "name": str, "title": str, "unit": str, "key": str}, check, apply)
