"""Database tables: the storage edge of the ledger, not its domain.

`entry`, `checkpoint` and `merkle_node` are the ledger itself (append-only).
`official_key`, `commitment`, `commitment_signer` and `signature` are projections of the
entries, written in the same transaction as the entry they follow from, so that rules
can be checked under the append lock. `official` is the register of people.
`ledger_meta` holds the origin and the ledger's verifier key. From rules version 4
`official_update` and `decline`, and from rules version 5 `role_grant`, `application` and
`app_event`, are projections too.

`account`, `web_session`, `enrolment_token` and `throttle` are the logins of the people in
the register: no part of the ledger, they live in its database so that one backup holds
everything. Secrets are never stored in the clear: passwords as argon2id hashes, session
ids and enrolment tokens as SHA-256 hashes. `app_draft` and `app_attachment` hold the requests
being prepared and the files they attach (the ledger keeps each file's SHA-256). Only `ledger/`
reads or writes any table;
`ledger.register` is the door to the register and the logins.
"""

from __future__ import annotations

import builtins
from datetime import datetime

from sqlalchemy import Column, DateTime, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def _utc_column(nullable: bool = False, index: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), nullable=nullable, index=index)


class EntryRow(SQLModel, table=True):
    __tablename__ = "entry"
    idx: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    kind: str = Field(max_length=64, index=True)
    time: datetime = Field(sa_column=_utc_column())
    prev: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    leaf_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    leaf: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class CheckpointRow(SQLModel, table=True):
    __tablename__ = "checkpoint"
    size: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    note: str = Field(sa_column=Column(Text, nullable=False))


class MerkleNodeRow(SQLModel, table=True):
    """Hash of the perfect subtree of 2**level leaves starting at leaf idx << level (level >= 1)."""

    __tablename__ = "merkle_node"
    level: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    idx: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))


class LedgerMeta(SQLModel, table=True):
    __tablename__ = "ledger_meta"
    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=Column(Text, nullable=False))


class Official(SQLModel, table=True):
    """A person who may be asked to sign; `role` is `official` or `admin`."""

    __tablename__ = "official"
    nip: str = Field(primary_key=True, max_length=18)
    name: str = Field(max_length=200)
    title: str = Field(max_length=200)
    unit: str = Field(max_length=200)
    role: str = Field(default="official", max_length=16)
    created_at: datetime = Field(sa_column=_utc_column())
    email: str | None = Field(default=None, max_length=254)  # the official surel dinas, for notices
    rank: str | None = Field(default=None, max_length=200)  # pangkat/golongan (rules version 4)
    acting: str | None = Field(default=None, max_length=8)  # Plt. or Plh.
    appointment: str | None = Field(default=None, max_length=200)  # the acting appointment's letter number


class OfficialKey(SQLModel, table=True):
    __tablename__ = "official_key"
    key: str = Field(primary_key=True, max_length=200)
    nip: str = Field(index=True, max_length=18)
    enrolled_index: int
    enrolled_at: datetime = Field(sa_column=_utc_column())
    revoked_index: int | None = None
    revoked_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    revoked_reason: str | None = None


class Commitment(SQLModel, table=True):
    __tablename__ = "commitment"
    slug: str = Field(primary_key=True, max_length=80)
    title: str = Field(max_length=300)
    text: str = Field(sa_column=Column(Text, nullable=False))
    text_sha256: str = Field(max_length=64)
    published_index: int
    published_at: datetime = Field(sa_column=_utc_column())
    deadline: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))  # as last extended


class CommitmentSigner(SQLModel, table=True):
    __tablename__ = "commitment_signer"
    slug: str = Field(primary_key=True, max_length=80)
    nip: str = Field(primary_key=True, max_length=18)
    position: int


class Signature(SQLModel, table=True):
    __tablename__ = "signature"
    __table_args__ = (UniqueConstraint("slug", "nip", name="uq_signature_slug_nip"),)
    idx: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    slug: str = Field(index=True, max_length=80)
    nip: str = Field(index=True, max_length=18)
    key: str = Field(max_length=200)
    signed_at: datetime = Field(sa_column=_utc_column())
    name: str | None = Field(default=None, max_length=200)  # what a rules-4 signature names (v1: none)
    capacity: str | None = Field(default=None, max_length=420)
    unit: str | None = Field(default=None, max_length=200)


class OfficialUpdate(SQLModel, table=True):
    """An `official.updated` entry (rules version 4): an official's new identity from `idx` on."""

    __tablename__ = "official_update"
    idx: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    nip: str = Field(index=True, max_length=18)
    name: str = Field(max_length=200)
    title: str = Field(max_length=200)
    unit: str = Field(max_length=200)
    rank: str | None = Field(default=None, max_length=200)
    acting: str | None = Field(default=None, max_length=8)
    appointment: str | None = Field(default=None, max_length=200)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    attested_by: str = Field(max_length=18)
    updated_at: datetime = Field(sa_column=_utc_column())


