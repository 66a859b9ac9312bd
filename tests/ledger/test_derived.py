"""What is derived from the entries is checked by the audit and rebuilt from the entries.

Each tampering of a derived table — a row inserted, deleted, or one column edited — is
named by the audit (table and row); `Ledger.rebuild` repairs it and the audit passes again;
a damaged entry makes the rebuild refuse and change nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from ledger.audit import AuditReport, audit
from ledger.errors import ChainBroken, DerivedMismatch
from ledger.store import Ledger
from signing import actions
from tests.factories import ADMIN_NIP, ADMIN_PASSPHRASE, T0, LedgerFactory, nip

LATER = T0 + timedelta(days=30)


def _audit(ledger: Ledger) -> AuditReport:
    with ledger.read() as r:
        return audit(r.stored_entries(), r.stored_checkpoints(), ledger.verifier, derived=r)


def _sql(ledger: Ledger, statement: str) -> None:
    params = {"nip1": nip(1), "nip2": nip(2), "nip3": nip(3), "nip9": nip(9), "t": LATER}
    with ledger.engine.begin() as c:
        c.execute(text(statement), {k: v for k, v in params.items() if f":{k}" in statement})


@pytest.fixture()
def ledger(world: LedgerFactory) -> Ledger:
    """0 created, 1 the admin's key, 2-4 keys, 5 the commitment, 6-7 two signatures, 8 a revocation."""
    world.sign(1)
    world.sign(2)
    actions.revoke(world.ctx, nip(3), "pindah tugas", ADMIN_NIP, world.now(), ADMIN_PASSPHRASE)
    assert _audit(world.ledger).size == 9
    return world.ledger


TAMPERING = [
    # signature: one row a signature entry
    (
        "signature",
        "INSERT INTO signature (idx, slug, nip, key, signed_at) "
        "SELECT 99, slug, :nip3, key, signed_at FROM signature WHERE idx = 6",
    ),
    ("signature", "DELETE FROM signature WHERE idx = 7"),
    ("signature", "UPDATE signature SET idx = 50 WHERE idx = 7"),
    ("signature", "UPDATE signature SET slug = 'lain' WHERE idx = 6"),
    ("signature", "UPDATE signature SET nip = :nip3 WHERE idx = 6"),
    ("signature", "UPDATE signature SET key = 'bukan-kunci' WHERE idx = 6"),
    ("signature", "UPDATE signature SET signed_at = :t WHERE idx = 6"),
    # official_key: one row a key, revoked or not
    ("official_key", "INSERT INTO official_key (key, nip, enrolled_index, enrolled_at) VALUES ('k', :nip9, 2, :t)"),
    ("official_key", "DELETE FROM official_key WHERE nip = :nip2"),
    ("official_key", "UPDATE official_key SET key = 'k2' WHERE nip = :nip1"),
    ("official_key", "UPDATE official_key SET nip = :nip9 WHERE nip = :nip1"),
    ("official_key", "UPDATE official_key SET enrolled_index = 3 WHERE nip = :nip1"),
    ("official_key", "UPDATE official_key SET enrolled_at = :t WHERE nip = :nip1"),
    (
        "official_key",
        "UPDATE official_key SET revoked_index = 7, revoked_at = :t, revoked_reason = 'x' WHERE nip = :nip1",
    ),
    (
        "official_key",
        "UPDATE official_key SET revoked_index = NULL, revoked_at = NULL, revoked_reason = NULL WHERE nip = :nip3",
    ),
    ("official_key", "UPDATE official_key SET revoked_reason = 'lain' WHERE nip = :nip3"),
    ("official_key", "UPDATE official_key SET revoked_at = :t WHERE nip = :nip3"),
    # commitment and its signatories
    (
        "commitment",
        "INSERT INTO commitment (slug, title, text, text_sha256, published_index, published_at) "
        "SELECT 'lain', title, text, text_sha256, 9, published_at FROM commitment",
    ),
    ("commitment", "DELETE FROM commitment"),
    ("commitment", "UPDATE commitment SET title = 'Judul lain'"),
    ("commitment", "UPDATE commitment SET text = 'Teks lain'"),
    ("commitment", "UPDATE commitment SET text_sha256 = '00'"),
    ("commitment", "UPDATE commitment SET published_index = 3"),
    ("commitment", "UPDATE commitment SET published_at = :t"),
    ("commitment", "UPDATE commitment SET slug = 'lain'"),
    ("commitment_signer", "INSERT INTO commitment_signer (slug, nip, position) VALUES ('smart-city', :nip9, 3)"),
    ("commitment_signer", "DELETE FROM commitment_signer WHERE nip = :nip2"),
    ("commitment_signer", "UPDATE commitment_signer SET nip = :nip9 WHERE nip = :nip2"),
    ("commitment_signer", "UPDATE commitment_signer SET position = 5 - position"),
    ("commitment_signer", "INSERT INTO commitment_signer (slug, nip, position) VALUES ('lain', :nip1, 0)"),
    # the Merkle node cache
    ("merkle_node", "UPDATE merkle_node SET hash = :h WHERE level = 1 AND idx = 1"),
    ("merkle_node", "DELETE FROM merkle_node WHERE level = 2 AND idx = 0"),
    (
        "merkle_node",
        "INSERT INTO merkle_node (level, idx, hash) SELECT 1, 99, hash FROM merkle_node WHERE level = 1 AND idx = 0",
    ),
    ("merkle_node", "UPDATE merkle_node SET idx = 7 WHERE level = 1 AND idx = 3"),
    # the ledger's own facts
    ("ledger_meta", "UPDATE ledger_meta SET value = 'Kota Lain' WHERE name = 'org'"),
    ("ledger_meta", "DELETE FROM ledger_meta WHERE name = 'rules'"),
    ("ledger_meta", "INSERT INTO ledger_meta (name, value) VALUES ('extra', 'x')"),
]


