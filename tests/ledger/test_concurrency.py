"""Appends are serialized: OS processes appending at once give one unbroken chain, nothing lost."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ledger.audit import audit
from ledger.errors import Conflict
from ledger.store import Ledger
from signing import actions
from signing.actions import Context
from signing.errors import NotAllowed
from signing.keystore import KeyStore
from tests.factories import FAST_KDF, ORIGIN, LedgerFactory, nip, passphrase

PROCESSES = 4
OFFICIALS = 6
COMMITMENTS = 3
LEDGER_PASSPHRASE = "kunci-buku-besar-uji"


def _worker(url: str, keys_dir: str, vkey: str, start: Any, jobs: list[tuple[str, int]], out: Any) -> None:
    """Sign every (slug, official) job; put (slug, nip, index or None, outcome) on `out`."""
    from ledger.note import VerifierKey

    ledger = Ledger(url)
    keys = KeyStore(keys_dir, FAST_KDF)
    ctx = Context(ledger, keys, keys.note_signer(VerifierKey.parse(vkey), LEDGER_PASSPHRASE))
    start.wait(30)
    results = []
    for slug, n in jobs:
        try:
            # a clock, as the web and `ikrar sign` pass: the time is read under the append lock,
            # so that signatures made at once keep their times in ledger order (rules version 2)
            appended = actions.sign(ctx, slug, nip(n), passphrase(n), lambda: datetime.now(UTC))
            results.append((slug, nip(n), appended.entry.index, "signed"))
        except (Conflict, NotAllowed) as e:
            results.append((slug, nip(n), None, f"{type(e).__name__} {e.code}"))
    out.put(results)


@pytest.mark.slow
def test_processes_appending_at_once_keep_one_chain(ledger_factory: LedgerFactory, db_url: str, tmp_path: Path) -> None:
    w = ledger_factory
    keys = w.keys
    vkey = keys.create(ORIGIN, LEDGER_PASSPHRASE)
    w.signer = keys.note_signer(vkey, LEDGER_PASSPHRASE)
    w.ledger.create("Uji", ORIGIN, w.signer, w.now())
    for n in range(1, OFFICIALS + 1):
        w.official(n)
    slugs = [f"komitmen-{c}" for c in range(COMMITMENTS)]
    for slug in slugs:
        actions.publish(w.ctx, slug, slug, f"Teks {slug}.\n", w.officials, "admin", w.now())
    before = w.ledger.size()

    # Every (commitment, official) pair once, dealt round-robin; and every process also
    # tries official 1 on the first commitment, so all but one of those must be refused.
    pairs = [(slug, n) for slug in slugs for n in range(2, OFFICIALS + 1)]
    jobs = [[("komitmen-0", 1)] + pairs[p::PROCESSES] for p in range(PROCESSES)]
    mp = multiprocessing.get_context("spawn")
    start, out = mp.Event(), mp.Queue()
    procs = [mp.Process(target=_worker, args=(db_url, str(keys.directory), str(vkey), start, j, out)) for j in jobs]
    for p in procs:
        p.start()
    start.set()
    results = [r for _ in procs for r in out.get(timeout=120)]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0

    signed = [r for r in results if r[3] == "signed"]
    refused = [r for r in results if r[3] != "signed" and r[:2] != ("komitmen-0", nip(1))]
    assert len(signed) == len(pairs) + 1, refused  # official 1 signed komitmen-0 exactly once
    assert sorted((s, n) for s, n, _, _ in signed) == sorted({(s, n) for s, n, _, _ in signed})
    assert sum(1 for r in results if r[:2] == ("komitmen-0", nip(1)) and r[3] != "signed") == PROCESSES - 1

    size = w.ledger.size()
    assert size == before + len(signed)
    indexes = sorted(r[2] for r in signed)
    assert indexes == list(range(before, size)), "acknowledged indexes must be contiguous and unique"
    for slug, n, index, _ in signed:
        entry = w.ledger.entry(index)
        assert (entry.fields["slug"], entry.fields["nip"]) == (slug, n)
    report = audit(w.ledger.stored_entries(), w.ledger.stored_checkpoints(), w.ledger.verifier)
    assert report.size == size and report.signatures == len(signed)
