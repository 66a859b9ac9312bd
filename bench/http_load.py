"""HTTP throughput and latency under concurrent load from wrk: the public commitment page
and the verify page against a static asset of the same server, and signing.

A copy of the cached 100k-entry ledger is served by `ikrar serve --workers 2` on
loopback. The reference is the site's stylesheet (`/static/css/ikrar.css`), served by the
same server in the same run: the public pages are answered from the response cache
(`web/cache.py`) once rendered at a tree size, so their target is a ratio to it. The
verify page is measured twice over the same 2,000 random signature entries: first with
every worker's cache empty (each page is rendered once per worker, then served from the
cache), then warm, after every entry has been visited a few more times.

Every benchmark official gets a key file (the ledger's deterministic keys, encrypted with
a fast KDF: the KDF is a deliberate cost per signature, not the server's) and a logged-in
session made directly in the database. More commitments are published first, so that
every signing request signs a pair (official, commitment) not signed before. wrk
(Debian's `wrk`) drives the load: `--latency` gives p50 and p99; a Lua script varies the
verify page's index and gives each signing request its own cookie, CSRF token and
commitment. Beside throughput and latency, each case gives the server's CPU time a
request (its processes' user + system time over the run, from /proc), which other work on a
shared machine distorts least. The run is bounded: a few seconds per case, loopback only.

Runs once `web.app.create_app` exists; says "not available yet" before.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import http.client
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from ledger.store import Ledger
from signing._pkcs8 import encrypt_pkcs8, unencrypted_der
from signing.keystore import KeyStore

from . import world
from .build import KDF_ITERATIONS, LEDGER_PASSPHRASE, cached_ledger, write_ledger_key
from .common import Config, Row, console, progress, skipped

TARGET_P99_MS = 50.0  # public pages, 100k signatures, cache warm
TARGET_RATIO = 0.5  # public pages' throughput against the static asset's
CONNECTIONS = 16
VERIFY_SAMPLE = 2000  # random signature entries the verify page is asked for
WARM_PASSES = 6  # visits of every sampled entry before the warm run (each worker has it then, but for 1 in 2**6)
SIGN_COMMITMENTS = 40  # x 100 officials: more signing requests than a run can send

VERIFY_LUA = """
local indexes = {}
for token in string.gmatch(os.getenv("IKRAR_BENCH_INDEXES"), "%d+") do indexes[#indexes + 1] = token end
request = function()
  return wrk.format("GET", "/v/" .. indexes[math.random(#indexes)])
end
"""

SIGN_LUA = """
-- every request signs another (official, commitment) pair; the lines are shared out by thread
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end
function init(args)
  lines = {}
  for line in io.lines(os.getenv("IKRAR_BENCH_REQUESTS")) do lines[#lines + 1] = line end
  step = tonumber(os.getenv("IKRAR_BENCH_THREADS"))
  i = id - step
end
request = function()
  i = i + step
  if i > #lines then i = ((i - 1) % #lines) + 1 end  -- exhausted: repeats are refused (counted as errors)
  local path, cookie, body = lines[i]:match("([^\\t]+)\\t([^\\t]+)\\t(.*)")
  return wrk.format("POST", path, {["Cookie"] = cookie, ["Content-Type"] = "application/x-www-form-urlencoded"}, body)
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


def _prepare(ledger: Ledger, requests: Path) -> tuple[str, list[int]]:
    """Sessions for every official, fresh commitments to sign; the public page's slug and signature indexes."""
    from web import accounts
    from web.pages import SESSION_COOKIE

    now = datetime.now(UTC)
    signer = world.ledger_signer()
    people = [world.Official(n) for n in range(1, world.OFFICIALS + 1)]
    with ledger.read() as r:
        published = len(r.commitments())
        indexes = [sig.index for c in r.commitments() for sig in r.signatures(c.slug)]
    slugs = []
    for c in range(published, published + SIGN_COMMITMENTS):
        fields = world.published(c, people)
        ledger.append("commitment.published", fields, signer, now)
        slugs.append(fields["slug"])
    lines = []
    sessions = {}
    for o in people:
        cookie, session = accounts.new_session(ledger, o.nip, now, 8)
        sessions[o.n] = (f"{SESSION_COOKIE}={cookie}", session.csrf_token)
    for slug in slugs:  # commitment by commitment, each official once: concurrent requests are different officials
        for o in people:
            cookie, csrf = sessions[o.n]
            body = urlencode({"csrf_token": csrf, "read": "yes", "passphrase": _passphrase(o.n)})
            lines.append(f"/sign/{slug}\t{cookie}\t{body}")
    requests.write_text("\n".join(lines) + "\n")
    return "komitmen-00000", indexes


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
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(5)


def _visit(port: int, paths: list[str]) -> None:
    """GET every path once, in order, over CONNECTIONS keep-alive connections that take the
    next path when free (so that each path reaches a worker at random); raises unless 200."""
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


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


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


def _wrk(
    url: str, seconds: int, script: Path | None, env: dict[str, str], server: subprocess.Popen[bytes]
) -> dict[str, float]:
    """Run wrk; return p50 and p99 in ms, requests/s, the count of non-2xx/3xx answers, and
    the server's CPU time a request in ms (what a request costs, whatever else the machine
    is doing: a fairer comparison than throughput on a shared machine)."""
    cpu = _server_cpu(server)
    argv = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if script is not None:
        argv += ["-s", str(script)]
    done = subprocess.run([*argv, url], env=env, capture_output=True, text=True, timeout=seconds + 60, check=True)
    text = done.stdout
    figures: dict[str, float] = {}
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        if m is None:
            raise RuntimeError(f"wrk printed no {pct}% latency:\n{text}")
        figures[f"p{pct}"] = float(m.group(1)) * _UNITS[m.group(2)]
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    figures["rps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    figures["errors"] = float(m.group(1)) if m else 0.0
    m = re.search(r"(\d+) requests in", text)
    figures["requests"] = float(m.group(1)) if m else 0.0
    figures["cpu_ms"] = (_server_cpu(server) - cpu) * 1e3 / figures["requests"] if figures["requests"] else 0.0
    return figures


def _signatures(ledger: Ledger) -> int:
    with ledger.read() as r:
        return sum(r.signature_counts().values())


def run(cfg: Config) -> list[Row]:
    why = _available()
    if why:
        return [skipped("http", why)]
    size = cfg.size(100_000, 3_000)
    seconds = 3 if cfg.quick else 10
    source = cached_ledger(size, progress(f"building {size:,}-entry ledger", size))
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        db = tmpdir / "ikrar.db"
        shutil.copyfile(source, db)  # the server writes (sessions, signatures): never into the cache
        keys = tmpdir / "keys"
        write_ledger_key(keys)
        _write_official_keys(keys)
        env = {
            **os.environ,
            "IKRAR_DATABASE_URL": f"sqlite:///{db}",
            "IKRAR_KEYS_DIR": str(keys),
            "IKRAR_LEDGER_PASSPHRASE": LEDGER_PASSPHRASE,
            "IKRAR_DATA_DIR": str(tmpdir / "data"),
            "IKRAR_KDF_ITERATIONS": str(KDF_ITERATIONS),
            "IKRAR_LOG_LEVEL": "WARNING",
            "IKRAR_BASE_URL": "http://127.0.0.1",
            # No background self-audit: a minute after start each worker would re-verify all
            # 100k entries (half a minute of CPU) in the middle of the load (`bench audit`
            # measures the audit).
            "IKRAR_SELF_AUDIT_MINUTES": "0",
        }
        requests = tmpdir / "sign-requests.tsv"
        with _environment({k: v for k, v in env.items() if k.startswith("IKRAR_")}):
            from web.pages import static_url
            from web.runtime import Runtime

            ledger = Runtime.from_env().ledger  # migrated: the web app's tables too
            slug, indexes = _prepare(ledger, requests)
            before = _signatures(ledger)
        port = _free_port()
        server = _serve(env, port, tmpdir / "server.log")
        base = f"http://127.0.0.1:{port}"
        try:
            console.print(f"http: wrk, {CONNECTIONS} connections, {seconds} s a case ...")
            verify_lua, sign_lua = tmpdir / "verify.lua", tmpdir / "sign.lua"
            verify_lua.write_text(VERIFY_LUA)
            sign_lua.write_text(SIGN_LUA)
            sample = random.Random(size).sample(indexes, min(cfg.size(VERIFY_SAMPLE, 500), len(indexes)))
            wrk_env = {
                **os.environ,
                "IKRAR_BENCH_INDEXES": " ".join(map(str, sample)),
                "IKRAR_BENCH_REQUESTS": str(requests),
                "IKRAR_BENCH_THREADS": "2",
            }
            static = _wrk(f"{base}{static_url('css/ikrar.css')}", seconds, None, wrk_env, server)
            public = _wrk(f"{base}/commitments/{slug}", seconds, None, wrk_env, server)
            verify_cold = _wrk(base, seconds, verify_lua, wrk_env, server)
            _visit(port, [f"/v/{i}" for i in sample] * WARM_PASSES)  # the warm-up, not measured
            verify = _wrk(base, seconds, verify_lua, wrk_env, server)
            sign = _wrk(base, seconds, sign_lua, wrk_env, server)
        finally:
            _stop(server)
        signed = _signatures(ledger) - before
        ledger.engine.dispose()
    label = f"{size:,}-entry ledger, {CONNECTIONS} connections"

    def figure(f: dict[str, float]) -> str:
        errors = f", {f['errors']:,.0f} errors" if f["errors"] else ""
        return f"{f['rps']:,.0f} req/s, p50 {f['p50']:.1f} / p99 {f['p99']:.1f} ms, CPU {f['cpu_ms']:.2f} ms{errors}"

    def against_static(case: str, f: dict[str, float], target: bool = True) -> Row:
        ratio = f["rps"] / static["rps"] if static["rps"] else 0.0
        ok = ratio >= TARGET_RATIO and f["p99"] <= TARGET_P99_MS and not f["errors"]
        return Row(
            "http",
            f"{case}, {label}",
            figure(f),
            f"static {static['rps']:,.0f} req/s, p99 {static['p99']:.1f} ms, CPU {static['cpu_ms']:.2f} ms",
            f"{ratio:.2f}",
            f">= {TARGET_RATIO:g} static, p99 <= {TARGET_P99_MS:g} ms" if target else "",
            ok if target else None,
        )

    sampled = f"{len(sample):,} random entries"
    return [
        Row("http", f"static asset /static/css/ikrar.css (the reference), {label}", figure(static)),
        against_static("public commitment page /commitments/{slug}", public),
        against_static(f"verify page /v/{{index}}, {sampled}, cache warm", verify),
        against_static(f"  same, first {seconds} s from empty caches (renders)", verify_cold, target=False),
        Row("http", f"sign (POST /sign/{{slug}}), {label}", figure(sign), f"{signed:,} signatures appended"),
    ]
