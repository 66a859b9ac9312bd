"""`ledger.created`: the first entry — who keeps the ledger, its origin and the key that
signs its checkpoints. It is written once, by `Ledger.create`; the audit checks it
against the trusted key (`audit._genesis`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import Conflict
from . import Kind

if TYPE_CHECKING:
    from ..entries import Entry
    from ..state import State


def check(entry: Entry, state: State) -> None:
    raise Conflict("a ledger is created once, by its first entry", code="ledger.created_twice")


def apply(entry: Entry, state: State) -> None:
    """The origin is the state's from the start; nothing else follows."""


KIND = Kind("ledger.created", {"org": str, "origin": str, "ledger_key": str}, check, apply)
