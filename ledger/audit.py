"""Re-verify a whole ledger from its first entry, streaming, in O(log n) memory for the tree.

The same function audits the database (`ikrar audit`) and an export folder
(`ikrar verify-export`): it takes the stored rows as iterables. It checks, entry by entry,
that indexes are contiguous, that each leaf is a canonical entry at its own index, that
the stored hashes are the hashes of the leaf, that each entry names the one before it
(the hash chain), that every rule held when it was appended, that each official's
signature verifies, and that every stored checkpoint is signed by the ledger key and
commits to exactly the entries before it. The first failure raises `ChainBroken` naming
the first entry that breaks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from .checkpoint import Checkpoint
from .entries import ZERO_HASH, Entry, entry_from_leaf
from .errors import ChainBroken, Conflict, InvalidInput, LedgerError, NoteInvalid
from .merkle import CompactRange, leaf_hash
from .note import VerifierKey
from .rules import MemoryState, StatementCheck, check


@dataclass(frozen=True)
class StoredEntry:
    """An entry as stored: the row's own index, kind and hashes beside the leaf bytes."""

    index: int
    leaf: bytes
    kind: str | None = None
    leaf_hash: bytes | None = None
    prev: bytes | None = None
    time: datetime | None = None


@dataclass(frozen=True)
class StoredCheckpoint:
    size: int
    note: str


@dataclass(frozen=True)
class AuditReport:
    """What a passing audit saw."""

    size: int
    checkpoints: int
    signatures: int
    origin: str
    root: bytes
    latest_checkpoint: str


