"""The append path's shortcuts (the frontier kept from the last append, the commitments read
once, the rules' compact memory) change nothing that is written or decided."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ledger.audit import audit
from ledger.entries import make_entry
from ledger.errors import Conflict
from ledger.merkle import MemoryTree, root_hash
from ledger.rules import MemoryState, apply, check
from ledger.store import Ledger
from signing import actions
from signing.actions import Context
from signing.errors import NotAllowed
from tests.factories import LedgerFactory, nip, passphrase


def _check_whole(ledger: Ledger) -> None:
    entries = ledger.entries(0, 1000)
    tree = MemoryTree([e.leaf_hash for e in entries])
    for size in range(1, len(entries) + 1):
        assert ledger.checkpoint(size).root == tree.root(size) == root_hash(size, tree)
    report = audit(ledger.stored_entries(), ledger.stored_checkpoints(), ledger.verifier)
    assert report.size == len(entries)


def test_two_writers_taking_turns_keep_one_tree(world: LedgerFactory) -> None:
    """Another writer (process, host) appends in between: the frontier is read again, not reused."""
    other = Ledger(world.ledger.engine.url.render_as_string(hide_password=False))
    other_ctx = Context(other, world.keys, world.signer)
    for n in (4, 5, 6):
        world.official(n)
    actions.publish(world.ctx, "kedua", "Komitmen Kedua", "Teks kedua.\n", world.officials, "admin", world.now())
    for i, n in enumerate((1, 2, 3, 4, 5, 6)):
        ctx = world.ctx if i % 2 else other_ctx
        actions.sign(ctx, "kedua", nip(n), passphrase(n), world.now())
        if n <= 3:
            actions.sign(ctx, "smart-city", nip(n), passphrase(n), world.now())
    _check_whole(world.ledger)
    other.engine.dispose()


def test_a_refused_append_leaves_the_next_one_right(world: LedgerFactory) -> None:
    ledger = world.ledger
    world.sign(1)
    with pytest.raises(Conflict, match="already signed"):
        ledger.append(
            "commitment.signed",
            dict(ledger.entry(ledger.size() - 1).fields),
            world.signer,
            world.now(),
        )
    world.sign(2)
    world.sign(3)
    _check_whole(ledger)


def test_a_commitment_published_elsewhere_is_seen(world: LedgerFactory) -> None:
    """A writer that has read some commitments still finds one another writer published after."""
    world.sign(1)  # this ledger object has now read "smart-city"
    other = Ledger(world.ledger.engine.url.render_as_string(hide_password=False))
    actions.publish(
        Context(other, world.keys, world.signer),
        "baru",
        "Baru",
        "Teks baru.\n",
        world.officials[:1],
        "admin",
        world.now(),
    )
    actions.sign(world.ctx, "baru", nip(1), passphrase(1), world.now())
    with pytest.raises(NotAllowed, match="already signed"):
        actions.sign(world.ctx, "baru", nip(1), passphrase(1), world.now())
    _check_whole(world.ledger)
    other.engine.dispose()


def test_memory_state_remembers_each_signature_of_each_commitment(world: LedgerFactory) -> None:
    world.sign(1)
    world.sign(2)
    state = MemoryState(world.ledger.origin)
    for entry in world.ledger.entries(1, 100):
        apply(entry, state)
    assert state.has_signed("smart-city", nip(1)) and state.has_signed("smart-city", nip(2))
    assert not state.has_signed("smart-city", nip(3))
    assert not state.has_signed("other", nip(1))
    info = state.commitment("smart-city")
    assert info is not None and info.signers == (nip(1), nip(2), nip(3))
    # a second signature by the same official is what the rules refuse
    last = world.ledger.entry(world.ledger.size() - 1)
    again = make_entry(last.index + 1, last.kind, last.time + timedelta(minutes=1), last.leaf_hash, dict(last.fields))
    with pytest.raises(Conflict, match="already signed"):
        check(again, state)
