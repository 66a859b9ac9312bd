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

import base64
import hashlib
import hmac
import logging
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ledger.errors import NotFound
from ledger.nip import validate_nip
from ledger.reader import OfficialRecord
from ledger.register import EnrolmentRecord, Register, SessionRecord, ThrottleRecord
from ledger.store import Ledger

from .errors import Busy, FormInvalid, LinkInvalid, Throttled

logger = logging.getLogger(__name__)

HASHER = PasswordHasher()  # argon2id; tests swap in cheaper parameters
MIN_PASSWORD = 10
MAX_SECRET = 1024  # longer passwords and passphrases are refused before hashing
ANONYMOUS_HOURS = 2  # how long the CSRF token of an anonymous form (login, enrolment) is good for
HASH_SLOTS = 4  # argon2id hashes running at once in one process (64 MiB each)

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


class HashSlots:
    """The places for argon2id hashes in this process: each costs 64 MiB while it runs, so
    a burst of logins (real or invented NIPs) cannot exhaust the memory.

    At most `slots` run at once. Up to `queue` more wait their turn, each at most `wait`
    seconds (a waiting request holds a thread but no memory); beyond that, or after that,
    the answer is Busy (503, `Retry-After`) at once, so waiting logins never take every
    thread that serves pages."""

    def __init__(self, slots: int, queue: int, wait: float) -> None:
        self.slots, self.queue, self.wait = slots, queue, wait
        self.semaphore = threading.BoundedSemaphore(slots)
        self.waiting = 0
        self.lock = threading.Lock()

    def busy(self) -> Busy:
        logger.warning("password hashing busy: %d running, %d waiting", self.slots, self.waiting)
        return Busy("err.busy", seconds=5)

    @contextmanager
    def taken(self) -> Iterator[None]:
        """Hold a place while the block runs; raises Busy when none comes free in time."""
        if not self.semaphore.acquire(blocking=False):
            with self.lock:
                if self.waiting >= self.queue:
                    raise self.busy()
                self.waiting += 1
            try:
                got = self.semaphore.acquire(timeout=self.wait)
            finally:
                with self.lock:
                    self.waiting -= 1
            if not got:
                raise self.busy()
        try:
            yield
        finally:
            self.semaphore.release()


HASHING = HashSlots(HASH_SLOTS, queue=16, wait=10.0)


def hash_password(password: str) -> str:
    """The argon2id hash of `password` (raises Busy while every hashing slot is taken)."""
    with HASHING.taken():
        return HASHER.hash(password)


def set_password(ledger: Ledger, nip: str, password: str, now: datetime, hashed: str | None = None) -> None:
    """Create or replace the login of a registered person, and end their sessions.

    `hashed` is `hash_password(password)` when the caller made it already (before a step
    that cannot be undone, so that a Busy comes first). Raises Busy."""
    ledger.register.set_password(nip, hashed or hash_password(password), now)
    logger.info("password set nip=%s", nip)


_DUMMY_HASH: list[str] = []


def _verify(stored: str | None, password: str) -> bool:
    """Raises Busy while every hashing slot is taken."""
    if stored is None:  # spend the same time as a real check, so timing tells nothing
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(hash_password(secrets.token_hex(16)))
        stored = _DUMMY_HASH[0]
    with HASHING.taken():
        try:
            return HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False


def authenticate(ledger: Ledger, nip: str, password: str, now: datetime) -> OfficialRecord:
    """The official whose NIP and password these are.

    Raises Throttled while the login is slowed down or locked, FormInvalid
    (`err.login_failed`) for a wrong NIP or password, Throttled when this failure locks
    the login, and Busy (counting nothing) while too many passwords are being checked.
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
    ledger: Ledger, nip: str, now: datetime, hours: int, replaces: str | None = None
) -> tuple[str, SessionInfo]:
    """Start the session of a login; returns the cookie value and the row. Only a login
    makes a session: anonymous forms carry a signed token instead (`anonymous_csrf_token`).

    `replaces` is the id hash of the session to end at the same time: at login the id
    changes, so a session id planted before login is worth nothing after it.
    """
    cookie = secrets.token_urlsafe(32)
    row = SessionRecord(_digest(cookie), nip, secrets.token_urlsafe(32), now, now + timedelta(hours=hours))
    ledger.register.add_session(row, now, replaces)
    return cookie, SessionInfo(row.id_hash, nip, row.csrf_token, row.expires_at)


def load_session(ledger: Ledger, cookie: str | None, now: datetime) -> SessionInfo | None:
    """The live login session named by the cookie, or None (no cookie, unknown or expired
    id, or an anonymous row left by an earlier version)."""
    if not cookie or len(cookie) > 100:
        return None
    row = ledger.register.session(_digest(cookie))
    if row is None or row.expires_at <= now or not row.nip:
        return None
    return SessionInfo(row.id_hash, row.nip, row.csrf_token, row.expires_at)


# -- the CSRF token of an anonymous form -------------------------------------------------
#
# The login and enrolment forms are shown to visitors without a session. Their token is a
# signed double submit: the browser holds a random nonce in a cookie (HttpOnly, SameSite),
# the form carries `<issued>.<HMAC(secret, nonce, issued)>`. Another site can neither read
# the cookie nor make the HMAC, and nothing is written to the database for a visitor.


def new_form_nonce() -> str:
    return secrets.token_urlsafe(32)


def _form_mac(secret: str, nonce: str, issued: int) -> str:
    mac = hmac.new(secret.encode(), f"ikrar-form-v1\n{nonce}\n{issued}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def anonymous_csrf_token(secret: str, nonce: str, now: datetime) -> str:
    """The CSRF token of an anonymous form for the browser holding `nonce` in its cookie."""
    issued = int(now.timestamp())
    return f"{issued}.{_form_mac(secret, nonce, issued)}"


def anonymous_csrf_matches(secret: str, nonce: str | None, token: str, now: datetime) -> bool:
    """Whether `token` was made for `nonce` with `secret` in the last `ANONYMOUS_HOURS`."""
    issued, _, mac = token.partition(".")
    if not nonce or len(nonce) > 100 or not issued.isdigit() or len(issued) > 12:
        return False
    age = now.timestamp() - int(issued)
    if not -60 <= age <= ANONYMOUS_HOURS * 3600:
        return False
    return hmac.compare_digest(_form_mac(secret, nonce, int(issued)).encode(), mac.encode())


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
        steps: int = 2 ** (row.failures - FREE_FAILURES - 1)  # a whole number: the exponent is not negative here
        return row.last_failure_at + SLOW_STEP * steps
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
