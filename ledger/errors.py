"""The ledger's error family. Every error the package raises on purpose is a `LedgerError`."""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every ledger error; the message is meant for a person."""


class InvalidInput(LedgerError):
    """A value given to the ledger is malformed (a bad index, size, hash or field)."""


class NotFound(LedgerError):
    """The entry, checkpoint or object asked for does not exist."""


class AlreadyInitialized(LedgerError):
    """`init` was asked to create a ledger where one already exists."""


class NotInitialized(LedgerError):
    """The database holds no ledger yet."""


class Conflict(LedgerError):
    """The append would break a rule of the ledger (a duplicate, a revoked key, ...)."""


class ProofInvalid(LedgerError):
    """An inclusion or consistency proof does not verify."""


class NoteInvalid(LedgerError):
    """A signed note, verifier key or checkpoint is malformed or its signature fails."""


class ChainBroken(LedgerError):
    """The stored ledger is not what was signed: `index` names the first entry that breaks."""

    def __init__(self, index: int, reason: str) -> None:
        self.index = index
        self.reason = reason
        super().__init__(f"entry {index}: {reason}")


class SignatureRejected(LedgerError):
    """An official's signature in an entry does not verify (raised by the statement check)."""
