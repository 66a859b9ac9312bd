"""`app.submitted` (rules version 5 on): a Kepala Perangkat Daerah signs a request to verify
an application their agency wants to build, develop, license or subscribe to, with their own
key over `ikrar/app-request/v1` (see `ledger.statements`; its time is the entry's).

Fields: `app` (``YYYY-NNNN``: the year of first submission in WIB and a running number the
service gives), `revision` (1, then one more for each revision of a returned request),
`request` (the request object's canonical JSON, `ledger.application`), `request_sha256` (hex
SHA-256 of its UTF-8 bytes), `agency` (the request's), and the signer's `nip`, active `key`,
`name` and `capacity` (their identity in force), and `signature` (base64 Ed25519).

The rules, in order: `app` is ``YYYY-NNNN``; revision 1 names an unused id, a later revision
an application that was returned at the revision before (and keeps its agency); `request`
is a canonical request object (`check_request`) whose SHA-256 is `request_sha256` and whose
agency is `agency`; `nip` holds ``pd-head`` for `agency`; `key` is its active key; `name` and
`capacity` are its identity in force. The rules that the other kinds of an application
share live here too (`check_early`, `check_at`, `check_signer`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..application import APP_ID, PD_HEAD, parse_request, request_sha256
from ..errors import Conflict
from ..state import APPS_RULES, AppInfo, Submitted
from ..statements import AppRequest, decode_signature
from . import Kind

if TYPE_CHECKING:
    from ..entries import Entry
    from ..state import State

SIGNER = {"nip": str, "key": str, "name": str, "capacity": str, "signature": str}


def check_early(state: State) -> None:
    """Applications are kept from rules version 5 on."""
    if state.rules < APPS_RULES:
        raise Conflict("applications are kept on the ledger from rules version 5 on", code="app.early")


def _in_status(state: State, app: str, status: str, why: str) -> AppInfo:
    """The application `app`, refused unless it was submitted and is in `status` now (`why`
    says what asks for that status)."""
    info = state.application(app)
    if info is None:
        raise Conflict(f"application {app!r} was never submitted", code="app.not_found", app=app)
    if info.status != status:
        raise Conflict(f"application {app!r} is {info.status}: {why}", code="app.state", app=app, status=info.status)
    return info


def check_at(entry: Entry, state: State) -> AppInfo:
    """The application `app` of a review, a return or a decision: it was submitted, it waits
    (status ``submitted``), and `revision` is the one that waits."""
    app, revision = entry.fields["app"], entry.fields["revision"]
    info = _in_status(state, app, "submitted", "only a request that waits is reviewed, returned or decided")
    if revision != info.revision:
        raise Conflict(
            f"application {app!r} waits at revision {info.revision}, not {revision}",
            code="app.revision",
            app=app,
            revision=revision,
            current=info.revision,
        )
    return info


def check_signer(entry: Entry, state: State) -> None:
    """The signer's `key` is their active key, and `name` and `capacity` their identity in force."""
    f = entry.fields
    nip = f["nip"]
    if state.active_key(nip) != f["key"]:
        raise Conflict(
            f"the key is not the active key of official {nip} (revoked or never enrolled)",
            code="app.key_inactive",
            nip=nip,
        )
    identity = state.identity(nip)
    if identity is None or (f["name"], f["capacity"]) != (identity.name, identity.capacity):
        raise Conflict(
            f"the name or capacity signed is not official {nip}'s identity in force", code="app.identity", nip=nip
        )


def check(entry: Entry, state: State) -> None:
    f = entry.fields
    check_early(state)
    app, revision = f["app"], f["revision"]
    if not APP_ID.fullmatch(app):
        raise Conflict(f"application id {app!r} is not YYYY-NNNN", code="app.id", app=app)
    info = state.application(app)
    if revision < 1:
        raise Conflict(
            f"revision {revision} of application {app!r} is below 1",
            code="app.revision_low",
            app=app,
            revision=revision,
        )
    if revision == 1 and info is not None:
        raise Conflict(f"application id {app!r} is taken", code="app.exists", app=app)
    if revision > 1:
        info = _in_status(state, app, "returned", "only a returned request is revised")
        if revision != info.revision + 1:
            raise Conflict(
                f"application {app!r} was returned at revision {info.revision}: the next is {info.revision + 1}",
                code="app.revision",
                app=app,
                revision=revision,
                current=info.revision,
            )
        if f["agency"] != info.agency:
            raise Conflict(
                f"application {app!r} belongs to {info.agency!r}", code="app.agency", app=app, agency=info.agency
            )
    request = parse_request(f["request"])
    if request_sha256(f["request"]) != f["request_sha256"]:
        raise Conflict("request_sha256 is not the SHA-256 of the request", code="app.request_sha256", app=app)
    if request["agency"] != f["agency"]:
        raise Conflict("agency is not the request's agency", code="app.agency", app=app, agency=request["agency"])
    nip, agency = f["nip"], f["agency"]
    if not state.holds_role(nip, PD_HEAD, agency):
        raise Conflict(
            f"official {nip} is not the Kepala PD of {agency!r} (role pd-head)",
            code="app.not_head",
            nip=nip,
            agency=agency,
        )
    check_signer(entry, state)


def verify(entry: Entry, origin: str) -> None:
    """Raises SignatureRejected unless the Kepala PD's signature of the request verifies."""
    AppRequest.of_fields(origin, entry.fields, entry.time).verify(decode_signature(entry.fields["signature"]))


def apply(entry: Entry, state: State) -> None:
    f = entry.fields
    request = parse_request(f["request"])
    state.submit_app(
        Submitted(
            entry.index,
            entry.time,
            f["app"],
            f["revision"],
            f["request_sha256"],
            f["agency"],
            request["name"],
            request["kind"],
            request["fiscal_year"],
            f["nip"],
        )
    )


KIND = Kind(
    "app.submitted",
    {"app": str, "revision": int, "request": str, "request_sha256": str, "agency": str, **SIGNER},
    check,
    apply,
    verify,
)
