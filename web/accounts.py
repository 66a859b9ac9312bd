"""Logins, sessions, enrolment links and throttling: the web shell's accounts.

Everything here takes the time as `now` and the ledger whose database also holds the web
tables. Passwords are argon2id hashes (argon2-cffi, RFC 9106 low-memory profile); a
session id and an enrolment token are random 256-bit values of which only the SHA-256 is
stored, so a copy of the database lets no one log in or enrol.

Throttling. Signing passphrases are counted per NIP (the signer is logged in already);
logins per NIP *and client address*, so that a stranger's failures lock only the
stranger's address, never the official. Either count: the first `FREE_FAILURES` failures
cost nothing; each further one makes the next attempt wait (10 s, then 20 s); from
`LOCK_AFTER` failures on, it is locked for 15 minutes, doubling with every further failure
up to a day; a success clears it, and an admin can lift a lock (`lift_lock`, recorded).
Against many addresses guessing one NIP, the failed logins of a NIP from every address are
counted too: past `NIP_CEILING` of them (until the NIP rests `NIP_WINDOW`), each login
attempt for it waits `NIP_SLOW` after the last failure. That ceiling slows and never locks,
and a browser that logged in as the NIP before (its signed device cookie) skips it. Every
count is checked before the slow hash, unknown NIPs are counted alike (the answers tell no
one who is registered), and the outcome of each attempt is settled under the check
(`settle_attempt`), so parallel requests learn no more than serial ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
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
from ledger.nip import clean_identifier, is_nip, is_official_id, validate_identifier
from ledger.reader import OfficialRecord
from ledger.register import EnrolmentRecord, LockLiftRecord, SessionRecord, ThrottleKey, ThrottleRecord
from ledger.store import Ledger

from .errors import Busy, FormInvalid, LinkInvalid, Throttled
from .metrics import LOCKS, LOGIN_FAILURES

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
NIP_CEILING = 20  # failed logins of one NIP from every address ...
NIP_WINDOW = timedelta(hours=1)  # ... counted until the NIP rests this long ...
NIP_SLOW = timedelta(seconds=5)  # ... past which each login attempt for it waits this long after the last failure
DEVICE_DAYS = 90  # how long a browser's device cookie of a login is good for

LOGIN, SIGN = "login", "sign"
LOGIN_ANY = "login_any"  # the failed logins of a NIP from every address (never locks)
SCOPES = (LOGIN, SIGN)
UNKNOWN_ADDRESS = "-"


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


def clean_nip(nip: str) -> str:
    """A NIP or the identifier of an official without one (rules version 4) as typed,
    without its spaces; an identifier in lower case (a phone capitalises the first letter)."""
    return clean_identifier(nip)


def is_login_id(identifier: str) -> bool:
    """Whether a cleaned identifier can name an official: an 18-digit NIP, or an identifier
    the system gives an official without one (`ledger.nip.is_official_id`)."""
    return is_nip(identifier) or is_official_id(identifier)


def authenticate(
    ledger: Ledger,
    nip: str,
    password: str,
    now: datetime,
    address: str = UNKNOWN_ADDRESS,
    known_device: bool = False,
) -> OfficialRecord:
    """The official whose NIP (or given identifier, `is_login_id`) and password these are,
    for a login attempt from the client
    `address` (`address_of`); `known_device`: the browser holds this NIP's device cookie.

    Raises Throttled while logins of the NIP from this address are slowed down or locked
    (or the NIP's ceiling holds), FormInvalid for a wrong NIP or password (`err.login_failed`,
    or with the attempts left and the wait: `err.login_failed_left`, `err.login_failed_wait`),
    Throttled when this failure locks the address, and Busy (counting nothing) while too many
    passwords are being checked.
    """
    nip = clean_nip(nip)
    if not is_login_id(nip) or len(password) > MAX_SECRET:
        raise FormInvalid("err.login_failed")
    check_throttle(ledger, LOGIN, nip, now, address, known_device)
    official, hashed = ledger.register.login(nip)
    stored = hashed if official is not None else None
    right = _verify(stored, password) and stored is not None
    after = _settle(ledger, LOGIN, nip, now, right, address, known_device)
    if not right:
        raise _login_failed(after, now, known_device)
    assert official is not None and stored is not None
    if HASHER.check_needs_rehash(stored):
        ledger.register.rehash_password(nip, hash_password(password))
    return official


# -- sessions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionInfo:
    id_hash: str
    nip: str | None
    csrf_token: str
    expires_at: datetime
    confirmed_at: datetime | None = None  # when the password was last given (at login, or again)

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
    row = SessionRecord(_digest(cookie), nip, secrets.token_urlsafe(32), now, now + timedelta(hours=hours), now)
    ledger.register.add_session(row, now, replaces)
    return cookie, SessionInfo(row.id_hash, nip, row.csrf_token, row.expires_at, now)


def load_session(ledger: Ledger, cookie: str | None, now: datetime) -> SessionInfo | None:
    """The live login session named by the cookie, or None (no cookie, unknown or expired
    id, or an anonymous row left by an earlier version)."""
    if not cookie or len(cookie) > 100:
        return None
    row = ledger.register.session(_digest(cookie))
    if row is None or row.expires_at <= now or not row.nip:
        return None
    return SessionInfo(row.id_hash, row.nip, row.csrf_token, row.expires_at, row.confirmed_at)


def confirm_password(ledger: Ledger, session: SessionInfo, now: datetime) -> None:
    """Note that the session's official gave their password again at `now`."""
    ledger.register.confirm_session(session.id_hash, now)


