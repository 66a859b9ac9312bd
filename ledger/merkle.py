"""RFC 6962 / RFC 9162 §2.1 Merkle tree: hashes, inclusion and consistency proofs.

Proofs are built from *perfect subtrees*: the hash of the aligned block of 2**level
leaves starting at leaf ``index << level``. Whoever stores the tree answers for those
(`NodeSource`); everything else here is pure arithmetic over hashes. Verification
functions return nothing or raise `ProofInvalid`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import NewType, Protocol

from .errors import InvalidInput, ProofInvalid

Hash = NewType("Hash", bytes)
HASH_SIZE = 32
EMPTY_ROOT = Hash(hashlib.sha256(b"").digest())

Node = tuple[int, int]
"""A perfect subtree: (level, index) covers leaves [index << level, (index + 1) << level)."""


def leaf_hash(data: bytes) -> Hash:
    """SHA-256(0x00 ‖ data)."""
    return Hash(hashlib.sha256(b"\x00" + data).digest())


def node_hash(left: bytes, right: bytes) -> Hash:
    """SHA-256(0x01 ‖ left ‖ right)."""
    return Hash(hashlib.sha256(b"\x01" + left + right).digest())


class NodeSource(Protocol):
    """Whatever holds a tree: answers the hashes of perfect subtrees, in the order asked."""

    def subtree_hashes(self, nodes: Sequence[Node]) -> list[Hash]: ...


def _split(n: int) -> int:
    """The largest power of two strictly less than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _perfect_parts(start: int, end: int) -> list[Node]:
    """Perfect subtrees whose fold right-to-left is MTH(D[start:end]); `start` is aligned."""
    parts: list[Node] = []
    while end - start > 0:
        n = end - start
        k = n if n & (n - 1) == 0 else _split(n)
        level = k.bit_length() - 1
        parts.append((level, start >> level))
        start += k
    return parts


def _fold(hashes: Sequence[bytes]) -> Hash:
    sha256, result = hashlib.sha256, hashes[-1]  # node_hash inlined: this runs for every checkpoint
    for i in range(len(hashes) - 2, -1, -1):
        result = sha256(b"\x01" + hashes[i] + result).digest()
    return Hash(result)


def _range_hashes(ranges: Sequence[tuple[int, int]], source: NodeSource) -> list[Hash]:
    """MTH of each [start, end) range, with one call to the source for all of them."""
    plans = [_perfect_parts(a, b) for a, b in ranges]
    flat = [node for plan in plans for node in plan]
    fetched = iter(source.subtree_hashes(flat)) if flat else iter(())
    return [_fold([next(fetched) for _ in plan]) for plan in plans]


def _check_size(size: int) -> None:
    if not isinstance(size, int) or size < 0:
        raise InvalidInput(f"tree size must be a non-negative integer, not {size!r}", code="tree.size", size=size)


def root_hash(size: int, source: NodeSource) -> Hash:
    """The root of the tree of the first `size` leaves."""
    _check_size(size)
    if size == 0:
        return EMPTY_ROOT
    return _range_hashes([(0, size)], source)[0]


def _inclusion_ranges(index: int, start: int, end: int) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    return list(reversed(ranges))


def inclusion_proof(index: int, size: int, source: NodeSource) -> list[Hash]:
    """The audit path of leaf `index` in the tree of `size` leaves (RFC 9162 §2.1.3.1).

    Raises InvalidInput unless 0 <= index < size.
    """
    _check_size(size)
    if not isinstance(index, int) or not 0 <= index < size:
        raise InvalidInput(f"index {index} is not in a tree of size {size}", code="index.range", index=index, size=size)
    return _range_hashes(_inclusion_ranges(index, 0, size), source)


def _consistency_ranges(old: int, start: int, end: int) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    complete = True
    while True:
        n = end - start
        if old == n:
            if not complete:
                ranges.append((start, end))
            break
        k = _split(n)
        if old <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            old -= k
            start += k
            complete = False
    return list(reversed(ranges))


def consistency_proof(old: int, new: int, source: NodeSource) -> list[Hash]:
    """The proof that the tree of `old` leaves is a prefix of the tree of `new` (RFC 9162 §2.1.4.1).

    Raises InvalidInput unless 0 < old <= new (a proof from the empty tree is meaningless).
    """
    _check_size(old)
    _check_size(new)
    if not 0 < old <= new:
        raise InvalidInput(
            f"no consistency proof from size {old} to size {new}: need 0 < old <= new",
            code="consistency.range",
            old=old,
            new=new,
        )
    if old == new:
        return []
    return _range_hashes(_consistency_ranges(old, 0, new), source)


