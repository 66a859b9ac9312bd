"""The stored ledger: appends, checkpoints and proofs agree with an in-memory tree, on both databases."""

from __future__ import annotations

import pytest

from ledger.audit import audit
from ledger.checkpoint import Checkpoint, TlogProof
from ledger.entries import ZERO_HASH
from ledger.errors import AlreadyInitialized, Conflict, InvalidInput, NotFound, NotInitialized
from ledger.merkle import MemoryTree, root_hash, verify_consistency, verify_inclusion
from ledger.note import NoteSigner
from tests.factories import ORIGIN, LedgerFactory


def test_every_append_is_chained_and_checkpointed(world: LedgerFactory) -> None:
    ledger = world.ledger
    for n in (1, 2):
        world.sign(n)
    entries = ledger.entries(0, 100)
    assert [e.index for e in entries] == list(range(len(entries)))
    assert entries[0].kind == "ledger.created" and entries[0].prev == ZERO_HASH
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.prev == before.leaf_hash
    tree = MemoryTree([e.leaf_hash for e in entries])
    for size in range(1, len(entries) + 1):
        cp = ledger.checkpoint(size)
        assert cp.root == tree.root(size) == ledger.root(size)
        assert Checkpoint.open(cp.note, ledger.verifier, ORIGIN).size == size


def test_proofs_from_the_database_verify(world: LedgerFactory) -> None:
    ledger = world.ledger
    world.sign(1)
    size = ledger.size()
    tree = MemoryTree([e.leaf_hash for e in ledger.entries(0, 100)])
    for index in range(size):
        for at in range(index + 1, size + 1):
            proof = ledger.inclusion_proof(index, at)
            verify_inclusion(ledger.entry(index).leaf_hash, index, at, proof, root_hash(at, tree))
        text = ledger.tlog_proof(index).text()
        assert TlogProof.parse(text).verify(ledger.entry(index).leaf_hash, ledger.verifier, ORIGIN).size == size
    for old in range(1, size + 1):
        verify_consistency(old, size, ledger.root(old), ledger.root(), ledger.consistency_proof(old, size))


def test_meaningless_requests_are_refused(world: LedgerFactory) -> None:
    ledger = world.ledger
    size = ledger.size()
    with pytest.raises(NotFound, match=f"no entry {size}"):
        ledger.entry(size)
    with pytest.raises(InvalidInput, match=f"index {size} is not in a tree of size {size}"):
        ledger.tlog_proof(size)
    with pytest.raises(InvalidInput, match="not between 1 and"):
        ledger.inclusion_proof(0, size + 1)
    with pytest.raises(InvalidInput, match="need 0 < old <= new"):
        ledger.consistency_proof(0, size)
    with pytest.raises(NotFound, match="no checkpoint of size"):
        ledger.checkpoint(size + 5)


def test_a_ledger_is_created_once(world: LedgerFactory) -> None:
    before = world.ledger.size()
    with pytest.raises(AlreadyInitialized, match="already holds a ledger"):
        world.ledger.create("again", ORIGIN, world.signer, world.now())
    assert world.ledger.size() == before


def test_append_before_init_is_refused(ledger_factory: LedgerFactory) -> None:
    assert not ledger_factory.ledger.is_initialized()
    with pytest.raises(NotInitialized, match="ikrar init"):
        _ = ledger_factory.ledger.verifier


def test_a_foreign_signer_cannot_append(world: LedgerFactory) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    intruder = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    fields = {"nip": world.officials[0], "key": "x", "reason": "r", "by": "me"}
    with pytest.raises(InvalidInput, match="does not sign this ledger"):
        world.ledger.append("key.revoked", fields, intruder, world.now())


def test_a_refused_append_writes_nothing(world: LedgerFactory) -> None:
    ledger = world.ledger
    size, latest = ledger.size(), ledger.checkpoint().note
    fields = {"nip": world.officials[0], "key": "not-the-key", "reason": "r", "by": "admin"}
    with pytest.raises(Conflict, match="no active key"):
        ledger.append("key.revoked", fields, world.signer, world.now())
    with pytest.raises(InvalidInput, match="fields differ"):
        ledger.append("key.revoked", {"nip": "1"}, world.signer, world.now())
    assert ledger.size() == size and ledger.checkpoint().note == latest
    report = audit(ledger.stored_entries(), ledger.stored_checkpoints(), ledger.verifier)
    assert report.size == size