# -- the CSRF token of an anonymous form -------------------------------------------------
#
# The login and enrolment forms are shown to visitors without a session. Their token is a
# signed double submit: the browser holds a random nonce in a cookie (HttpOnly, SameSite),
# the form carries `<issued>.<HMAC(secret, nonce, issued)>`. Another site can neither read
# the cookie nor make the HMAC, and nothing is written to the database for a visitor.


def new_form_nonce() -> str:
    return secrets.token_urlsafe(32)


def _mac(secret: str, purpose: str, value: str, issued: int) -> str:
    mac = hmac.new(secret.encode(), f"{purpose}\n{value}\n{issued}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def _signed(secret: str, purpose: str, value: str, now: datetime) -> str:
    """`<issued>.<HMAC(secret, purpose, value, issued)>`."""
    issued = int(now.timestamp())
    return f"{issued}.{_mac(secret, purpose, value, issued)}"


def _signed_matches(secret: str, purpose: str, value: str, token: str, now: datetime, seconds: int) -> bool:
    """Whether `token` is `_signed(secret, purpose, value, ...)` of the last `seconds`."""
    issued, _, mac = token.partition(".")
    if not issued.isdigit() or len(issued) > 12:
        return False
    age = now.timestamp() - int(issued)
    if not -60 <= age <= seconds:
        return False
    return hmac.compare_digest(_mac(secret, purpose, value, int(issued)).encode(), mac.encode())


def anonymous_csrf_token(secret: str, nonce: str, now: datetime) -> str:
    """The CSRF token of an anonymous form for the browser holding `nonce` in its cookie."""
    return _signed(secret, "ikrar-form-v1", nonce, now)


def anonymous_csrf_matches(secret: str, nonce: str | None, token: str, now: datetime) -> bool:
    """Whether `token` was made for `nonce` with `secret` in the last `ANONYMOUS_HOURS`."""
    if not nonce or len(nonce) > 100:
        return False
    return _signed_matches(secret, "ikrar-form-v1", nonce, token, now, ANONYMOUS_HOURS * 3600)


def device_token(secret: str, nip: str, now: datetime) -> str:
    """The device cookie a browser gets at a login of `nip`: signed, good for `DEVICE_DAYS`."""
    return _signed(secret, "ikrar-device-v1", nip, now)


def known_device(secret: str, token: str | None, nip: str, now: datetime) -> bool:
    """Whether `token` is a device cookie of a login of `nip` (a browser that may skip the NIP's ceiling)."""
    if not token or len(token) > 100:
        return False
    return _signed_matches(secret, "ikrar-device-v1", clean_nip(nip), token, now, DEVICE_DAYS * 86400)


def end_session(ledger: Ledger, id_hash: str) -> None:
    ledger.register.end_session(id_hash)


# -- enrolment links --------------------------------------------------------------------


def issue_enrolment(ledger: Ledger, nip: str, by: str, now: datetime, hours: int) -> tuple[str, datetime]:
    """A new one-time link token for a registered person; earlier unused ones stop working.

    Returns the token (shown once, never stored) and when it expires. Raises InvalidInput
    for a malformed NIP and FormInvalid (`err.unknown_official`) for an unregistered NIP or
    given identifier (of an official without a NIP).
    """
    nip = validate_identifier(clean_nip(nip), now.date())
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


def address_of(host: str | None) -> str:
    """The client address a login is counted under: an IPv4 address as it is, an IPv6 one by
    its /64 network (what one subscriber holds), anything else cut to 64 characters, and
    `UNKNOWN_ADDRESS` when there is none."""
    if not host:
        return UNKNOWN_ADDRESS
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip), 64), strict=False))  # int(): without a zone (%eth0)
    return str(ip)


