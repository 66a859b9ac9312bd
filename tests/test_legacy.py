"""What earlier versions of Ikrar made keeps verifying as before.

Each folder under `tests/vectors/` was written by the earlier release's own code, and
every check of today must pass on it — in Ikrar and in the standalone verifier:

- `legacy-0.1/`: Ikrar 0.1 (commit e360a98, before rules versions, derived-table audits and
  the certificate's page comparison): its SQLite database (8 entries: two signatures, one
  revocation), an export of it, a certificate of signature 5, the ledger's verifier key.
- `release-3/`: the release before rules version 4 (commit 84ef144, rules version 3:
  keys vouched for by admins), written by its `make.py` with that commit's
  tests/factories.py: 9 entries (a founding admin, three officials, two signatures, the
  revocation of the second signer's key after their signature), an export, a certificate
  of signature 6 (presentation 1) and the verifier key.
- `release-4/`: the release before rules version 5 (commit 753d988, rules version 4:
  identities, capacities signed, declines), written by its `make.py` with that commit's
  tests/factories.py: 11 entries (a founding admin, three officials, an `ikrar/signature/v2`
  signature, a decline, a mutasi, a second signature, the revocation of the first signer's key
  after their signature), an export, a certificate of signature 6 (presentation 2, with a
  letterhead) and the verifier key.

(That the first write to such a ledger raises its rules at a recorded point is tested in
tests/ledger/test_rules_versions.py.)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.audit import audit
from ledger.db import make_engine
from ledger.export import verify_export
from ledger.note import VerifierKey
from ledger.schema import migrate
from ledger.store import Ledger
from signing.verify_cert import examine_certificate, examine_upload

VECTORS = Path(__file__).parent / "vectors"
STANDALONE = Path(__file__).parents[1] / "verifier" / "ikrar_verify.py"


@dataclass(frozen=True)
class Release:
    folder: str
    size: int
    signatures: int
    certificate: int  # the signature whose certificate the folder holds
    rules: int | None  # what its ledger.created names (None: made before rules versions)

    @property
    def path(self) -> Path:
        return VECTORS / self.folder

    @property
    def vkey(self) -> VerifierKey:
        return VerifierKey.parse((self.path / "vkey").read_text().strip())


RELEASES = [
    Release("legacy-0.1", 8, 2, 5, None),
    Release("release-3", 9, 2, 6, 3),
    Release("release-4", 11, 2, 6, 4),
]
each = pytest.mark.parametrize("release", RELEASES, ids=[r.folder for r in RELEASES])


def _ledger(release: Release, tmp_path: Path) -> Ledger:
    shutil.copyfile(release.path / "ikrar.db", tmp_path / "ikrar.db")
    engine = make_engine(f"sqlite:///{tmp_path / 'ikrar.db'}")
    migrate(engine)
    return Ledger(engine)


def _standalone(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(STANDALONE), *args], capture_output=True, text=True, timeout=60)


@each
def test_its_ledger_audits_with_every_derived_table(release: Release, tmp_path: Path) -> None:
    ledger = _ledger(release, tmp_path)
    assert ledger.entry(0).fields.get("rules") == release.rules
    with ledger.read() as r:
        report = audit(r.stored_entries(), r.stored_checkpoints(), release.vkey, derived=r)
    assert (report.size, report.signatures) == (release.size, release.signatures)


@each
def test_its_export_verifies_in_ikrar_and_in_the_standalone_verifier(release: Release) -> None:
    assert verify_export(release.path / "export", release.vkey).size == release.size
    done = _standalone("export", str(release.path / "export"), "--vkey", str(release.vkey))
    assert done.returncode == 0, done.stdout + done.stderr


@each
def test_its_certificate_verifies_offline_by_upload_and_standalone(release: Release, tmp_path: Path) -> None:
    pdf = release.path / f"certificate-{release.certificate}.pdf"
    data = pdf.read_bytes()
    offline = examine_certificate(data, release.vkey)
    assert offline.valid, [(c.name, c.outcome, c.detail) for c in offline.checks]
    uploaded = examine_upload(_ledger(release, tmp_path), data)
    assert uploaded.valid, [(c.name, c.outcome, c.detail) for c in uploaded.checks]
    done = _standalone("cert", str(pdf), "--vkey", str(release.vkey))
    assert done.returncode == 0 and "VALID" in done.stdout, done.stdout + done.stderr
