"""The register of people and their logins: kept in the ledger's database, not on the ledger.

The register (`official`) says who may be asked to sign, log in and enrol; the logins
(`account`, `web_session`, `enrolment_token`, `throttle`, `login_throttle`, `lock_lift`)
are the web's, and so are the requests to verify an application being prepared
(`app_draft`) and the files they attach (`app_attachment`). None of it is
signed: it serves login and administration, and what a page shows about a signature
comes from the entries. This module is their one door (SQL stays in `ledger/`); the policy
(password hashing, how long a lock lasts) is the caller's.
"""

from __future__ import annotations

import builtins
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, delete, insert, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from .db import (
    ACCOUNT,
    ATTACHMENT,
    DRAFT,
    INSERT,
    INVITATION,
    LOCK_LIFT,
    LOGIN_THROTTLE,
    OFFICIAL,
    SESSION,
    TABLES,
    THROTTLE,
    TOKEN,
    writer,
)
from .errors import Conflict, InvalidInput, NotFound
from .identity import EXTRA, Identity
from .models import (
    Account,
    AppAttachment,
    AppDraft,
    EnrolmentToken,
    Invitation,
    LockLift,
    LoginThrottle,
    Official,
    Throttle,
    WebSession,
)
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
    confirmed_at: datetime | None = None  # when the password was last given in this session


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
    """Failed attempts of one scope for one NIP, and the lock they earned. The scope `login`
    counts per NIP and client `address` (table `login_throttle`); any other scope (`sign`,
    and the caller's per-NIP counts) per NIP alone (table `throttle`)."""

    scope: str
    nip: str
    failures: int = 0
    last_failure_at: datetime | None = None
    locked_until: datetime | None = None
    address: str | None = None


class ThrottleKey(NamedTuple):
    """Which count: a scope, a NIP and, for `login`, the client address."""

    scope: str
    nip: str
    address: str | None = None


@dataclass(frozen=True)
class LockLiftRecord:
    """An admin (`lifted_by`, a NIP) lifted the lock of `scope` for `nip` (and `address`)."""

    id: int
    scope: str
    nip: str
    address: str | None
    lifted_by: str
    lifted_at: datetime


@dataclass(frozen=True)
class DraftRecord:
    """A request to verify an application, being prepared for `agency` (rules version 5):
    `request_json` is the request object as JSON (not yet checked: a draft may be unfinished),
    `prepared_by` the NIP of who last saved it, `app` the returned application it revises
    (None for a new one). `id` is None until saved."""

    id: int | None
    agency: str
    app: str | None
    request_json: str
    prepared_by: str
    updated_at: datetime


@dataclass(frozen=True)
class AttachmentRecord:
    """A file a request attaches, kept by its SHA-256 (which the request on the ledger names)."""

    sha256: str
    file_name: str
    bytes: int
    data: builtins.bytes
    stored_at: datetime


PER_ADDRESS = "login"  # the scope counted per NIP and client address, in `login_throttle`

_ACCOUNTS, _SESSIONS = TABLES[Account], TABLES[WebSession]
_TOKENS, _THROTTLES = TABLES[EnrolmentToken], TABLES[Throttle]
_LOGIN_THROTTLES, _LOCK_LIFTS = TABLES[LoginThrottle], TABLES[LockLift]
_DRAFTS, _ATTACHMENTS = TABLES[AppDraft], TABLES[AppAttachment]
_DRAFT_COLUMNS = (DRAFT.id, DRAFT.agency, DRAFT.app, DRAFT.request_json, DRAFT.prepared_by, DRAFT.updated_at)


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)


_EMAIL = re.compile(
    r"(?!\.)(?!.*\.\.)[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}(?<!\.)"  # the local part: no quotes, spaces, brackets
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}",  # a host name with a dot
    re.ASCII,
)


def check_email(address: str | None) -> str | None:
    """An official's e-mail address as the register keeps it: trimmed, its domain in lower
    case; None for none (blank). Raises InvalidInput (``official.email``) for anything that is
    not one plain ASCII address of at most 254 characters (no name, no second address, no
    line break that could add a header)."""
    if address is None or not address.strip():
        return None
    address = address.strip()
    if len(address) > 254 or not _EMAIL.fullmatch(address):
        raise InvalidInput(f"{address[:80]!r} is not an e-mail address", code="official.email", address=address[:80])
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def _throttle(row: Any) -> ThrottleRecord:
    return ThrottleRecord(row[0], row[1], row[2], _utc(row[3]), _utc(row[4]))


