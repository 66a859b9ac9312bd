"""Bulk-build benchmark ledgers: the ledger's own tables, filled directly, in large transactions.

Appending a million entries one by one through `Ledger.append` would take hours; this
builder writes the same rows the append path writes — `entry`, `merkle_node`,
`checkpoint` and the projections — from the same domain functions (`make_entry`,
`CompactRange`, `Checkpoint(...).signed(...)`, the ledger's `rules.check` and
`derived.DerivedWriter`), many
thousand rows a transaction. The result passes `ledger.audit`, serves the web app and
takes further appends. Built SQLite files are cached under ``bench/.cache/``, keyed by
size and `VERSION`; bump `VERSION` when the layout of `world.script()` changes.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from ledger.checkpoint import Checkpoint
from ledger.db import make_engine
from ledger.derived import BulkRows, WritingState
from ledger.entries import ZERO_HASH, make_entry
from ledger.merkle import CompactRange
from ledger.models import CheckpointRow, EntryRow, LedgerMeta, MerkleNodeRow, Official
from ledger.rules import apply, check
from ledger.schema import migrate
from signing._pkcs8 import encrypt_pkcs8, unencrypted_der
from signing.keystore import KeyStore

from . import world

VERSION = 1
CACHE = Path(__file__).resolve().parent / ".cache"
LEDGER_PASSPHRASE = "bench-ledger-passphrase"
KDF_ITERATIONS = 1000
_FLUSH = 20_000


def cached_ledger(size: int, progress: Callable[[int], None] | None = None) -> Path:
    """The path of a built SQLite ledger of `size` entries, building it the first time."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"ledger-v{VERSION}-{size}.db"
    if not path.exists():
        tmp = path.with_suffix(".building")
        for leftover in CACHE.glob(tmp.name + "*"):
            leftover.unlink()
        engine = make_engine(f"sqlite:///{tmp}")
        try:
            build(engine, size, progress)
            with engine.connect() as c:  # fold the WAL into the file before it is renamed
                c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            engine.dispose()
        os.replace(tmp, path)
    return path


def write_ledger_key(keys_dir: Path) -> None:
    """Store the benchmark ledger key as `ikrar` expects it (encrypted, 0600), for CLI runs."""
    signer_key = world.private_key("ledger")
    vkey = world.ledger_signer().verifier
    store = KeyStore(keys_dir, KDF_ITERATIONS)
    path = store.path_for(vkey)
    if path.exists():
        return
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(encrypt_pkcs8(unencrypted_der(signer_key), LEDGER_PASSPHRASE.encode(), KDF_ITERATIONS))


def build(engine: Engine | str, size: int, progress: Callable[[int], None] | None = None) -> None:
    """Write a ledger of `size` entries (see `world.script`) into an empty database."""
    if size < 1:
        raise ValueError("a ledger has at least its first entry")
    engine = make_engine(engine) if isinstance(engine, str) else engine
    migrate(engine)
    signer = world.ledger_signer()
    rows = BulkRows(engine.begin, batch=_FLUSH)
    for name, value in (("origin", world.ORIGIN), ("org", world.ORG), ("ledger_key", str(signer.verifier))):
        rows.add(LedgerMeta, name=name, value=value)
    for n in range(1, world.OFFICIALS + 1):
        rows.add(Official, **world.Official(n).register(), role="official", created_at=world.T0)
    tree, prev, state = CompactRange(), ZERO_HASH, WritingState(world.ORIGIN, rows.execute)
    for index, time, kind, fields in itertools.islice(world.script(), size):
        entry = make_entry(index, kind, time, prev, fields)
        if index:
            # The builder writes only what the ledger's rules accept; it does not verify the
            # officials' signatures (the world signed them; the audit benchmark verifies them).
            check(entry, state)
            apply(entry, state)
        leaf = entry.leaf_hash
        rows.add(EntryRow, idx=index, kind=kind, time=time, prev=prev, leaf_hash=leaf, leaf=entry.leaf)
        for (level, i), h in tree.append(leaf):
            rows.add(MerkleNodeRow, level=level, idx=i, hash=h)
        rows.add(
            CheckpointRow, size=index + 1, note=Checkpoint(world.ORIGIN, index + 1, tree.root()).signed(signer).note
        )
        prev = leaf
        if progress and index % _FLUSH == 0:
            progress(index + 1)
    rows.flush()
    if progress:
        progress(size)
