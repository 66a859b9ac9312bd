"""Logins, sessions, enrolment links and throttling: the web shell's accounts.

Everything here takes the time as `now` and the ledger whose database also holds the web
tables. Passwords are argon2id hashes (argon2-cffi, RFC 9106 low-memory profile); a
session id and an enrolment token are random 256-bit values of which only the SHA-256 is
stored, so a copy of the database lets no one log in or enrol.

Throttling, per NIP and per scope (`login`, `sign`): the first `FREE_FAILURES` failures
cost nothing; each further one makes the next attempt wait (10 s, then 20 s); from
`LOCK_AFTER` failures on, the scope is locked for 15 minutes, doubling with every further
failure up to a day. A success clears the count. The outcome of each attempt is settled
under the throttle's check (`settle_attempt`), so parallel requests learn no more than serial ones.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ledger.errors import NotFound
from ledger.nip import validate_nip
from ledger.reader import OfficialRecord
from ledger.register import EnrolmentRecord, Register, SessionRecord, ThrottleRecord
from ledger.store import Ledger

from .errors import FormInvalid, LinkInvalid, Throttled

logger = logging.getLogger(__name__)

HASHER = PasswordHasher()  # argon2id; tests swap in cheaper parameters
MIN_PASSWORD = 10
MAX_SECRET = 1024  # longer passwords and passphrases are refused before hashing
ANONYMOUS_HOURS = 2  # how long the CSRF session of the login or enrolment form lives

FREE_FAILURES = 3
LOCK_AFTER = 6
SLOW_STEP = timedelta(seconds=10)
LOCK_STEP = timedelta(minutes=15)
LOCK_MAX = timedelta(hours=24)

SCOPES = ("login", "sign")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# -- passwords --------------------------------------------------------------------------


def check_new_password(password: str, confirm: str, nip: str) -> None:
    """Raise FormInvalid unless `password` may become a login password."""
    if len(password) < MIN_PASSWORD:
        raise FormInvalid("err.password_short", n=MIN_PASSWORD)
    if len(password) > MAX_SECRET:
        raise FormInvalid("err.too_long")
    if password.strip() == nip or len(set(password)) < 4:
        raise FormInvalid("err.password_weak")
    if password != confirm:
        raise FormInvalid("err.password_mismatch")


def set_password(ledger: Ledger, nip: str, password: str, now: datetime) -> None:
    """Create or replace the login of a registered person, and end their sessions."""
    ledger.register.set_password(nip, HASHER.hash(password), now)
    logger.info("password set nip=%s", nip)


_DUMMY_HASH: list[str] = []


def _verify(stored: str | None, password: str) -> bool:
    if stored is None:  # spend the same time as a real check, so timing tells nothing
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(HASHER.hash(secrets.token_hex(16)))
        stored = _DUMMY_HASH[0]
    try:
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(ledger: Ledger, nip: str, password: str, now: datetime) -> OfficialRecord:
    """The official whose NIP and password these are.

    Raises Throttled while the login is slowed down or locked, FormInvalid
    (`err.login_failed`) for a wrong NIP or password, and Throttled when this failure
    locks the login.
    """
    nip = "".join(nip.split())
    if len(nip) != 18 or not nip.isdigit() or len(password) > MAX_SECRET:
        raise FormInvalid("err.login_failed")
    check_throttle(ledger, "login", nip, now)
    official, hashed = ledger.register.login(nip)
    stored = hashed if official is not None else None
    right = _verify(stored, password) and stored is not None
    settle_attempt(ledger, "login", nip, now, right)
    if not right:
        raise FormInvalid("err.login_failed")
    assert official is not None and stored is not None
    if HASHER.check_needs_rehash(stored):
        set_password(ledger, nip, password, now)
    return official


# -- sessions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionInfo:
    id_hash: str
    nip: str | None
    csrf_token: str
    expires_at: datetime

    def csrf_matches(self, token: str) -> bool:
        return hmac.compare_digest(self.csrf_token.encode(), token.encode())


def new_session(
    ledger: Ledger, nip: str | None, now: datetime, hours: int, replaces: str | None = None
) -> tuple[str, SessionInfo]:
    """Start a session (anonymous when `nip` is None); returns the cookie value and the row.

    `replaces` is the id hash of the session to end at the same time: at login the id
    changes, so a session id planted before login is worth nothing after it.
    """
    cookie = secrets.token_urlsafe(32)
    lifetime = timedelta(hours=hours if nip else ANONYMOUS_HOURS)
    row = SessionRecord(_digest(cookie), nip, secrets.token_urlsafe(32), now, now + lifetime)
    ledger.register.add_session(row, now, replaces)
    return cookie, SessionInfo(row.id_hash, nip, row.csrf_token, row.expires_at)


def load_session(ledger: Ledger, cookie: str | None, now: datetime) -> SessionInfo | None:
    """The live session named by the cookie, or None (no cookie, unknown or expired id)."""
    if not cookie or len(cookie) > 100:
        return None
    row = ledger.register.session(_digest(cookie))
    if row is None or row.expires_at <= now:
        return None
    return SessionInfo(row.id_hash, row.nip, row.csrf_token, row.expires_at)


def end_session(ledger: Ledger, id_hash: str) -> None:
    ledger.register.end_session(id_hash)


# -- enrolment links --------------------------------------------------------------------


def issue_enrolment(ledger: Ledger, nip: str, by: str, now: datetime, hours: int) -> tuple[str, datetime]:
    """A new one-time link token for a registered person; earlier unused ones stop working.

    Returns the token (shown once, never stored) and when it expires. Raises InvalidInput
    for a malformed NIP and FormInvalid (`err.unknown_official`) for an unregistered one.
    """
    nip = validate_nip(nip, now.date())
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=hours)
    try:
        ledger.register.add_enrolment(EnrolmentRecord(_digest(token), nip, by[:64], now, expires, None))
    except NotFound as e:
        raise FormInvalid("err.unknown_official", nip=nip) from e
    logger.info("enrolment link issued nip=%s by=%s", nip, by)
    return token, expires


def pending_enrolment(ledger: Ledger, token: str, now: datetime) -> EnrolmentRecord:
    """The unused, unexpired link of `token`; raises LinkInvalid otherwise."""
    if not token or len(token) > 100:
        raise LinkInvalid()
    row = ledger.register.enrolment(_digest(token))
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise LinkInvalid()
    return row


def claim_enrolment(ledger: Ledger, token: str, now: datetime) -> str:
    """Mark the link used, atomically, and return its NIP; raises LinkInvalid when it is not
    pending (a second tab, a replay). Give it back with `release_enrolment` if the
    enrolment then fails."""
    row = pending_enrolment(ledger, token, now)
    if not ledger.register.claim_enrolment(row.token_hash, now):
        raise LinkInvalid()
    return row.nip


def release_enrolment(ledger: Ledger, token: str) -> None:
    ledger.register.release_enrolment(_digest(token))


# -- throttling -------------------------------------------------------------------------


def _wait_until(row: ThrottleRecord) -> datetime | None:
    """When the next attempt is allowed, or None when it is allowed now regardless of time."""
    if row.locked_until is not None:
        return row.locked_until
    if row.failures > FREE_FAILURES and row.last_failure_at is not None:
        return row.last_failure_at + SLOW_STEP * 2 ** (row.failures - FREE_FAILURES - 1)
    return None


def _throttled(row: ThrottleRecord | None, scope: str, now: datetime) -> Throttled | None:
    """The Throttled error of `row` at `now`, or None while attempts are allowed."""
    until = _wait_until(row) if row is not None else None
    if row is None or until is None or until <= now:
        return None
    return Throttled(f"err.{scope}_locked" if row.locked_until is not None else f"err.{scope}_slow", until)


def check_throttle(ledger: Ledger, scope: str, nip: str, now: datetime) -> None:
    """Raise Throttled while `scope` is slowed down or locked for `nip`."""
    throttled = throttle_state(ledger, scope, nip, now)
    if throttled is not None:
        raise throttled


def settle_attempt(ledger: Ledger, scope: str, nip: str, now: datetime, right: bool) -> None:
    """Settle an attempt at a password or passphrase once it is known whether the secret
    was `right`, in one write transaction with the throttle's check.

    `check_throttle` refuses an attempt before its slow hash; attempts sent in parallel all
    pass that check together, so the outcome is settled here one at a time: when by now
    the scope is slowed down or locked, the outcome is withheld — raises Throttled, counts
    and clears nothing, and the caller must not act on a right secret. Parallel attempts
    thus learn no more than attempts sent one after another, and an attempt cut off by a
    crash counts for nothing. Otherwise a right secret clears the count, and a wrong one
    is counted (raises Throttled when it locks the scope).
    """

    def settle(row: ThrottleRecord | None) -> ThrottleRecord | None:
        throttled = _throttled(row, scope, now)
        if throttled is not None:
            raise throttled
        if right:
            return None
        failures = (0 if row is None else row.failures) + 1
        locked = None
        if failures >= LOCK_AFTER:
            locked = now + min(LOCK_MAX, LOCK_STEP * 2 ** min(failures - LOCK_AFTER, 10))
        return ThrottleRecord(scope, nip, failures, now, locked)

    after = ledger.register.settle_throttle(scope, nip, Register.stale_throttles(now, now - LOCK_MAX), settle)
    if after is None:
        return
    logger.warning("failed %s nip=%s failures=%d", scope, nip, after.failures)
    if after.locked_until is not None:
        raise Throttled(f"err.{scope}_locked", after.locked_until)


def throttle_state(ledger: Ledger, scope: str, nip: str, now: datetime) -> Throttled | None:
    """The Throttled error an attempt now would raise, or None (for showing it on a page)."""
    return _throttled(ledger.register.throttle(scope, nip), scope, now)


def has_account(ledger: Ledger, nip: str) -> bool:
    return ledger.register.has_account(nip)
