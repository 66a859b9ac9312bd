"""The web application's own tables: logins, sessions, enrolment links and throttling.

None of these is part of the ledger: they are the storage edge of the web shell and may
be changed or purged without touching what was signed. Secrets are never stored in the
clear: passwords as argon2id hashes, session ids and enrolment tokens as SHA-256 hashes.
Times are UTC (SQLite hands them back naive; read them through `as_utc`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime
from sqlmodel import Field, SQLModel


def as_utc(moment: datetime) -> datetime:
    """A stored time as an aware UTC datetime: SQLite returns them naive, and naive means UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _utc_column(nullable: bool = False, index: bool = False) -> Column:
    return Column(DateTime(timezone=True), nullable=nullable, index=index)


class Account(SQLModel, table=True):
    """The login of a registered person (`official.nip`); the role lives in `official.role`."""

    __tablename__ = "account"
    nip: str = Field(primary_key=True, foreign_key="official.nip", max_length=18)
    password_hash: str = Field(max_length=255)
    password_set_at: datetime = Field(sa_column=_utc_column())


class WebSession(SQLModel, table=True):
    """A browser session. `nip` is empty before login (the session then only carries the
    CSRF token of the login or enrolment form); login replaces the row with a new id."""

    __tablename__ = "web_session"
    id_hash: str = Field(primary_key=True, max_length=64)
    nip: str | None = Field(default=None, foreign_key="official.nip", index=True, max_length=18)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_utc_column())
    expires_at: datetime = Field(sa_column=_utc_column(index=True))


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
