"""`ikrar serve --workers 2`: two processes share one ledger; officials signing at the same
moment through different workers all land, in one unbroken ledger, on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from ledger.audit import audit
from tests.factories import nip

from .live import free_port, login_over_http, server_env, serving, set_up, sign_over_http

pytestmark = pytest.mark.slow

SIGNERS = (1, 2, 3)


def _sign_over_http(base: str, n: int) -> int:
    with httpx.Client(base_url=base, timeout=60) as c:
        login_over_http(c, nip(n), f"kata-sandi-{n}-masuk")
        return sign_over_http(c, "bersama", f"frasa-sandi-{n}-saya")


def test_two_workers_share_one_ledger(db_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = server_env(db_url, tmp_path, port)
    people = {nip(n): (f"Pejabat {n}", "official", f"kata-sandi-{n}-masuk", f"frasa-sandi-{n}-saya") for n in SIGNERS}
    runtime = set_up(env, people, "bersama", "Kami bekerja bersama.\n", [nip(n) for n in SIGNERS])
    with serving(env, port, workers=2) as base:
        with ThreadPoolExecutor(len(SIGNERS)) as pool:
            indexes = sorted(pool.map(lambda n: _sign_over_http(base, n), SIGNERS))
        listed = httpx.get(f"{base}/api/v1/commitments").json()
        assert listed[0]["signed"] == 3
        size = int(httpx.get(f"{base}/checkpoint").text.splitlines()[1])
    assert indexes == list(range(size - 3, size))
    ledger = runtime.ledger
    report = audit(ledger.stored_entries(), ledger.stored_checkpoints(), ledger.verifier)
    assert report.size == size and report.signatures == 3
