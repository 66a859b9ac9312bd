"""Writes tests/vectors/release-3 with the code of commit 84ef144 (rules version 3): run it
from a checkout of that commit, `PYTHONPATH=. python make.py OUT`. See tests/test_legacy.py."""

import shutil
import sys
from pathlib import Path

from ledger.db import make_engine
from ledger.export import write_export
from ledger.schema import migrate
from ledger.store import Ledger
from signing import actions
from signing.certificate import certificate_pdf
from signing.keystore import KeyStore
from tests.conftest import FAST_KDF
from tests.factories import ADMIN_NIP, ADMIN_PASSPHRASE, LedgerFactory, nip

out = Path(sys.argv[1])
shutil.rmtree(out, ignore_errors=True)
out.mkdir()
engine = make_engine(f"sqlite:///{out / 'ikrar.db'}")
migrate(engine)
w = LedgerFactory(Ledger(engine), KeyStore(out / "keys", FAST_KDF)).created().with_commitment(officials=3)
first = w.sign(1).entry.index
w.sign(2)
actions.revoke(w.ctx, nip(2), "laptop hilang", ADMIN_NIP, w.now(), ADMIN_PASSPHRASE)
write_export(w.ledger, out / "export")
(out / f"certificate-{first}.pdf").write_bytes(
    certificate_pdf(w.ledger, first, base_url="https://ikrar.example", now=w.now())
)
(out / "vkey").write_text(f"{w.ledger.verifier}\n")
shutil.rmtree(out / "keys")
print(first, w.ledger.size())
