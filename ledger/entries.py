"""Ledger entries: their kinds, their fixed bodies and their exact leaf bytes.

An entry's leaf bytes are the RFC 8785 canonical JSON of one object holding ``index``,
``kind``, ``prev`` (hex leaf hash of the entry before; 64 zeros for the first), ``time``
(UTC, ``YYYY-MM-DDTHH:MM:SSZ``) and the fields of its kind, listed in `KINDS`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from .canonical import canonical_json, parse_canonical
from .errors import InvalidInput
from .kinds import KINDS as ALL_KINDS
from .merkle import Hash, leaf_hash
from .times import TIME_FORMAT, format_time, parse_time

__all__ = [
    "ENVELOPE",
    "KINDS",
    "TIME_FORMAT",
    "ZERO_HASH",
    "Entry",
    "entry_from_leaf",
    "format_time",
    "make_entry",
    "parse_time",
]

ZERO_HASH = Hash(bytes(32))
_HEX64 = re.compile(r"[0-9a-f]{64}")
ENVELOPE = ("index", "kind", "prev", "time")

# Each kind's fields and their JSON types (one module a kind, under ledger/kinds/).
KINDS: dict[str, Mapping[str, type[Any]]] = {name: kind.fields for name, kind in ALL_KINDS.items()}
# Fields a later version of a kind added: an entry holds them or not (`ledger.created`'s `rules`).
OPTIONAL: dict[str, Mapping[str, type[Any]]] = {name: kind.optional for name, kind in ALL_KINDS.items()}

_FIELD_NAMES = {kind: frozenset(spec) for kind, spec in KINDS.items()}


def _printable(value: str, allowed: str) -> bool:
    """No character is unprintable except those in `allowed` (checked in C, not per character)."""
    if value.isprintable():
        return True
    for c in allowed:
        value = value.replace(c, "")
    return value.isprintable()


def _check_fields(kind: str, fields: Mapping[str, Any]) -> None:
    if kind not in KINDS:
        raise InvalidInput(f"unknown entry kind {kind!r}")
    spec, optional = KINDS[kind], OPTIONAL[kind]
    if fields.keys() != _FIELD_NAMES[kind] and not _FIELD_NAMES[kind] <= fields.keys() <= spec.keys() | optional.keys():
        missing, extra = sorted(set(spec) - set(fields)), sorted(set(fields) - set(spec) - set(optional))
        raise InvalidInput(f"{kind} fields differ: missing {missing}, unexpected {extra}")
    for name, typ in (*spec.items(), *((n, t) for n, t in optional.items() if n in fields)):
        value: Any = fields[name]
        if type(value) is not typ:
            raise InvalidInput(f"{kind} field {name!r} must be {typ.__name__}")
        if typ is str and not _printable(value, "\n\t"):
            raise InvalidInput(
                f"{kind} field {name!r} holds control characters", code="text.control_chars", kind=kind, what=name
            )
        if typ is list and not all(isinstance(v, str) for v in value):
            raise InvalidInput(f"{kind} field {name!r} must be a list of strings")


@dataclass(frozen=True)
class Entry:
    """One ledger entry. `leaf` is the exact signed form; the rest is read from it."""

    index: int
    kind: str
    time: datetime
    prev: Hash
    fields: Mapping[str, Any] = field(repr=False)
    leaf: bytes = field(repr=False)

    @property
    def leaf_hash(self) -> Hash:
        """SHA-256(0x00 ‖ leaf), computed once (an audit asks for it several times an entry)."""
        try:
            return self.__dict__["_leaf_hash"]  # type: ignore[no-any-return]
        except KeyError:
            value = self.__dict__["_leaf_hash"] = leaf_hash(self.leaf)  # not a field: eq, repr, pickle ignore it
            return value

    def __reduce__(self) -> tuple[Any, ...]:
        # Picklable (for parallel audits) although `fields` is a read-only mapping proxy.
        return _restore, (self.index, self.kind, self.time, self.prev, dict(self.fields), self.leaf)

    def body(self) -> dict[str, Any]:
        """The whole JSON object of the leaf (envelope and fields)."""
        return parse_canonical(self.leaf)


def _restore(index: int, kind: str, time: datetime, prev: Hash, fields: dict[str, Any], leaf: bytes) -> Entry:
    return Entry(index, kind, time, prev, MappingProxyType(fields), leaf)


def make_entry(index: int, kind: str, time: datetime, prev: bytes, fields: Mapping[str, Any]) -> Entry:
    """Build an entry and its canonical leaf; raises InvalidInput for a malformed body."""
    _check_fields(kind, fields)
    if len(prev) != 32:
        raise InvalidInput("prev must be a 32-byte hash")
    if any(name in fields for name in ENVELOPE):
        raise InvalidInput("fields may not redefine the envelope")
    stamp = format_time(time)
    leaf = canonical_json({"index": index, "kind": kind, "prev": prev.hex(), "time": stamp, **fields})
    return Entry(index, kind, parse_time(stamp), Hash(bytes(prev)), MappingProxyType(dict(fields)), leaf)


def entry_from_leaf(leaf: bytes) -> Entry:
    """Read an entry back from its leaf bytes; raises InvalidInput when they are not a valid entry."""
    body = parse_canonical(leaf)
    for name in ENVELOPE:
        if name not in body:
            raise InvalidInput(f"entry has no {name!r}")
    index, kind, prev = body.pop("index"), body.pop("kind"), body.pop("prev")
    time = parse_time(body.pop("time"))
    if type(index) is not int or index < 0:
        raise InvalidInput("entry index must be a non-negative integer")
    if not isinstance(prev, str) or not _HEX64.fullmatch(prev):
        raise InvalidInput("entry prev must be 64 lowercase hex digits")
    if not isinstance(kind, str):
        raise InvalidInput("entry kind must be a string")
    _check_fields(kind, body)
    return Entry(index, kind, time, Hash(bytes.fromhex(prev)), MappingProxyType(body), leaf)