class Decline(SQLModel, table=True):
    """A `commitment.declined` entry (rules version 4): an official declined a commitment."""

    __tablename__ = "decline"
    __table_args__ = (UniqueConstraint("slug", "nip", name="uq_decline_slug_nip"),)
    idx: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    slug: str = Field(index=True, max_length=80)
    nip: str = Field(max_length=18)
    key: str = Field(max_length=200)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    declined_at: datetime = Field(sa_column=_utc_column())


class RoleGrant(SQLModel, table=True):
    """A `role.assigned` entry (rules version 5): a role given (`grant`) or withdrawn. A grant
    is in force until `ended_index`: its withdrawal, or a grant of the role to another (one
    ``pd-head`` a unit, one ``kominfo-head`` in the ledger)."""

    __tablename__ = "role_grant"
    idx: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    nip: str = Field(index=True, max_length=18)
    role: str = Field(max_length=16)
    unit: str = Field(max_length=200)
    grant: bool
    reason: str = Field(sa_column=Column(Text, nullable=False))
    attested_by: str = Field(max_length=18)
    assigned_at: datetime = Field(sa_column=_utc_column())
    ended_index: int | None = None
    ended_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class Application(SQLModel, table=True):
    """An application that a Perangkat Daerah asked Diskominfo to verify (rules version 5): its
    latest revision and status, and the register's columns from that revision's request."""

    __tablename__ = "application"
    app: str = Field(primary_key=True, max_length=9)  # YYYY-NNNN
    revision: int
    status: str = Field(index=True, max_length=24)
    agency: str = Field(index=True, max_length=200)
    name: str = Field(max_length=120)
    kind: str = Field(max_length=16)
    fiscal_year: int
    request_sha256: str = Field(max_length=64)
    first_index: int  # the first revision's `app.submitted`
    first_time: datetime = Field(sa_column=_utc_column())
    submitted_index: int  # the latest revision's
    submitted_time: datetime = Field(sa_column=_utc_column())
    decided_index: int | None = None
    decided_time: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    decision: str | None = Field(default=None, max_length=24)
    updated_time: datetime = Field(sa_column=_utc_column())  # the time of its latest entry
    reviewed_index: int | None = None  # the latest review of this revision (None: not reviewed yet)


class AppEventRow(SQLModel, table=True):
    """An entry of an application (rules version 5): `app.submitted`, `app.reviewed`,
    `app.returned` or `app.decided`, with its revision and who signed, reviewed or returned it."""

    __tablename__ = "app_event"
    idx: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    app: str = Field(index=True, max_length=9)
    revision: int
    kind: str = Field(max_length=16)
    by: str = Field(max_length=18)
    time: datetime = Field(sa_column=_utc_column())
    decision: str | None = Field(default=None, max_length=24)


# -- the logins of the register's people (not part of the ledger) -------------------------


class Account(SQLModel, table=True):
    """The login of a registered person (`official.nip`); the role lives in `official.role`."""

    __tablename__ = "account"
    nip: str = Field(primary_key=True, foreign_key="official.nip", max_length=18)
    password_hash: str = Field(max_length=255)
    password_set_at: datetime = Field(sa_column=_utc_column())
    last_login_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class WebSession(SQLModel, table=True):
    """A browser session. `nip` is empty before login (the session then only carries the
    CSRF token of the login or enrolment form); login replaces the row with a new id."""

    __tablename__ = "web_session"
    id_hash: str = Field(primary_key=True, max_length=64)
    nip: str | None = Field(default=None, foreign_key="official.nip", index=True, max_length=18)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_utc_column())
    expires_at: datetime = Field(sa_column=_utc_column(index=True))
    confirmed_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))  # password last given