def _login_throttle(row: Any) -> ThrottleRecord:
    return ThrottleRecord(PER_ADDRESS, row[0], row[2], _utc(row[3]), _utc(row[4]), row[1])


def _throttle_row(key: ThrottleKey) -> tuple[Any, tuple[Any, ...]]:
    """The table of the count `key` and the condition that picks its row."""
    if key.scope == PER_ADDRESS:
        if key.address is None:
            raise ValueError("a login count needs the client address")
        return _LOGIN_THROTTLES, (LOGIN_THROTTLE.nip == key.nip, LOGIN_THROTTLE.address == key.address)
    return _THROTTLES, (THROTTLE.scope == key.scope, THROTTLE.nip == key.nip)


def _read_throttle(c: Connection, key: ThrottleKey, lock: bool = False) -> ThrottleRecord | None:
    """The row of the count `key` (locked for update when `lock`), or None."""
    table, where = _throttle_row(key)
    q = select(*table.c).where(*where)
    row = c.execute(q.with_for_update() if lock else q).first()
    if row is None:
        return None
    return _login_throttle(row) if key.scope == PER_ADDRESS else _throttle(row)


def _throttle_values(record: ThrottleRecord) -> dict[str, Any]:
    values = {k: v for k, v in vars(record).items() if k != "address"}
    if record.scope == PER_ADDRESS:
        del values["scope"]
        values["address"] = record.address
    return values


