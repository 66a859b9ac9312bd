"""The mail outbox: notices of ledger events, written in the transaction of their entry.

`Ledger.append(..., notify=[(event, nip), ...])` calls `enqueue` inside the append's
transaction, so a notice exists exactly when its entry does. The server's mailer
(`web.mail`) claims the due ones (`Outbox.claim`), sends them and records each outcome; a
failed notice is tried again later (`retry_delay`) until it is sent. A mail server that is
down delays a notice and never blocks or loses an entry.

A reminder to sign (event `REMINDER`) tells of no entry: an admin's round of reminders
(`Outbox.remind`) writes the round (`mail_reminder`: the commitment, who, when) and one
notice per official in one transaction; the same senders send and retry them, and a later
round is a new one, mailed again. `Outbox.rounds` tells what became of each round.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.exc import IntegrityError

from .db import INSERT, OUTBOX, TABLES, snapshot, writer
from .errors import InvalidInput
from .models import MailOutbox, MailReminder
from .times import as_utc

# The events a notice tells of.
KEY_ENROLLED = "key.enrolled"
KEY_REPLACED = "key.replaced"
KEY_REVOKED = "key.revoked"
SIGNED = "commitment.signed"
EVENTS = (KEY_ENROLLED, KEY_REPLACED, KEY_REVOKED, SIGNED)
REMINDER = "reminder"  # a reminder to sign a commitment: names its round, not an entry


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
_ROUNDS = MailReminder.__table__  # type: ignore[attr-defined]
ROUND = _ROUNDS.c
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
    OUTBOX.reminder_id,
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
    reminder_id: int | None = None  # the round of a `REMINDER`

    @property
    def state(self) -> str:
        """``sent``, ``unsent`` (settled without sending: `last_error` says why) or ``waiting``."""
        if self.sent_at is None:
            return "waiting"
        return "unsent" if self.last_error else "sent"


@dataclass(frozen=True)
class ReminderRound:
    """A round of reminders to sign commitment `slug`: who sent it (`sent_by`, an
    identifier), when, and its notices (one per official, in the order queued)."""

    id: int
    slug: str
    sent_by: str
    created_at: datetime
    notices: tuple[Notice, ...]

    def count(self, state: str) -> int:
        """How many of its notices are in `state` (`Notice.state`)."""
        return sum(1 for n in self.notices if n.state == state)


@dataclass(frozen=True)
class Pending:
    """The notices not yet sent: how many, and the oldest of them."""

    count: int
    oldest: tuple[Notice, ...]


def _notice(row: Any) -> Notice:
    sent = None if row[7] is None else as_utc(row[7])
    return Notice(row[0], row[1], row[2], row[3], as_utc(row[4]), row[5], as_utc(row[6]), sent, row[8], row[9])


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

    def remind(self, slug: str, nips: Sequence[str], by: str, request: str, now: datetime) -> ReminderRound:
        """Queue a round of reminders to sign commitment `slug`, sent by admin `by`: the round
        and one notice per official of `nips` (in that order), in one transaction, due at
        `now`. `request` is the confirmation's once-only token: a round already queued with
        it is returned as it is, and nothing more is queued. Raises InvalidInput for no
        official, or one named twice."""
        if not nips or len(set(nips)) != len(nips):
            raise InvalidInput(f"a round of reminders names each official once, and at least one: {list(nips)}")
        now = as_utc(now)
        try:
            with self._writer.begin() as c:
                if (found := self._round_id(c, request)) is not None:
                    return self._round(c, found)
                values = {"slug": slug, "sent_by": by, "created_at": now, "request": request}
                key = c.execute(_ROUNDS.insert().values(**values)).inserted_primary_key
                assert key is not None
                round_id = int(key[0])
                c.execute(
                    INSERT[MailOutbox],
                    [
                        {
                            "event": REMINDER,
                            "nip": nip,
                            "entry_index": None,
                            "reminder_id": round_id,
                            "created_at": now,
                            "attempts": 0,
                            "next_attempt_at": now,
                        }
                        for nip in nips
                    ],
                )
                return self._round(c, round_id)
        except IntegrityError:  # the same form, sent twice at once: the other request queued it
            with snapshot(self._engine) as c, c.begin():
                found = self._round_id(c, request)
                if found is None:
                    raise
                return self._round(c, found)

    def rounds(self, slug: str, limit: int = 20) -> list[ReminderRound]:
        """The latest `limit` rounds of reminders to sign `slug`, newest first."""
        with snapshot(self._engine) as c, c.begin():
            newest = ROUND.created_at.desc(), ROUND.id.desc()
            ids = list(c.execute(select(ROUND.id).where(ROUND.slug == slug).order_by(*newest).limit(limit)).scalars())
            return [self._round(c, i) for i in ids]

    def round_slugs(self, ids: set[int]) -> dict[int, str]:
        """The commitment each of the rounds `ids` reminds of, by round."""
        if not ids:
            return {}
        with self._engine.connect() as c:
            rows = c.execute(select(ROUND.id, ROUND.slug).where(ROUND.id.in_(sorted(ids)))).all()
            c.rollback()
        return {int(i): str(slug) for i, slug in rows}

    @staticmethod
    def _round_id(c: Connection, request: str) -> int | None:
        found = c.execute(select(ROUND.id).where(ROUND.request == request)).scalar()
        return None if found is None else int(found)

    @staticmethod
    def _round(c: Connection, round_id: int) -> ReminderRound:
        row = c.execute(select(ROUND.id, ROUND.slug, ROUND.sent_by, ROUND.created_at).where(ROUND.id == round_id)).one()
        notices = c.execute(select(*_COLUMNS).where(OUTBOX.reminder_id == round_id).order_by(OUTBOX.id))
        return ReminderRound(row[0], row[1], row[2], as_utc(row[3]), tuple(_notice(n) for n in notices))

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
