"""Ledger entries: their kinds, their fixed bodies and their exact leaf bytes.

An entry's leaf bytes are the RFC 8785 canonical JSON of one object holding ``index``,
``kind``, ``prev`` (hex leaf hash of the entry before; 64 zeros for the first), ``time``
(UTC, ``YYYY-MM-DDTHH:MM:SSZ``) and the fields of its kind, listed in `KINDS`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from .canonical import canonical_json, parse_canonical
from .errors import InvalidInput
from .merkle import Hash, leaf_hash

ZERO_HASH = Hash(bytes(32))
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", re.ASCII)  # ASCII digits only: one spelling per time
_HEX64 = re.compile(r"[0-9a-f]{64}")
ENVELOPE = ("index", "kind", "prev", "time")

# Each kind's fields and their JSON types. Bodies hold exactly these, nothing else.
KINDS: dict[str, dict[str, type]] = {
    # The first entry: who keeps the ledger, its origin and the key that signs checkpoints.
    "ledger.created": {"org": str, "origin": str, "ledger_key": str},
    # An official's public key, as a C2SP verifier key, with who they are at enrolment.
    "key.enrolled": {"nip": str, "name": str, "title": str, "unit": str, "key": str},
    # An official's key withdrawn: from this entry on it signs nothing.
    "key.revoked": {"nip": str, "key": str, "reason": str, "by": str},
    # A commitment: its full text, the text's SHA-256 (hex) and the NIPs that must sign it.
    "commitment.published": {
        "slug": str,
        "title": str,
        "text": str,
        "text_sha256": str,
        "signers": list,
        "by": str,
    },
    # An official's signature over the statement (see signing.statement) built from these
    # fields, the ledger origin and the entry's time; `signature` is base64 Ed25519.
    "commitment.signed": {
        "slug": str,
        "commitment_sha256": str,
        "commitment_index": int,
        "nip": str,
        "key": str,
        "signature": str,
    },
}


_FIELD_NAMES = {kind: frozenset(spec) for kind, spec in KINDS.items()}


def format_time(moment: datetime) -> str:
    """UTC time as written in entries; refuses naive datetimes."""
    if moment.tzinfo is None:
        raise InvalidInput("time must carry a time zone")
    t = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    if t.year < 1000:  # strftime writes such years without padding (which parse_time then refuses)
        return t.strftime(TIME_FORMAT)
    return f"{t.year}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}Z"  # TIME_FORMAT, faster


def parse_time(text: str) -> datetime:
    if not isinstance(text, str) or not _TIME.fullmatch(text):
        raise InvalidInput(f"time {text!r} is not YYYY-MM-DDTHH:MM:SSZ")
    try:  # the pattern fixed every field's place: what strptime would do, without its cost
        return datetime(
            int(text[0:4]),
            int(text[5:7]),
            int(text[8:10]),
            int(text[11:13]),
            int(text[14:16]),
            int(text[17:19]),
            tzinfo=UTC,
        )
    except ValueError as e:
        raise InvalidInput(f"time {text!r} is not a real time") from e


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
    spec = KINDS[kind]
    if fields.keys() != _FIELD_NAMES[kind]:
        missing, extra = sorted(set(spec) - set(fields)), sorted(set(fields) - set(spec))
        raise InvalidInput(f"{kind} fields differ: missing {missing}, unexpected {extra}")
    for name, typ in spec.items():
        value = fields[name]
        if type(value) is not typ:
            raise InvalidInput(f"{kind} field {name!r} must be {typ.__name__}")
        if typ is str and not _printable(value, "\n\t"):
            raise InvalidInput(f"{kind} field {name!r} holds control characters")
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