def _keys(scope: str, nip: str, address: str) -> list[ThrottleKey]:
    """The counts an attempt of `scope` for `nip` meets: for a login, the NIP's from every
    address (first, so that its row lock serializes the NIP's logins) and this address's."""
    if scope == LOGIN:
        return [ThrottleKey(LOGIN_ANY, nip), ThrottleKey(LOGIN, nip, address)]
    if scope == SIGN:
        return [ThrottleKey(SIGN, nip)]
    raise ValueError(f"unknown throttle scope {scope!r}")


def _wait_until(row: ThrottleRecord, known_device: bool) -> datetime | None:
    """When `row` allows the next attempt, or None when it holds none back."""
    if row.scope == LOGIN_ANY:
        if row.failures < NIP_CEILING or known_device or row.last_failure_at is None:
            return None
        return row.last_failure_at + NIP_SLOW
    if row.locked_until is not None:
        return row.locked_until
    if row.failures > FREE_FAILURES and row.last_failure_at is not None:
        steps: int = 2 ** (row.failures - FREE_FAILURES - 1)  # a whole number: the exponent is not negative here
        return row.last_failure_at + SLOW_STEP * steps
    return None


def _refusal(rows: list[ThrottleRecord | None], now: datetime, known_device: bool) -> Throttled | None:
    """The Throttled error an attempt meets at `now` with these counts (the longest wait), or None."""
    waits = [(until, row) for row in rows if row is not None and (until := _wait_until(row, known_device))]
    until, row = max(waits, key=lambda wait: wait[0], default=(None, None))
    if until is None or row is None or until <= now:
        return None
    if row.scope == LOGIN_ANY:
        key = "err.login_crowded"
    else:
        key = f"err.{row.scope}_{'locked' if row.locked_until is not None else 'slow'}"
    return Throttled(key, until, wait=until - now, left=max(0, LOCK_AFTER - row.failures), address=row.address)


def _counted(key: ThrottleKey, row: ThrottleRecord | None, now: datetime, right: bool) -> ThrottleRecord | None:
    """The count of `key` after an attempt that was `right`, or not, at `now`."""
    if key.scope == LOGIN_ANY:  # only failures move it; it rests after NIP_WINDOW without one
        if right:
            return row
        recent = row is not None and row.last_failure_at is not None and row.last_failure_at > now - NIP_WINDOW
        return ThrottleRecord(LOGIN_ANY, key.nip, row.failures + 1 if recent and row is not None else 1, now)
    if right:
        return None
    failures = (0 if row is None else row.failures) + 1
    locked = None
    if failures >= LOCK_AFTER:
        locked = now + min(LOCK_MAX, LOCK_STEP * 2 ** min(failures - LOCK_AFTER, 10))
    return ThrottleRecord(key.scope, key.nip, failures, now, locked, key.address)


def check_throttle(
    ledger: Ledger, scope: str, nip: str, now: datetime, address: str = UNKNOWN_ADDRESS, known_device: bool = False
) -> None:
    """Raise Throttled while an attempt of `scope` for `nip` (from `address`, for a login) must wait."""
    throttled = throttle_state(ledger, scope, nip, now, address, known_device)
    if throttled is not None:
        raise throttled


def throttle_state(
    ledger: Ledger, scope: str, nip: str, now: datetime, address: str = UNKNOWN_ADDRESS, known_device: bool = False
) -> Throttled | None:
    """The Throttled error an attempt now would raise, or None (for showing it on a page)."""
    rows = [ledger.register.throttle(*key) for key in _keys(scope, nip, address)]
    return _refusal(rows, now, known_device)


