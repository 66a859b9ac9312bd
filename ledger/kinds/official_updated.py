"""`official.updated` (rules version 4 on): an official's new identity — a mutasi, a
promotion, a corrected name — with the `reason`, attested by an admin's own key over
`ikrar/update/v1` (see `ledger.statements`); the official's key stays.

The official has been enrolled (their identity in force is the enrolment's or the latest
update's); `nip` is written in its one spelling; the new `name`, `title`, `unit` (and
`rank`, `acting` with `appointment`) follow `ledger.identity.check_identity` and differ from
the identity in force; `reason` is not blank and holds no line break; `attester`, in its one
C2SP spelling, is an active admin key, `attested_by` its NIP, which is not the official's:
nobody records their own new position. The statement's time is the entry's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import Conflict
from ..identity import EXTRA, Identity, check_identity
from ..nip import validate_identifier
from ..note import VerifierKey
from ..state import IDENTITY_RULES, Updated
from ..statements import Update, decode_signature, one_line
from . import Kind
from .key_enrolled import check_admin_attester

if TYPE_CHECKING:
    from ..entries import Entry
    from ..state import State


def check(entry: Entry, state: State) -> None:
    f = entry.fields
    if state.rules < IDENTITY_RULES:
        raise Conflict("an official's identity is updated from rules version 4 on", code="update.early")
    nip = f["nip"]
    if validate_identifier(nip, entry.time.date()) != nip:
        raise Conflict(f"the NIP {nip!r} is not written as 18 digits alone", code="key.nip_form")
    current = state.identity(nip)
    if current is None:
        raise Conflict(f"official {nip} was never enrolled: nothing to update", code="update.unknown", nip=nip)
    check_identity(f, nip)
    if not f["reason"].strip():
        raise Conflict("an update of an official needs a reason", code="update.reason")
    one_line(f["reason"], "reason")
    if Identity.of_fields(f) == current:
        raise Conflict(f"the update of official {nip} changes nothing", code="update.unchanged", nip=nip)
    check_admin_attester(f, state, nip, "update")


def verify(entry: Entry, origin: str) -> None:
    """Raises SignatureRejected unless the admin's attestation of the update verifies."""
    f = entry.fields
    statement = Update.of_fields(origin, f, entry.time)
    statement.verify(VerifierKey.parse(f["attester"]), decode_signature(f["attestation"]))


def apply(entry: Entry, state: State) -> None:
    f = entry.fields
    state.update_identity(
        Updated(entry.index, entry.time, f["nip"], Identity.of_fields(f), f["reason"], f["attested_by"])
    )


KIND = Kind(
    "official.updated",
    {
        "nip": str,
        "name": str,
        "title": str,
        "unit": str,
        "reason": str,
        "attested_by": str,
        "attester": str,
        "attestation": str,
    },
    check,
    apply,
    verify,
    optional=EXTRA,
)
