"""Tampering with the stored rows behind the ledger's back: the audit names the first broken entry."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import text

from ledger.audit import audit
from ledger.canonical import canonical_json
from ledger.entries import entry_from_leaf
from ledger.errors import ChainBroken
from ledger.merkle import leaf_hash
from tests.factories import LedgerFactory

Tamper = Callable[[LedgerFactory], None]


def _run_audit(world: LedgerFactory, known: tuple[str, ...] = ()) -> None:
    ledger = world.ledger
    audit(ledger.stored_entries(), ledger.stored_checkpoints(), ledger.verifier, None, known)


def _sql(world: LedgerFactory, statement: str, **params: object) -> None:
    with world.ledger.engine.begin() as c:
        c.execute(text(statement), params)


def _leaf(world: LedgerFactory, index: int) -> dict:
    return json.loads(world.ledger.entry(index).leaf)


def _rewrite(world: LedgerFactory, index: int, body: dict, fix_hash: bool, fix_next: bool) -> None:
    leaf = canonical_json(body)
    _sql(world, "UPDATE entry SET leaf = :leaf WHERE idx = :i", leaf=leaf, i=index)
    if fix_hash:
        _sql(world, "UPDATE entry SET leaf_hash = :h WHERE idx = :i", h=leaf_hash(leaf), i=index)
    if fix_next:  # also re-chain the next entry, as a careful forger would
        nxt = _leaf(world, index + 1)
        nxt["prev"] = leaf_hash(leaf).hex()
        _rewrite(world, index + 1, nxt, fix_hash=True, fix_next=False)
        _sql(world, "UPDATE entry SET prev = :p WHERE idx = :i", p=leaf_hash(leaf), i=index + 1)


@pytest.fixture()
def signed(world: LedgerFactory) -> LedgerFactory:
    """ledger.created, 3 × key.enrolled, commitment.published, then 2 signatures: entries 0-6."""
    world.sign(1)
    world.sign(2)
    _run_audit(world)  # clean before we touch it
    return world


def edit_name(w: LedgerFactory) -> None:
    body = _leaf(w, 2)
    body["name"] = "Pejabat Palsu"
    _rewrite(w, 2, body, fix_hash=False, fix_next=False)


def edit_name_and_rehash(w: LedgerFactory) -> None:
    body = _leaf(w, 2)
    body["name"] = "Pejabat Palsu"
    _rewrite(w, 2, body, fix_hash=True, fix_next=True)


def edit_commitment_text(w: LedgerFactory) -> None:
    body = _leaf(w, 4)
    body["text"] = "Kami tidak berkomitmen.\n"
    _rewrite(w, 4, body, fix_hash=True, fix_next=True)


def edit_signature(w: LedgerFactory) -> None:
    body = _leaf(w, 5)
    sig = body["signature"]
    body["signature"] = ("B" if sig[0] == "A" else "A") + sig[1:]
    _rewrite(w, 5, body, fix_hash=True, fix_next=True)


def edit_leaf_hash(w: LedgerFactory) -> None:
    _sql(w, "UPDATE entry SET leaf_hash = :h WHERE idx = 3", h=bytes(32))


def edit_prev(w: LedgerFactory) -> None:
    _sql(w, "UPDATE entry SET prev = :h WHERE idx = 3", h=bytes(32))


def edit_kind(w: LedgerFactory) -> None:
    _sql(w, "UPDATE entry SET kind = 'key.revoked' WHERE idx = 3")


def edit_time(w: LedgerFactory) -> None:
    _sql(w, "UPDATE entry SET time = :t WHERE idx = 3", t=w.ledger.entry(0).time)


def delete_middle(w: LedgerFactory) -> None:
    _sql(w, "DELETE FROM entry WHERE idx = 3")


def delete_last(w: LedgerFactory) -> None:
    _sql(w, "DELETE FROM entry WHERE idx = 6")


def insert_one(w: LedgerFactory) -> None:
    forged = _leaf(w, 5)
    forged["time"] = forged["time"][:-3] + "59Z"  # a signature at another moment
    for i in (6, 5):  # shift 5 and 6 up by one, then put a forged entry at 5
        _sql(w, "UPDATE entry SET idx = :j WHERE idx = :i", i=i, j=i + 1)
    leaf = canonical_json(forged)
    _sql(
        w,
        "INSERT INTO entry (idx, kind, time, prev, leaf_hash, leaf) SELECT 5, kind, :t, prev, :h, :leaf FROM entry WHERE idx = 6",
        t=entry_from_leaf(leaf).time,
        h=leaf_hash(leaf),
        leaf=leaf,
    )


def swap_two(w: LedgerFactory) -> None:
    _sql(w, "UPDATE entry SET idx = -1 WHERE idx = 2")
    _sql(w, "UPDATE entry SET idx = 2 WHERE idx = 3")
    _sql(w, "UPDATE entry SET idx = 3 WHERE idx = -1")


def _cut_tail(w: LedgerFactory, first: int) -> None:
    _sql(w, "DELETE FROM entry WHERE idx >= :i", i=first)
    _sql(w, "DELETE FROM merkle_node WHERE (idx + 1) * power(2, level) > :i", i=first)
    _sql(w, "DELETE FROM signature WHERE idx >= :i", i=first)
    _sql(w, "DELETE FROM checkpoint WHERE size > :i", i=first)


def cut_tail_and_reappend(w: LedgerFactory) -> None:
    """Cut entries 5-6 and put other content there; without the ledger key the old checkpoints stay."""
    old = {cp.size: cp.note for cp in w.ledger.stored_checkpoints()}
    _cut_tail(w, 5)
    w.sign(3)  # a different official's signature now sits at index 5
    w.sign(1)
    for size in (6, 7):
        _sql(w, "UPDATE checkpoint SET note = :n WHERE size = :s", n=old[size], s=size)


CASES: list[tuple[Tamper, int, str]] = [
    (edit_name, 2, "stored leaf hash is not the hash of the leaf"),
    (edit_name_and_rehash, 2, "do not match the signed checkpoint of size 3"),
    (edit_commitment_text, 4, "text_sha256 is not the SHA-256 of the text"),
    (edit_signature, 5, "does not verify"),
    (edit_leaf_hash, 3, "stored leaf hash"),
    (edit_prev, 3, "stored previous hash"),
    (edit_kind, 3, "stored kind"),
    (edit_time, 3, "stored time"),
    (delete_middle, 3, "entry 3 is missing"),
    (delete_last, 6, "signs entries from 6 on, which are missing"),
    (insert_one, 5, "commitment.signed breaks a rule: the signature .* does not verify"),
    (swap_two, 2, "says it is entry 3"),
    (cut_tail_and_reappend, 5, "do not match the signed checkpoint of size 6"),
]


@pytest.mark.parametrize(("tamper", "index", "reason"), CASES, ids=[c[0].__name__ for c in CASES])
def test_audit_names_the_first_broken_entry(signed: LedgerFactory, tamper: Tamper, index: int, reason: str) -> None:
    tamper(signed)
    with pytest.raises(ChainBroken, match=reason) as caught:
        _run_audit(signed)
    assert caught.value.index == index, caught.value


def test_a_rollback_by_the_key_holder_needs_a_known_checkpoint(signed: LedgerFactory) -> None:
    """Whoever holds the ledger key can cut the tail and re-sign; a checkpoint seen earlier catches it."""
    seen = signed.ledger.checkpoint().note
    _cut_tail(signed, 5)
    signed.sign(3)
    signed.sign(1)
    _run_audit(signed)  # self-consistent: it was re-signed with the real key
    with pytest.raises(ChainBroken, match="no longer matches the checkpoint of size 7 seen earlier") as caught:
        _run_audit(signed, known=(seen,))
    assert caught.value.index == 6