def settle_attempt(
    ledger: Ledger,
    scope: str,
    nip: str,
    now: datetime,
    right: bool,
    address: str = UNKNOWN_ADDRESS,
    known_device: bool = False,
) -> None:
    """Settle an attempt at a password or passphrase once it is known whether the secret
    was `right`, in one write transaction with the throttle's check.

    `check_throttle` refuses an attempt before its slow hash; attempts sent in parallel all
    pass that check together, so the outcome is settled here one at a time: when by now
    the attempt must wait, the outcome is withheld — raises Throttled, counts and clears
    nothing, and the caller must not act on a right secret. Parallel attempts thus learn
    no more than attempts sent one after another, and an attempt cut off by a crash counts
    for nothing. Otherwise a right secret clears the count (of this address, for a login),
    and a wrong one is counted (raises Throttled when it locks).
    """
    _settle(ledger, scope, nip, now, right, address, known_device)


def _settle(
    ledger: Ledger, scope: str, nip: str, now: datetime, right: bool, address: str, known_device: bool
) -> list[ThrottleRecord | None]:
    """`settle_attempt`; returns the counts after it (in the order of `_keys`)."""
    keys = _keys(scope, nip, address)

    def settle(rows: list[ThrottleRecord | None]) -> list[ThrottleRecord | None]:
        throttled = _refusal(rows, now, known_device)
        if throttled is not None:
            raise throttled
        return [_counted(key, row, now, right) for key, row in zip(keys, rows, strict=True)]

    after = ledger.register.settle_throttles(keys, now, now - LOCK_MAX, settle)
    counted = after[-1]
    if right or counted is None:
        return after
    if scope == LOGIN:
        LOGIN_FAILURES.inc()
    logger.warning("failed %s nip=%s address=%s failures=%d", scope, nip, address, counted.failures)
    if counted.locked_until is not None:
        LOCKS.labels(scope=scope).inc()
        until = counted.locked_until
        raise Throttled(f"err.{scope}_locked", until, wait=until - now, left=0, address=counted.address)
    return after


def _login_failed(after: list[ThrottleRecord | None], now: datetime, known_device: bool) -> FormInvalid:
    """The answer to a wrong NIP or password: from the `FREE_FAILURES`th failure of this
    address on, with the attempts left before the lock and how long to wait."""
    counted = after[-1]
    assert counted is not None
    left = LOCK_AFTER - counted.failures
    waiting = _refusal(after, now, known_device)
    if waiting is not None:
        return FormInvalid("err.login_failed_wait", left=left, wait=waiting.until - now)
    if counted.failures >= FREE_FAILURES:
        return FormInvalid("err.login_failed_left", left=left)
    return FormInvalid("err.login_failed")


# -- locks and their lifting by an admin -------------------------------------------------


def current_locks(ledger: Ledger, now: datetime) -> list[ThrottleRecord]:
    """The locks holding at `now`: logins per NIP and address, signing per NIP."""
    return ledger.register.locks(now)


def lift_lock(ledger: Ledger, scope: str, nip: str, address: str | None, by: str, now: datetime) -> bool:
    """Lift the lock of `scope` for `nip` (and, for a login, the client `address`), recording
    that the admin `by` did. Returns False when no lock held it any more. Raises
    FormInvalid (`err.lock_unknown`) for a scope, NIP or address that can name no lock."""
    if scope not in SCOPES or not (is_nip(nip) or is_official_id(nip)):
        raise FormInvalid("err.lock_unknown")
    if scope == LOGIN and not (address and len(address) <= 64):
        raise FormInvalid("err.lock_unknown")
    lifted = ledger.register.lift_lock(ThrottleKey(scope, nip, address if scope == LOGIN else None), by, now)
    logger.warning("lock %s scope=%s nip=%s address=%s by=%s", "lifted" if lifted else "gone", scope, nip, address, by)
    return lifted


def lock_lifts(ledger: Ledger, limit: int = 20) -> list[LockLiftRecord]:
    """The latest lifted locks, newest first."""
    return ledger.register.lock_lifts(limit)


def has_account(ledger: Ledger, nip: str) -> bool:
    return ledger.register.has_account(nip)
