"""The parallel audit (`audit(..., workers=2)`) reaches the verdicts of the sequential one, in order."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import ledger._judges as judges
from ledger.audit import audit
from ledger.errors import ChainBroken, InvalidInput
from ledger.export import ExportInvalid
from ledger.stored import StoredEntry
from tests.factories import LedgerFactory
from tests.ledger.test_tamper import (
    CASES,
    Tamper,
    edit_kind,
    edit_prev,
    edit_signature,
    signed,  # noqa: F401 - `signed` is a fixture
)
from tests.test_cli import _setup, ikrar  # noqa: F401 - `ikrar` is a fixture


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of two entries: a seven-entry ledger then spans several batches in flight."""
    monkeypatch.setattr(judges, "BATCH", 2)


def _verdict(world: LedgerFactory, workers: int, entries: Iterator[StoredEntry] | None = None) -> object:
    ledger = world.ledger
    try:
        return audit(
            ledger.stored_entries() if entries is None else entries,
            ledger.stored_checkpoints(),
            ledger.verifier,
            workers=workers,
        )
    except ChainBroken as e:
        return (type(e), e.index, e.reason)


def test_a_clean_ledger_gives_the_same_report(signed: LedgerFactory) -> None:
    one, two = _verdict(signed, 1), _verdict(signed, 2)
    assert one == two
    assert two.size == 8 and two.signatures == 2 and two.checkpoints == 8  # type: ignore[attr-defined]


@pytest.mark.parametrize(("tamper", "index", "reason"), CASES, ids=[c[0].__name__ for c in CASES])
def test_a_broken_entry_is_named_identically_with_one_and_two_workers(
    signed: LedgerFactory,
    tamper: Tamper,
    index: int,
    reason: str,
) -> None:
    tamper(signed)
    one, two = _verdict(signed, 1), _verdict(signed, 2)
    assert one == two
    assert two[:2] == (ChainBroken, index)  # type: ignore[index]


def test_the_first_of_two_broken_entries_is_named(signed: LedgerFactory) -> None:
    """A bad signature late in the ledger (judged early by a worker) does not hide an earlier break."""
    edit_signature(signed)  # entry 6's signature no longer verifies
    edit_prev(signed)  # entry 4's stored prev is wrong
    assert (
        _verdict(signed, 1)
        == _verdict(signed, 2)
        == (ChainBroken, 4, "the stored previous hash differs from the leaf's")
    )


def _failing_after(entries: Iterator[StoredEntry], count: int) -> Iterator[StoredEntry]:
    """The source itself breaks (a malformed export line) after `count` entries."""
    for n, entry in enumerate(entries):
        if n == count:
            raise ExportInvalid(f"entries.jsonl line {n + 1} is not JSON")
        yield entry


def test_an_error_of_the_source_is_raised_at_its_place(signed: LedgerFactory) -> None:
    # broken entry 4 comes before the unreadable line 6: the entry is named
    edit_kind(signed)
    for workers in (1, 2):
        assert _verdict(signed, workers, _failing_after(signed.ledger.stored_entries(), 5)) == _verdict(signed, 1)
    # an unreadable line 3 comes first: that is the error, with either number of workers
    for workers in (1, 2):
        with pytest.raises(ExportInvalid, match="line 3"):
            _verdict(signed, workers, _failing_after(signed.ledger.stored_entries(), 2))


@pytest.mark.parametrize("workers", [0, -1, 1.5, "2"])
def test_meaningless_worker_counts_are_refused(signed: LedgerFactory, workers: object) -> None:
    with pytest.raises(InvalidInput, match="workers must be a whole number of at least 1"):
        _verdict(signed, workers)  # type: ignore[arg-type]


def test_ikrar_audit_workers(ikrar, tmp_path: Path) -> None:
    _setup(ikrar, tmp_path)
    ikrar(
        "sign",
        "--commitment",
        "smart-city",
        "--nip",
        "197503142001041001",
        "--passphrase-file",
        str(tmp_path / "pass1"),
    )
    assert "OK: 5 entries, 1 signatures" in ikrar("audit", "--workers", "2").output
    assert "OK: 5 entries" in ikrar("audit", "--workers", "1").output
    assert ikrar("audit", "--workers", "0", ok=False).exit_code == 2  # refused by the option itself
