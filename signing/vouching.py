"""Vouching (rules version 3): an admin's own key invites, a second admin's approves a
replacement or a new admin, and an admin's key revokes — each by a signed statement
(`ledger.statements`) that the ledger's rules check (`kinds.key_enrolled`,
`kinds.key_revoked`). A stolen admin session holds no admin's signing passphrase, so it
can do none of these.

`by` names the acting admin by NIP; `LEDGER` ("ledger") acts with the ledger's own key,
which only the command line offers (it needs the ledger's passphrase on the server), and
which the rules allow only for the founding admin, an admin key's approval and a
revocation.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ledger.errors import Conflict
from ledger.invitations import InvitationRecord, approved
from ledger.kinds.key_enrolled import attestation_of, official_key_name
from ledger.note import VerifierKey
from ledger.reader import OfficialRecord
from ledger.state import IDENTITY_RULES, LEDGER, VOUCHING_RULES
from ledger.statements import Approval, Attestation, Revocation, encode_signature
from ledger.times import format_time

from .errors import NotAllowed

if TYPE_CHECKING:
    from .actions import Context

__all__ = [
    "LEDGER",
    "Invited",
    "Voucher",
    "approve",
    "invite",
    "revocation_fields",
    "rules_version",
    "voucher",
    "vouched_fields",
]

logger = logging.getLogger(__name__)

_NO_SIGNATURE = encode_signature(bytes(64))  # what `precheck` sees before a key has signed


@dataclass(frozen=True)
class Invited:
    """An invitation made: the one-time link's token (shown once, never stored) and the record."""

    token: str
    invitation: InvitationRecord


@dataclass(frozen=True)
class Voucher:
    """The acting admin (or the ledger): the name the entry gives them, their key, and a signer."""

    by: str
    key: str
    sign: Callable[[bytes], bytes]


def rules_version(ctx: Context) -> int:
    with ctx.ledger.read() as r:
        return int(r.meta().get("rules", "1"))


def token_hash(token: str) -> str:
    """The stored form of a link token (as every enrolment link's: `web.accounts`)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _whole_seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def admin_key(ctx: Context, by: str) -> str:
    """The verifier key `by` acts with: the ledger's, or the admin's active key (raises NotAllowed)."""
    if by == LEDGER:
        return str(ctx.signer.verifier)
    with ctx.ledger.read() as r:
        key = r.active_key(by)
    if key is None:
        raise NotAllowed(
            f"{by} has no active signing key, so cannot vouch: an admin acts with their own key",
            code="vouch.no_key",
            nip=by,
        )
    return key.key


def voucher(ctx: Context, by: str, passphrase: str | None) -> Voucher:
    """Open the acting admin's key with their passphrase (raises WrongPassphrase), or the ledger's."""
    key = admin_key(ctx, by)
    if by == LEDGER:
        return Voucher(LEDGER, key, ctx.signer.sign_statement)
    if passphrase is None:
        raise NotAllowed("the admin's own signing passphrase is needed", code="vouch.passphrase", nip=by)
    return Voucher(by, key, ctx.keys.signer(VerifierKey.parse(key), passphrase))


def _stand_in_key(ctx: Context, nip: str) -> str:
    """A key of the right name, for asking the rules before the official's key is made."""
    return str(VerifierKey(official_key_name(ctx.ledger.origin, nip), bytes(32)))


def _ask_rules(ctx: Context, official: OfficialRecord, fields: dict[str, Any], now: datetime, early: bool) -> None:
    """Ask the rules about the enrolment these vouching fields lead to; with `early`, before
    the approval is given (its absence is then no refusal). Raises NotAllowed."""
    entry = {**_person(ctx, official), "key": _stand_in_key(ctx, official.nip), **fields}
    try:
        ctx.ledger.precheck("key.enrolled", entry, now)
    except Conflict as e:
        if early and e.code == "key.unapproved":
            return
        raise NotAllowed(str(e), code=e.code, **e.params) from e


