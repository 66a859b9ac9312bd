"""What may be appended, given what came before: one set of rules for append, audit and
the actions' early checks.

The rules of each kind live with the kind (`ledger.kinds`); this module asks them. `check`
asks whether an entry may follow the state before it (the state's verbs are answered by
the derived tables under the append lock at append, and from memory in an audit);
`verify` checks what the entry proves on its own (an official's signature); `admit` does
both, and is what every append and every audit runs. `apply` records what an admitted
entry changes. A rule broken raises Conflict; a signature that fails, SignatureRejected.

One rule is the ledger's own, not a kind's: from rules version 2 on (`kinds.ledger_rules`)
an entry's time is never before the time of the entry before it.
"""

from __future__ import annotations

from .entries import Entry
from .errors import Conflict, InvalidInput, NoteInvalid
from .kinds import KINDS, check_time_order
from .kinds.commitment_published import SLUG
from .kinds.key_enrolled import official_key_name
from .state import TIME_ORDER_RULES, CommitmentInfo, MemoryState, State

__all__ = ["SLUG", "CommitmentInfo", "MemoryState", "State", "admit", "apply", "check", "official_key_name", "verify"]


def check(entry: Entry, state: State) -> None:
    """Raise Conflict when `entry` may not follow `state` (its signature is not looked at)."""
    try:
        KINDS[entry.kind].check(entry, state)
    except (InvalidInput, NoteInvalid) as e:
        raise Conflict(str(e), code=getattr(e, "code", None), **getattr(e, "params", {})) from e
    if state.rules >= TIME_ORDER_RULES:
        check_time_order(entry, state.last_time)


def verify(entry: Entry, origin: str) -> None:
    """Raise SignatureRejected when a signature the entry carries does not verify under `origin`."""
    KINDS[entry.kind].verify(entry, origin)


def admit(entry: Entry, state: State) -> None:
    """The whole check of an entry to be appended: its rules, then its signatures."""
    check(entry, state)
    verify(entry, state.origin)


def apply(entry: Entry, state: State) -> None:
    """Record in `state` what the admitted `entry` changes."""
    KINDS[entry.kind].apply(entry, state)
    state.last_time = entry.time
