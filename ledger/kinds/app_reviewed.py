"""`app.reviewed` (rules version 5 on): a Diskominfo reviewer's checklist on the revision of
a request that waits. No signature of its own: the checkpoint signs it, as it signs
`commitment.published`.

Fields: `app`, `revision`, `by` (the NIP of an official holding ``reviewer`` or
``kominfo-head``, for any unit) and `checklist` (the canonical JSON of an object with exactly
the points of `ledger.application.CHECKLIST`, each ``{"finding": "fits" | "concern" |
"does_not_fit", "note": ...}``, the note not blank unless the finding is ``fits``).

The rules, in order: the application was submitted, waits (status ``submitted``) at
`revision`; `by` holds a reviewer's role; `checklist` is a canonical checklist
(`check_checklist`). A revision may be reviewed more than once; its decision needs one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..application import REVIEWERS, parse_checklist
from ..errors import Conflict
from ..state import AppEvent
from . import Kind
from .app_submitted import check_at, check_early

if TYPE_CHECKING:
    from ..entries import Entry
    from ..state import State


def check_reviewer(entry: Entry, state: State) -> None:
    """`by` holds ``reviewer`` or ``kominfo-head``, for whichever unit."""
    by = entry.fields["by"]
    if not any(state.holds_role(by, role) for role in REVIEWERS):
        raise Conflict(
            f"official {by} is not a reviewer of Diskominfo (role reviewer or kominfo-head)",
            code="app.not_reviewer",
            nip=by,
        )


def check_review(entry: Entry, state: State) -> None:
    """What a review and a return share: rules version 5, the revision that waits (`check_at`),
    a reviewer's role (`check_reviewer`)."""
    check_early(state)
    check_at(entry, state)
    check_reviewer(entry, state)


def check(entry: Entry, state: State) -> None:
    check_review(entry, state)
    parse_checklist(entry.fields["checklist"])


def apply(entry: Entry, state: State) -> None:
    f = entry.fields
    state.add_app_event(AppEvent(entry.index, entry.time, entry.kind, f["app"], f["revision"], f["by"], review=True))


KIND = Kind("app.reviewed", {"app": str, "revision": int, "by": str, "checklist": str}, check, apply)
