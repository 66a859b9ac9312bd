"""`ledger.rules`: the ledger keeps a later version of its rules from this entry on.

A rule that is new never applies to what came before it: a ledger made under version 1
keeps verifying as it did, and the entry that raises the version is the recorded point
from which the new rules hold (this entry included). Versions:

1. the rules of every kind, as first written;
2. an entry's time is never before the time of the entry before it;
3. keys are vouched for: a `key.enrolled` carries an admin's signed attestation and, for a
   replacement or an admin's key, a second admin's signed approval; a `key.revoked` is
   signed by an admin (`kinds.key_enrolled`, `kinds.key_revoked`);
4. officials without a NIP (an identifier the system gives), identities updated by an
   admin's attestation (`kinds.official_updated`), the capacity signed
   (`ikrar/signature/v2`, `kinds.commitment_signed`), declines (`kinds.commitment_declined`)
   and deadlines (`kinds.commitment_published`, `kinds.commitment_extended`);
5. roles given by an admin's signed entry (`kinds.role_assigned`), and applications verified
   by Diskominfo: a request signed by the Kepala PD, reviews and returns, and a decision
   signed by the Kepala Dinas Kominfo (`kinds.app_submitted`, `kinds.app_reviewed`,
   `kinds.app_returned`, `kinds.app_decided`; `ledger.application`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import Conflict
from ..state import RULES, TIME_ORDER_RULES
from . import Kind, check_time_order

if TYPE_CHECKING:
    from ..entries import Entry
    from ..state import State


def check(entry: Entry, state: State) -> None:
    version = entry.fields["version"]
    if not state.rules < version <= RULES:
        raise Conflict(
            f"rules version {version} does not follow version {state.rules} (known: up to {RULES})",
            code="rules.order",
            version=version,
            current=state.rules,
        )
    if version >= TIME_ORDER_RULES:  # the entry that raises the rules is the first they hold for
        check_time_order(entry, state.last_time)


def apply(entry: Entry, state: State) -> None:
    state.set_rules(entry.fields["version"])


KIND = Kind("ledger.rules", {"version": int}, check, apply)
