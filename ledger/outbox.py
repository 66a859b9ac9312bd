"""The mail outbox: notices of ledger events, written in the transaction of their entry.

`Ledger.append(..., notify=[(event, nip), ...])` calls `enqueue` inside the append's
transaction, so a notice exists exactly when its entry does. The server's mailer
(`web.mail`) sends them and retries; a mail server that is down delays a notice and never
blocks or loses an entry.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from .db import INSERT
from .models import MailOutbox

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
