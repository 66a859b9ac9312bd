"""Bounded memory against a live `ikrar serve`, measured from /proc/PID/status (VmRSS of
every process of the server, sampled while the attack runs): a form post of 200 fields of
1 MB each is refused with a 413 before it is read and costs at most 100 MB; sixteen
parallel logins with invented NIPs run at most four argon2id hashes (64 MiB each) at once."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.factories import nip
from tests.web.live import Server, free_port, server_env, set_up

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

FIELDS, FIELD = 200, 1024 * 1024
BOUND = 100 * 1024 * 1024


def group_rss(pgid: int) -> int:
    """Resident bytes of every process in the process group `pgid` (the server and its workers)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != pgid:
                continue
            status = (entry / "status").read_text()
        except (ProcessLookupError, FileNotFoundError, PermissionError):
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


class Sampler:
    """The largest resident memory of the group seen while it runs."""

    def __init__(self, pgid: int) -> None:
        self.pgid, self.peak, self.stop = pgid, 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, group_rss(self.pgid))
            time.sleep(0.01)

    def __enter__(self) -> Sampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def fields() -> Iterator[bytes]:
    value = b"x" * FIELD
    for i in range(FIELDS):
        yield (b"&" if i else b"") + f"f{i}=".encode() + value


def attack(base: str, with_length: bool) -> int | str:
    """POST the 200 MB form to /login; the status, or how the server cut it short."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if with_length:
        headers["Content-Length"] = str(sum(len(f) for f in fields()))
    try:
        return httpx.post(f"{base}/login", content=fields(), headers=headers, timeout=60).status_code
    except httpx.TransportError as e:  # the server answered and closed before the body was sent
        return type(e).__name__


def test_a_form_of_200_fields_of_1_mb_is_refused_and_costs_at_most_100_mb(tmp_path: Path) -> None:
    port = free_port()
    env = server_env(f"sqlite:///{tmp_path / 'data' / 'ikrar.db'}", tmp_path, port)
    set_up(env, {nip(1): ("Budi Santoso", "official", "kata-sandi-1-masuk", "")}, "uji", "Teks.", [nip(1)])
    server = Server(env, port)
    base = server.start()
    try:
        assert server.proc is not None
        pgid = os.getpgid(server.proc.pid)
        for _ in range(3):  # warm up: templates, the form secret, the thread pool
            httpx.get(f"{base}/login")
        before = group_rss(pgid)
        outcomes: list[int | str] = []
        with Sampler(pgid) as sampler:
            runs = [threading.Thread(target=lambda w=w: outcomes.append(attack(base, w))) for w in (True, False) * 2]
            for run in runs:
                run.start()
            for run in runs:
                run.join()
        after = group_rss(pgid)
        grew = sampler.peak - before
        print(
            f"\nRSS before {before / 2**20:.1f} MiB, peak {sampler.peak / 2**20:.1f} MiB (+{grew / 2**20:.1f}), "
            f"after {after / 2**20:.1f} MiB; outcomes {outcomes}"
        )
        assert grew <= BOUND, f"the server grew by {grew / 2**20:.0f} MiB"
        assert all(o == 413 or isinstance(o, str) for o in outcomes), outcomes
        assert 413 in outcomes, "at least the refusals that came while the client still listened say 413"
        r = httpx.post(
            f"{base}/login",
            content=b"&".join(f"f{i}=x".encode() for i in range(FIELDS)),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": "ikrar_lang=en"},
        )
        assert r.status_code == 413 and "at most 50 fields" in r.text
        assert httpx.get(f"{base}/login").status_code == 200, "the server serves on"
    finally:
        server.stop()


def test_sixteen_parallel_logins_with_invented_nips_hash_at_most_four_at_once(tmp_path: Path) -> None:
    """Each argon2id check costs 64 MiB: sixteen at once added 1 GB before; now at most
    `HASH_SLOTS` (4) run at once, the rest wait (or get a 503 with Retry-After)."""
    port = free_port()
    env = server_env(f"sqlite:///{tmp_path / 'data' / 'ikrar.db'}", tmp_path, port)
    set_up(env, {nip(1): ("Budi Santoso", "official", "kata-sandi-1-masuk", "")}, "uji", "Teks.", [nip(1)])
    server = Server(env, port)
    base = server.start()
    try:
        assert server.proc is not None
        pgid = os.getpgid(server.proc.pid)

        def login(n: int) -> int:
            with httpx.Client(base_url=base, timeout=60) as c:
                page = c.get("/login")
                token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
                data = {"csrf_token": token, "nip": f"1990020220150110{n:02d}", "password": "tebak-tebakan"}
                r = c.post("/login", data=data)
                assert r.status_code in (422, 503), r.status_code
                assert r.status_code == 422 or r.headers["retry-after"]
                return r.status_code

        login(99)  # warm up (the dummy hash is made once)
        before = group_rss(pgid)
        statuses: list[int] = []
        with Sampler(pgid) as sampler:
            runs = [threading.Thread(target=lambda n=n: statuses.append(login(n))) for n in range(16)]
            for run in runs:
                run.start()
            for run in runs:
                run.join()
        grew = sampler.peak - before
        print(f"\n16 logins: RSS before {before / 2**20:.1f} MiB, peak +{grew / 2**20:.1f} MiB; statuses {statuses}")
        assert len(statuses) == 16
        assert grew <= 4 * 64 * 1024 * 1024 + 64 * 1024 * 1024, f"the server grew by {grew / 2**20:.0f} MiB"
    finally:
        server.stop()