class Register:
    """The register and the logins of one database. Safe to share between threads."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writer = writer(engine)

    # -- people -----------------------------------------------------------------------

    def add_official(self, official: OfficialRecord) -> None:
        """Raises Conflict when the NIP is registered already, InvalidInput for a malformed e-mail address."""
        row = {**vars(official), "email": check_email(official.email)}
        try:
            with self._writer.begin() as c:
                c.execute(INSERT[Official], row)
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

    def set_email(self, nip: str, address: str | None) -> str | None:
        """Give official `nip` the e-mail address `address` (blank or None: none); returns it
        as kept (`check_email`). Raises InvalidInput (malformed) or NotFound (unknown NIP)."""
        email = check_email(address)
        with self._writer.begin() as c:
            done = c.execute(update(TABLES[Official]).where(OFFICIAL.nip == nip).values(email=email))
        if done.rowcount != 1:
            raise NotFound(f"no official with NIP {nip} is registered", code="official.unknown", nip=nip)
        return email

    def set_identity(self, nip: str, identity: Identity) -> None:
        """Give official `nip` the name, position and unit an `official.updated` entry recorded
        (the register follows the ledger). Raises NotFound (unknown NIP)."""
        values = {**{k: None for k in EXTRA}, **identity.fields()}
        with self._writer.begin() as c:
            done = c.execute(update(TABLES[Official]).where(OFFICIAL.nip == nip).values(**values))
        if done.rowcount != 1:
            raise NotFound(f"no official with NIP {nip} is registered", code="official.unknown", nip=nip)

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

    def rehash_password(self, nip: str, password_hash: str) -> None:
        """Store a stronger hash of the same password (its sessions stay)."""
        with self._writer.begin() as c:
            c.execute(update(_ACCOUNTS).where(ACCOUNT.nip == nip).values(password_hash=password_hash))

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

    def record_login(self, nip: str, now: datetime) -> datetime | None:
        """Note a login of `nip` at `now` as the account's last login, and return the one
        before it (None: the first login, or no account)."""
        with self._writer.begin() as c:
            q = select(ACCOUNT.last_login_at).where(ACCOUNT.nip == nip).with_for_update()
            previous = c.execute(q).scalar()
            c.execute(update(_ACCOUNTS).where(ACCOUNT.nip == nip).values(last_login_at=now))
        return _utc(previous)

    # -- sessions ---------------------------------------------------------------------

    def add_session(self, session: SessionRecord, now: datetime, replaces: str | None = None) -> None:
        """Store `session`, forget expired ones, and end the session `replaces` (an id hash)."""
        with self._writer.begin() as c:
            c.execute(delete(_SESSIONS).where(SESSION.expires_at < now))
            if replaces:
                c.execute(delete(_SESSIONS).where(SESSION.id_hash == replaces))
            c.execute(insert(_SESSIONS).values(**vars(session)))

    def session(self, id_hash: str) -> SessionRecord | None:
        columns = (SESSION.id_hash, SESSION.nip, SESSION.csrf_token, SESSION.created_at, SESSION.expires_at)
        with self._engine.connect() as c:
            row = c.execute(select(*columns, SESSION.confirmed_at).where(SESSION.id_hash == id_hash)).first()
        if row is None:
            return None
        return SessionRecord(row[0], row[1], row[2], as_utc(row[3]), as_utc(row[4]), _utc(row[5]))

    def confirm_session(self, id_hash: str, now: datetime) -> None:
        """Note that the session's password was given again at `now`."""
        with self._writer.begin() as c:
            c.execute(update(_SESSIONS).where(SESSION.id_hash == id_hash).values(confirmed_at=now))

    def end_session(self, id_hash: str) -> None:
        with self._writer.begin() as c:
            c.execute(delete(_SESSIONS).where(SESSION.id_hash == id_hash))

    # -- enrolment links --------------------------------------------------------------

    def add_enrolment(self, link: EnrolmentRecord) -> None:
        """Store a new link for a registered person; their earlier unused links (and the
        invitations of those: `ledger.invitations`) stop working.

        Raises NotFound when `link.nip` is not registered."""
        with self._writer.begin() as c:
            if c.execute(select(OFFICIAL.nip).where(OFFICIAL.nip == link.nip)).first() is None:
                raise NotFound(f"no official with NIP {link.nip} is registered", code="official.unknown", nip=link.nip)
            unused = select(TOKEN.token_hash).where(TOKEN.nip == link.nip, TOKEN.used_at.is_(None))
            c.execute(delete(TABLES[Invitation]).where(INVITATION.token_hash.in_(unused)))
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

    def throttle(self, scope: str, nip: str, address: str | None = None) -> ThrottleRecord | None:
        """The count of (scope, nip), and for `login` of the client `address` too."""
        with self._engine.connect() as c:
            return _read_throttle(c, ThrottleKey(scope, nip, address))

    def settle_throttles(
        self,
        keys: Sequence[ThrottleKey],
        now: datetime,
        forget_before: datetime,
        settle: Callable[[list[ThrottleRecord | None]], list[ThrottleRecord | None]],
    ) -> list[ThrottleRecord | None]:
        """In one write transaction: forget stale counts (those no lock holds at `now` whose
        last failure is before `forget_before`, so that made-up NIPs cannot fill the tables),
        read the rows of `keys` for update, in their order, and write what `settle(rows)`
        returns for each (None deletes it). `settle` may raise to change nothing. A first
        failure counted at the same moment elsewhere is retried once. Returns the new rows.
        """
        for attempt in range(2):
            try:
                with self._writer.begin() as c:
                    for table in (_THROTTLES, _LOGIN_THROTTLES):
                        c.execute(
                            delete(table).where(
                                table.c.last_failure_at < forget_before,
                                or_(table.c.locked_until.is_(None), table.c.locked_until < now),
                            )
                        )
                    before = [_read_throttle(c, key, lock=True) for key in keys]
                    after = settle(before)
                    for key, old, new in zip(keys, before, after, strict=True):
                        table, where = _throttle_row(key)
                        if new == old:
                            continue
                        if new is None:
                            c.execute(delete(table).where(*where))
                        elif old is None:
                            c.execute(insert(table).values(**_throttle_values(new)))
                        else:
                            c.execute(update(table).where(*where).values(**_throttle_values(new)))
                    return after
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def locks(self, now: datetime) -> list[ThrottleRecord]:
        """The locks holding at `now`: logins per NIP and address, the other scopes per NIP;
        the latest to end first."""
        with self._engine.connect() as c:
            logins = c.execute(select(*LOGIN_THROTTLE).where(LOGIN_THROTTLE.locked_until > now)).all()
            others = c.execute(
                select(*THROTTLE).where(THROTTLE.locked_until > now, THROTTLE.scope != PER_ADDRESS)
            ).all()
        found = [_login_throttle(row) for row in logins] + [_throttle(row) for row in others]
        return sorted(found, key=lambda r: (r.locked_until, r.nip, r.scope, r.address or ""), reverse=True)

    def lift_lock(self, key: ThrottleKey, by: str, now: datetime) -> bool:
        """Clear the count of `key` and, when a lock held it at `now`, record that `by` (an
        admin's NIP) lifted it. Returns whether a lock was lifted."""
        table, where = _throttle_row(key)
        with self._writer.begin() as c:
            found = _read_throttle(c, key, lock=True)
            if found is None:
                return False
            c.execute(delete(table).where(*where))
            held = found.locked_until is not None and found.locked_until > now
            if held:
                lift = {"scope": key.scope, "nip": key.nip, "address": key.address, "lifted_by": by, "lifted_at": now}
                c.execute(insert(_LOCK_LIFTS).values(**lift))
        return held

    def lock_lifts(self, limit: int) -> list[LockLiftRecord]:
        """The `limit` latest lifted locks, newest first."""
        q = select(*LOCK_LIFT).order_by(LOCK_LIFT.lifted_at.desc(), LOCK_LIFT.id.desc()).limit(limit)
        with self._engine.connect() as c:
            rows = c.execute(q).all()
        return [LockLiftRecord(r.id, r.scope, r.nip, r.address, r.lifted_by, as_utc(r.lifted_at)) for r in rows]

    # -- requests being prepared, and their attachments (rules version 5) -----------------

    def save_draft(self, draft: DraftRecord) -> int:
        """Store `draft` (a new one when its `id` is None, else over the draft `id`) and return
        its id. Raises NotFound when the draft `id` is no longer there (submitted or deleted)."""
        values = {k: v for k, v in vars(draft).items() if k != "id"}
        with self._writer.begin() as c:
            if draft.id is None:
                key = c.execute(insert(_DRAFTS).values(**values)).inserted_primary_key
                assert key is not None
                return int(key[0])
            done = c.execute(update(_DRAFTS).where(DRAFT.id == draft.id).values(**values))
        if done.rowcount != 1:
            raise NotFound(f"there is no draft {draft.id}", code="app.draft_not_found", id=draft.id)
        return draft.id

    @staticmethod
    def _draft(row: Any) -> DraftRecord:
        return DraftRecord(row[0], row[1], row[2], row[3], row[4], as_utc(row[5]))

    def draft(self, id: int) -> DraftRecord | None:
        """The draft `id`, or None."""
        with self._engine.connect() as c:
            row = c.execute(select(*_DRAFT_COLUMNS).where(DRAFT.id == id)).first()
        return None if row is None else self._draft(row)

    def drafts(self, agency: str | None = None) -> list[DraftRecord]:
        """The drafts (of `agency`), the latest saved first."""
        q = select(*_DRAFT_COLUMNS).order_by(DRAFT.updated_at.desc(), DRAFT.id.desc())
        if agency is not None:
            q = q.where(DRAFT.agency == agency)
        with self._engine.connect() as c:
            return [self._draft(row) for row in c.execute(q)]

    def delete_draft(self, id: int) -> None:
        """Remove the draft `id` (nothing when it is gone already)."""
        with self._writer.begin() as c:
            c.execute(delete(_DRAFTS).where(DRAFT.id == id))

    def put_attachment(self, sha256: str, file_name: str, data: builtins.bytes, now: datetime) -> None:
        """Keep the file `data` under its SHA-256 (hex), named `file_name`; a file kept already
        stays as it is (the same bytes, whatever name it came with). Raises InvalidInput when
        `sha256` is not the SHA-256 of `data`."""
        if hashlib.sha256(data).hexdigest() != sha256:
            raise InvalidInput("the attachment is not the file its SHA-256 names", code="app.attachment_sha256")
        row = {"sha256": sha256, "file_name": file_name, "bytes": len(data), "data": data, "stored_at": now}
        try:
            with self._writer.begin() as c:
                if c.execute(select(ATTACHMENT.sha256).where(ATTACHMENT.sha256 == sha256)).first() is None:
                    c.execute(insert(_ATTACHMENTS).values(**row))
        except IntegrityError:
            pass  # kept at the same moment by another request: the same bytes, under the same hash

    def attachments_kept_before(self, moment: datetime) -> list[tuple[str, str, int, datetime]]:
        """Every file kept before `moment`: its SHA-256, name, size and when it was kept (not its bytes)."""
        q = (
            select(ATTACHMENT.sha256, ATTACHMENT.file_name, ATTACHMENT.bytes, ATTACHMENT.stored_at)
            .where(ATTACHMENT.stored_at < moment)
            .order_by(ATTACHMENT.stored_at)
        )
        with self._engine.connect() as c:
            return [(r.sha256, r.file_name, r.bytes, as_utc(r.stored_at)) for r in c.execute(q)]

    def delete_attachment(self, sha256: str) -> None:
        """Forget the file kept under `sha256` (`ikrar doctor --fix`: one no request names)."""
        with self._writer.begin() as c:
            c.execute(delete(_ATTACHMENTS).where(ATTACHMENT.sha256 == sha256))

    def attachment(self, sha256: str) -> AttachmentRecord | None:
        """The file kept under `sha256`, or None."""
        q = select(*ATTACHMENT).where(ATTACHMENT.sha256 == sha256)
        with self._engine.connect() as c:
            row = c.execute(q).first()
        if row is None:
            return None
        return AttachmentRecord(row.sha256, row.file_name, row.bytes, bytes(row.data), as_utc(row.stored_at))
