"""`commitment.extended` (rules version 4 on): a commitment's deadline moved later, `by`
whom (as `commitment.published` records its publisher) and for what `reason`.

The commitment is published with a deadline; the new `deadline` is written in the ledger's
one spelling of a time and is after both the deadline in force and the entry's own time;
`reason` is not blank."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import Conflict
from ..state import IDENTITY_RULES
from ..statements import one_line
from ..times import parse_time
from . import Kind
from .commitment_published import later_deadline

if TYPE_CHECKING:
    from ..entries import Entry
    from ..state import State


def check(entry: Entry, state: State) -> None:
    f = entry.fields
    if state.rules < IDENTITY_RULES:
        raise Conflict("a deadline is extended from rules version 4 on", code="deadline.early")
    slug = f["slug"]
    if state.commitment(slug) is None:
        raise Conflict(f"commitment {slug!r} is not published", code="commitment.not_published", slug=slug)
    current = state.deadline(slug)
    if current is None:
        raise Conflict(f"commitment {slug!r} has no deadline to extend", code="deadline.none", slug=slug)
    later_deadline(f["deadline"], max(current, entry.time))
    if not f["reason"].strip():
        raise Conflict("an extension needs a reason", code="deadline.reason")
    one_line(f["reason"], "reason")


def apply(entry: Entry, state: State) -> None:
    state.set_deadline(entry.fields["slug"], parse_time(entry.fields["deadline"]))


KIND = Kind("commitment.extended", {"slug": str, "deadline": str, "by": str, "reason": str}, check, apply)
