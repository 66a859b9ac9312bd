"""The register of people and their logins: kept in the ledger's database, not on the ledger.

The register (`official`) says who may be asked to sign, log in and enrol; the logins
(`account`, `web_session`, `enrolment_token`, `throttle`) are the web's. None of it is
signed: it serves login and administration, and what a page shows about a signature
comes from the entries. This module is their one door (SQL stays in `ledger/`); the policy
(password hashing, how long a lock lasts) is the caller's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from .db import ACCOUNT, INSERT, OFFICIAL, SESSION, TABLES, THROTTLE, TOKEN, writer
from .errors import Conflict, NotFound
from .models import Account, EnrolmentToken, Official, Throttle, WebSession
from .reader import OfficialRecord, Reader
from .times import as_utc


@dataclass(frozen=True)
class SessionRecord:
    """A browser session; `nip` is None before login (it then only carries a CSRF token)."""

    id_hash: str
    nip: str | None
    csrf_token: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class EnrolmentRecord:
    """A one-time enrolment link; only its token's SHA-256 is kept."""

    token_hash: str
    nip: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True)
class ThrottleRecord:
    """Failed attempts of one scope (`login`, `sign`) for one NIP, and the lock they earned."""

    scope: str
    nip: str
    failures: int = 0
    last_failure_at: datetime | None = None
    locked_until: datetime | None = None


_ACCOUNTS, _SESSIONS = TABLES[Account], TABLES[WebSession]
_TOKENS, _THROTTLES = TABLES[EnrolmentToken], TABLES[Throttle]


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)


def _throttle(row: Any) -> ThrottleRecord:
    return ThrottleRecord(row[0], row[1], row[2], _utc(row[3]), _utc(row[4]))


