"""Online verification of one signature entry: what the QR code's page reports."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ledger.checkpoint import Checkpoint
from ledger.errors import NotFound
from ledger.merkle import Hash
from signing import actions
from signing.checks import Outcome
from signing.errors import NoCertificate
from signing.verify_entry import NoSignature, Verdict, examine_entry, what_is_at
from tests.factories import ADMIN_NIP, ADMIN_PASSPHRASE

from ..factories import LedgerFactory


def outcome(report, name: str) -> Outcome:
    return next(c.outcome for c in report.checks if c.name == name)


def test_a_genuine_signature_is_valid_with_every_check(world: LedgerFactory) -> None:
    index = world.sign(1).entry.index
    world.sign(2)  # the ledger moved on: consistency with the latest checkpoint is checked
    leaf = world.ledger.entry(index).leaf_hash.hex()
    report = examine_entry(world.ledger, index, leaf[:16])
    assert report.verdict is Verdict.VALID
    assert {c.name: c.outcome for c in report.checks} == {
        "statement": Outcome.PASSED,
        "active_key": Outcome.PASSED,
        "inclusion": Outcome.PASSED,
        "consistency": Outcome.PASSED,
        "chain": Outcome.PASSED,
        "belongs": Outcome.PASSED,
        "printed": Outcome.PASSED,
    }
    assert report.facts is not None and report.facts.name == "Pejabat 1" and report.facts.index == index
    assert report.latest.size == world.ledger.size()


def test_without_h_the_printed_check_is_not_made(world: LedgerFactory) -> None:
    index = world.sign(1).entry.index
    report = examine_entry(world.ledger, index)
    assert report.verdict is Verdict.VALID and outcome(report, "printed") is Outcome.NOT_CHECKED


@pytest.mark.parametrize("h", ["0000000000000000", "zz", "abc", "ABCDEF" * 20])
def test_a_printed_certificate_of_another_entry_does_not_match(world: LedgerFactory, h: str) -> None:
    index = world.sign(1).entry.index
    report = examine_entry(world.ledger, index, h)
    assert report.verdict is Verdict.INVALID and report.printed_mismatch
    detail = next(c.detail for c in report.checks if c.name == "printed")
    assert detail.startswith(f"the printed certificate does not match entry {index}")


def test_an_uppercase_h_still_matches(world: LedgerFactory) -> None:
    index = world.sign(1).entry.index
    h = world.ledger.entry(index).leaf_hash.hex()[:16].upper()
    assert examine_entry(world.ledger, index, h).verdict is Verdict.VALID


def test_a_key_revoked_after_the_signature_leaves_it_valid(world: LedgerFactory) -> None:
    index = world.sign(1).entry.index
    revoked = actions.revoke(world.ctx, world.officials[0], "kunci bocor", ADMIN_NIP, world.now(), ADMIN_PASSPHRASE)
    report = examine_entry(world.ledger, index)
    assert report.verdict is Verdict.VALID and all(not c.failed for c in report.checks)
    assert report.revocation is not None and report.revoked_later == report.revocation
    assert report.revoked_before is None
    assert (report.revocation.index, report.revocation.time, report.revocation.reason) == (
        revoked.entry.index,
        revoked.entry.time,
        "kunci bocor",
    )


def revoked_before_it_signed(world: LedgerFactory) -> tuple[int, int]:
    """A ledger whose key table says official 1's key was revoked before it signed: the rules
    refuse such a signature, so it is forged the way a tampered database would hold it (the
    key's row names official 2's earlier revocation). Returns (signature, revocation)."""
    earlier = actions.revoke(world.ctx, world.officials[1], "pindah tugas", ADMIN_NIP, world.now(), ADMIN_PASSPHRASE)
    index = world.sign(1).entry.index
    key = world.ledger.entry(index).fields["key"]
    with world.ledger.engine.begin() as c:
        c.execute(
            text(
                "UPDATE official_key SET revoked_index = :i, revoked_at = :at, revoked_reason = :why WHERE key = :key"
            ),
            {"i": earlier.entry.index, "at": earlier.entry.time, "why": "pindah tugas", "key": key},
        )
    return index, earlier.entry.index


def test_a_signature_made_with_a_key_already_revoked_is_invalid(world: LedgerFactory) -> None:
    index, revoked = revoked_before_it_signed(world)
    report = examine_entry(world.ledger, index)
    assert report.verdict is Verdict.INVALID
    assert report.revoked_later is None
    assert report.revoked_before is not None and report.revoked_before.index == revoked < index
    detail = next(c.detail for c in report.checks if c.name == "active_key")
    assert detail == f"the key was revoked at entry {revoked}, before this signature"
    assert [c.name for c in report.checks if c.failed] == ["active_key"]


def test_an_edited_row_is_invalid(world: LedgerFactory) -> None:
    index = world.sign(1).entry.index
    world.sign(2)
    leaf = world.ledger.entry(index).leaf.replace(b"smart-city", b"smart-citx")
    with world.ledger.engine.begin() as c:
        c.execute(text("UPDATE entry SET leaf = :leaf WHERE idx = :idx"), {"leaf": leaf, "idx": index})
    report = examine_entry(world.ledger, index)
    assert report.verdict is Verdict.INVALID
    assert outcome(report, "statement") is Outcome.FAILED
    assert outcome(report, "inclusion") is Outcome.FAILED
    assert outcome(report, "chain") is Outcome.PASSED


def test_a_broken_chain_link_is_named(world: LedgerFactory) -> None:
    index = world.sign(1).entry.index
    before = world.ledger.entry(index - 1).leaf.replace(b"Komitmen Bersama", b"Komitmen Lain")
    with world.ledger.engine.begin() as c:
        c.execute(text("UPDATE entry SET leaf = :leaf WHERE idx = :idx"), {"leaf": before, "idx": index - 1})
    report = examine_entry(world.ledger, index)
    assert report.verdict is Verdict.INVALID
    detail = next(c.detail for c in report.checks if c.name == "chain")
    assert detail == f"the entry's prev is not the hash of entry {index - 1}: the chain is broken"


def test_a_ledger_rewritten_with_its_own_key_is_inconsistent(world: LedgerFactory) -> None:
    index = world.sign(1).entry.index
    world.sign(2)
    size = world.ledger.size()
    forged = Checkpoint(world.ledger.origin, size, Hash(bytes(32))).signed(world.signer)
    with world.ledger.engine.begin() as c:
        c.execute(text("UPDATE checkpoint SET note = :note WHERE size = :size"), {"note": forged.note, "size": size})
    report = examine_entry(world.ledger, index)
    assert report.verdict is Verdict.INVALID and outcome(report, "consistency") is Outcome.FAILED
    assert outcome(report, "inclusion") is Outcome.PASSED


def test_a_latest_checkpoint_that_does_not_cover_the_ledger_is_refused(world: LedgerFactory) -> None:
    index = world.sign(1).entry.index
    world.sign(2)
    size = world.ledger.size()
    older = world.ledger.checkpoint(index + 1)
    with world.ledger.engine.begin() as c:  # the latest checkpoint swapped for an older, validly signed one
        c.execute(text("UPDATE checkpoint SET note = :note WHERE size = :size"), {"note": older.note, "size": size})
    report = examine_entry(world.ledger, index)
    assert report.verdict is Verdict.INVALID
    detail = next(c.detail for c in report.checks if c.name == "consistency")
    assert detail == f"the latest checkpoint says size {index + 1}, but the ledger holds {size} entries"


def test_a_check_that_failed_on_a_ledger_error_keeps_it_for_the_page(world: LedgerFactory) -> None:
    index = world.sign(1).entry.index
    world.sign(2)
    with world.ledger.engine.begin() as c:  # the checkpoint signed when the entry was appended is lost
        c.execute(text("DELETE FROM checkpoint WHERE size = :size"), {"size": index + 1})
    report = examine_entry(world.ledger, index)
    assert report.verdict is Verdict.INVALID
    check = next(c for c in report.checks if c.name == "inclusion")
    assert check.failed and isinstance(check.error, NotFound)
    assert check.detail == str(check.error) == f"there is no checkpoint of size {index + 1}"
    assert (check.code, check.params) == ("checkpoint.not_found", {"size": index + 1})
    assert outcome(report, "consistency") is Outcome.NOT_CHECKED
    passed = next(c for c in report.checks if c.name == "statement")
    assert passed.error is None and passed.code is None and passed.params == {}


def test_only_signatures_are_verified(world: LedgerFactory) -> None:
    with pytest.raises(NoCertificate):
        examine_entry(world.ledger, 0)
    with pytest.raises(NotFound):
        examine_entry(world.ledger, 12345)


def test_what_stands_where_no_signature_is(world: LedgerFactory) -> None:
    index = world.sign(1).entry.index
    size = world.ledger.size()
    assert what_is_at(world.ledger, 0) == NoSignature(0, size, "ledger.created")
    assert what_is_at(world.ledger, 1) == NoSignature(1, size, "key.enrolled")
    assert what_is_at(world.ledger, size) == NoSignature(size, size, None)
    assert what_is_at(world.ledger, 12345) == NoSignature(12345, size, None)
    with pytest.raises(ValueError, match=f"entry {index} is a signature"):
        what_is_at(world.ledger, index)
    with pytest.raises(ValueError, match="no entry has the index -1"):
        what_is_at(world.ledger, -1)