@pytest.mark.parametrize(("table", "statement"), TAMPERING, ids=[f"{t}:{s[:40]}" for t, s in TAMPERING])
def test_the_audit_names_the_table_and_rebuild_repairs_it(ledger: Ledger, table: str, statement: str) -> None:
    if ":h" in statement:
        with ledger.engine.begin() as c:
            c.execute(text(statement), {"h": bytes(32)})
    else:
        _sql(ledger, statement)
    with pytest.raises(DerivedMismatch, match=f"table {table}, row ") as e:
        _audit(ledger)
    assert e.value.table == table
    report = ledger.rebuild()
    assert report.size == 9
    assert _audit(ledger).size == 9, "rebuilt: the audit passes again"
    assert ledger.entry(8).kind == "key.revoked", "the entries are untouched"


def test_a_damaged_entry_makes_rebuild_refuse_and_change_nothing(ledger: Ledger) -> None:
    _sql(ledger, "UPDATE signature SET nip = :nip3 WHERE idx = 6")
    with ledger.engine.begin() as c:
        c.execute(text("UPDATE entry SET leaf = :leaf WHERE idx = 4"), {"leaf": b"{}"})
    with pytest.raises(ChainBroken, match="entry 4"):
        ledger.rebuild()
    with ledger.engine.connect() as c:
        assert c.execute(text("SELECT nip FROM signature WHERE idx = 6")).scalar() == nip(3), "nothing rebuilt"


def test_the_audit_without_the_derived_check_still_passes_a_damaged_cache(ledger: Ledger) -> None:
    """The entries and checkpoints hold on their own: only the derived check sees the cache."""
    _sql(ledger, "DELETE FROM signature WHERE idx = 7")
    assert audit(ledger.stored_entries(), ledger.stored_checkpoints(), ledger.verifier).size == 9
    with pytest.raises(DerivedMismatch, match="table signature, row idx=7: the row is missing"):
        _audit(ledger)