class EnrolmentToken(SQLModel, table=True):
    """A one-time enrolment (or password reset) link; only the token's SHA-256 is kept."""

    __tablename__ = "enrolment_token"
    token_hash: str = Field(primary_key=True, max_length=64)
    nip: str = Field(foreign_key="official.nip", index=True, max_length=18)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_utc_column())
    expires_at: datetime = Field(sa_column=_utc_column())
    used_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class Throttle(SQLModel, table=True):
    """Failed attempts of one kind (`login` or `sign`) for one NIP, and the lock they earned.

    No foreign key: failed logins for an unregistered NIP are counted too, so that the
    answers do not reveal who is registered.
    """

    __tablename__ = "throttle"
    scope: str = Field(primary_key=True, max_length=16)
    nip: str = Field(primary_key=True, max_length=18)
    failures: int = 0
    last_failure_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    locked_until: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class Invitation(SQLModel, table=True):
    """An admin's signed attestation that issues an enrolment (`ikrar/attestation/v1`), and
    for a replacement key a second admin's signed approval (`ikrar/approval/v1`): copied into
    the `key.enrolled` entry when the official enrols with the link `token_hash`."""

    __tablename__ = "invitation"
    id: str = Field(primary_key=True, max_length=32)  # the statement's `invitation`, 32 hex
    token_hash: str = Field(foreign_key="enrolment_token.token_hash", unique=True, max_length=64)
    nip: str = Field(foreign_key="official.nip", index=True, max_length=18)
    name: str = Field(max_length=200)
    title: str = Field(max_length=200)
    unit: str = Field(max_length=200)
    role: str = Field(max_length=16)
    invited_at: datetime = Field(sa_column=_utc_column())
    attested_by: str = Field(max_length=18)
    attester: str = Field(max_length=200)
    attestation: str = Field(max_length=100)
    replacement: bool = False  # an approval is needed (a replacement key, or an admin's)
    approved_by: str | None = Field(default=None, max_length=18)
    approver: str | None = Field(default=None, max_length=200)
    approved_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    approval: str | None = Field(default=None, max_length=100)
    rank: str | None = Field(default=None, max_length=200)  # rules version 4: the attestation names them
    acting: str | None = Field(default=None, max_length=8)
    appointment: str | None = Field(default=None, max_length=200)


class MailReminder(SQLModel, table=True):
    """A round of reminders to sign commitment `slug`: who sent it, when. Its mails are the
    outbox rows of event ``reminder`` that name it, written in the same transaction.
    `request` is the confirmation form's once-only token: a form sent twice queues once."""

    __tablename__ = "mail_reminder"
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(index=True, max_length=80)
    sent_by: str = Field(max_length=18)
    created_at: datetime = Field(sa_column=_utc_column())
    request: str = Field(max_length=64, unique=True)


class MailOutbox(SQLModel, table=True):
    """A notice to mail: written in the transaction of the ledger entry it tells of (so a
    signature is never without its notice, nor a notice without its signature), sent and
    retried by the server's mailer. The text is made at sending, from the entry.

    A reminder to sign (event ``reminder``) names no entry but its round (`reminder_id`,
    `MailReminder`): one per official and round, so each new round is mailed again."""

    __tablename__ = "mail_outbox"
    __table_args__ = (
        UniqueConstraint("event", "nip", "entry_index", name="uq_mail_outbox_event"),
        UniqueConstraint("reminder_id", "nip", name="uq_mail_outbox_reminder"),
    )
    id: int | None = Field(default=None, primary_key=True)
    event: str = Field(max_length=32)
    nip: str = Field(max_length=18)
    entry_index: int | None = None
    created_at: datetime = Field(sa_column=_utc_column())
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=_utc_column(index=True))
    sent_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    last_error: str | None = Field(default=None, max_length=500)
    reminder_id: int | None = Field(default=None, foreign_key="mail_reminder.id")  # event ``reminder`` only


class LoginThrottle(SQLModel, table=True):
    """Failed logins for one NIP from one client address, and the lock they earned: a
    stranger's failures lock only the stranger's address, never the official's."""

    __tablename__ = "login_throttle"
    nip: str = Field(primary_key=True, max_length=18)
    address: str = Field(primary_key=True, max_length=64)
    failures: int = 0
    last_failure_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    locked_until: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class LockLift(SQLModel, table=True):
    """An admin lifted a lock: who, whose, when (kept; the register's own record)."""

    __tablename__ = "lock_lift"
    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=16)
    nip: str = Field(index=True, max_length=18)
    address: str | None = Field(default=None, max_length=64)
    lifted_by: str = Field(max_length=18)
    lifted_at: datetime = Field(sa_column=_utc_column())


# -- applications being prepared, and the files they attach (not part of the ledger) ------


class AppDraft(SQLModel, table=True):
    """A request to verify an application, being prepared by a PD's operator before the Kepala
    PD signs it (`app` set when it revises a returned request); deleted once it is submitted."""

    __tablename__ = "app_draft"
    id: int | None = Field(default=None, primary_key=True)
    agency: str = Field(index=True, max_length=200)
    app: str | None = Field(default=None, max_length=9)
    request_json: str = Field(sa_column=Column(Text, nullable=False))
    prepared_by: str = Field(max_length=18)
    updated_at: datetime = Field(sa_column=_utc_column())


class AppAttachment(SQLModel, table=True):
    """A file a request attaches, kept by its SHA-256 (which the request on the ledger names)."""

    __tablename__ = "app_attachment"
    sha256: str = Field(primary_key=True, max_length=64)
    file_name: str = Field(max_length=200)
    bytes: int  # the file's size (its name as in the request's attachments)
    data: builtins.bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    stored_at: datetime = Field(sa_column=_utc_column())
