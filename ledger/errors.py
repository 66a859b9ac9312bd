"""The ledger's error family. Every error the package raises on purpose is a `LedgerError`.

Each error says what went wrong twice: in English for a person (its `str()`, which the CLI
prints and the logs keep), and as a stable `code` with the `params` that message needs, so
that a shell can say it in another language without reading the English::

    raise Conflict(f"official {nip} already has an active key; revoke it first", code="key.active_exists", nip=nip)

A raise site that names no code gets its class's (`Conflict.code == "conflict"`).
"""

from __future__ import annotations

from typing import Any


class CodedError(Exception):
    """An error with an English message, a stable `code` and the `params` of its message.

    The base of the ledger's and of the signing package's families; raise their children.
    """

    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None, **params: Any) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.params: dict[str, Any] = params


class LedgerError(CodedError):
    """Base of every ledger error; the message is meant for a person."""

    code = "ledger"


class InvalidInput(LedgerError):
    """A value given to the ledger is malformed (a bad index, size, hash or field)."""

    code = "invalid"


class NotFound(LedgerError):
    """The entry, checkpoint or object asked for does not exist."""

    code = "not_found"


class AlreadyInitialized(LedgerError):
    """`init` was asked to create a ledger where one already exists."""

    code = "already_initialized"


class NotInitialized(LedgerError):
    """The database holds no ledger yet."""

    code = "not_initialized"


class Conflict(LedgerError):
    """The append would break a rule of the ledger (a duplicate, a revoked key, ...)."""

    code = "conflict"


class ProofInvalid(LedgerError):
    """An inclusion or consistency proof does not verify."""

    code = "proof_invalid"


class NoteInvalid(LedgerError):
    """A signed note, verifier key or checkpoint is malformed or its signature fails."""

    code = "note_invalid"


class ChainBroken(LedgerError):
    """The stored ledger is not what was signed: `index` names the first entry that breaks."""

    code = "chain_broken"

    def __init__(self, index: int, reason: str, *, code: str | None = None, **params: Any) -> None:
        self.index = index
        self.reason = reason
        super().__init__(f"entry {index}: {reason}", code=code, index=index, **params)


class DerivedMismatch(LedgerError):
    """A table derived from the entries says something the entries do not: `table`, the
    row's `key` and `what` differs. `ikrar rebuild` recomputes the derived tables."""

    code = "derived.mismatch"

    def __init__(self, table: str, key: str, what: str) -> None:
        super().__init__(f"table {table}, row {key}: {what}", table=table, key=key, what=what)
        self.table, self.key, self.what = table, key, what

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.table, self.key, self.what)


class SignatureRejected(LedgerError):
    """An official's signature in an entry does not verify (raised by the statement check)."""

    code = "signature_rejected"
