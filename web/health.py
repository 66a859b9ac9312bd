"""The server checks itself: a background self-audit, and what it found.

Every `IKRAR_SELF_AUDIT_MINUTES` (first a minute after start) a thread re-verifies the
ledger from one snapshot — entries, checkpoints, signatures and every table derived from
the entries (`ledger.audit` with `derived=`). An append that finds its derived rows or its
tree store diverging says so too (`note_error`). On a divergence the public pages show a
banner in both languages, `GET /healthz` answers 503 with what diverged, the log says it,
and the response cache is emptied (its epoch moves on) so no page without the banner is
served. The entries themselves are never touched: `ikrar audit` names what diverged and
`ikrar rebuild` recomputes it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ledger.audit import audit
from ledger.errors import ChainBroken, DerivedMismatch, LedgerError
from ledger.store import Ledger

logger = logging.getLogger(__name__)

DIVERGENCE_CODES = frozenset({"derived.mismatch", "tree.diverged", "chain_broken"})
FIRST_DELAY = 60.0


@dataclass
class Health:
    """What the server last learned of its own ledger. Shared by the threads of one process."""

    checked_at: datetime | None = None
    checked_size: int | None = None
    problem: str | None = None  # what diverged, in English, for operators (pages show a fixed banner)
    on_change: Callable[[], None] | None = None  # told when `problem` changes (the app empties its cache)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, at: datetime, size: int | None, problem: str | None) -> None:
        with self._lock:
            changed = problem != self.problem
            if changed:
                if problem:
                    logger.error("self-audit: the ledger diverges: %s", problem)
                else:
                    logger.warning("self-audit: the ledger holds again")
            self.checked_at, self.problem = at, problem
            if size is not None:
                self.checked_size = size
        if changed and self.on_change is not None:
            self.on_change()


def self_audit(ledger: Ledger, health: Health, now: datetime) -> None:
    """Re-verify everything from one snapshot and record the verdict in `health`."""
    if not ledger.is_initialized():
        return
    try:
        with ledger.read() as r:
            report = audit(r.stored_entries(), r.stored_checkpoints(), ledger.verifier, derived=r)
    except (ChainBroken, DerivedMismatch) as e:
        health.record(now, None, str(e))
        return
    except LedgerError as e:  # the database is unreachable, say: not a divergence of the ledger
        logger.error("self-audit could not run: %s", e)
        return
    health.record(now, report.size, None)


def note_error(health: Health, error: Exception, now: datetime) -> None:
    """An error met while serving that shows the ledger diverging (an append refused)."""
    if getattr(error, "code", None) in DIVERGENCE_CODES:
        health.record(now, None, str(error))


class SelfAuditor:
    """The background thread: `start()` at the app's start, `stop()` at its end."""

    def __init__(self, ledger: Ledger, health: Health, minutes: int, clock: Callable[[], datetime]) -> None:
        self._ledger, self._health, self._clock = ledger, health, clock
        self._interval = minutes * 60.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._interval <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="ikrar-self-audit", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        delay = min(FIRST_DELAY, self._interval)
        while not self._stop.wait(delay):
            try:
                self_audit(self._ledger, self._health, self._clock())
            except Exception:  # never let the thread die: the next round tries again
                logger.exception("self-audit failed")
            delay = self._interval
