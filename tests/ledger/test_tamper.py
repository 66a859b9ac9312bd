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
    """ledger.created, the admin's and 3 officials' key.enrolled, commitment.published, then 2
    signatures: entries 0-7."""
    world.sign(1)
    world.sign(2)
    _run_audit(world)  # clean before we touch it
    return world


def edit_name(w: LedgerFactory) -> None:
    body = _leaf(w, 3)
    body["name"] = "Pejabat Palsu"
    _rewrite(w, 3, body, fix_hash=False, fix_next=False)


def edit_name_and_rehash(w: LedgerFactory) -> None:
    body = _leaf(w, 3)
    body["name"] = "Pejabat Palsu"
    _rewrite(w, 3, body, fix_hash=True, fix_next=True)


def edit_commitment_text(w: LedgerFactory) -> None:
    body = _leaf(w, 5)
    body["text"] = "Kami tidak berkomitmen.\n"
    _rewrite(w, 5, body, fix_hash=True, fix_next=True)


def edit_signature(w: LedgerFactory) -> None:
    body = _leaf(w, 6)
    sig = body["signature"]
    body["signature"] = ("B" if sig[0] == "A" else "A") + sig[1:]
    _rewrite(w, 6, body, fix_hash=True, fix_next=True)


def edit_leaf_hash(w: LedgerFactory) -> None:
    _sql(w, "UPDATE entry SET leaf_hash = :h WHERE idx = 4", h=bytes(32))


def edit_prev(w: LedgerFactory) -> None:
    _sql(w, "UPDATE entry SET prev = :h WHERE idx = 4", h=bytes(32))


def edit_kind(w: LedgerFactory) -> None:
    _sql(w, "UPDATE entry SET kind = 'key.revoked' WHERE idx = 4")


def edit_time(w: LedgerFactory) -> None:
    _sql(w, "UPDATE entry SET time = :t WHERE idx = 4", t=w.ledger.entry(0).time)


def delete_middle(w: LedgerFactory) -> None:
    _sql(w, "DELETE FROM entry WHERE idx = 4")


def delete_last(w: LedgerFactory) -> None:
    _sql(w, "DELETE FROM entry WHERE idx = 7")


def insert_one(w: LedgerFactory) -> None:
    forged = _leaf(w, 6)
    forged["time"] = forged["time"][:-3] + "59Z"  # a signature at another moment
    for i in (7, 6):  # shift 6 and 7 up by one, then put a forged entry at 6
        _sql(w, "UPDATE entry SET idx = :j WHERE idx = :i", i=i, j=i + 1)
    leaf = canonical_json(forged)
    _sql(
        w,
        "INSERT INTO entry (idx, kind, time, prev, leaf_hash, leaf) SELECT 6, kind, :t, prev, :h, :leaf FROM entry WHERE idx = 7",
        t=entry_from_leaf(leaf).time,
        h=leaf_hash(leaf),
        leaf=leaf,
    )


def swap_two(w: LedgerFactory) -> None:
    _sql(w, "UPDATE entry SET idx = -1 WHERE idx = 3")
    _sql(w, "UPDATE entry SET idx = 3 WHERE idx = 4")
    _sql(w, "UPDATE entry SET idx = 4 WHERE idx = -1")


def _cut_tail(w: LedgerFactory, first: int) -> None:
    _sql(w, "DELETE FROM entry WHERE idx >= :i", i=first)
    _sql(w, "DELETE FROM merkle_node WHERE (idx + 1) * power(2, level) > :i", i=first)
    _sql(w, "DELETE FROM signature WHERE idx >= :i", i=first)
    _sql(w, "DELETE FROM checkpoint WHERE size > :i", i=first)


def cut_tail_and_reappend(w: LedgerFactory) -> None:
    """Cut entries 6-7 and put other content there; without the ledger key the old checkpoints stay."""
    old = {cp.size: cp.note for cp in w.ledger.stored_checkpoints()}
    _cut_tail(w, 6)
    w.sign(3)  # a different official's signature now sits at index 6
    w.sign(1)
    for size in (7, 8):
        _sql(w, "UPDATE checkpoint SET note = :n WHERE size = :s", n=old[size], s=size)


CASES: list[tuple[Tamper, int, str]] = [
    (edit_name, 3, "stored leaf hash is not the hash of the leaf"),
    (edit_name_and_rehash, 3, "the attestation for official .* does not verify"),  # the admin vouched for the name
    (edit_commitment_text, 5, "text_sha256 is not the SHA-256 of the text"),
    (edit_signature, 6, "does not verify"),
    (edit_leaf_hash, 4, "stored leaf hash"),
    (edit_prev, 4, "stored previous hash"),
    (edit_kind, 4, "stored kind"),
    (edit_time, 4, "stored time"),
    (delete_middle, 4, "entry 4 is missing"),
    (delete_last, 7, "signs entries from 7 on, which are missing"),
    (insert_one, 6, "commitment.signed breaks a rule: the signature .* does not verify"),
    (swap_two, 3, "says it is entry 4"),
    (cut_tail_and_reappend, 6, "do not match the signed checkpoint of size 7"),
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
    _cut_tail(signed, 6)
    signed.sign(3)
    signed.sign(1)
    _run_audit(signed)  # self-consistent: it was re-signed with the real key
    with pytest.raises(ChainBroken, match="no longer matches the checkpoint of size 8 seen earlier") as caught:
        _run_audit(signed, known=(seen,))
    assert caught.value.index == 7
