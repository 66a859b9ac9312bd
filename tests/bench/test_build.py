"""The benchmarks' bulk builder writes what `Ledger.append` would: the result audits clean and takes appends."""

from __future__ import annotations

from pathlib import Path

from bench import world
from bench.audit import bare_loop, extract
from bench.build import build
from ledger.audit import audit
from ledger.merkle import MemoryTree
from ledger.store import Ledger


def test_a_built_ledger_audits_clean_and_takes_appends(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    size = 250  # past the key change after the first signature, into the third commitment
    build(url, size)
    ledger = Ledger(url)
    report = audit(ledger.stored_entries(), ledger.stored_checkpoints(), ledger.verifier)
    assert (report.size, report.checkpoints) == (size, size)
    kinds = {e.kind for e in ledger.entries(0, 1000)}
    assert kinds == {"ledger.created", "key.enrolled", "key.revoked", "commitment.published", "commitment.signed"}
    assert ledger.root() == MemoryTree([e.leaf_hash for e in ledger.entries(0, 1000)]).root()

    # a real append on top: the projections the builder wrote are the ones the rules read
    people = [world.Official(n) for n in range(1, world.OFFICIALS + 1)]
    fields = world.published(99, people)
    published = ledger.append("commitment.published", fields, world.ledger_signer(), world.time_of(size))
    commitment = world.Published(fields["slug"], published.entry.index, fields["text_sha256"])
    signer = world.Official(1, generation=1)  # official 1's key was changed
    when = world.time_of(size + 1)
    ledger.append("commitment.signed", world.signed(signer, commitment, when), world.ledger_signer(), when)
    assert audit(ledger.stored_entries(), ledger.stored_checkpoints(), ledger.verifier).size == size + 2

    ledger_key, work = extract(ledger)  # the bare loop's data verifies too
    bare_loop(ledger_key, work)
    ledger.engine.dispose()
