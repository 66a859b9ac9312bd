"""Findings of a verification: one `Check` per thing checked, each with its outcome.

Reports are frozen objects, never a bare boolean: a page lists every check, passed or
not, and says why (STYLE.md §3).

A verification is a pipeline of plain steps over a subject read once (the entries, proofs,
checkpoints and keys it needs). A step is a function that returns what it found (a
sentence) or raises: `Failed` with a sentence saying what is wrong, `NotChecked` when there
is nothing to check against, or a ledger or signing error, whose message then says what
is wrong. `run` turns a step into its `Check`; a step whose prerequisites did not all pass
is not run and recorded as not checked.

A read that failed while the subject was loaded is kept in the subject as the error it
raised (`Read`); the step that needs the value raises it (`got`), so the failure shows in
that step's check, in its place in the report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeAlias, TypeVar

from ledger.errors import CodedError, LedgerError

from .errors import Reason, SigningError
from .facts import Difference

T = TypeVar("T")
S = TypeVar("S")


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_CHECKED = "not_checked"  # could not be checked (an earlier check failed, or nothing to check against)


@dataclass(frozen=True)
class Check:
    """One check: a stable `name` (pages translate it), its outcome and a sentence saying what was found.

    When a check failed with a ledger or signing error, `detail` is that error's English
    message and `error` the error itself, whose `code` and `params` let a page say it in
    its own language.
    """

    name: str
    outcome: Outcome
    detail: str
    reason: Reason | None = None  # why a failed check refuses a certificate
    error: CodedError | None = field(default=None, compare=False)
    difference: Difference | None = field(default=None, compare=False)  # what differs from the ledger, when known

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASSED

    @property
    def failed(self) -> bool:
        return self.outcome is Outcome.FAILED

    @property
    def code(self) -> str | None:
        """The stable code of the error this check failed with; None when it has none."""
        return None if self.error is None else self.error.code

    @property
    def params(self) -> dict[str, Any]:
        """The fields of that error's message (empty when it has none)."""
        return {} if self.error is None else self.error.params


class Failed(Exception):
    """Raised by a step to fail its check with a message (and, for certificates, a reason, and
    how the copy differs from the ledger when the step knows it)."""

    def __init__(self, detail: str, reason: Reason | None = None, difference: Difference | None = None) -> None:
        self.detail = detail
        self.reason = reason
        self.difference = difference
        super().__init__(detail)


class NotChecked(Exception):
    """Raised by a step when there is nothing to check against (said in `detail`)."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


def establish(
    name: str,
    step: Callable[[S], tuple[str, T]],
    subject: S | None,
    *,
    needs: Sequence[Check] = (),
    reason: Reason | None = None,
) -> tuple[Check, T | None]:
    """Run a step that establishes something later steps use: its check, and what it
    established (None unless it passed).

    `subject` is what the step examines; it may be None only when one of the checks in
    `needs` did not pass (the earlier steps that would have established it), and then the
    step is not run: its check says which of them did not pass.
    """
    blocked = [c.name for c in needs if not c.passed]
    if blocked:
        return Check(name, Outcome.NOT_CHECKED, f"not checked: {', '.join(blocked)} did not pass"), None
    if subject is None:
        raise ValueError(f"the step {name!r} has nothing to examine, though the checks it needs passed")
    try:
        detail, value = step(subject)
    except Failed as e:
        return Check(name, Outcome.FAILED, e.detail, e.reason or reason, difference=e.difference), None
    except NotChecked as e:
        return Check(name, Outcome.NOT_CHECKED, e.detail), None
    except (LedgerError, SigningError) as e:
        return Check(name, Outcome.FAILED, str(e), reason, e), None
    return Check(name, Outcome.PASSED, detail), value


def run(
    name: str,
    step: Callable[[S], str],
    subject: S | None,
    *,
    needs: Sequence[Check] = (),
    reason: Reason | None = None,
) -> Check:
    """Run a step over `subject` and return its check (see `establish`)."""
    check, _ = establish(name, lambda s: (step(s), None), subject, needs=needs, reason=reason)
    return check


Read: TypeAlias = T | LedgerError | SigningError
"""A value read for a check, or the ledger or signing error that reading it raised."""


def attempt(read: Callable[[], T]) -> Read[T]:
    """What `read` returns, or the ledger or signing error it raises (kept for the step that needs it)."""
    try:
        return read()
    except (LedgerError, SigningError) as e:
        return e


def got(value: Read[T]) -> T:
    """The value that was read; raises the error that reading it raised."""
    if isinstance(value, LedgerError | SigningError):
        raise value
    return value


def read_or_none(value: Read[T]) -> T | None:
    """The value that was read; None when reading it raised."""
    return None if isinstance(value, LedgerError | SigningError) else value


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
    "signatures": "signed statements",
    "role": "role held when acting",
    "letter": "one application, decided",
    "office": "roles and keys in this ledger",
}
"""Each check's name in English, for the command line (the web pages translate the names)."""
