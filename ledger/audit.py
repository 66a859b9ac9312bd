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
from typing import TYPE_CHECKING, Generic, TypeVar

from ._judges import Judges
from .checkpoint import Checkpoint
from .derived_check import DerivedCheck
from .entries import ZERO_HASH, Entry, entry_from_leaf
from .errors import ChainBroken, InvalidInput, LedgerError, NoteInvalid
from .merkle import CompactRange
from .note import VerifierKey
from .rules import apply, check, verify
from .state import MemoryState
from .stored import StoredCheckpoint, StoredEntry
from .times import as_utc

if TYPE_CHECKING:
    from .reader import Reader


@dataclass(frozen=True)
class AuditReport:
    """What a passing audit saw."""

    size: int
    checkpoints: int
    signatures: int
    origin: str
    root: bytes
    latest_checkpoint: str


def _stored_problem(stored: StoredEntry, entry: Entry) -> str | None:
    """What is wrong with a stored row against its own leaf (its index is the expected one)."""
    if entry.index != stored.index:
        return f"the leaf says it is entry {entry.index}: entries were inserted, deleted or reordered"
    if stored.kind is not None and stored.kind != entry.kind:
        return f"the stored kind {stored.kind!r} is not the leaf's kind {entry.kind!r}"
    if stored.leaf_hash is not None and stored.leaf_hash != entry.leaf_hash:
        return "the stored leaf hash is not the hash of the leaf: the entry was edited"
    if stored.prev is not None and stored.prev != entry.prev:
        return "the stored previous hash differs from the leaf's"
    if stored.time is not None and as_utc(stored.time) != entry.time:
        return "the stored time differs from the leaf's"
    return None


Judged = tuple[Entry | None, str | None, Exception | None]
"""What one entry shows on its own: the entry (None when its leaf is not one), the first
problem of its row, and the error of its official's signature check."""


def judge_entry(stored: StoredEntry, verifier: VerifierKey) -> Judged:
    """Everything about one entry that needs no entry before it: parse the leaf, hash it,
    compare the row with it, and verify the signatures it carries (they need only the entry
    and the origin, which the genesis check pins to the trusted key's name).

    Raises nothing for a broken entry: the sequential pass raises each finding when it
    reaches it, so the first broken entry is named wherever this ran.
    """
    try:
        entry = entry_from_leaf(stored.leaf)
    except InvalidInput as e:
        return None, f"the leaf is not a valid entry: {e}", None
    problem = _stored_problem(stored, entry)
    error = None
    if problem is None:
        try:
            verify(entry, verifier.name)
        except LedgerError as e:  # raised again, in ledger order, by the sequential pass
            error = e
    return entry, problem, error


def judge_checkpoint(cp: StoredCheckpoint, verifier: VerifierKey) -> Checkpoint | NoteInvalid:
    """The checkpoint's signature and body, or why they fail (comparing the root needs the tree)."""
    try:
        return Checkpoint.open(cp.note, verifier, verifier.name)
    except NoteInvalid as e:
        return e


def audit(
    entries: Iterable[StoredEntry],
    checkpoints: Iterable[StoredCheckpoint],
    verifier: VerifierKey,
    progress: Callable[[int], None] | None = None,
    known_checkpoints: Iterable[str] = (),
    workers: int = 1,
    derived: Reader | None = None,
) -> AuditReport:
    """Verify everything; return a report or raise ChainBroken naming the first broken entry.

    `known_checkpoints` are checkpoint notes seen earlier (a monitor's copy, a printed
    certificate): each must be consistent with the ledger now, which detects a ledger
    rolled back or rewritten with its own key.

    Every official's signature is verified (`rules.verify`); there is no audit without.
    With `workers` > 1, that many processes parse entries and verify the officials' and
    the checkpoints' signatures ahead of the sequential pass (chain, rules, tree, roots),
    which still raises the first finding in ledger order: the entry named and the reason
    are those of `workers=1`. Raises InvalidInput when `workers` is not a whole number of
    at least 1.

    With `derived` (the reader of the snapshot the entries come from), every table derived
    from the entries is re-derived and compared as well (`derived_check`); the first
    difference raises DerivedMismatch naming the table and the row.
    """
    if type(workers) is not int or workers < 1:
        raise InvalidInput(f"workers must be a whole number of at least 1, not {workers!r}")
    known = [_open_known(note, verifier) for note in known_checkpoints]
    with Judges(judge_entry, judge_checkpoint, verifier, workers) as judges:
        return _sequential_pass(
            judges.entries(entries), judges.checkpoints(checkpoints), verifier, progress, known, derived
        )


