"""`key.enrolled`: an official's public key (a C2SP verifier key named
``<origin>/official/<nip>``) with who they are at enrolment: from this entry on it signs
for them, until a `key.revoked`.

From rules version 3 on (`kinds.ledger_rules`) a key is vouched for. The entry carries the
admin's signed attestation (`ikrar/attestation/v1`, see `ledger.statements`) that
invited the person, and, for a replacement key (the official had a key before) or a new
admin's key, a second admin's signed approval (`ikrar/approval/v1`):

- `role` (``official`` or ``admin``: an admin's key may attest, approve and revoke),
  `invitation`, `invited_at`, `attested_by` (the attesting admin's NIP), `attester` (their
  key) and `attestation` (base64 Ed25519);
- `approved_by`, `approver`, `approved_at` and `approval`, when an approval is needed, and
  only then.

Every NIP, key and time is written in its one spelling. No earlier key of the
official came with the same invitation (an invitation is used once). The attester must hold an active admin
key at this point of the ledger, and may not be the person enrolled. The ledger's own
key (`attested_by` ``ledger``) attests only an admin key, and only before the ledger
ever had an admin key: the founding admin (who then needs no approval, there being no
second admin). Once a ledger has had an admin, no key enters it without an admin's
attestation, so keep two admins or more: a ledger whose admin keys are all lost enrols
no one again. The approver is another active admin (or, for an admin key only, the
ledger's key), who is neither the attester, nor the person enrolled, nor whoever revoked
the official's previous key (an admin, or the ledger's key).

From rules version 4 on (`ledger.identity`) `nip` may be an identifier the system gave an
official without a NIP (`ledger.nip.is_official_id`); `name`, `title` and `unit` are not
blank, and the entry may carry `rank`, and `acting` with `appointment`; the attestation
is then `ikrar/attestation/v2`, which names them. The entry sets the official's identity in
force.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..errors import Conflict
from ..identity import EXTRA, Identity, check_identity
from ..nip import validate_identifier
from ..note import VerifierKey
from ..state import IDENTITY_RULES, LEDGER, VOUCHING_RULES
from ..statements import Approval, Attestation, decode_signature, one_line
from ..times import format_time, parse_time
from . import Kind

if TYPE_CHECKING:
    from ..entries import Entry
    from ..state import State

ROLES = ("official", "admin")
VOUCHED: dict[str, type] = {
    "role": str,
    "invitation": str,
    "invited_at": str,
    "attested_by": str,
    "attester": str,
    "attestation": str,
}
APPROVED: dict[str, type] = {"approved_by": str, "approver": str, "approved_at": str, "approval": str}
_INVITATION = re.compile(r"[0-9a-f]{32}")


def official_key_name(origin: str, nip: str) -> str:
    """The signed-note name of an official's key: ``<origin>/official/<nip>``."""
    return f"{origin}/official/{nip}"


def attestation_of(origin: str, fields: Mapping[str, Any]) -> Attestation:
    """The attestation statement a vouched `key.enrolled` entry's fields claim was signed."""
    f = fields
    return Attestation(
        origin,
        f["invitation"],
        f["nip"],
        f["name"],
        f["title"],
        f["unit"],
        f["role"],
        parse_time(f["invited_at"]),
        f.get("rank"),
        f.get("acting"),
        f.get("appointment"),
    )


def check(entry: Entry, state: State) -> None:
    f = entry.fields
    nip = validate_identifier(f["nip"], entry.time.date(), ids=state.rules >= IDENTITY_RULES)
    vkey = VerifierKey.parse(f["key"])
    expected = official_key_name(state.origin, nip)
    if vkey.name != expected:
        raise Conflict(
            f"key name {vkey.name!r} is not {expected!r}", code="key.name", name=vkey.name, expected=expected
        )
    if state.active_key(nip) is not None:
        raise Conflict(f"official {nip} already has an active key; revoke it first", code="key.active_exists", nip=nip)
    if state.key_known(f["key"]):
        raise Conflict("this key was enrolled before; a key is enrolled once", code="key.reused")
    if state.rules < IDENTITY_RULES and f.keys() & EXTRA.keys():
        raise Conflict(
            "a rank or an acting position before rules version 4, which no statement would sign",
            code="identity.early",
            nip=nip,
        )
    if state.rules >= VOUCHING_RULES:
        if nip != f["nip"]:
            raise Conflict(f"the NIP {f['nip']!r} is not written as 18 digits alone", code="key.nip_form")
        _canonical(f["key"], "key")
        if state.rules >= IDENTITY_RULES:
            check_identity(f, nip)
        _check_vouching(entry, state)
    elif f.keys() & (VOUCHED.keys() | APPROVED.keys()):
        raise Conflict(
            "an attestation or approval before rules version 3, which would check neither",
            code="key.vouching_early",
            nip=nip,
        )


