"""What an earlier version of Ikrar made keeps verifying as before.

`tests/vectors/legacy-0.1/` was written by Ikrar 0.1 (commit e360a98, before rules
versions, derived-table audits and the certificate's page comparison): its SQLite
database (8 entries: two signatures, one revocation), an export of it, a certificate of
signature 5, and the ledger's verifier key. Every check of today must pass on them — in
Ikrar and in the standalone verifier. (That the first write to such a ledger raises its
rules at a recorded point is tested in tests/ledger/test_rules_versions.py.)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from ledger.audit import audit
from ledger.db import make_engine
from ledger.export import verify_export
from ledger.note import VerifierKey
from ledger.schema import migrate
from ledger.store import Ledger
from signing.verify_cert import examine_certificate, examine_upload

LEGACY = Path(__file__).parent / "vectors" / "legacy-0.1"
STANDALONE = Path(__file__).parents[1] / "verifier" / "ikrar_verify.py"
VKEY = VerifierKey.parse((LEGACY / "vkey").read_text().strip())


def _ledger(tmp_path: Path) -> Ledger:
    shutil.copyfile(LEGACY / "ikrar.db", tmp_path / "ikrar.db")
    engine = make_engine(f"sqlite:///{tmp_path / 'ikrar.db'}")
    migrate(engine)
    return Ledger(engine)


def test_a_ledger_made_by_ikrar_0_1_audits_with_every_derived_table(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    assert "rules" not in ledger.entry(0).fields, "made before rules versions"
    with ledger.read() as r:
        report = audit(r.stored_entries(), r.stored_checkpoints(), VKEY, derived=r)
    assert (report.size, report.signatures) == (8, 2)


def test_its_export_verifies_in_ikrar_and_in_the_standalone_verifier() -> None:
    assert verify_export(LEGACY / "export", VKEY).size == 8
    done = subprocess.run(
        [sys.executable, str(STANDALONE), "export", str(LEGACY / "export"), "--vkey", str(VKEY)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_its_certificate_verifies_offline_by_upload_and_standalone(tmp_path: Path) -> None:
    data = (LEGACY / "certificate-5.pdf").read_bytes()
    offline = examine_certificate(data, VKEY)
    assert offline.valid, [(c.name, c.outcome, c.detail) for c in offline.checks]
    uploaded = examine_upload(_ledger(tmp_path), data)
    assert uploaded.valid, [(c.name, c.outcome, c.detail) for c in uploaded.checks]
    done = subprocess.run(
        [sys.executable, str(STANDALONE), "cert", str(LEGACY / "certificate-5.pdf"), "--vkey", str(VKEY)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and "VALID" in done.stdout, done.stdout + done.stderr
