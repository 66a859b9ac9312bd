"""A real Ikrar server for tests: a ledger set up in-process, run with `ikrar serve`
(uvicorn) on 127.0.0.1 and a free port, stopped when the test is done; and an official's
way through it over HTTP (the login and signing forms, CSRF tokens and all)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from signing import actions, vouching
from web import accounts
from web.runtime import Runtime

ROOT = Path(__file__).parents[2]
IKRAR = [sys.executable, "-m", "web.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(db_url: str, home: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IKRAR_")}
    env.update(
        {
            "IKRAR_DATA_DIR": str(home / "data"),
            "IKRAR_DATABASE_URL": db_url,
            "IKRAR_KEYS_DIR": str(home / "keys"),
            "IKRAR_LEDGER_PASSPHRASE": "frasa-buku-besar-uji",
            "IKRAR_KDF_ITERATIONS": "1000",
            "IKRAR_BASE_URL": f"http://127.0.0.1:{port}",
            "IKRAR_LOG_LEVEL": "WARNING",
        }
    )
    return env


def ikrar(env: dict[str, str], *args: str) -> str:
    """Run an `ikrar` command; returns its standard output, fails the test on a non-zero exit."""
    done = subprocess.run([*IKRAR, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"ikrar {' '.join(args)}: {done.stderr}"
    return done.stdout


def runtime_for(env: dict[str, str]) -> Runtime:
    """The runtime the server will use, for setting the ledger up in-process (quicker than commands)."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            if name.startswith("IKRAR_"):
                mp.setenv(name, value)
        return Runtime.from_env()


def set_up(
    env: dict[str, str],
    people: dict[str, tuple[str, str, str, str]],
    slug: str,
    text: str,
    signers: list[str],
    passphrases: dict[str, str] | None = None,
    deadline: datetime | None = None,
) -> Runtime:
    """A created ledger, the `people` (NIP -> name, role, password, passphrase or ""), and a
    commitment `slug` that `signers` are asked to sign, by `deadline` if given. Keys are made for
    those with a passphrase. A person's NIP may be an identifier of an official without one
    (``pn-`` and six of `ledger.nip.OFFICIAL_ID_ALPHABET`, e.g. ``pn-wa1ik0`` is not, ``pn-wa2kt3`` is)."""
    runtime = runtime_for(env)
    now = datetime.now(UTC)
    runtime.create_ledger("Pemerintah Kota Kediri (uji)", "test.kedirikota.go.id/ikrar", now)
    ctx = runtime.context()
    admins = [n for n, (_name, role, _pw, passphrase) in people.items() if role == "admin" and passphrase]
    if not admins:  # every key is vouched for by an admin's key: one who only does that
        people = {VOUCHER: ("Admin Penjamin", "admin", "", VOUCHER_PASSPHRASE), **people}
        admins = [VOUCHER]
    voucher, voucher_passphrase = admins[0], people[admins[0]][3]
    for number in sorted(people, key=lambda n: n != voucher):  # the first admin enrols first
        name, role, password, passphrase = people[number]
        actions.register_official(runtime.ledger, number, name, "Kepala Dinas", f"Dinas {name.split()[0]}", role, now)
        if password:
            accounts.set_password(runtime.ledger, number, password, now)
        if not passphrase:
            continue
        official = actions.get_official(runtime.ledger, number)
        if number != voucher:  # the first admin is attested by the ledger's key; the rest by them
            vouching.invite(ctx, official, voucher, voucher_passphrase, now, 1)
            if role == "admin":
                vouching.approve(ctx, official, vouching.LEDGER, None, now)
        actions.enrol(ctx, number, passphrase, now)
    actions.publish(ctx, slug, "Komitmen Bersama Smart City", text, signers, "uji", now, deadline)
    return runtime


VOUCHER, VOUCHER_PASSPHRASE = "198001012005011099", "sandi-admin-penjamin"


class Server:
    """`ikrar serve` in a process group of its own, so that the whole of it (uvicorn's
    supervisor and its worker processes) can be stopped, or killed with SIGKILL, at once."""

    def __init__(self, env: dict[str, str], port: int, workers: int = 1) -> None:
        self.env, self.port, self.workers = env, port, workers
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = Path(env["IKRAR_DATA_DIR"]) / f"serve-{port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> str:
        """Start it and wait until it answers /healthz; returns the base URL."""
        assert self.proc is None, "already running"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(
                [*IKRAR, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers)],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return self.base
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"the server did not start: {self.log()[-2000:]}")
            time.sleep(0.1)

    def _signal_group(self, sig: int) -> None:
        assert self.proc is not None
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def _wait_group(self, timeout: float) -> bool:
        """Wait until no process of the group is left; False when some still are at `timeout`."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        while time.monotonic() < deadline:
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                return True
            time.sleep(0.05)
        return False

    def kill(self) -> None:
        """SIGKILL to every process of the server at once: what a crash or the OOM killer does."""
        if self.proc is None:
            return
        self._signal_group(signal.SIGKILL)
        self._wait_group(20)
        self.proc = None

    def stop(self) -> None:
        """A graceful stop (SIGTERM), a SIGKILL when that takes more than 20 s."""
        if self.proc is None:
            return
        self._signal_group(signal.SIGTERM)
        if not self._wait_group(20):
            self._signal_group(signal.SIGKILL)
            self._wait_group(20)
        self.proc = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@contextmanager
def serving(env: dict[str, str], port: int, workers: int = 1) -> Iterator[str]:
    """`ikrar serve` on 127.0.0.1:port until the block ends; yields the base URL."""
    server = Server(env, port, workers)
    try:
        yield server.start()
    finally:
        server.stop()


# -- an official's way through the site, over HTTP ------------------------------------------

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SIGNED_INDEX = re.compile(r'href="/v/(\d+)"')


def csrf_token(page: httpx.Response) -> str:
    m = CSRF.search(page.text)
    assert page.status_code == 200 and m, f"no form on {page.url} ({page.status_code}): {page.text[:300]}"
    return m.group(1)


def login_over_http(c: httpx.Client, nip: str, password: str) -> None:
    """Log in through the login form (with its CSRF token), as a browser does."""
    token = csrf_token(c.get("/login"))
    r = c.post("/login", data={"csrf_token": token, "nip": nip, "password": password})
    assert r.status_code == 303, f"login of {nip}: {r.status_code} {r.text[:300]}"


def sign_over_http(c: httpx.Client, slug: str, passphrase: str) -> int:
    """Sign `slug` through the signing form as the logged-in official; returns the entry's
    index that the page shows once it says "signed"."""
    token = csrf_token(c.get(f"/sign/{slug}"))
    r = c.post(f"/sign/{slug}", data={"csrf_token": token, "read": "yes", "passphrase": passphrase})
    assert r.status_code == 303, f"signing {slug}: {r.status_code} {r.text[:300]}"
    return signed_index(c.get(r.headers["location"]))


def signed_index(page: httpx.Response) -> int:
    """The index that a signing page shows once the official has signed."""
    m = SIGNED_INDEX.search(page.text)
    assert page.status_code == 200 and m, f"{page.url} shows no signature ({page.status_code})"
    return int(m.group(1))
