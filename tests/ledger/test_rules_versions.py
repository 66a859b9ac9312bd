"""Rules versions: a new rule holds from a recorded point of a ledger on, never before it.

Version 2 adds the time rule (an entry's time is never before the entry before it), version
3 vouching (`tests/ledger/test_vouching.py`); a new ledger keeps the newest version from its
first entry, an older one from its `ledger.rules` entry.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from ledger.audit import audit
from ledger.checkpoint import Checkpoint
from ledger.entries import ZERO_HASH, Entry, make_entry
from ledger.errors import ChainBroken, Conflict, LedgerError
from ledger.merkle import CompactRange
from ledger.note import NoteSigner
from ledger.state import RULES
from ledger.store import Ledger
from ledger.stored import StoredCheckpoint, StoredEntry
from signing import actions
from tests.factories import ADMIN_NIP, ADMIN_PASSPHRASE, ORIGIN, T0, LedgerFactory, nip, passphrase


def _audit(ledger: Ledger) -> int:
    return audit(ledger.stored_entries(), ledger.stored_checkpoints(), ledger.verifier).size


def _unchanged(ledger: Ledger) -> tuple[int, str]:
    return ledger.size(), ledger.checkpoint().note


def test_a_new_ledger_keeps_the_newest_rules_from_its_first_entry(world: LedgerFactory) -> None:
    assert world.ledger.entry(0).fields["rules"] == RULES == 5
    assert _audit(world.ledger) == world.ledger.size()


def test_an_earlier_time_is_refused_and_nothing_is_written(world: LedgerFactory) -> None:
    ledger, before = world.ledger, _unchanged(world.ledger)
    earlier = world.clock - timedelta(minutes=5)
    with pytest.raises(Conflict, match="before the ledger's last entry") as e:
        actions.revoke(world.ctx, nip(1), "uji jam mundur", ADMIN_NIP, earlier, ADMIN_PASSPHRASE)
    assert e.value.code == "time.behind"
    assert _unchanged(ledger) == before


def test_a_time_far_ahead_of_the_servers_clock_is_refused(world: LedgerFactory) -> None:
    ledger = Ledger(world.ledger.engine, clock=lambda: world.clock)
    ahead = world.clock + timedelta(minutes=6)
    before = _unchanged(ledger)
    with pytest.raises(Conflict, match="more than 5 minutes ahead") as e:
        ledger.append("ledger.rules", {"version": 3}, world.signer, ahead)
    assert e.value.code == "time.ahead"
    assert _unchanged(ledger) == before
    # a few minutes ahead (hosts' clocks differ a little) is accepted
    world.sign(1)
    ledger.append("commitment.published", _published("lagi"), world.signer, world.clock + timedelta(minutes=4))


def _published(slug: str) -> dict[str, object]:
    text_ = "Teks.\n"
    return {
        "slug": slug,
        "title": "Lagi",
        "text": text_,
        "text_sha256": hashlib.sha256(text_.encode()).hexdigest(),
        "signers": [nip(1)],
        "by": "admin",
    }


def test_a_clock_a_little_behind_is_waited_for(world: LedgerFactory) -> None:
    """Read under the lock, a clock less than a second behind the last entry waits for it."""
    last = world.ledger.entry(world.ledger.size() - 1).time
    readings = iter([last - timedelta(milliseconds=300), last + timedelta(milliseconds=10)])
    appended = world.ledger.append("commitment.published", _published("tunggu"), world.signer, lambda: next(readings))
    assert appended.entry.time == last


def test_a_clock_far_behind_is_refused_even_when_read_under_the_lock(world: LedgerFactory) -> None:
    last = world.ledger.entry(world.ledger.size() - 1).time
    with pytest.raises(Conflict, match="check the server's time"):
        world.ledger.append(
            "commitment.published", _published("mundur"), world.signer, lambda: last - timedelta(seconds=5)
        )


def test_a_first_version_ledger_keeps_verifying_and_is_raised_at_a_recorded_point(
    ledger_factory: LedgerFactory,
) -> None:
    w = ledger_factory
    w.signer = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    w.ledger.create("Pemerintah Kota Kediri (uji)", ORIGIN, w.signer, w.now(), rules=1)
    assert "rules" not in w.ledger.entry(0).fields
    w.official(1)
    # under version 1 an earlier time is appended, as earlier versions of Ikrar did
    w.official(2)
    back = w.clock - timedelta(hours=1)
    actions.revoke(w.ctx, nip(2), "jam mundur, versi 1", ADMIN_NIP, back, ADMIN_PASSPHRASE)
    assert _audit(w.ledger) == w.ledger.size(), "no rule applies before its recorded point"
    raised = w.ledger.raise_rules(w.signer, w.now())
    assert raised is not None and raised.entry.kind == "ledger.rules" and raised.entry.fields == {"version": RULES}
    assert w.ledger.raise_rules(w.signer, w.now()) is None, "raised once"
    with pytest.raises(Conflict, match="is before the time of the entry before it"):
        w.ledger.precheck("commitment.published", _published("mundur"), back)
    with pytest.raises(Conflict, match=f"rules version {RULES} does not follow version {RULES}"):
        w.ledger.append("ledger.rules", {"version": RULES}, w.signer, w.now())
    assert _audit(w.ledger) == w.ledger.size()


def test_unknown_rules_versions_are_refused(ledger_factory: LedgerFactory) -> None:
    signer = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    for version in (0, RULES + 1):
        with pytest.raises(LedgerError, match=f"rules version {version}"):
            ledger_factory.ledger.create("Uji", ORIGIN, signer, T0, rules=version)
    assert not ledger_factory.ledger.is_initialized()


# -- the audit, over ledgers written by hand (as a forger or an older program would) ------


def _signed_ledger(bodies: list[tuple[str, datetime, dict[str, object]]]) -> tuple[list[StoredEntry], list, NoteSigner]:
    signer = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    entries: list[Entry] = []
    prev, tree, checkpoints = ZERO_HASH, CompactRange(), []
    for index, (kind, time, fields) in enumerate(bodies):
        if kind == "ledger.created":
            fields = {**fields, "ledger_key": str(signer.verifier)}
        entry = make_entry(index, kind, time, prev, fields)
        entries.append(entry)
        prev = entry.leaf_hash
        tree.append(prev)
        checkpoints.append(StoredCheckpoint(tree.size, Checkpoint(ORIGIN, tree.size, tree.root()).signed(signer).note))
    return [StoredEntry(e.index, e.leaf) for e in entries], checkpoints, signer


def _genesis(rules: int | None) -> tuple[str, datetime, dict[str, object]]:
    fields: dict[str, object] = {"org": "Uji", "origin": ORIGIN}
    if rules is not None:
        fields["rules"] = rules
    return "ledger.created", T0, fields


def test_the_audit_names_an_entry_whose_time_goes_backwards_under_version_2() -> None:
    bodies = [
        _genesis(2),
        ("commitment.published", T0 + timedelta(hours=2), _published("satu")),
        ("commitment.published", T0 + timedelta(hours=1), _published("dua")),
    ]
    entries, checkpoints, signer = _signed_ledger(bodies)
    with pytest.raises(ChainBroken, match="entry 2: .*its time .* is before the time of the entry before it") as e:
        audit(entries, checkpoints, signer.verifier)
    assert e.value.index == 2


def test_the_audit_applies_the_time_rule_only_from_the_raising_entry_on() -> None:
    early = [
        _genesis(None),
        ("commitment.published", T0 + timedelta(hours=2), _published("satu")),
        ("commitment.published", T0 + timedelta(hours=1), _published("dua")),  # version 1: allowed
    ]
    raised = [*early, ("ledger.rules", T0 + timedelta(hours=3), {"version": 2})]
    entries, checkpoints, signer = _signed_ledger(raised)
    assert audit(entries, checkpoints, signer.verifier).size == 4
    later = [*raised, ("commitment.published", T0 + timedelta(hours=2, minutes=59), _published("tiga"))]
    entries, checkpoints, signer = _signed_ledger(later)
    with pytest.raises(ChainBroken, match="entry 4: "):
        audit(entries, checkpoints, signer.verifier)


@pytest.mark.parametrize("version", [1, RULES + 1])
def test_the_audit_refuses_rules_it_does_not_know(version: int) -> None:
    entries, checkpoints, signer = _signed_ledger([_genesis(version)])
    with pytest.raises(ChainBroken, match="entry 0: .*rules version") as e:
        audit(entries, checkpoints, signer.verifier)
    assert e.value.index == 0


# -- the tree store is guarded at every append -------------------------------------------


def test_a_damaged_tree_store_is_never_signed_in(world: LedgerFactory) -> None:
    world.sign(1)
    world.sign(2)  # 8 entries: the frontier is the node of entries 0-7 (level 3)
    with world.ledger.engine.begin() as c:
        stored = c.execute(text("SELECT hash FROM merkle_node WHERE level = 3 AND idx = 0")).scalar_one()
        damaged = bytes([stored[0] ^ 1]) + stored[1:]
        c.execute(text("UPDATE merkle_node SET hash = :h WHERE level = 3 AND idx = 0"), {"h": damaged})
    other = Ledger(world.ledger.engine)  # another process: it reads the frontier from the store
    before = _unchanged(other)
    with pytest.raises(LedgerError, match="run `ikrar audit`") as e:
        actions.sign(actions.Context(other, world.keys, world.signer), "smart-city", nip(3), passphrase(3), world.now())
    assert e.value.code == "tree.diverged"
    assert _unchanged(other) == before, "nothing written, nothing signed"