def _person(ctx: Context, official: OfficialRecord) -> dict[str, str]:
    rank, acting, appointment = _extras(ctx, official)
    return {
        "nip": official.nip,
        **replace(official.identity, rank=rank, acting=acting, appointment=appointment).fields(),
    }


def _extras(ctx: Context, official: OfficialRecord) -> tuple[str | None, str | None, str | None]:
    """The official's rank and acting appointment, which an attestation names from rules
    version 4 on (before, the register holds none: `actions.register_official`)."""
    if rules_version(ctx) < IDENTITY_RULES:
        return None, None, None
    return official.rank, official.acting, official.appointment


def invite(
    ctx: Context,
    official: OfficialRecord,
    by: str,
    passphrase: str | None,
    now: datetime,
    hours: int,
    role: str | None = None,
) -> Invited:
    """The admin `by` attests that they checked `official` and invites them to enrol: a signed
    `ikrar/attestation/v1` kept with a new one-time link. A replacement key (the official had
    one) or an admin's key then waits for a second admin's approval (`approve`).

    Raises NotAllowed (the rules refuse: the official still has an active key, `by` is no
    admin, ...), WrongPassphrase."""
    role = role or official.role
    moment = _whole_seconds(now)
    key = admin_key(ctx, by)
    statement = Attestation(
        ctx.ledger.origin,
        secrets.token_hex(16),
        official.nip,
        official.name,
        official.title,
        official.unit,
        role,
        moment,
        *_extras(ctx, official),
    )
    draft = {
        "role": role,
        "invitation": statement.invitation,
        "invited_at": format_time(moment),
        "attested_by": by,
        "attester": key,
        "attestation": _NO_SIGNATURE,
    }
    _ask_rules(ctx, official, draft, moment, early=True)
    acting = voucher(ctx, by, passphrase)
    signature = encode_signature(acting.sign(statement.text().encode()))
    with ctx.ledger.read() as r:
        replacement = r.had_key(official.nip)
    needs_approval = by != LEDGER and (replacement or role == "admin")
    token = secrets.token_urlsafe(32)
    record = InvitationRecord(
        id=statement.invitation,
        token_hash=token_hash(token),
        nip=official.nip,
        name=official.name,
        title=official.title,
        unit=official.unit,
        role=role,
        invited_at=moment,
        attested_by=by,
        attester=key,
        attestation=signature,
        needs_approval=needs_approval,
        expires_at=now + timedelta(hours=hours),
        rank=statement.rank,
        acting=statement.acting,
        appointment=statement.appointment,
    )
    ctx.ledger.invitations.add(record, now)
    logger.info("invitation issued nip=%s role=%s by=%s approval=%s", official.nip, role, by, needs_approval)
    return Invited(token, record)


def approve(
    ctx: Context,
    official: OfficialRecord,
    by: str,
    passphrase: str | None,
    now: datetime,
    invitation: str | None = None,
) -> InvitationRecord:
    """A second admin approves the official's pending invitation with a signed
    `ikrar/approval/v1`. Raises NotAllowed (nothing to approve; the rules refuse this
    approver: the attester, the official, or whoever revoked the previous key),
    WrongPassphrase. `invitation`, when given, is the id of the invitation the admin was
    shown: a newer one is not approved in its stead (``invite.changed``)."""
    pending = ctx.ledger.invitations.latest(official.nip)
    if pending is not None and invitation is not None and pending.id != invitation:
        raise NotAllowed(
            f"official {official.nip}'s invitation was replaced meanwhile; look again", code="invite.changed"
        )
    if pending is None or not pending.pending(now) or not pending.needs_approval or pending.approved_by is not None:
        raise NotAllowed(
            f"official {official.nip} has no invitation waiting for an approval", code="vouch.nothing", nip=official.nip
        )
    moment = _whole_seconds(now)
    key = admin_key(ctx, by)
    fields = pending.entry_fields() | {
        "approved_by": by,
        "approver": key,
        "approved_at": format_time(moment),
        "approval": _NO_SIGNATURE,
    }
    _ask_rules(ctx, official, fields, moment, early=False)
    acting = voucher(ctx, by, passphrase)
    attestation = attestation_of(ctx.ledger.origin, {**_person(ctx, official), **fields})
    statement = Approval(ctx.ledger.origin, attestation.sha256(), official.nip, moment)
    record = approved(pending, by, key, moment, encode_signature(acting.sign(statement.text().encode())))
    ctx.ledger.invitations.approve(record)
    logger.info("invitation approved nip=%s by=%s attested_by=%s", official.nip, by, pending.attested_by)
    return record