def as_utc(moment: datetime) -> datetime:
    """Databases may hand back naive datetimes (SQLite); the ledger stores UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _entry_problem(stored: StoredEntry, expected: int, prev: bytes) -> tuple[Entry, str | None]:
    try:
        entry = entry_from_leaf(stored.leaf)
    except InvalidInput as e:
        raise ChainBroken(expected, f"the leaf is not a valid entry: {e}") from e
    computed = leaf_hash(stored.leaf)
    if entry.index != expected:
        return entry, f"the leaf says it is entry {entry.index}: entries were inserted, deleted or reordered"
    if stored.kind is not None and stored.kind != entry.kind:
        return entry, f"the stored kind {stored.kind!r} is not the leaf's kind {entry.kind!r}"
    if stored.leaf_hash is not None and stored.leaf_hash != computed:
        return entry, "the stored leaf hash is not the hash of the leaf: the entry was edited"
    if stored.prev is not None and stored.prev != entry.prev:
        return entry, "the stored previous hash differs from the leaf's"
    if stored.time is not None and as_utc(stored.time) != entry.time:
        return entry, "the stored time differs from the leaf's"
    if entry.prev != prev:
        return entry, "the hash chain is broken: prev is not the hash of the entry before"
    return entry, None


def audit(
    entries: Iterable[StoredEntry],
    checkpoints: Iterable[StoredCheckpoint],
    verifier: VerifierKey,
    statement_check: StatementCheck | None = None,
    progress: Callable[[int], None] | None = None,
    known_checkpoints: Iterable[str] = (),
) -> AuditReport:
    """Verify everything; return a report or raise ChainBroken naming the first broken entry.

    `known_checkpoints` are checkpoint notes seen earlier (a monitor's copy, a printed
    certificate): each must be consistent with the ledger now, which detects a ledger
    rolled back or rewritten with its own key.
    """
    tree = CompactRange()
    state: MemoryState | None = None
    prev = ZERO_HASH
    pending = _Peekable(iter(checkpoints))
    known = [_open_known(note, verifier) for note in known_checkpoints]
    roots: dict[int, bytes] = {}
    wanted = {cp.size for cp in known}
    n_checkpoints = n_signatures = 0
    latest = ""
    for stored in entries:
        expected = tree.size
        if stored.index != expected:
            what = "is missing" if stored.index > expected else "is stored twice or out of order"
            raise ChainBroken(expected, f"entry {expected} {what}")
        entry, problem = _entry_problem(stored, expected, prev)
        if problem:
            raise ChainBroken(expected, problem)
        if expected == 0:
            state = _genesis(entry, verifier)
        else:
            assert state is not None
            try:
                check(entry, state, statement_check)
            except (Conflict, LedgerError) as e:
                raise ChainBroken(expected, f"{entry.kind} breaks a rule: {e}") from e
            state.apply(entry)
        n_signatures += entry.kind == "commitment.signed"
        tree.append(entry.leaf_hash)
        prev = entry.leaf_hash
        if tree.size in wanted:
            roots[tree.size] = tree.root()
        covered = False
        while (cp := pending.peek()) is not None and cp.size <= tree.size:
            next(pending)
            if cp.size < tree.size:
                raise ChainBroken(cp.size - 1, f"checkpoint of size {cp.size} is stored twice or out of order")
            _check_checkpoint(cp, tree, verifier, state)
            covered, latest = True, cp.note
            n_checkpoints += 1
        if not covered:
            raise ChainBroken(expected, f"no signed checkpoint of size {tree.size} was stored with it")
        if progress:
            progress(tree.size)
    extra = pending.peek()
    if extra is not None:
        raise ChainBroken(tree.size, f"a checkpoint of size {extra.size} signs entries from {tree.size} on, which are missing")
    if tree.size == 0 or state is None:
        raise ChainBroken(0, "the ledger is empty: its first entry is missing")
    _check_known(known, roots, tree)
    return AuditReport(tree.size, n_checkpoints, n_signatures, state.origin, tree.root(), latest)


class _Peekable:
    def __init__(self, it: Iterator[StoredCheckpoint]) -> None:
        self._it, self._next = it, next(it, None)

    def peek(self) -> StoredCheckpoint | None:
        return self._next

    def __next__(self) -> StoredCheckpoint | None:
        value, self._next = self._next, next(self._it, None)
        return value


def _genesis(entry: Entry, verifier: VerifierKey) -> MemoryState:
    if entry.kind != "ledger.created":
        raise ChainBroken(0, f"the first entry is {entry.kind}, not ledger.created")
    if entry.prev != ZERO_HASH:
        raise ChainBroken(0, "the first entry's prev is not the zero hash")
    if entry.fields["ledger_key"] != str(verifier):
        raise ChainBroken(0, "the ledger was created with another key than the one trusted")
    if entry.fields["origin"] != verifier.name:
        raise ChainBroken(0, "the ledger's origin is not the name of its key")
    return MemoryState(entry.fields["origin"])


def _check_checkpoint(cp: StoredCheckpoint, tree: CompactRange, verifier: VerifierKey, state: MemoryState | None) -> None:
    last = cp.size - 1
    try:
        checkpoint = Checkpoint.open(cp.note, verifier, state.origin if state else None)
    except NoteInvalid as e:
        raise ChainBroken(last, f"checkpoint of size {cp.size} is not validly signed: {e}") from e
    if checkpoint.size != cp.size:
        raise ChainBroken(last, f"checkpoint stored as size {cp.size} says size {checkpoint.size}")
    if checkpoint.root != tree.root():
        raise ChainBroken(last, f"the entries do not match the signed checkpoint of size {cp.size}: entry {last} or one before it was changed")


def _open_known(note: str, verifier: VerifierKey) -> Checkpoint:
    try:
        return Checkpoint.open(note, verifier)
    except NoteInvalid as e:
        raise InvalidInput(f"a known checkpoint does not verify: {e}") from e


def _check_known(known: list[Checkpoint], roots: dict[int, bytes], tree: CompactRange) -> None:
    for cp in known:
        if cp.size > tree.size:
            raise ChainBroken(tree.size, f"a checkpoint seen earlier has size {cp.size}: entries from {tree.size} on were cut off")
        if roots[cp.size] != cp.root:
            raise ChainBroken(cp.size - 1, f"the ledger was rewritten: it no longer matches the checkpoint of size {cp.size} seen earlier")
