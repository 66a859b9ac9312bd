"""`app.decided` (rules version 5 on): the Kepala Dinas Kominfo signs the decision on the
revision of a request that waits, with their own key over `ikrar/app-decision/v1` (see
`ledger.statements`; its time is the entry's). After it nothing more follows for that
application: a new request gets a new id.

Fields: `app`, `revision`, `request_sha256` (of that revision's request), `decision`
(``recommended``, ``recommended_with_notes`` or ``not_recommended``), `notes` (none for
``recommended``; otherwise 1 to 20 one-line texts, each not blank and at most 2000
characters), and the signer's `nip`, active `key`, `name` and `capacity` (their identity in
force), and `signature` (base64 Ed25519).

The rules, in order: the application was submitted and waits (status ``submitted``) at
`revision`; `request_sha256` is that revision's; that revision was reviewed (an
`app.reviewed` of it); the decision and its notes (`check_notes`); `nip` holds
``kominfo-head`` (the one Kepala Dinas Kominfo the ledger names); `key` is its active key;
`name` and `capacity` its identity in force. The application's status becomes the decision."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..application import DECIDER, check_notes
from ..errors import Conflict
from ..state import AppEvent
from ..statements import AppDecision, decode_signature
from . import Kind
from .app_submitted import SIGNER, check_at, check_early, check_signer

if TYPE_CHECKING:
    from ..entries import Entry
    from ..state import State


def check(entry: Entry, state: State) -> None:
    f = entry.fields
    check_early(state)
    app, nip = f["app"], f["nip"]
    info = check_at(entry, state)
    if f["request_sha256"] != info.request_sha256:
        raise Conflict(
            f"the decision names another request than revision {info.revision} of application {app!r}",
            code="app.request_sha256",
            app=app,
        )
    if not info.reviewed:
        raise Conflict(
            f"revision {info.revision} of application {app!r} was not reviewed yet",
            code="app.unreviewed",
            app=app,
            revision=info.revision,
        )
    check_notes(f["decision"], f["notes"])
    if not state.holds_role(nip, DECIDER):
        raise Conflict(
            f"official {nip} is not the Kepala Dinas Kominfo (role kominfo-head): only they decide",
            code="app.not_decider",
            nip=nip,
        )
    check_signer(entry, state)


def verify(entry: Entry, origin: str) -> None:
    """Raises SignatureRejected unless the Kepala Dinas Kominfo's signature of the decision verifies."""
    AppDecision.of_fields(origin, entry.fields, entry.time).verify(decode_signature(entry.fields["signature"]))


def apply(entry: Entry, state: State) -> None:
    f = entry.fields
    decision = f["decision"]
    event = AppEvent(
        entry.index, entry.time, entry.kind, f["app"], f["revision"], f["nip"], status=decision, decision=decision
    )
    state.add_app_event(event)


KIND = Kind(
    "app.decided",
    {"app": str, "revision": int, "request_sha256": str, "decision": str, "notes": list, **SIGNER},
    check,
    apply,
    verify,
)
