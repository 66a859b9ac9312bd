"""Findings of a verification: one `Check` per thing checked, each with its outcome.

Reports are frozen objects, never a bare boolean: a page lists every check, passed or
not, and says why (STYLE.md §3).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from ledger.errors import LedgerError

from .errors import Reason, SigningError


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_CHECKED = "not_checked"  # could not be checked (an earlier check failed, or nothing to check against)


@dataclass(frozen=True)
class Check:
    """One check: a stable `name` (pages translate it), its outcome and a sentence saying what was found."""

    name: str
    outcome: Outcome
    detail: str
    reason: Reason | None = None  # why a failed check refuses a certificate

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASSED

    @property
    def failed(self) -> bool:
        return self.outcome is Outcome.FAILED


class Failed(Exception):
    """Raised inside a check function to fail it with a message (and, for certificates, a reason)."""

    def __init__(self, detail: str, reason: Reason | None = None) -> None:
        self.detail = detail
        self.reason = reason
        super().__init__(detail)


class NotChecked(Exception):
    """Raised inside a check function when there is nothing to check against (said in `detail`)."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


class Checks:
    """Collects checks in order; a check whose prerequisite failed is recorded as not checked."""

    def __init__(self) -> None:
        self.items: list[Check] = []

    def run(
        self, name: str, fn: Callable[[], str], *, needs: tuple[str, ...] = (), reason: Reason | None = None
    ) -> bool:
        """Run `fn`, which returns what it found, or raises `Failed` (or a ledger or signing error) or
        `NotChecked`. A check whose `needs` did not all pass is recorded as not checked."""
        blocked = [c.name for c in self.items if c.name in needs and not c.passed]
        if blocked:
            self.items.append(Check(name, Outcome.NOT_CHECKED, f"not checked: {', '.join(blocked)} did not pass"))
            return False
        try:
            detail = fn()
        except Failed as e:
            self.items.append(Check(name, Outcome.FAILED, e.detail, e.reason or reason))
            return False
        except NotChecked as e:
            self.items.append(Check(name, Outcome.NOT_CHECKED, e.detail))
            return False
        except (LedgerError, SigningError) as e:
            self.items.append(Check(name, Outcome.FAILED, str(e), reason))
            return False
        self.items.append(Check(name, Outcome.PASSED, detail))
        return True

    def skip(self, name: str, detail: str) -> None:
        self.items.append(Check(name, Outcome.NOT_CHECKED, detail))

    def outcome(self, name: str) -> Outcome | None:
        for c in self.items:
            if c.name == name:
                return c.outcome
        return None

    def done(self) -> tuple[Check, ...]:
        return tuple(self.items)


TITLES = {
    "key": "ledger key",
    "active_key": "signer's key active",
    "entries": "entries well-formed",
    "checkpoint": "checkpoint signature",
    "inclusion": "inclusion in checkpoint",
    "origin": "ledger origin",
    "statement": "official's signature",
    "belongs": "signer and commitment",
    "facts": "stated facts",
    "page": "printed page",
    "ledger": "entries in this ledger",
    "consistency": "consistency with latest",
    "chain": "hash chain link",
    "printed": "printed certificate",
}
"""Each check's name in English, for the command line (the web pages translate the names)."""