def _check_vouching(entry: Entry, state: State) -> None:
    f, nip = entry.fields, entry.fields["nip"]
    if not f.keys() >= VOUCHED.keys():
        raise Conflict(
            f"official {nip}'s key comes without an admin's signed attestation (rules version 3)",
            code="key.unvouched",
            nip=nip,
        )
    role = f["role"]
    if role not in ROLES:
        raise Conflict(f"role {role!r} is not one of {', '.join(ROLES)}", code="key.role", role=role)
    if not _INVITATION.fullmatch(f["invitation"]):
        raise Conflict("the invitation is not 32 hex digits", code="key.invitation")
    for what in ("name", "title", "unit"):
        one_line(f[what], what)
    invited = _not_after(_time(f["invited_at"], "invited_at"), entry.time, "invitation")
    if state.invitation_used(nip, f["invitation"]):
        raise Conflict(
            f"the invitation of official {nip} enrolled an earlier key: an invitation is used once",
            code="key.invitation_used",
            nip=nip,
        )
    attester, by = _canonical(f["attester"], "attester"), f["attested_by"]
    if attester == state.ledger_key:
        _named(by, LEDGER, "attester")
        if role != "admin" or state.had_admin():
            raise Conflict(
                "the ledger's own key attests only the first admin, before the ledger ever had one",
                code="key.ledger_attests",
                nip=nip,
            )
    else:
        _named(by, _admin(state, attester, "key.attester_not_admin", nip), "attester")
        if by == nip:
            raise Conflict(f"official {nip} attests their own key", code="key.self_attested", nip=nip)
    needed = attester != state.ledger_key and (state.had_key(nip) or role == "admin")
    given = f.keys() & APPROVED.keys()
    if not needed:
        if given:
            raise Conflict("an approval where none is asked", code="key.approval_unasked", nip=nip)
        return
    if given != APPROVED.keys():
        raise Conflict(
            f"official {nip}'s {'replacement' if state.had_key(nip) else 'admin'} key lacks a second admin's "
            "signed approval",
            code="key.unapproved",
            nip=nip,
        )
    approved = _not_after(_time(f["approved_at"], "approved_at"), entry.time, "approval")
    if approved < invited:
        raise Conflict("the approval is older than the invitation it approves", code="key.approval_early", nip=nip)
    approver, approved_by = _canonical(f["approver"], "approver"), f["approved_by"]
    if approver == state.ledger_key:
        _named(approved_by, LEDGER, "approver")
        if role != "admin":
            raise Conflict("the ledger's own key approves only admin keys", code="key.ledger_approves", nip=nip)
    else:
        _named(approved_by, _admin(state, approver, "key.approver_not_admin", nip), "approver")
    if approved_by in (by, nip, state.revoked_by(nip)):
        raise Conflict(
            f"the approval of official {nip}'s key must come from a second admin: not the attester, not the "
            "official, not the admin who revoked the previous key",
            code="key.same_admin",
            nip=nip,
            by=approved_by,
        )


def check_admin_attester(fields: Mapping[str, Any], state: State, nip: str, what: str) -> None:
    """Rules version 4 on, for what an admin attests about official `nip` (`what`: an update,
    a role): `attester`, in its one C2SP spelling, is an active admin key and `attested_by`
    its NIP, which is not `nip` (nobody attests their own; the ledger's own key attests none)."""
    attester = _canonical(fields["attester"], "attester")
    _named(fields["attested_by"], _admin(state, attester, "key.attester_not_admin", nip), "attester")
    if fields["attested_by"] == nip:
        raise Conflict(f"official {nip} attests their own {what}", code="key.self_attested", nip=nip)


def _canonical(key: str, what: str) -> str:
    """`key`, refused unless written exactly as its C2SP form prints (one spelling per key)."""
    if str(VerifierKey.parse(key)) != key:
        raise Conflict(f"the {what} is not written in its one C2SP spelling", code="key.spelling", what=what)
    return key


def _time(text: str, what: str) -> datetime:
    """The time `text` names, refused unless written as Ikrar writes times (the statement's line)."""
    moment = parse_time(text)
    if format_time(moment) != text:
        raise Conflict(f"{what} is not written YYYY-MM-DDTHH:MM:SSZ", code="key.time_form", what=what)
    return moment


def _admin(state: State, key: str, code: str, nip: str) -> str:
    admin = state.admin_of(key)
    if admin is None:
        raise Conflict(
            f"the key vouching for official {nip} is not an active admin key at this point of the ledger",
            code=code,
            nip=nip,
        )
    return admin


def _named(named: str, actual: str, what: str) -> None:
    if named != actual:
        raise Conflict(f"the {what} is named {named!r} but the key is {actual!r}'s", code="key.voucher_name")


def _not_after(moment: datetime, entry_time: datetime, what: str) -> datetime:
    if moment > entry_time:
        raise Conflict(f"the {what} is dated after the entry", code="key.vouch_future", what=what)
    return moment


def verify(entry: Entry, origin: str) -> None:
    """Raises SignatureRejected unless the attestation and approval it carries verify."""
    f = entry.fields
    if not f.keys() >= VOUCHED.keys():  # none, or some missing: the rules refuse it (`check`)
        return
    attestation = attestation_of(origin, f)
    attestation.verify(VerifierKey.parse(f["attester"]), decode_signature(f["attestation"]))
    if f.keys() >= APPROVED.keys():
        approval = Approval(origin, attestation.sha256(), f["nip"], parse_time(f["approved_at"]))
        approval.verify(VerifierKey.parse(f["approver"]), decode_signature(f["approval"]))


def apply(entry: Entry, state: State) -> None:
    f = entry.fields
    state.add_key(f["nip"], f["key"], entry.index, entry.time)
    state.note_identity(f["nip"], Identity.of_fields(f))
    if f.get("role") == "admin":
        state.add_admin(f["nip"], f["key"])
    if "invitation" in f:
        state.add_invitation(f["nip"], f["invitation"])


KIND = Kind(
    "key.enrolled",
    {"nip": str, "name": str, "title": str, "unit": str, "key": str},
    check,
    apply,
    verify,
    optional={**VOUCHED, **APPROVED, **EXTRA},
)
