"""The mail outbox: notices of ledger events, written in the transaction of their entry.

`Ledger.append(..., notify=[(event, nip), ...])` calls `enqueue` inside the append's
transaction, so a notice exists exactly when its entry does. The server's mailer
(`web.mail`) claims the due ones (`Outbox.claim`), sends them and records each outcome; a
failed notice is tried again later (`retry_delay`) until it is sent. A mail server that is
down delays a notice and never blocks or loses an entry.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update

from .db import INSERT, OUTBOX, TABLES, snapshot, writer
from .models import MailOutbox
from .times import as_utc

# The events a notice tells of.
KEY_ENROLLED = "key.enrolled"
KEY_REPLACED = "key.replaced"
KEY_REVOKED = "key.revoked"
SIGNED = "commitment.signed"
EVENTS = (KEY_ENROLLED, KEY_REPLACED, KEY_REVOKED, SIGNED)


def enqueue(conn: Connection, event: str, nip: str, index: int, now: datetime) -> None:
    """Add the notice of `event` (about entry `index`) for official `nip`, in `conn`'s transaction."""
    assert event in EVENTS, event
    conn.execute(
        INSERT[MailOutbox],
        {"event": event, "nip": nip, "entry_index": index, "created_at": now, "attempts": 0, "next_attempt_at": now},
    )


# The entry kind each event tells of: a notice names an entry of this kind about its official.
KIND_OF = {
    KEY_ENROLLED: "key.enrolled",
    KEY_REPLACED: "key.enrolled",
    KEY_REVOKED: "key.revoked",
    SIGNED: "commitment.signed",
}
LEASE = timedelta(minutes=5)  # how long a claimed notice is left to its sender before another may take it
FIRST_RETRY = timedelta(minutes=1)  # after the first failed attempt; doubled after each, up to LAST_RETRY
LAST_RETRY = timedelta(hours=1)
NO_ADDRESS = "no address"  # the last error of a notice settled unsent: its official has no e-mail address

_TABLE = TABLES[MailOutbox]
_COLUMNS = (
    OUTBOX.id,
    OUTBOX.event,
    OUTBOX.nip,
    OUTBOX.entry_index,
    OUTBOX.created_at,
    OUTBOX.attempts,
    OUTBOX.next_attempt_at,
    OUTBOX.sent_at,
    OUTBOX.last_error,
)
_UNSENT = OUTBOX.sent_at.is_(None)


@dataclass(frozen=True)
class Notice:
    """One notice of the outbox. `next_attempt_at` of a claimed notice is the end of its lease."""

    id: int
    event: str
    nip: str
    entry_index: int | None
    created_at: datetime
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class Pending:
    """The notices not yet sent: how many, and the oldest of them."""

    count: int
    oldest: tuple[Notice, ...]


def _notice(row: Any) -> Notice:
    sent = None if row[7] is None else as_utc(row[7])
    return Notice(row[0], row[1], row[2], row[3], as_utc(row[4]), row[5], as_utc(row[6]), sent, row[8])


def retry_delay(attempts: int) -> timedelta:
    """How long after its `attempts`-th failed attempt a notice is tried again: one minute,
    doubling with each attempt, at most an hour. A notice is never given up."""
    return min(FIRST_RETRY * (1 << min(max(attempts - 1, 0), 12)), LAST_RETRY)


class Outbox:
    """The outbox of one database, for its senders: take the notices that are due, record
    what became of each, list those still pending. Safe to share between threads; any
    number of senders, in threads, processes or hosts, may work one outbox at once."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writer = writer(engine)

    def claim(self, now: datetime, limit: int = 20, lease: timedelta = LEASE) -> list[Notice]:
        """Take up to `limit` notices due at `now`, oldest due first, for this sender alone.

        Each is leased until `now + lease` (its `next_attempt_at` moves there) and its attempt
        counted. A notice is taken by an UPDATE conditioned on the `next_attempt_at` it was
        read with, so of two senders that read it only one takes it; on PostgreSQL the read
        also skips rows another sender holds (``FOR UPDATE SKIP LOCKED``), and SQLite's write
        lock serializes claims. A sender that dies before it reports leaves its notices to be
        taken again when their lease ends (they may then be sent twice, never not at all).
        """
        now = as_utc(now)
        due = (
            select(*_COLUMNS)
            .where(_UNSENT, OUTBOX.next_attempt_at <= now)
            .order_by(OUTBOX.next_attempt_at, OUTBOX.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claimed: list[Notice] = []
        with self._writer.begin() as c:
            for row in c.execute(due).all():
                notice = _notice(row)
                taken = c.execute(
                    update(_TABLE)
                    .where(OUTBOX.id == notice.id, _UNSENT, OUTBOX.next_attempt_at == row[6])
                    .values(next_attempt_at=now + lease, attempts=OUTBOX.attempts + 1)
                )
                if taken.rowcount == 1:
                    claimed.append(replace(notice, attempts=notice.attempts + 1, next_attempt_at=now + lease))
        return claimed

    def _settle(self, notice: Notice, **values: Any) -> bool:
        """Write `values` to the claimed `notice`, unless its lease has passed to another sender."""
        with self._writer.begin() as c:
            done = c.execute(
                update(_TABLE)
                .where(OUTBOX.id == notice.id, _UNSENT, OUTBOX.next_attempt_at == notice.next_attempt_at)
                .values(**values)
            )
        return bool(done.rowcount == 1)

    def sent(self, notice: Notice, now: datetime) -> bool:
        """Record the claimed `notice` as sent at `now`; False when it was no longer this sender's."""
        return self._settle(notice, sent_at=as_utc(now), last_error=None)

    def unsendable(self, notice: Notice, reason: str, now: datetime) -> bool:
        """Settle the claimed `notice` without sending it (its official has no address,
        `NO_ADDRESS`): kept, with `reason` as its last error, and never tried again."""
        return self._settle(notice, sent_at=as_utc(now), last_error=reason[:500])

    def failed(self, notice: Notice, error: str, now: datetime) -> datetime:
        """Record a failed attempt at the claimed `notice`: it is tried again `retry_delay`
        later, which is returned."""
        again = as_utc(now) + retry_delay(notice.attempts)
        self._settle(notice, next_attempt_at=again, last_error=error[:500])
        return again

    def pending(self, limit: int = 20) -> Pending:
        """The notices not yet sent: their number and the `limit` oldest (for the admin pages)."""
        with snapshot(self._engine) as c, c.begin():
            rows = c.execute(select(*_COLUMNS).where(_UNSENT).order_by(OUTBOX.created_at, OUTBOX.id).limit(limit))
            return Pending(pending_count(c), tuple(_notice(row) for row in rows))


def pending_count(engine_or_conn: Engine | Connection) -> int:
    """How many notices are not sent yet (the mail outbox's length, for `/metrics`)."""
    query = select(func.count()).select_from(_TABLE).where(_UNSENT)
    if isinstance(engine_or_conn, Connection):
        return int(engine_or_conn.execute(query).scalar() or 0)
    with engine_or_conn.connect() as conn:
        return int(conn.execute(query).scalar() or 0)
