"""Invitations: an admin's signed attestation and, where the rules ask for one, a second
admin's signed approval, kept with the one-time enrolment link they belong to until the
official enrols (`kinds.key_enrolled` copies them into the entry).

They are the register's, not the ledger's: an invitation that is never used leaves no
entry. Only the link token's SHA-256 is kept, as for every enrolment link.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from .db import INVITATION, OFFICIAL, TABLES, TOKEN, writer
from .errors import Conflict, NotFound
from .models import EnrolmentToken, Invitation
from .times import as_utc

_TOKENS = TABLES[EnrolmentToken]
_INVITATIONS = TABLES[Invitation]


@dataclass(frozen=True)
class InvitationRecord:
    """One invitation; `approved_by` is None until a second admin approves it."""

    id: str
    token_hash: str
    nip: str
    name: str
    title: str
    unit: str
    role: str
    invited_at: datetime
    attested_by: str
    attester: str
    attestation: str
    needs_approval: bool
    expires_at: datetime
    used_at: datetime | None = None
    approved_by: str | None = None
    approver: str | None = None
    approved_at: datetime | None = None
    approval: str | None = None
    rank: str | None = None  # rules version 4: the attestation names them (ikrar/attestation/v2)
    acting: str | None = None
    appointment: str | None = None

    def pending(self, now: datetime) -> bool:
        return self.used_at is None and self.expires_at > now

    def ready(self) -> bool:
        """Whether the official may enrol with it: approved, where an approval is asked."""
        return not self.needs_approval or self.approved_by is not None

    def entry_fields(self) -> dict[str, Any]:
        """The vouching fields of the `key.enrolled` entry this invitation leads to, with the
        identity its attestation names (which the entry records)."""
        from .times import format_time

        fields: dict[str, Any] = {
            "name": self.name,
            "title": self.title,
            "unit": self.unit,
            **{k: v for k in ("rank", "acting", "appointment") if (v := getattr(self, k)) is not None},
            "role": self.role,
            "invitation": self.id,
            "invited_at": format_time(self.invited_at),
            "attested_by": self.attested_by,
            "attester": self.attester,
            "attestation": self.attestation,
        }
        if self.approved_by is not None:
            assert self.approver and self.approved_at and self.approval
            fields |= {
                "approved_by": self.approved_by,
                "approver": self.approver,
                "approved_at": format_time(self.approved_at),
                "approval": self.approval,
            }
        return fields


_COLUMNS = (
    INVITATION.id,
    INVITATION.token_hash,
    INVITATION.nip,
    INVITATION.name,
    INVITATION.title,
    INVITATION.unit,
    INVITATION.role,
    INVITATION.invited_at,
    INVITATION.attested_by,
    INVITATION.attester,
    INVITATION.attestation,
    INVITATION.replacement,
    TOKEN.expires_at,
    TOKEN.used_at,
    INVITATION.approved_by,
    INVITATION.approver,
    INVITATION.approved_at,
    INVITATION.approval,
    INVITATION.rank,
    INVITATION.acting,
    INVITATION.appointment,
)
_SELECT = select(*_COLUMNS).select_from(_INVITATIONS.join(_TOKENS, TOKEN.token_hash == INVITATION.token_hash))


def _record(row: Any) -> InvitationRecord:
    r = list(row)
    r[7], r[12] = as_utc(r[7]), as_utc(r[12])
    r[13] = None if r[13] is None else as_utc(r[13])
    r[16] = None if r[16] is None else as_utc(r[16])
    return InvitationRecord(*r)


class Invitations:
    """The invitations of one database: written under the ledger's writer lock."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writer = writer(engine)

    def add(self, invitation: InvitationRecord, created_at: datetime) -> None:
        """Store a new invitation with its link; the person's earlier unused links and
        invitations stop working. Raises NotFound when the person is not registered."""
        i = invitation
        with self._writer.begin() as c:
            if c.execute(select(OFFICIAL.nip).where(OFFICIAL.nip == i.nip)).first() is None:
                raise NotFound(f"no official with NIP {i.nip} is registered", code="official.unknown", nip=i.nip)
            unused = select(TOKEN.token_hash).where(TOKEN.nip == i.nip, TOKEN.used_at.is_(None))
            c.execute(delete(_INVITATIONS).where(INVITATION.token_hash.in_(unused)))
            c.execute(delete(_TOKENS).where(TOKEN.nip == i.nip, TOKEN.used_at.is_(None)))
            c.execute(
                insert(_TOKENS).values(
                    token_hash=i.token_hash,
                    nip=i.nip,
                    created_by=i.attested_by,
                    created_at=created_at,
                    expires_at=i.expires_at,
                    used_at=None,
                )
            )
            c.execute(
                insert(_INVITATIONS).values(
                    id=i.id,
                    token_hash=i.token_hash,
                    nip=i.nip,
                    name=i.name,
                    title=i.title,
                    unit=i.unit,
                    role=i.role,
                    invited_at=i.invited_at,
                    attested_by=i.attested_by,
                    attester=i.attester,
                    attestation=i.attestation,
                    replacement=i.needs_approval,
                    rank=i.rank,
                    acting=i.acting,
                    appointment=i.appointment,
                )
            )

    def by_token(self, token_hash: str) -> InvitationRecord | None:
        with self._engine.connect() as c:
            row = c.execute(_SELECT.where(INVITATION.token_hash == token_hash)).first()
        return None if row is None else _record(row)

    def latest(self, nip: str) -> InvitationRecord | None:
        """The person's newest invitation, used or not."""
        with self._engine.connect() as c:
            newest = (TOKEN.created_at.desc(), INVITATION.invited_at.desc())  # created_at: to the microsecond
            row = c.execute(_SELECT.where(INVITATION.nip == nip).order_by(*newest)).first()
        return None if row is None else _record(row)

    def pending(self, now: datetime) -> list[InvitationRecord]:
        """Every unused, unexpired invitation, oldest first."""
        with self._engine.connect() as c:
            rows = c.execute(_SELECT.where(TOKEN.used_at.is_(None)).order_by(INVITATION.invited_at)).all()
        return [r for r in map(_record, rows) if r.pending(now)]

    def approve(self, invitation: InvitationRecord) -> None:
        """Record the approval `invitation` carries, unless the invitation was used, replaced
        or approved meanwhile (raises Conflict)."""
        i = invitation
        with self._writer.begin() as c:
            done = c.execute(
                update(_INVITATIONS)
                .where(INVITATION.id == i.id, INVITATION.approved_by.is_(None))
                .values(approved_by=i.approved_by, approver=i.approver, approved_at=i.approved_at, approval=i.approval)
            )
        if done.rowcount != 1:
            raise Conflict("the invitation was approved or replaced meanwhile", code="invite.changed", nip=i.nip)


def approved(invitation: InvitationRecord, by: str, approver: str, at: datetime, approval: str) -> InvitationRecord:
    return replace(invitation, approved_by=by, approver=approver, approved_at=at, approval=approval)
