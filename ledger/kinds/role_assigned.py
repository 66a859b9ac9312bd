"""`role.assigned` (rules version 5 on): an admin gives an official a role held for a unit, or
withdraws it, for a `reason`, attested with the admin's own key over `ikrar/role/v1` (see
`ledger.statements`) exactly as `official.updated` is attested.

The roles are `ledger.application.ROLES`: ``pd-head`` (Kepala Perangkat Daerah of `unit`, the
agency's exact name: one holder a unit, so a grant to another official ends the previous
holder's), ``pd-operator`` (prepares requests for `unit`; many a unit), ``reviewer``
(Diskominfo; `unit` is the reviewer's office) and ``kominfo-head`` (Kepala Dinas Kominfo: one
holder in the whole ledger, so a grant ends the previous holder's, whatever its unit).

The rules, in order: `nip` is written in its one spelling; the official was enrolled (has an
identity in force) and, for a grant (`grant` true), holds an active key; the role is known;
`unit` and `reason` are not blank and hold no line break; a grant names a role the official
does not hold for that unit yet, a withdrawal (`grant` false) one they hold; `attester`, in
its one C2SP spelling, is an active admin key and `attested_by` its NIP, which is not `nip`
(nobody gives themselves a role; the ledger's own key gives none). The statement's time is
the entry's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..application import ROLES
from ..errors import Conflict
from ..nip import validate_identifier
from ..note import VerifierKey
from ..state import APPS_RULES, Assigned
from ..statements import Role, decode_signature, one_line
from . import Kind
from .key_enrolled import check_admin_attester

if TYPE_CHECKING:
    from ..entries import Entry
    from ..state import State


def not_blank(value: str, what: str, code: str) -> None:
    """Refuse (Conflict `code`) a blank `value`, and one holding a line break: a statement's line."""
    if not value.strip():
        raise Conflict(f"the {what} is blank", code=code, what=what)
    one_line(value, what)


def check(entry: Entry, state: State) -> None:
    f = entry.fields
    if state.rules < APPS_RULES:
        raise Conflict("a role is given by an entry from rules version 5 on", code="role.early")
    nip, role, unit, grant = f["nip"], f["role"], f["unit"], f["grant"]
    if validate_identifier(nip, entry.time.date()) != nip:
        raise Conflict(f"the NIP {nip!r} is not written as 18 digits alone", code="key.nip_form")
    if state.identity(nip) is None:
        raise Conflict(f"official {nip} was never enrolled: no role for them", code="role.unknown", nip=nip)
    if grant and state.active_key(nip) is None:
        raise Conflict(f"official {nip} holds no active key: no role for them", code="role.no_key", nip=nip)
    if role not in ROLES:
        raise Conflict(f"role {role!r} is not one of {', '.join(ROLES)}", code="role.role", role=role)
    not_blank(unit, "unit", "role.unit")
    not_blank(f["reason"], "reason", "role.reason")
    held = state.holds_role(nip, role, unit)
    if grant and held:
        raise Conflict(
            f"official {nip} already holds {role} for {unit!r}", code="role.held", nip=nip, role=role, unit=unit
        )
    if not grant and not held:
        raise Conflict(
            f"official {nip} does not hold {role} for {unit!r}: nothing to withdraw",
            code="role.not_held",
            nip=nip,
            role=role,
            unit=unit,
        )
    check_admin_attester(f, state, nip, "role")


def verify(entry: Entry, origin: str) -> None:
    """Raises SignatureRejected unless the admin's attestation of the role verifies."""
    f = entry.fields
    Role.of_fields(origin, f, entry.time).verify(VerifierKey.parse(f["attester"]), decode_signature(f["attestation"]))


def apply(entry: Entry, state: State) -> None:
    f = entry.fields
    state.assign_role(
        Assigned(entry.index, entry.time, f["nip"], f["role"], f["unit"], f["grant"], f["reason"], f["attested_by"])
    )


KIND = Kind(
    "role.assigned",
    {
        "nip": str,
        "role": str,
        "unit": str,
        "grant": bool,
        "reason": str,
        "attested_by": str,
        "attester": str,
        "attestation": str,
    },
    check,
    apply,
    verify,
)
