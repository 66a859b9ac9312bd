"""Reads under a signing load: every read is one snapshot, so while officials sign the
verify page, the proofs, the audit (derived tables included) and the export never report
a false failure. Each outcome is counted; the load is bounded in count."""

from __future__ import annotations

import threading
from pathlib import Path

from ledger.audit import audit
from ledger.export import verify_export, write_export
from signing import actions
from signing.verify_entry import Verdict, examine_entry
from tests.factories import LedgerFactory, nip, passphrase

SIGNERS = 12


def test_reads_under_a_signing_load_never_fail(ledger_factory: LedgerFactory, tmp_path: Path) -> None:
    w = ledger_factory.created()
    for n in range(1, SIGNERS + 1):
        w.official(n)
    actions.publish(w.ctx, "beban", "Beban", "Teks.\n", w.officials, "admin", w.now())
    first = actions.sign(w.ctx, "beban", nip(1), passphrase(1), w.now()).entry.index
    ledger = w.ledger
    done = threading.Event()
    failures: list[str] = []
    counted = {"verify": 0, "proof": 0, "audit": 0, "export": 0}

    def sign_all() -> None:
        try:
            for n in range(2, SIGNERS + 1):  # each signature read from a clock under the append lock
                actions.sign(w.ctx, "beban", nip(n), passphrase(n), w.now)
        except Exception as e:  # pragma: no cover - reported below
            failures.append(f"signing: {e!r}")
        finally:
            done.set()

    def read_once(round_: int) -> None:
        report = examine_entry(ledger, first)
        counted["verify"] += 1
        if report.verdict != Verdict.VALID:
            failures.append(f"verify page: {report.verdict} {[(c.name, c.detail) for c in report.checks]}")
        with ledger.read() as r:
            size = r.size()
            proof = r.tlog_proof(first, size)
            leaf = r.entry(first).leaf_hash
        proof.verify(leaf, ledger.verifier, ledger.origin)
        counted["proof"] += 1
        with ledger.read() as r:
            audit(r.stored_entries(), r.stored_checkpoints(), ledger.verifier, derived=r)
        counted["audit"] += 1
        if round_ % 3 == 0:
            folder = tmp_path / f"export-{round_}"
            write_export(ledger, folder)
            verify_export(folder, ledger.verifier)
            counted["export"] += 1

    signer = threading.Thread(target=sign_all)
    signer.start()
    round_ = 0
    while not done.is_set() and round_ < 500:
        try:
            read_once(round_)
        except Exception as e:
            failures.append(f"round {round_}: {e!r}")
        round_ += 1
    signer.join(timeout=120)
    read_once(round_)  # and once more, on the quiet ledger
    assert not failures, failures[:5]
    assert counted["verify"] >= 2 and counted["audit"] >= 2, counted
    assert ledger.size() == 1 + 1 + SIGNERS + 1 + SIGNERS, "every signature was appended"  # with the admin's key
