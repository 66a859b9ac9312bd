"""Inclusion and consistency proofs from the stored tree, against pymerkle on the same leaves.

`Ledger.inclusion_proof` and `Ledger.consistency_proof` read O(log n) stored subtree
hashes, so their time must grow like log n. pymerkle's SqliteTree holds the same leaf
bytes (the entries' canonical JSON, hashed as RFC 6962 leaves: the roots agree, which
is checked) and computes subtree roots from the leaves, caching the large ones: its
first proof on a fresh tree ("cold") pays for hashing much of the tree, later ones
("warm") hit its cache. Every timed proof is also verified once, outside the timing.
"""

from __future__ import annotations

import math
import random
import sqlite3
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.merkle import verify_consistency, verify_inclusion
from ledger.store import Ledger

from .build import CACHE, cached_ledger
from .common import Config, Row, console, median_time, ms, progress

if TYPE_CHECKING:
    from pymerkle import SqliteTree  # the bench extra: imported where used, so that `make lint` needs no pymerkle

TARGET_MS = 5.0  # inclusion proof at 1M entries
REPEAT = 200


def pymerkle_tree(ledger_db: Path, size: int) -> SqliteTree:
    """A pymerkle SqliteTree of the ledger's leaves, built once and cached beside the ledger."""
    from pymerkle import SqliteTree

    path = CACHE / f"pymerkle-{size}.db"
    if not path.exists():
        tmp = path.with_suffix(".building")
        tmp.unlink(missing_ok=True)
        tree = SqliteTree(str(tmp))
        source = sqlite3.connect(ledger_db)
        rows = source.execute("SELECT leaf FROM entry ORDER BY idx")
        while batch := [leaf for (leaf,) in rows.fetchmany(20_000)]:
            tree.append_entries(batch)
        source.close()
        tree.close()
        tmp.rename(path)
    return SqliteTree(str(path))


def _pick(rng: random.Random, size: int, count: int) -> list[int]:
    return [rng.randrange(size) for _ in range(count)]


def run(cfg: Config) -> list[Row]:
    sizes = [1_000, 4_000, 16_000] if cfg.quick else [10_000, 100_000, 1_000_000]
    rows: list[Row] = []
    times: dict[int, tuple[float, float]] = {}
    for size in sizes:
        db = cached_ledger(size, progress(f"building {size:,}-entry ledger", size))
        ledger = Ledger(f"sqlite:///{db}")
        rng = random.Random(size)
        root = ledger.root(size)
        indexes, olds = _pick(rng, size, REPEAT), [1 + i for i in _pick(rng, size - 1, REPEAT)]
        for i in indexes[:5]:
            verify_inclusion(ledger.entry(i).leaf_hash, i, size, ledger.inclusion_proof(i, size), root)
        for old in olds[:5]:
            verify_consistency(old, size, ledger.root(old), root, ledger.consistency_proof(old, size))
        inclusion = median_time(partial(ledger.inclusion_proof, size=size), indexes)
        consistency = median_time(partial(ledger.consistency_proof, new=size), olds)
        times[size] = inclusion, consistency
        ledger.engine.dispose()

        console.print(f"proofs: pymerkle on {size:,} leaves ...")
        tree = pymerkle_tree(db, size)
        if tree.get_root() != root:
            raise AssertionError("pymerkle's root differs from the ledger's: not the same tree")
        start = time.perf_counter()
        tree.prove_inclusion(indexes[0] + 1, size)  # pymerkle counts leaves from one
        cold = time.perf_counter() - start
        pm_inclusion = median_time(partial(tree.prove_inclusion, size=size), [i + 1 for i in indexes])
        pm_consistency = median_time(partial(tree.prove_consistency, later_size=size), olds)
        tree.close()

        label = f"{size:,} entries"
        target, ok = (f"<= {TARGET_MS:g} ms", inclusion * 1e3 <= TARGET_MS) if size == sizes[-1] else ("", None)
        rows += [
            Row(
                "proofs",
                f"inclusion, {label}",
                ms(inclusion),
                f"pymerkle {ms(pm_inclusion)} warm, {ms(cold)} cold",
                f"{pm_inclusion / inclusion:.2f}",
                target,
                ok,
            ),
            Row(
                "proofs",
                f"consistency, {label}",
                ms(consistency),
                f"pymerkle {ms(pm_consistency)} warm",
                f"{pm_consistency / consistency:.2f}",
            ),
        ]
    small, large = sizes[0], sizes[-1]
    log_ratio = math.log2(large) / math.log2(small)
    for name, k in (("inclusion", 0), ("consistency", 1)):
        growth = times[large][k] / times[small][k]
        rows.append(
            Row(
                "proofs",
                f"{name} growth {small:,} -> {large:,}",
                f"{growth:.2f}x",
                f"log n: {log_ratio:.2f}x, n: {large / small:,.0f}x",
                "",
                "like log n",
                growth <= 2 * log_ratio,
            )
        )
    return rows
