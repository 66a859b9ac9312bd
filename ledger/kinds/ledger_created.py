"""`ledger.created`: the first entry — who keeps the ledger, its origin and the key that
signs its checkpoints, and (from rules version 2 on) the version of the rules the ledger
keeps from its start (`rules`; absent: version 1). It is written once, by
`Ledger.create`; the audit checks it against the trusted key (`audit._genesis`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import Conflict
from ..state import FIRST_RULES, RULES
from . import Kind

if TYPE_CHECKING:
    from ..entries import Entry
    from ..state import State


def rules_of(entry: Entry) -> int:
    """The rules version a `ledger.created` entry sets; raises Conflict for one not known."""
    if "rules" not in entry.fields:
        return FIRST_RULES
    version: int = entry.fields["rules"]
    if not FIRST_RULES < version <= RULES:
        raise Conflict(
            f"the ledger names rules version {version}; known are 2 to {RULES}", code="rules.unknown", version=version
        )
    return version


def check(entry: Entry, state: State) -> None:
    raise Conflict("a ledger is created once, by its first entry", code="ledger.created_twice")


def apply(entry: Entry, state: State) -> None:
    """The origin is the state's from the start; the rules version is set by `rules_of`."""
    state.ledger_key = entry.fields["ledger_key"]
    state.set_rules(rules_of(entry))


KIND = Kind(
    "ledger.created",
    {"org": str, "origin": str, "ledger_key": str},
    check,
    apply,
    optional={"rules": int},
)
