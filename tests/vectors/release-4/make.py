"""Writes tests/vectors/release-4 with the code of commit 753d988 (rules version 4): run it
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
from signing.doc_kop import Letterhead
from signing.keystore import KeyStore
from tests.conftest import FAST_KDF
from tests.factories import ADMIN_NIP, ADMIN_PASSPHRASE, LedgerFactory, nip, passphrase

out = Path(sys.argv[1])
shutil.rmtree(out, ignore_errors=True)
out.mkdir()
engine = make_engine(f"sqlite:///{out / 'ikrar.db'}")
migrate(engine)
w = LedgerFactory(Ledger(engine), KeyStore(out / "keys", FAST_KDF)).created().with_commitment(officials=3)
first = w.sign(1).entry.index  # ikrar/signature/v2: name and capacity signed
actions.decline(w.ctx, "smart-city", nip(2), passphrase(2), "berhalangan: dinas luar kota", w.now())
actions.update_official(w.ctx, nip(3), ADMIN_NIP, ADMIN_PASSPHRASE, "mutasi", w.now(), title="Kepala Dinas Perhubungan")
w.sign(3)
actions.revoke(w.ctx, nip(1), "laptop hilang", ADMIN_NIP, w.now(), ADMIN_PASSPHRASE)
write_export(w.ledger, out / "export")
head = Letterhead("Pemerintah Kota Kediri (uji)", "Jl. Basuki Rahmat No. 15, Kediri")
(out / f"certificate-{first}.pdf").write_bytes(
    certificate_pdf(w.ledger, first, base_url="https://ikrar.example", now=w.now(), letterhead=head)
)
(out / "vkey").write_text(f"{w.ledger.verifier}\n")
shutil.rmtree(out / "keys")
print(first, w.ledger.size())
