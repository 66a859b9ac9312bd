"""Rows as stored, beside the bytes they claim to hold: what an audit reads, from a
database snapshot (`reader.Reader.stored_entries`) or an export folder."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple


class StoredEntry(NamedTuple):
    """An entry as stored: the row's own index, kind and hashes beside the leaf bytes.

    A named tuple, not a dataclass: an audit makes millions, and hands them to workers.
    """

    index: int  # type: ignore[assignment]  # a field named like tuple.index, as the entries say
    leaf: bytes
    kind: str | None = None
    leaf_hash: bytes | None = None
    prev: bytes | None = None
    time: datetime | None = None


class StoredCheckpoint(NamedTuple):
    size: int
    note: str