def _sequential_pass(
    entries: Iterator[tuple[StoredEntry, Judged]],
    checkpoints: Iterator[tuple[StoredCheckpoint, Checkpoint | NoteInvalid]],
    verifier: VerifierKey,
    progress: Callable[[int], None] | None,
    known: list[Checkpoint],
    derived: Reader | None = None,
) -> AuditReport:
    """The part that must go in order: indexes, the hash chain, the rules, the tree and its roots."""
    tree = CompactRange()
    state: MemoryState | None = None
    prev = ZERO_HASH
    pending = _Peekable(checkpoints)
    roots: dict[int, bytes] = {}
    wanted = {cp.size for cp in known}
    n_checkpoints = n_signatures = 0
    latest = ""
    for stored, (entry, problem, signature_error) in entries:
        expected = tree.size
        if stored.index != expected:
            what = "is missing" if stored.index > expected else "is stored twice or out of order"
            raise ChainBroken(expected, f"entry {expected} {what}")
        if problem:
            raise ChainBroken(expected, problem)
        assert entry is not None
        if entry.prev != prev:
            raise ChainBroken(expected, "the hash chain is broken: prev is not the hash of the entry before")
        if expected == 0:
            state = _genesis(entry, verifier, derived)
        else:
            assert state is not None
            try:
                check(entry, state)
                if signature_error is not None:  # found ahead, by `judge_entry`
                    raise signature_error
            except LedgerError as e:
                raise ChainBroken(expected, f"{entry.kind} breaks a rule: {e}") from e
            apply(entry, state)
        n_signatures += entry.kind == "commitment.signed"
        prev = entry.leaf_hash
        completed = tree.append(prev)
        if derived is not None:
            assert isinstance(state, DerivedCheck)
            state.tree_nodes(completed)
        if tree.size in wanted:
            roots[tree.size] = tree.root()
        covered = False
        while (item := pending.peek()) is not None and item[0].size <= tree.size:
            next(pending)
            cp, opened = item
            if cp.size < tree.size:
                raise ChainBroken(cp.size - 1, f"checkpoint of size {cp.size} is stored twice or out of order")
            _check_checkpoint(cp, opened, tree)
            covered, latest = True, cp.note
            n_checkpoints += 1
        if not covered:
            raise ChainBroken(expected, f"no signed checkpoint of size {tree.size} was stored with it")
        if progress:
            progress(tree.size)
    extra = pending.peek()
    if extra is not None:
        raise ChainBroken(
            tree.size, f"a checkpoint of size {extra[0].size} signs entries from {tree.size} on, which are missing"
        )
    if tree.size == 0 or state is None:
        raise ChainBroken(0, "the ledger is empty: its first entry is missing")
    _check_known(known, roots, tree)
    if isinstance(state, DerivedCheck):
        state.finish()
    return AuditReport(tree.size, n_checkpoints, n_signatures, state.origin, tree.root(), latest)


T = TypeVar("T")


class _Peekable(Generic[T]):
    def __init__(self, it: Iterator[T]) -> None:
        self._it, self._next = it, next(it, None)

    def peek(self) -> T | None:
        return self._next

    def __next__(self) -> T | None:
        value, self._next = self._next, next(self._it, None)
        return value


def _genesis(entry: Entry, verifier: VerifierKey, derived: Reader | None) -> MemoryState:
    if entry.kind != "ledger.created":
        raise ChainBroken(0, f"the first entry is {entry.kind}, not ledger.created")
    if entry.prev != ZERO_HASH:
        raise ChainBroken(0, "the first entry's prev is not the zero hash")
    if entry.fields["ledger_key"] != str(verifier):
        raise ChainBroken(0, "the ledger was created with another key than the one trusted")
    if entry.fields["origin"] != verifier.name:
        raise ChainBroken(0, "the ledger's origin is not the name of its key")
    origin = entry.fields["origin"]
    state = MemoryState(origin) if derived is None else DerivedCheck(origin, derived, dict(entry.fields))
    try:
        apply(entry, state)  # the rules version it names
    except LedgerError as e:
        raise ChainBroken(0, str(e)) from e
    return state


def _check_checkpoint(cp: StoredCheckpoint, opened: Checkpoint | NoteInvalid, tree: CompactRange) -> None:
    last = cp.size - 1
    if isinstance(opened, NoteInvalid):
        raise ChainBroken(last, f"checkpoint of size {cp.size} is not validly signed: {opened}") from opened
    if opened.size != cp.size:
        raise ChainBroken(last, f"checkpoint stored as size {cp.size} says size {opened.size}")
    if opened.root != tree.root():
        raise ChainBroken(
            last,
            f"the entries do not match the signed checkpoint of size {cp.size}: "
            f"entry {last} or one before it was changed",
        )


def _open_known(note: str, verifier: VerifierKey) -> Checkpoint:
    try:
        return Checkpoint.open(note, verifier)
    except NoteInvalid as e:
        raise InvalidInput(f"a known checkpoint does not verify: {e}") from e


def _check_known(known: list[Checkpoint], roots: dict[int, bytes], tree: CompactRange) -> None:
    for cp in known:
        if cp.size > tree.size:
            raise ChainBroken(
                tree.size, f"a checkpoint seen earlier has size {cp.size}: entries from {tree.size} on were cut off"
            )
        if roots[cp.size] != cp.root:
            raise ChainBroken(
                cp.size - 1,
                f"the ledger was rewritten: it no longer matches the checkpoint of size {cp.size} seen earlier",
            )