def vouched_fields(ctx: Context, official: OfficialRecord, now: datetime, token: str | None) -> dict[str, Any]:
    """The vouching fields of the official's enrolment: from the invitation of the link
    `token` (web), or the official's pending invitation (command line); for the founding
    admin of a ledger with no admin yet, a fresh attestation by the ledger's key.

    Raises NotAllowed (``enrol.uninvited``: no invitation; ``enrol.unapproved``: the
    second admin has not approved it yet)."""
    invitation = (
        ctx.ledger.invitations.by_token(token_hash(token))
        if token is not None
        else ctx.ledger.invitations.latest(official.nip)
    )
    if invitation is not None and invitation.nip == official.nip and (token is not None or invitation.pending(now)):
        if not invitation.ready():
            raise NotAllowed(
                f"official {official.nip}'s new key needs a second admin's approval first; nothing was written",
                code="enrol.unapproved",
                nip=official.nip,
            )
        return invitation.entry_fields()
    if official.role == "admin" and token is None:  # the command line only: never a bare web link
        founding = _founding(ctx, official, now)
        if founding is not None:
            return founding
    raise NotAllowed(
        f"official {official.nip} has no invitation: a Diskominfo admin must invite them first; nothing was written",
        code="enrol.uninvited",
        nip=official.nip,
    )


def _founding(ctx: Context, official: OfficialRecord, now: datetime) -> dict[str, Any] | None:
    """The ledger's attestation of its first admin, or None when the rules refuse it (an admin exists)."""
    moment = _whole_seconds(now)
    statement = Attestation(
        ctx.ledger.origin,
        secrets.token_hex(16),
        official.nip,
        official.name,
        official.title,
        official.unit,
        "admin",
        moment,
        *_extras(ctx, official),
    )
    fields = {
        **{k: v for k in ("rank", "acting", "appointment") if (v := getattr(statement, k)) is not None},
        "role": "admin",
        "invitation": statement.invitation,
        "invited_at": format_time(moment),
        "attested_by": LEDGER,
        "attester": str(ctx.signer.verifier),
        "attestation": encode_signature(ctx.signer.sign_statement(statement.text().encode())),
    }
    try:
        _ask_rules(ctx, official, fields, moment, early=False)
    except NotAllowed as e:
        if e.code == "key.ledger_attests":
            return None
        raise
    logger.warning("founding admin %s attested by the ledger's own key", official.nip)
    return fields


def revocation_fields(
    ctx: Context, nip: str, key: str, reason: str, by: str, passphrase: str | None
) -> Callable[[datetime], dict[str, Any]] | dict[str, Any]:
    """The fields of the `key.revoked` entry: under rules version 3 signed by the acting
    admin's key over the entry's time (so a function of it), before as they always were."""
    fields = {"nip": nip, "key": key, "reason": reason, "by": by}
    if rules_version(ctx) < VOUCHING_RULES:
        return fields
    revoker = admin_key(ctx, by)
    try:
        ctx.ledger.precheck(
            "key.revoked", {**fields, "revoker": revoker, "revocation": _NO_SIGNATURE}, ctx.ledger.clock()
        )
    except Conflict as e:
        raise NotAllowed(str(e), code=e.code, **e.params) from e
    acting = voucher(ctx, by, passphrase)

    def signed_at(moment: datetime) -> dict[str, Any]:
        statement = Revocation(ctx.ledger.origin, nip, key, reason, moment)
        return {**fields, "revoker": revoker, "revocation": encode_signature(acting.sign(statement.text().encode()))}

    return signed_at
