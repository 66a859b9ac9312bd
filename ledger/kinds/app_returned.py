"""`app.returned` (rules version 5 on): a Diskominfo reviewer sends the revision of a request
that waits back to its agency, with `reasons`; the Kepala PD may then sign a revision. No
signature of its own: the checkpoint signs it.

Fields: `app`, `revision`, `by` (as `app.reviewed`'s) and `reasons` (1 to 20 texts, each not
blank and at most 2000 characters, `ledger.application.check_reasons`).

The rules, in order: those of `app.reviewed` for `app`, `revision` and `by`; then the
reasons. The application's status becomes ``returned``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..application import check_reasons
from ..state import AppEvent
from . import Kind
from .app_reviewed import check_review

if TYPE_CHECKING:
    from ..entries import Entry
    from ..state import State


def check(entry: Entry, state: State) -> None:
    check_review(entry, state)
    check_reasons(entry.fields["reasons"])


def apply(entry: Entry, state: State) -> None:
    f = entry.fields
    event = AppEvent(entry.index, entry.time, entry.kind, f["app"], f["revision"], f["by"], status="returned")
    state.add_app_event(event)


KIND = Kind("app.returned", {"app": str, "revision": int, "by": str, "reasons": list}, check, apply)
