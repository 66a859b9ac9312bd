"""What every benchmark shares: its configuration, result rows, timing and the table."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
console = Console(stderr=True, highlight=False)


@dataclass(frozen=True)
class Config:
    quick: bool = False
    pg_url: str = field(default_factory=lambda: os.environ.get("IKRAR_TEST_DATABASE_URL") or PG_URL)
    sweep: bool = False  # http: also p99 at several connection counts

    def size(self, full: int, quick: int) -> int:
        return quick if self.quick else full


@dataclass(frozen=True)
class Row:
    """One line of the table. `ratio` is figure/reference (or as the note says); `ok` None = no target."""

    bench: str
    case: str
    figure: str
    reference: str = ""
    ratio: str = ""
    target: str = ""
    ok: bool | None = None

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else "met" if self.ok else "MISSED"


def skipped(bench: str, why: str) -> Row:
    return Row(bench, why, "-")


def rate(count: int, seconds: float, unit: str = "/s") -> str:
    return f"{count / seconds:,.0f}{unit}"


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms" if seconds < 0.01 else f"{seconds * 1e3:,.1f} ms"


@dataclass(frozen=True)
class Timing:
    """Wall time and this process's CPU time of one call. On a machine shared with other
    work, CPU time is the fair measure of single-process work; wall time is the one that
    shows parallelism (and suffers from the neighbours)."""

    wall: float
    cpu: float


def timed(fn: Callable[[], object]) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return Timing(time.perf_counter() - wall, time.process_time() - cpu)


def median_time(fn: Callable[[Any], object], args: Iterable[Any]) -> float:
    """Median wall time of `fn(arg)` over `args` (for operations of micro- to milliseconds)."""
    times = []
    for arg in args:
        start = time.perf_counter()
        fn(arg)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def progress(label: str, total: int) -> Callable[[int], None]:
    """A progress line on stderr, rewritten in place; ends its line at `total`."""

    def tick(done: int) -> None:
        console.print(f"  {label}: {done:,} of {total:,}", end="\n" if done >= total else "\r")

    return tick


def table(rows: list[Row], title: str) -> Table:
    t = Table(title=title, title_justify="left")
    for name, justify in (
        ("benchmark", "left"),
        ("case", "left"),
        ("figure", "right"),
        ("reference", "right"),
        ("ratio", "right"),
        ("target", "left"),
        ("verdict", "left"),
    ):
        t.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in rows:
        verdict = {"met": "[green]met[/]", "MISSED": "[bold red]MISSED[/]"}.get(r.verdict, "")
        t.add_row(r.bench, r.case, r.figure, r.reference, r.ratio, r.target, verdict)
    return t


def machine() -> str:
    """One line that says where the figures were measured."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        ram = f"{mem_kb / 1024**2:.1f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        ram = "RAM unknown"
    return (
        f"{os.cpu_count()} cores ({model}), {ram}, Python {platform.python_version()}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load at the end {os.getloadavg()[0]:.2f}"
    )


def python() -> str:
    return sys.executable


def run_measured(argv: list[str], env: dict[str, str]) -> tuple[int, float, int, str]:
    """Run `argv` in a fresh wrapper process; return (exit code, seconds, peak RSS in KiB, stderr tail).

    The wrapper reads `ru_maxrss` of its own children (RUSAGE_CHILDREN), so no earlier
    child of this process can inflate the figure.
    """
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)\n"
        "dt = time.perf_counter() - t\n"
        "print(p.returncode, dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "sys.stderr.write(p.stderr[-2000:])\n"
    )
    done = subprocess.run([sys.executable, "-c", wrapper, *argv], env=env, capture_output=True, text=True, check=True)
    code, seconds, rss = done.stdout.split()
    return int(code), float(seconds), int(rss), done.stderr
