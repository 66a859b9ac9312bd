"""Every entry kind in one place: its fields, the rules that admit it, what it derives.

One module a kind. Each exposes ``KIND``, a `Kind`: the kind's fixed fields and their
JSON types, `check` (the rules: may this entry follow the state before it? raises
Conflict or InvalidInput), `verify` (what the entry proves on its own, such as an
official's signature; needs only the entry and the ledger's origin, so an audit runs it in
worker processes), and `apply` (what the entry changes, through the `State` verbs, in
memory for an audit or in the derived tables at append). Adding a kind is one module here,
its line in `KINDS`, and its tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import Conflict
from ..times import format_time

if TYPE_CHECKING:
    from datetime import datetime

    from ..entries import Entry
    from ..state import State


def check_time_order(entry: Entry, last_time: datetime | None) -> None:
    """Rules version 2: an entry's time is never before the time of the entry before it."""
    if last_time is not None and entry.time < last_time:
        raise Conflict(
            f"its time {format_time(entry.time)} is before the time of the entry before it, {format_time(last_time)}",
            code="time.backwards",
            time=entry.time,
            before=last_time,
        )


def _nothing_to_verify(entry: Entry, origin: str) -> None:
    """Most kinds carry no signature of their own: the checkpoint signs them."""


@dataclass(frozen=True)
class Kind:
    name: str
    fields: Mapping[str, type]
    check: Callable[[Entry, State], None]
    apply: Callable[[Entry, State], None]
    verify: Callable[[Entry, str], None] = _nothing_to_verify
    optional: Mapping[str, type] = field(default_factory=dict)  # fields a later version added


from . import (  # noqa: E402 - the kinds' modules build on `Kind`
    app_decided,
    app_returned,
    app_reviewed,
    app_submitted,
    commitment_declined,
    commitment_extended,
    commitment_published,
    commitment_signed,
    key_enrolled,
    key_revoked,
    ledger_created,
    ledger_rules,
    official_updated,
    role_assigned,
)

KINDS: dict[str, Kind] = {
    module.KIND.name: module.KIND
    for module in (
        ledger_created,
        ledger_rules,
        key_enrolled,
        key_revoked,
        commitment_published,
        commitment_signed,
        official_updated,
        commitment_declined,
        commitment_extended,
        role_assigned,
        app_submitted,
        app_reviewed,
        app_returned,
        app_decided,
    )
}
