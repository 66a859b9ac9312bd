"""`python -m bench [NAME ...] [--quick]`: run the benchmarks and print one table.

Names: audit, append, proofs, memory, http, certificates (default: all). `--quick`
shrinks every size for a smoke run of well under a minute once the small ledgers are
cached. Figures are measured side by side in one run; ratios matter more than the
absolute numbers, which depend on the machine (printed under the table).
"""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import sys
import time
from collections.abc import Callable

from rich.console import Console

from .common import Config, Row, console, machine, skipped, table

BENCHMARKS = {
    "audit": "bench.audit",
    "append": "bench.append",
    "proofs": "bench.proofs",
    "memory": "bench.memory",
    "http": "bench.http_load",
    "certificates": "bench.certificates",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"benchmarks to run: {', '.join(BENCHMARKS)} (default: all)"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile each benchmark's own process with pyinstrument into bench/.cache/profile-NAME.txt",
    )
    parser.add_argument(
        "--database",
        "--pg-url",
        dest="pg_url",
        metavar="URL",
        help="the PostgreSQL server of the append and http benchmarks, as a URL (default: IKRAR_TEST_DATABASE_URL "
        "or the local test database); append makes a schema there, http a database of its own beside it",
    )
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="http: also p99 of the static file, the cached commitment page and /healthz at 8, 32, 128 connections",
    )
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    cfg = Config(quick=args.quick, sweep=args.sweep, **({"pg_url": args.pg_url} if args.pg_url else {}))
    rows: list[Row] = []
    start, load = time.perf_counter(), os.getloadavg()[0]
    for name in args.names or list(BENCHMARKS):
        console.print(f"[bold]{name}[/] ...")
        module = importlib.import_module(BENCHMARKS[name])
        try:
            rows += _profiled(name, module.run, cfg) if args.profile else module.run(cfg)
        except KeyboardInterrupt:
            raise
        except Exception as e:  # one broken benchmark must not hide the others' figures
            console.print_exception()
            rows.append(skipped(name, f"failed: {type(e).__name__}: {e}"))
    command = "python -m bench " + shlex.join(sys.argv[1:] if argv is None else argv)
    out = Console(soft_wrap=False, width=200)
    out.print(table(rows, f"Ikrar benchmarks{' (quick)' if cfg.quick else ''}: {command.strip()}"))
    out.print(f"machine: {machine()}; load at the start {load:.2f}; took {time.perf_counter() - start:,.0f} s")
    return 0


def _profiled(name: str, run: Callable[[Config], list[Row]], cfg: Config) -> list[Row]:
    from pyinstrument import Profiler

    from .build import CACHE

    profiler = Profiler()
    profiler.start()
    try:
        return run(cfg)
    finally:
        profiler.stop()
        CACHE.mkdir(exist_ok=True)
        path = CACHE / f"profile-{name}.txt"
        path.write_text(profiler.output_text(unicode=True, show_all=False))
        console.print(f"profile of {name}: {path}")


if __name__ == "__main__":
    sys.exit(main())