class Register:
    """The register and the logins of one database. Safe to share between threads."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writer = writer(engine)

    # -- people -----------------------------------------------------------------------

    def add_official(self, official: OfficialRecord) -> None:
        """Raises Conflict when the NIP is registered already."""
        try:
            with self._writer.begin() as c:
                c.execute(INSERT[Official], vars(official))
        except IntegrityError as e:
            raise Conflict(
                f"an official with NIP {official.nip} is already registered",
                code="official.exists",
                nip=official.nip,
            ) from e

    def has_officials(self) -> bool:
        """Whether anyone is registered (the schema may be missing: then no one is)."""
        try:
            with self._engine.connect() as c:
                return c.execute(select(OFFICIAL.nip).limit(1)).first() is not None
        except DBAPIError:
            return False

    def known_nips(self, nips: list[str]) -> set[str]:
        """Those of `nips` that are registered."""
        with self._engine.connect() as c:
            return set(c.execute(select(OFFICIAL.nip).where(OFFICIAL.nip.in_(nips))).scalars())

    # -- logins -----------------------------------------------------------------------

    def set_password(self, nip: str, password_hash: str, now: datetime) -> None:
        """Create or replace the login of `nip`, and end their sessions."""
        with self._writer.begin() as c:
            done = c.execute(
                update(_ACCOUNTS).where(ACCOUNT.nip == nip).values(password_hash=password_hash, password_set_at=now)
            )
            if done.rowcount == 0:
                c.execute(insert(_ACCOUNTS).values(nip=nip, password_hash=password_hash, password_set_at=now))
            c.execute(delete(_SESSIONS).where(SESSION.nip == nip))

    def login(self, nip: str) -> tuple[OfficialRecord | None, str | None]:
        """The registered person of `nip` and their password hash (None where missing)."""
        with self._engine.connect() as c:
            official = c.execute(select(OFFICIAL).where(OFFICIAL.nip == nip)).first()
            hashed = c.execute(select(ACCOUNT.password_hash).where(ACCOUNT.nip == nip)).scalar()
        person = None if official is None else Reader._official(official)
        return person, hashed

    def has_account(self, nip: str) -> bool:
        with self._engine.connect() as c:
            return c.execute(select(ACCOUNT.nip).where(ACCOUNT.nip == nip)).first() is not None

    def accounts(self) -> set[str]:
        """The NIPs that have a login."""
        with self._engine.connect() as c:
            return set(c.execute(select(ACCOUNT.nip)).scalars())

    # -- sessions ---------------------------------------------------------------------

    def add_session(self, session: SessionRecord, now: datetime, replaces: str | None = None) -> None:
        """Store `session`, forget expired ones, and end the session `replaces` (an id hash)."""
        with self._writer.begin() as c:
            c.execute(delete(_SESSIONS).where(SESSION.expires_at < now))
            if replaces:
                c.execute(delete(_SESSIONS).where(SESSION.id_hash == replaces))
            c.execute(insert(_SESSIONS).values(**vars(session)))

    def session(self, id_hash: str) -> SessionRecord | None:
        with self._engine.connect() as c:
            row = c.execute(
                select(SESSION.id_hash, SESSION.nip, SESSION.csrf_token, SESSION.created_at, SESSION.expires_at).where(
                    SESSION.id_hash == id_hash
                )
            ).first()
        return None if row is None else SessionRecord(row[0], row[1], row[2], as_utc(row[3]), as_utc(row[4]))

    def end_session(self, id_hash: str) -> None:
        with self._writer.begin() as c:
            c.execute(delete(_SESSIONS).where(SESSION.id_hash == id_hash))

    # -- enrolment links --------------------------------------------------------------

    def add_enrolment(self, link: EnrolmentRecord) -> None:
        """Store a new link for a registered person; their earlier unused links stop working.

        Raises NotFound when `link.nip` is not registered."""
        with self._writer.begin() as c:
            if c.execute(select(OFFICIAL.nip).where(OFFICIAL.nip == link.nip)).first() is None:
                raise NotFound(f"no official with NIP {link.nip} is registered", code="official.unknown", nip=link.nip)
            c.execute(delete(_TOKENS).where(TOKEN.nip == link.nip, TOKEN.used_at.is_(None)))
            c.execute(insert(_TOKENS).values(**vars(link)))

    def enrolment(self, token_hash: str) -> EnrolmentRecord | None:
        with self._engine.connect() as c:
            row = c.execute(
                select(
                    TOKEN.token_hash, TOKEN.nip, TOKEN.created_by, TOKEN.created_at, TOKEN.expires_at, TOKEN.used_at
                ).where(TOKEN.token_hash == token_hash)
            ).first()
        if row is None:
            return None
        return EnrolmentRecord(row[0], row[1], row[2], as_utc(row[3]), as_utc(row[4]), _utc(row[5]))

    def claim_enrolment(self, token_hash: str, now: datetime) -> bool:
        """Mark the link used, atomically; False when it was used already (or is unknown)."""
        with self._writer.begin() as c:
            done = c.execute(
                update(_TOKENS).where(TOKEN.token_hash == token_hash, TOKEN.used_at.is_(None)).values(used_at=now)
            )
        return bool(done.rowcount == 1)

    def release_enrolment(self, token_hash: str) -> None:
        """Make a claimed link usable again (the enrolment it was claimed for failed)."""
        with self._writer.begin() as c:
            c.execute(update(_TOKENS).where(TOKEN.token_hash == token_hash).values(used_at=None))

    def pending_enrolments(self, now: datetime) -> dict[str, datetime]:
        """When each person's unused, unexpired link expires (the latest, if several)."""
        links: dict[str, datetime] = {}
        with self._engine.connect() as c:
            for nip, expires in c.execute(select(TOKEN.nip, TOKEN.expires_at).where(TOKEN.used_at.is_(None))):
                expires = as_utc(expires)
                if expires > now:
                    links[nip] = max(links.get(nip, expires), expires)
        return links

    def unfinished_enrolments(self, now: datetime) -> list[EnrolmentRecord]:
        """Unexpired links marked used whose enrolment never finished (no password was set
        at or after the use: the process stopped between the two), oldest first."""
        q = (
            select(TOKEN.token_hash, TOKEN.nip, TOKEN.created_by, TOKEN.created_at, TOKEN.expires_at, TOKEN.used_at)
            .select_from(_TOKENS.outerjoin(_ACCOUNTS, ACCOUNT.nip == TOKEN.nip))
            .where(TOKEN.used_at.is_not(None))
            .where(or_(ACCOUNT.password_set_at.is_(None), ACCOUNT.password_set_at < TOKEN.used_at))
            .order_by(TOKEN.used_at)
        )
        with self._engine.connect() as c:
            rows = c.execute(q).all()
        links = [EnrolmentRecord(r[0], r[1], r[2], as_utc(r[3]), as_utc(r[4]), _utc(r[5])) for r in rows]
        return [link for link in links if link.expires_at > now]

    # -- throttling -------------------------------------------------------------------

    def throttle(self, scope: str, nip: str) -> ThrottleRecord | None:
        with self._engine.connect() as c:
            row = c.execute(select(*THROTTLE).where(THROTTLE.scope == scope, THROTTLE.nip == nip)).first()
        return None if row is None else _throttle(row)

    def settle_throttle(
        self,
        scope: str,
        nip: str,
        forget: Callable[[], object],
        settle: Callable[[ThrottleRecord | None], ThrottleRecord | None],
    ) -> ThrottleRecord | None:
        """In one write transaction: forget stale counts (`forget()` gives the SQL condition of
        rows to delete), read the row of (scope, nip) for update, and write what
        `settle(row)` returns (None deletes it). `settle` may raise to change nothing. A first
        failure counted at the same moment elsewhere is retried once. Returns the new row.
        """
        table = _THROTTLES
        for attempt in range(2):
            try:
                with self._writer.begin() as c:
                    c.execute(delete(table).where(forget()))  # type: ignore[arg-type]
                    found = c.execute(
                        select(*THROTTLE).where(THROTTLE.scope == scope, THROTTLE.nip == nip).with_for_update()
                    ).first()
                    before = None if found is None else _throttle(found)
                    after = settle(before)
                    key = (THROTTLE.scope == scope, THROTTLE.nip == nip)
                    if after is None:
                        if before is not None:
                            c.execute(delete(table).where(*key))
                    elif before is None:
                        c.execute(insert(table).values(**vars(after)))
                    else:
                        c.execute(update(table).where(*key).values(**vars(after)))
                    return after
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def stale_throttles(now: datetime, older_than: datetime) -> Callable[[], object]:
        """The condition of throttle rows that no lock holds any more and whose last failure
        is before `older_than`: what `settle_throttle` forgets, so made-up NIPs cannot fill
        the table."""
        return lambda: (
            (THROTTLE.last_failure_at < older_than) & or_(THROTTLE.locked_until.is_(None), THROTTLE.locked_until < now)
        )
