"""HTTP throughput and latency under concurrent load from wrk: the public commitment page
and the verify page against a static asset of the same server, and signing through the
web form on SQLite and on PostgreSQL, side by side.

A copy of the cached 100k-entry ledger is served by `ikrar serve --workers 2` on
loopback. The reference is the site's stylesheet (`/static/css/ikrar.css`), served by the
same server in the same run: the public pages are answered from the response cache
(`web/cache.py`) once rendered at a tree size, so their target is a ratio to it. Two
seconds of load on each of the two, unmeasured, come first (a fresh server's first
requests start its threads and render the page once per worker). The verify page is
measured twice over the same 2,000 random signature entries: first with every worker's
cache empty (each page is rendered once per worker, then served from the cache), then
warm, after every entry has been visited a few more times.

Every benchmark official gets a key file (the ledger's deterministic keys, encrypted with
a fast KDF: the KDF is a deliberate cost per signature, not the server's) and a logged-in
session made directly in the database. More commitments are published first, so that
every signing request signs a pair (official, commitment) not signed before. wrk
(Debian's `wrk`) drives the load; a Lua `done()` prints p50, p95 and p99 and the errors
(answers >= 400, socket errors and timeouts); a Lua script varies the verify page's index
and gives each signing request its own cookie, CSRF token and commitment. Signing runs
with one connection per wrk thread, so that each answer belongs to the request the thread
sent last: a 303 to `/sign/{slug}?done=1` is an acknowledged signature, and after the
server has stopped every acknowledged (official, commitment) must be on the ledger, and
the whole ledger must pass `ledger.audit` (entries, checkpoints, signatures and the
derived tables, two processes).

The PostgreSQL case builds the same ledger (`bench.build.build`) in a database of its own,
`ikrar_bench_<pid>`, created beside the one `--database` names and dropped afterwards, so
it never touches other data on that server (nor shares the ledger's advisory lock, which
PostgreSQL scopes to a database). It measures signing only.

With `--sweep`, the static file, the cached commitment page and `/healthz` (one database
read, no cache, no template) are also measured at 8, 32 and 128 connections, interleaved
over a few rounds: the page's p99 over the static file's at the same level tells whether a
p99 miss is the page's or the machine's.

Beside throughput and latency, each case gives the server's CPU time a request (its
processes' user + system time over the run, from /proc), which other work on a shared
machine distorts least; on PostgreSQL, that of the database server's processes serving
the benchmark's database is given apart (SQLite does its part inside the workers). The
run is bounded: a few seconds per case, loopback only.

Runs once `web.app.create_app` exists; says "not available yet" before.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import http.client
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from ledger.audit import audit
from ledger.errors import LedgerError
from ledger.store import Ledger
from signing._pkcs8 import encrypt_pkcs8, unencrypted_der
from signing.keystore import KeyStore

from . import world
from .append import pg_database
from .build import KDF_ITERATIONS, LEDGER_PASSPHRASE, build, cached_ledger, write_ledger_key
from .common import Config, Row, console, progress, skipped

TARGET_P99_MS = 50.0  # public pages, 100k signatures, cache warm
TARGET_RATIO = 0.5  # public pages' throughput against the static asset's
TARGET_SIGN_P99_MS = 500.0  # signing through the web form
CONNECTIONS = 16
VERIFY_SAMPLE = 2000  # random signature entries the verify page is asked for
WARM_PASSES = 6  # visits of every sampled entry before the warm run (each worker has it then, but for 1 in 2**6)
SIGN_COMMITMENTS = 40  # x 100 officials: more signing requests than a run can send
SIGN_WARM_COMMITMENTS = 3  # x 100 officials for the unmeasured warm-up of the signing path
SIGN_WARM_SECONDS = 2
SERVER_WARM_SECONDS = 2  # before the first measured case: the static file and the commitment page, unmeasured
SWEEP_LEVELS = (8, 32, 128)  # connections
SWEEP_ROUNDS = 3
SWEEP_SECONDS = 5
HEALTHZ = "/healthz"

# Every wrk run loads this first: thread ids, and a done() that prints what wrk's own report
# lacks (p95; socket errors apart from timeouts) in one line, and writes the acknowledged
# request lines of the signing script (the threads' `acked`) to $IKRAR_BENCH_ACKS.
COMMON_LUA = """
local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
  thread:set("id", #threads)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "ikrar-wrk requests=%.0f duration_us=%.0f status=%.0f connect=%.0f read=%.0f write=%.0f timeout=%.0f " ..
    "p50_us=%.0f p95_us=%.0f p99_us=%.0f max_us=%.0f\\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
  local path = os.getenv("IKRAR_BENCH_ACKS")
  if path then
    local f = assert(io.open(path, "w"))
    for _, t in ipairs(threads) do
      for _, n in ipairs(t:get("acked") or {}) do f:write(n, "\\n") end
    end
    f:close()
  end
end
"""

VERIFY_LUA = """
local indexes = {}
for token in string.gmatch(os.getenv("IKRAR_BENCH_INDEXES"), "%d+") do indexes[#indexes + 1] = token end
request = function()
  return wrk.format("GET", "/v/" .. indexes[math.random(#indexes)])
end
"""

SIGN_LUA = """
-- every request signs another (official, commitment) pair; the lines are shared out by
-- thread. One connection a thread (-t N -c N): response() answers the request made last.
function init(args)
  lines = {}
  for line in io.lines(os.getenv("IKRAR_BENCH_REQUESTS")) do lines[#lines + 1] = line end
  step = tonumber(os.getenv("IKRAR_BENCH_THREADS"))
  i = id - step
  acked = {}
  current = nil
end
request = function()
  i = i + step
  if i > #lines then i = ((i - 1) % #lines) + 1 end  -- exhausted: repeats are refused (counted as errors)
  current = i
  local path, cookie, body = lines[i]:match("([^\\t]+)\\t([^\\t]+)\\t(.*)")
  return wrk.format("POST", path, {["Cookie"] = cookie, ["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end
response = function(status, headers, body)
  local path = lines[current]:match("^([^\\t]+)")
  local location = headers["location"] or headers["Location"]
  if status == 303 and location == path .. "?done=1" then acked[#acked + 1] = current end
end
"""


def _available() -> str | None:
    try:
        import web.app  # noqa: F401
        from web import accounts  # noqa: F401
        from web.pages import SESSION_COOKIE  # noqa: F401
    except ImportError as e:
        return f"not available yet ({e.name} is missing)"
    if shutil.which("wrk") is None:
        return "no load tool: install Debian's wrk (apt-get install wrk)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _passphrase(n: int) -> str:
    return f"bench-passphrase-{n}"


def _write_official_keys(keys_dir: Path) -> None:
    store = KeyStore(keys_dir, KDF_ITERATIONS)
    for n in range(1, world.OFFICIALS + 1):
        o = world.Official(n, 1 if n == 1 else 0)  # official 1's key was changed once (world.script)
        path = store.path_for(o.vkey)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(encrypt_pkcs8(unencrypted_der(o.key), _passphrase(n).encode(), KDF_ITERATIONS))


@dataclass(frozen=True)
class Prepared:
    """What a site needs before it is served: the public page's slug, the signature indexes
    the verify page is asked for, and the signing requests (a warm-up file and the measured
    file, whose lines are the (commitment, NIP) pairs in `pairs`)."""

    slug: str
    indexes: list[int]
    sign_warm: Path
    sign_run: Path
    pairs: list[tuple[str, str]]


def _prepare(ledger: Ledger, folder: Path) -> Prepared:
    """Sessions for every official, fresh commitments to sign, the request files."""
    from web import accounts
    from web.pages import SESSION_COOKIE

    now = datetime.now(UTC)
    signer = world.ledger_signer()
    people = [world.Official(n) for n in range(1, world.OFFICIALS + 1)]
    with ledger.read() as r:
        published = len(r.commitments())
        indexes = [sig.index for c in r.commitments() for sig in r.signatures(c.slug)]
    slugs = []
    for c in range(published, published + SIGN_WARM_COMMITMENTS + SIGN_COMMITMENTS):
        fields = world.published(c, people)
        ledger.append("commitment.published", fields, signer, now)
        slugs.append(fields["slug"])
    sessions = {}
    for o in people:
        cookie, session = accounts.new_session(ledger, o.nip, now, 8)
        sessions[o.n] = (f"{SESSION_COOKIE}={cookie}", session.csrf_token)

    def requests(path: Path, some: list[str]) -> list[tuple[str, str]]:
        lines, pairs = [], []
        for slug in some:  # commitment by commitment, each official once: concurrent requests are different officials
            for o in people:
                cookie, csrf = sessions[o.n]
                body = urlencode({"csrf_token": csrf, "read": "yes", "passphrase": _passphrase(o.n)})
                lines.append(f"/sign/{slug}\t{cookie}\t{body}")
                pairs.append((slug, o.nip))
        path.write_text("\n".join(lines) + "\n")
        return pairs

    warm, run = folder / "sign-warm.tsv", folder / "sign-run.tsv"
    requests(warm, slugs[:SIGN_WARM_COMMITMENTS])
    pairs = requests(run, slugs[SIGN_WARM_COMMITMENTS:])
    return Prepared("komitmen-00000", indexes, warm, run, pairs)


def _site_env(database_url: str, folder: Path) -> dict[str, str]:
    """The server's environment for a ledger at `database_url`; key files written into `folder`."""
    keys = folder / "keys"
    write_ledger_key(keys)
    _write_official_keys(keys)
    return {
        **os.environ,
        "IKRAR_DATABASE_URL": database_url,
        "IKRAR_KEYS_DIR": str(keys),
        "IKRAR_LEDGER_PASSPHRASE": LEDGER_PASSPHRASE,
        "IKRAR_DATA_DIR": str(folder / "data"),
        "IKRAR_KDF_ITERATIONS": str(KDF_ITERATIONS),
        "IKRAR_LOG_LEVEL": "WARNING",
        "IKRAR_BASE_URL": "http://127.0.0.1",
        # No background self-audit: a minute after start each worker would re-verify all
        # 100k entries (half a minute of CPU) in the middle of the load (`bench audit`
        # measures the audit).
        "IKRAR_SELF_AUDIT_MINUTES": "0",
    }


def _open_ledger(env: dict[str, str]) -> Ledger:
    """The ledger as the server opens it (migrated: the web app's tables too)."""
    with _environment({k: v for k, v in env.items() if k.startswith("IKRAR_")}):
        from web.runtime import Runtime

        return Runtime.from_env().ledger


def _serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    script = Path(sys.executable).parent / "ikrar"
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "web.cli"]
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [*argv, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"ikrar serve exited {server.returncode}: {log.read_text()[-800:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    _stop(server)
    raise RuntimeError("ikrar serve did not answer /healthz within 60 s")


def _stop(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group: uvicorn finishes the requests in flight first."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(5)


@contextlib.contextmanager
def _serving(env: dict[str, str], folder: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`ikrar serve --workers 2` on a free loopback port: (base URL, server), stopped after."""
    port = _free_port()
    server = _serve(env, port, folder / "server.log")
    try:
        yield f"http://127.0.0.1:{port}", server
    finally:
        _stop(server)


def _visit(base: str, paths: list[str]) -> None:
    """GET every path once, in order, over CONNECTIONS keep-alive connections that take the
    next path when free (so that each path reaches a worker at random); raises unless 200."""
    port = int(base.rsplit(":", 1)[1])
    todo = iter(paths)
    lock = threading.Lock()

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            while True:
                with lock:
                    path = next(todo, None)
                if path is None:
                    return
                conn.request("GET", path)
                answer = conn.getresponse()
                answer.read()
                if answer.status != 200:
                    raise RuntimeError(f"GET {path} answered {answer.status}")
        finally:
            conn.close()

    with concurrent.futures.ThreadPoolExecutor(CONNECTIONS) as pool:
        for done in [pool.submit(client) for _ in range(CONNECTIONS)]:
            done.result()


def _server_cpu(server: subprocess.Popen[bytes]) -> float:
    """CPU seconds (user + system) used so far by the server's processes (its process
    group: `ikrar serve` and its workers); 0 where /proc cannot tell."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[2]) == server.pid:  # fields[2] is the process group id
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _postgres_cpu(database: str | None) -> float:
    """CPU seconds used so far by the PostgreSQL backends connected to `database` (their
    command line is ``postgres: [CLUSTER:] USER DATABASE HOST(PORT) STATE``, Debian's with
    the cluster's name); 0 without a database."""
    if database is None:
        return 0.0
    ticks = 0
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            argv = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").split()
            if not argv or argv[0] != "postgres:" or database not in argv[1:4]:
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile, or not ours to read
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Load:
    """One wrk run: latencies in ms, counts, and the server's CPU time a request in ms."""

    connections: int
    requests: int
    seconds: float
    p50: float
    p95: float
    p99: float
    max: float
    status_errors: int  # answers >= 400
    socket_errors: int  # connect, read, write
    timeouts: int
    cpu_ms: float = 0.0
    database_cpu_ms: float = 0.0  # PostgreSQL's backends, a request (0 on SQLite)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return self.status_errors + self.socket_errors + self.timeouts


def parse_wrk(text: str, connections: int, cpu_seconds: float = 0.0, database_cpu_seconds: float = 0.0) -> Load:
    """The figures of COMMON_LUA's done() line in wrk's output; `cpu_seconds` is the
    server's CPU time over the run, `database_cpu_seconds` PostgreSQL's."""
    line = next((x for x in text.splitlines() if x.startswith("ikrar-wrk ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures:\n{text[-2000:]}")
    v = {k: float(n) for k, n in (pair.split("=", 1) for pair in line.split()[1:])}
    requests = int(v["requests"])
    return Load(
        connections=connections,
        requests=requests,
        seconds=v["duration_us"] / 1e6,
        p50=v["p50_us"] / 1e3,
        p95=v["p95_us"] / 1e3,
        p99=v["p99_us"] / 1e3,
        max=v["max_us"] / 1e3,
        status_errors=int(v["status"]),
        socket_errors=int(v["connect"] + v["read"] + v["write"]),
        timeouts=int(v["timeout"]),
        cpu_ms=cpu_seconds * 1e3 / requests if requests else 0.0,
        database_cpu_ms=database_cpu_seconds * 1e3 / requests if requests else 0.0,
    )


def _wrk(
    url: str,
    seconds: int,
    script: str,
    env: dict[str, str],
    server: subprocess.Popen[bytes],
    folder: Path,
    connections: int = CONNECTIONS,
    threads: int = 2,
    database: str | None = None,
) -> Load:
    """Run wrk with COMMON_LUA and `script`; return its figures and the server's CPU time a
    request (what a request costs, whatever else the machine is doing: a fairer comparison
    than throughput on a shared machine), and PostgreSQL's for `database`."""
    lua = folder / "wrk.lua"
    lua.write_text(COMMON_LUA + script)
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(lua), url]
    cpu, database_cpu = _server_cpu(server), _postgres_cpu(database)
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=seconds + 60, check=True)
    cpu, database_cpu = _server_cpu(server) - cpu, _postgres_cpu(database) - database_cpu
    return parse_wrk(done.stdout, connections, cpu, database_cpu)


@dataclass(frozen=True)
class Signing:
    """A signing run and what the ledger says of it afterwards."""

    load: Load
    acknowledged: int  # 303s to the signed page
    appended: int  # signatures on the ledger of the commitments the measured run signs
    missing: list[tuple[str, str]]  # acknowledged (commitment, NIP) pairs not on the ledger
    audited: int | None  # entries audited clean; None when the audit failed
    audit_error: str = ""

    @property
    def per_second(self) -> float:
        return self.acknowledged / self.load.seconds if self.load.seconds else 0.0

    @property
    def holds(self) -> bool:
        return not self.missing and self.audited is not None and self.appended >= self.acknowledged


def _signature_count(ledger: Ledger, slugs: set[str]) -> int:
    """The signatures on the ledger of the commitments `slugs`."""
    with ledger.read() as r:
        return sum(n for slug, n in r.signature_counts().items() if slug in slugs)


def check_acknowledged(ledger: Ledger, acknowledged: set[tuple[str, str]]) -> list[tuple[str, str]]:
    """The acknowledged (commitment, NIP) pairs that have no signature on the ledger."""
    with ledger.read() as r:
        return sorted(pair for pair in acknowledged if r.signature(*pair) is None)


def audit_ledger(ledger: Ledger) -> tuple[int | None, str]:
    """`ledger.audit` over everything, derived tables included, on two processes:
    (entries audited, "") or (None, the finding)."""
    try:
        with ledger.read() as r:
            report = audit(r.stored_entries(), r.stored_checkpoints(), ledger.verifier, workers=2, derived=r)
    except LedgerError as e:
        return None, f"{type(e).__name__}: {e}"
    return report.size, ""


class SignRun:
    """The signing case on one served site: an unmeasured warm-up over its own requests,
    then the measured run, one connection a wrk thread; `finish` checks the ledger once
    the server has stopped (and finished what was in flight)."""

    def __init__(self, prepared: Prepared, folder: Path, database: str | None = None) -> None:
        self.prepared = prepared
        self.folder = folder
        self.database = database  # PostgreSQL's database name, whose backends' CPU is counted
        self.acks = folder / "sign-acks.txt"
        self.load: Load | None = None

    def run(self, base: str, seconds: int, server: subprocess.Popen[bytes]) -> None:
        env = {**os.environ, "IKRAR_BENCH_THREADS": str(CONNECTIONS)}
        warm = {**env, "IKRAR_BENCH_REQUESTS": str(self.prepared.sign_warm)}
        _wrk(base, SIGN_WARM_SECONDS, SIGN_LUA, warm, server, self.folder, CONNECTIONS, CONNECTIONS)
        measured = {**env, "IKRAR_BENCH_REQUESTS": str(self.prepared.sign_run), "IKRAR_BENCH_ACKS": str(self.acks)}
        threads = CONNECTIONS
        self.load = _wrk(base, seconds, SIGN_LUA, measured, server, self.folder, CONNECTIONS, threads, self.database)

    def finish(self, ledger: Ledger) -> Signing:
        assert self.load is not None
        lines = [int(x) for x in self.acks.read_text().split()]
        acknowledged = {self.prepared.pairs[n - 1] for n in lines}  # Lua counts from 1
        appended = _signature_count(ledger, {slug for slug, _ in self.prepared.pairs})  # the warm-up signs others
        missing = check_acknowledged(ledger, acknowledged)
        console.print("http: auditing the ledger after signing ...")
        audited, error = audit_ledger(ledger)
        return Signing(self.load, len(lines), appended, missing, audited, error)


@dataclass
class Sweep:
    """p99 (and throughput) of the same paths at several connection counts, over rounds."""

    loads: dict[tuple[str, int], list[Load]] = field(default_factory=dict)

    def add(self, case: str, load: Load) -> None:
        self.loads.setdefault((case, load.connections), []).append(load)

    def median(self, case: str, level: int, what: str) -> float:
        return float(statistics.median(getattr(x, what) for x in self.loads[(case, level)]))

    def ratio(self, case: str, reference: str, level: int, what: str) -> float:
        """The median over rounds of the paired ratio (same round, one right after the other)."""
        pairs = zip(self.loads[(case, level)], self.loads[(reference, level)], strict=True)
        return float(statistics.median(getattr(a, what) / getattr(b, what) for a, b in pairs))


def _sweep(
    base: str,
    paths: dict[str, str],
    levels: tuple[int, ...],
    rounds: int,
    seconds: int,
    server: subprocess.Popen[bytes],
    folder: Path,
) -> Sweep:
    """Each level, each round: every path one after the other (interleaved, so that the
    machine's other load falls on all alike); -t2 throughout."""
    sweep = Sweep()
    env = dict(os.environ)
    for url in paths.values():  # warm-up, not measured
        _wrk(f"{base}{url}", 1, "", env, server, folder, 32)
    for level in levels:
        for r in range(rounds):
            console.print(f"http: sweep, {level} connections, round {r + 1} of {rounds} ...")
            for case, url in paths.items():
                sweep.add(case, _wrk(f"{base}{url}", seconds, "", env, server, folder, level))
    return sweep


def _figure(f: Load) -> str:
    errors = f", {f.errors:,} errors" if f.errors else ""
    return f"{f.rps:,.0f} req/s, p50 {f.p50:.1f} / p99 {f.p99:.1f} ms, CPU {f.cpu_ms:.2f} ms{errors}"


def _sign_figure(s: Signing) -> str:
    f = s.load
    database = f" + PostgreSQL {f.database_cpu_ms:.1f}" if f.database_cpu_ms else ""
    return (
        f"{s.per_second:,.0f} signatures/s, p50 {f.p50:.0f} / p95 {f.p95:.0f} / p99 {f.p99:.0f} ms, "
        f"CPU {f.cpu_ms:.1f}{database} ms, {f.errors:,} errors"
    )


def _sign_check(s: Signing) -> str:
    missing = f"{len(s.missing):,} MISSING" if s.missing else "all on the ledger"
    audit_said = f"audit OK ({s.audited:,} entries)" if s.audited is not None else f"audit FAILED: {s.audit_error}"
    return f"{s.acknowledged:,} acknowledged, {missing}; {s.appended:,} appended; {audit_said}"


def _sign_rows(name: str, label: str, s: Signing, reference: Signing | None) -> list[Row]:
    ok = s.load.p99 <= TARGET_SIGN_P99_MS and not s.load.errors
    versus = ""
    ratio = ""
    if reference is not None:
        versus = f"SQLite {reference.per_second:,.0f}/s, p99 {reference.load.p99:.0f} ms"
        ratio = f"{s.per_second / reference.per_second:.2f}" if reference.per_second else ""
    return [
        Row(
            "http",
            f"sign (POST /sign/{{slug}}), {name}, {label}",
            _sign_figure(s),
            versus,
            ratio,
            f"p99 <= {TARGET_SIGN_P99_MS:g} ms, no errors",
            ok,
        ),
        Row(
            "http",
            f"  same, {name}: every acknowledged signature on the ledger",
            _sign_check(s),
            target="all, audit OK",
            ok=s.holds,
        ),
    ]


def _sweep_rows(sweep: Sweep, levels: tuple[int, ...], rounds: int) -> list[Row]:
    rows = []
    for level in levels:
        p99 = sweep.median("static", level, "p99")
        rps = sweep.median("static", level, "rps")
        reference = f"static p99 {p99:.1f} ms, {rps:,.0f} req/s"
        for case, name in (("page", "commitment page (cached)"), ("healthz", "/healthz (1 read, no cache)")):
            rows.append(
                Row(
                    "http",
                    f"p99 at {level} connections, median of {rounds}: {name} ÷ static",
                    f"p99 {sweep.median(case, level, 'p99'):.1f} ms, {sweep.median(case, level, 'rps'):,.0f} req/s",
                    reference,
                    f"{sweep.ratio(case, 'static', level, 'p99'):.2f}",
                    f"rps {sweep.ratio(case, 'static', level, 'rps'):.2f}",
                )
            )
    return rows


def _sqlite(cfg: Config, size: int, seconds: int, tmpdir: Path) -> tuple[list[Row], Signing]:
    source = cached_ledger(size, progress(f"building {size:,}-entry ledger", size))
    db = tmpdir / "ikrar.db"
    shutil.copyfile(source, db)  # the server writes (sessions, signatures): never into the cache
    env = _site_env(f"sqlite:///{db}", tmpdir)
    ledger = _open_ledger(env)
    try:
        prepared = _prepare(ledger, tmpdir)
        signing = SignRun(prepared, tmpdir)
        sample = random.Random(size).sample(prepared.indexes, min(cfg.size(VERIFY_SAMPLE, 500), len(prepared.indexes)))
        levels, rounds = SWEEP_LEVELS, cfg.size(SWEEP_ROUNDS, 1)
        with _serving(env, tmpdir) as (base, server):
            from web.pages import static_url

            console.print(f"http: SQLite, wrk, {CONNECTIONS} connections, {seconds} s a case ...")
            verify_env = {**os.environ, "IKRAR_BENCH_INDEXES": " ".join(map(str, sample))}
            static_path, public_path = static_url("css/ikrar.css"), f"/commitments/{prepared.slug}"
            for path in (static_path, public_path):  # a fresh server's first requests, not measured
                _wrk(f"{base}{path}", SERVER_WARM_SECONDS, "", verify_env, server, tmpdir)
            static = _wrk(f"{base}{static_path}", seconds, "", verify_env, server, tmpdir)
            public = _wrk(f"{base}{public_path}", seconds, "", verify_env, server, tmpdir)
            verify_cold = _wrk(base, seconds, VERIFY_LUA, verify_env, server, tmpdir)
            _visit(base, [f"/v/{i}" for i in sample] * WARM_PASSES)  # the warm-up, not measured
            verify = _wrk(base, seconds, VERIFY_LUA, verify_env, server, tmpdir)
            sweep = None
            if cfg.sweep:  # before signing: every append is a new tree size, to be rendered again
                paths = {"static": static_path, "page": public_path, "healthz": HEALTHZ}
                sweep = _sweep(base, paths, levels, rounds, cfg.size(SWEEP_SECONDS, 2), server, tmpdir)
            console.print("http: SQLite, signing ...")
            signing.run(base, seconds, server)
        signed = signing.finish(ledger)
    finally:
        ledger.engine.dispose()
    label = f"{size:,}-entry ledger, {CONNECTIONS} connections"

    def against_static(case: str, f: Load, target: bool = True) -> Row:
        ratio = f.rps / static.rps if static.rps else 0.0
        ok = ratio >= TARGET_RATIO and f.p99 <= TARGET_P99_MS and not f.errors
        return Row(
            "http",
            f"{case}, {label}",
            _figure(f),
            f"static {static.rps:,.0f} req/s, p99 {static.p99:.1f} ms, CPU {static.cpu_ms:.2f} ms",
            f"{ratio:.2f}",
            f">= {TARGET_RATIO:g} static, p99 <= {TARGET_P99_MS:g} ms" if target else "",
            ok if target else None,
        )

    sampled = f"{len(sample):,} random entries"
    rows = [
        Row("http", f"static asset /static/css/ikrar.css (the reference), {label}", _figure(static)),
        against_static("public commitment page /commitments/{slug}", public),
        against_static(f"verify page /v/{{index}}, {sampled}, cache warm", verify),
        against_static(f"  same, first {seconds} s from empty caches (renders)", verify_cold, target=False),
    ]
    if sweep is not None:
        rows += _sweep_rows(sweep, levels, rounds)
    return rows, signed


def _postgresql(cfg: Config, size: int, seconds: int, tmpdir: Path) -> Signing:
    with pg_database(cfg.pg_url) as url:
        console.print(f"http: PostgreSQL, building the {size:,}-entry ledger in its own database ...")
        build(url, size, progress(f"building {size:,}-entry ledger on PostgreSQL", size))
        env = _site_env(url, tmpdir)
        ledger = _open_ledger(env)
        try:
            database = url.rsplit("/", 1)[1].split("?")[0]  # postgresql://user@host:port/DATABASE
            signing = SignRun(_prepare(ledger, tmpdir), tmpdir, database)
            with _serving(env, tmpdir) as (base, server):
                console.print("http: PostgreSQL, signing ...")
                signing.run(base, seconds, server)
            return signing.finish(ledger)
        finally:
            ledger.engine.dispose()


def run(cfg: Config) -> list[Row]:
    why = _available()
    if why:
        return [skipped("http", why)]
    size = cfg.size(100_000, 3_000)
    seconds = 3 if cfg.quick else 10
    label = f"{size:,}-entry ledger, {CONNECTIONS} connections"
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "sqlite").mkdir()
        rows, sqlite = _sqlite(cfg, size, seconds, Path(tmp) / "sqlite")
    rows += _sign_rows("SQLite", label, sqlite, None)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            pg = _postgresql(cfg, size, seconds, Path(tmp))
    except Exception as e:  # no server here, say: keep the SQLite figures, say why in the table
        console.print_exception()
        return [*rows, Row("http", "sign, PostgreSQL", f"not measured: {type(e).__name__}: {e}"[:200])]
    return [*rows, *_sign_rows("PostgreSQL", label, pg, sqlite)]
