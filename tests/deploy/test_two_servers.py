"""Many servers, one ledger: two `ikrar serve` on PostgreSQL behind one nginx.

Two servers (ports A and B, two workers each) share a ledger on PostgreSQL and the data and
key folders, and nginx (`deploy/nginx/ikrar.conf` with both in `upstream ikrar`) balances
them. Sixteen officials sign through nginx, each in a browser of their own (tests/reliability/
load.py), at a steady pace, while A is stopped (SIGTERM, as `systemctl stop` does) and started
again, and then B is killed (SIGKILL) and started again. The load goes on through every step:
what one server cannot answer the other does. A signing POST that a server took with it is
not resent by nginx: the official sees 502 and then finds it signed, or signs again. Then:
every signature acknowledged is in the ledger exactly once at the index the official was
shown, each server signed while the other was down, and `ikrar audit` passes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from signing import actions
from tests.factories import nip
from tests.reliability.load import Signer, Tally, assert_whole, audit_cli, join, password, people
from tests.web.live import Server, login_over_http, server_env, set_up

from .harness import Nginx, Tls, free_ports

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(300)]

OFFICIALS = 16
SLUGS = [f"komitmen-{i:02d}" for i in range(1, 41)]  # 640 signatures: at RATE, the load never runs dry
TEXT = "Kami berkomitmen melayani warga Kota Kediri dengan cepat, jujur dan terbuka.\n"
RATE = 8.0  # signatures a second, all officials together
PHASE_ACKS = 6  # signatures acknowledged in each phase before the next step
START_SECONDS = 120  # a server's start, on a busy machine


class Pace:
    """Spaces the signatures of all signers `1 / rate` seconds apart."""

    def __init__(self, rate: float) -> None:
        self.interval, self.next = 1 / rate, time.monotonic()
        self.lock = threading.Lock()

    def wait(self) -> None:
        with self.lock:
            slot = self.next = max(self.next + self.interval, time.monotonic())
        time.sleep(max(0.0, slot - time.monotonic()))


def _gateway_error_is_a_cut(response: httpx.Response) -> None:
    """nginx's 502/504 says the server went away under the request: for the signer, as if
    the connection had been cut (load.py counts a POST so cut, and the signer goes on)."""
    if response.status_code in (502, 504):
        raise httpx.RemoteProtocolError(f"nginx answered {response.status_code}", request=response.request)


class ThroughNginx(Signer):
    """An official signing through nginx at the `pace`, until told to stop: a request the
    site did not answer (a 502 while a server goes away) is tried again, as a person would."""

    def __init__(self, n: int, slugs: list[str], tally: Tally, nginx: Nginx, pace: Pace, stop: threading.Event) -> None:
        super().__init__(n, slugs, tally)
        self.nginx, self.pace, self.stop = nginx, pace, stop

    def run(self, base: str = "", start: threading.Barrier | None = None) -> None:
        with self.nginx.client(cookies=self.cookies) as c:
            c.event_hooks["response"] = [_gateway_error_is_a_cut]
            logged_in = False
            while self.todo and not self.stop.is_set():
                self.pace.wait()
                try:
                    if not logged_in:
                        login_over_http(c, self.nip, password(self.n))
                        logged_in = True
                    self._sign(c, self.todo[0])
                    self.todo.pop(0)
                except httpx.TransportError:
                    time.sleep(0.1)
                except AssertionError as e:
                    self.tally.fail(f"official {self.n}: {e}")
                    return


def _signed_by(nginx: Nginx, port: int, since: int = 0) -> int:
    """Signing POSTs answered "signed" (303) by the server on `port`, from the `since`-th
    request of nginx's log on."""
    server = f"127.0.0.1:{port}"
    return sum(
        1
        for r in nginx.requests()[since:]
        if r.method == "POST" and r.path.startswith("/sign/") and r.status == 303 and r.upstreams[-1:] == [server]
    )


def test_two_servers_behind_nginx_lose_nothing_while_each_is_stopped_and_started(
    pg_url: str, tls: Tls, tmp_path: Path
) -> None:
    a, b = free_ports(2)
    nginx = Nginx(tmp_path / "nginx", [a, b], tls)
    env = server_env(pg_url, tmp_path, a) | {"IKRAR_BASE_URL": nginx.base, "IKRAR_TRUSTED_PROXIES": "127.0.0.1"}
    nips = [nip(n) for n in range(1, OFFICIALS + 1)]
    runtime = set_up(env, people(OFFICIALS), SLUGS[0], TEXT, nips)
    for slug in SLUGS[1:]:
        actions.publish(runtime.context(), slug, slug.title(), f"{TEXT}({slug})\n", nips, "uji", datetime.now(UTC))
    vkey = str(runtime.ledger.verifier)
    servers = {port: Server(env, port, workers=2) for port in (a, b)}
    tally, pace, stop = Tally(), Pace(RATE), threading.Event()
    signers = [ThroughNginx(n, SLUGS[n:] + SLUGS[:n], tally, nginx, pace, stop) for n in range(1, OFFICIALS + 1)]
    threads = [threading.Thread(target=s.run, daemon=True) for s in signers]

    def wait(what: str, until: Callable[[], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not until():
            busy = sum(t.is_alive() for t in threads)
            assert time.monotonic() < deadline, f"{what} after {timeout} s ({busy} signers busy): {tally.failures[:3]}"
            time.sleep(0.02)

    def acks(what: str) -> int:
        """Wait until PHASE_ACKS more signatures are acknowledged; returns how many there are."""
        before = len(tally.acked)
        wait(f"not {PHASE_ACKS} signatures {what}", lambda: len(tally.acked) >= before + PHASE_ACKS)
        return len(tally.acked)

    def back(port: int) -> None:
        """Start the server on `port` again and wait until it has signed through nginx."""
        servers[port].start(START_SECONDS)
        logged = len(nginx.requests())
        wait(f"{port} signed nothing after it came back", lambda: _signed_by(nginx, port, logged) > 0)

    try:
        starting = [threading.Thread(target=s.start, args=(START_SECONDS,)) for s in servers.values()]
        for t in starting:
            t.start()
        for t in starting:
            t.join()
        assert all(server.proc is not None for server in servers.values()), "a server did not start"
        nginx.start()
        for t in threads:
            t.start()

        acks("with both servers up")
        servers[a].stop()
        acks("while A was stopped")
        back(a)
        servers[b].kill()
        acks("while B was killed")
        back(b)
        acks("with both servers back")
    finally:
        stop.set()
        join([t for t in threads if t.ident is not None], timeout=60)
        nginx.stop()
        for server in servers.values():
            server.stop()

    assert not tally.failures, tally.failures
    signed = assert_whole(runtime.ledger, tally.acked)
    assert len(signed) >= len(tally.acked) >= 5 * PHASE_ACKS
    size = runtime.ledger.size()
    assert audit_cli(env, vkey) == (size, len(signed), size)