def _check_hashes(proof: Sequence[bytes], *named: tuple[str, bytes]) -> None:
    for name, value in named:
        if len(value) != HASH_SIZE:
            raise ProofInvalid(
                f"{name} is {len(value)} bytes, not {HASH_SIZE}", code="hash.size", name=name, length=len(value)
            )
    for i, p in enumerate(proof):
        if len(p) != HASH_SIZE:
            raise ProofInvalid(
                f"proof hash {i} is {len(p)} bytes, not {HASH_SIZE}",
                code="hash.size",
                name=f"proof hash {i}",
                length=len(p),
            )


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> Hash:
    """The root that `proof` leads to from leaf hash `leaf` (RFC 9162 §2.1.3.2).

    Raises ProofInvalid when the proof cannot belong to (index, size) at all.
    """
    _check_hashes(proof, ("leaf hash", leaf))
    if not 0 <= index < size:
        raise ProofInvalid(f"index {index} is not in a tree of size {size}", code="index.range", index=index, size=size)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofInvalid("proof is longer than the tree is deep", code="proof.length")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofInvalid("proof is shorter than the tree is deep", code="proof.length")
    return Hash(r)


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that leaf hash `leaf` is at `index` in the tree of `size` with `root`.

    Raises ProofInvalid when it is not.
    """
    _check_hashes((), ("root", root))
    if root_from_inclusion_proof(leaf, index, size, proof) != root:
        raise ProofInvalid(
            f"inclusion proof for entry {index} does not lead to the root of size {size}",
            code="proof.inclusion",
            index=index,
            size=size,
        )


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """Check that the tree (`old`, `old_root`) is a prefix of (`new`, `new_root`).

    Hash lengths are checked first: a root that is not 32 bytes is refused even when the
    sizes are equal. Raises ProofInvalid when the proof does not hold.
    """
    _check_hashes(proof, ("old root", old_root), ("new root", new_root))
    if not 0 <= old <= new:
        raise ProofInvalid(f"sizes {old} and {new} are not in order", code="consistency.order", old=old, new=new)
    if old == new:
        if proof:
            raise ProofInvalid("equal sizes need an empty proof", code="proof.length")
        if old_root != new_root:
            raise ProofInvalid("equal sizes with different roots", code="consistency.roots_differ")
        return
    if old == 0:
        if proof:
            raise ProofInvalid("a proof from the empty tree must be empty", code="proof.length")
        return
    if not proof:
        raise ProofInvalid("empty consistency proof", code="proof.length")
    path = list(proof)
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofInvalid("consistency proof is too long", code="proof.length")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofInvalid("consistency proof is too short", code="proof.length")
    if fr != old_root:
        raise ProofInvalid(
            f"consistency proof does not lead to the old root (size {old})", code="consistency.old_root", size=old
        )
    if sr != new_root:
        raise ProofInvalid(
            f"consistency proof does not lead to the new root (size {new})", code="consistency.new_root", size=new
        )


def frontier(size: int) -> list[Node]:
    """The perfect subtrees, largest first, that make up the tree of `size` leaves."""
    _check_size(size)
    return _perfect_parts(0, size)


class CompactRange:
    """The right edge of a growing tree: O(log n) memory, for streaming audits and appends."""

    def __init__(self, size: int = 0, stack: Sequence[Hash] = ()) -> None:
        """An empty range, or the one of `size` leaves whose `frontier(size)` hashes are `stack`."""
        expected = len(frontier(size))
        if len(stack) != expected:
            raise InvalidInput(
                f"a tree of size {size} has {expected} frontier hashes", code="tree.frontier", size=size, count=expected
            )
        self.size = size
        self._stack: list[Hash] = list(stack)  # perfect subtrees, largest first

    def append(self, leaf: Hash) -> list[tuple[Node, Hash]]:
        """Add a leaf hash; return the perfect subtrees of level >= 1 that it completed."""
        index, stack, sha256 = self.size, self._stack, hashlib.sha256
        h, level = leaf, 0
        completed: list[tuple[Node, Hash]] = []
        while index >> level & 1:
            h = Hash(sha256(b"\x01" + stack.pop() + h).digest())
            level += 1
            completed.append(((level, index >> level), h))
        self._stack.append(h)
        self.size += 1
        return completed

    @property
    def hashes(self) -> tuple[Hash, ...]:
        """The frontier hashes, largest subtree first: with `size`, all it takes to go on."""
        return tuple(self._stack)

    def root(self) -> Hash:
        if not self._stack:
            return EMPTY_ROOT
        return _fold(self._stack)


class MemoryTree:
    """A whole tree in memory; a `NodeSource` for tests, exports and small verifiers."""

    def __init__(self, leaves: Sequence[Hash] = ()) -> None:
        self._levels: list[list[Hash]] = [[]]
        for leaf in leaves:
            self.append(leaf)

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def append(self, leaf: Hash) -> None:
        self._levels[0].append(leaf)
        level, index = 0, len(self._levels[0]) - 1
        while index & 1:
            h = node_hash(self._levels[level][index - 1], self._levels[level][index])
            level, index = level + 1, index >> 1
            if len(self._levels) == level:
                self._levels.append([])
            self._levels[level].append(h)

    def subtree_hashes(self, nodes: Sequence[Node]) -> list[Hash]:
        try:
            return [self._levels[level][index] for level, index in nodes]
        except IndexError as e:
            raise InvalidInput("subtree beyond the end of the tree", code="tree.beyond_end") from e

    def root(self, size: int | None = None) -> Hash:
        return root_hash(self.size if size is None else size, self)
