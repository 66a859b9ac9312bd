"""Peak memory of `ikrar audit` over a large ledger: it must stream, not load the ledger.

The command runs as a child of a small wrapper process that reports the child's
`ru_maxrss` (getrusage RUSAGE_CHILDREN): the resident-set peak of the largest process,
interpreter and libraries included. With `--workers 2` the figure is still that of one
process (the largest), not the sum.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from .build import CACHE, LEDGER_PASSPHRASE, cached_ledger, write_ledger_key
from .common import Config, Row, console, progress, rate, run_measured

TARGET_MB = 300


def ikrar() -> list[str]:
    script = Path(sys.executable).parent / "ikrar"
    return [str(script)] if script.exists() else [sys.executable, "-m", "web.cli"]


def run(cfg: Config) -> list[Row]:
    size = cfg.size(1_000_000, 3_000)
    db = cached_ledger(size, progress(f"building {size:,}-entry ledger", size))
    keys = CACHE / "keys"
    write_ledger_key(keys)
    rows = []
    with tempfile.TemporaryDirectory() as data:
        env = {
            **os.environ,
            "IKRAR_DATABASE_URL": f"sqlite:///{db}",
            "IKRAR_KEYS_DIR": str(keys),
            "IKRAR_LEDGER_PASSPHRASE": LEDGER_PASSPHRASE,
            "IKRAR_DATA_DIR": data,
            "COLUMNS": "120",
        }
        for workers in (1, 2):
            console.print(f"memory: ikrar audit --workers {workers} over {size:,} entries ...")
            code, seconds, rss_kib, stderr = run_measured([*ikrar(), "audit", "--workers", str(workers)], env)
            if code != 0:
                raise RuntimeError(f"ikrar audit exited {code}: {stderr.strip()[-500:]}")
            mb = rss_kib / 1024
            rows.append(
                Row(
                    "memory",
                    f"ikrar audit --workers {workers}, {size:,} entries: peak RSS",
                    f"{mb:,.0f} MB",
                    f"took {seconds:,.0f} s, {rate(size, seconds)}",
                    "",
                    f"<= {TARGET_MB} MB" if workers == 1 else "",
                    mb <= TARGET_MB if workers == 1 else None,
                )
            )
    return rows
