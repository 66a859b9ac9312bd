"""kill -9 during a signing load, again and again, on SQLite and PostgreSQL.

Sixteen officials sign four commitments through `ikrar serve --workers 2`. Each round
the whole server — uvicorn's supervisor and both workers — gets SIGKILL at a moment when
signing requests are in flight and others were just acknowledged; then it is started
again and the officials carry on where their pages left them (a request that was cut off
is found signed, or is signed again). A last round runs to the end. Then: every signature
the server acknowledged is in the ledger exactly once at the index it showed, no entry is
half written (one checkpoint per entry, the tree store agrees with every checkpoint, the
projections say exactly what the entries say), and `ikrar audit` passes.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from signing import actions
from tests.factories import nip
from tests.web.live import Server, free_port, server_env, set_up

from .load import Signer, Tally, assert_whole, audit_cli, join, people, run_round

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

OFFICIALS = 16
SLUGS = ["bersama", "integritas", "keterbukaan", "pelayanan"]
ROUNDS = 5
TEXT = "Kami berkomitmen melayani warga Kota Kediri dengan cepat, jujur dan terbuka.\n"


def _kill_while_busy(server: Server, tally: Tally, acks: int = 4, in_flight: int = 3, timeout: float = 60) -> None:
    """SIGKILL the whole server once `acks` signatures were acknowledged this round and at
    least `in_flight` signing requests are on their way (or at `timeout`, which the test
    then notices: no request was cut off)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not (tally.round_acks >= acks and tally.in_flight >= in_flight):
        time.sleep(0.002)
    server.kill()


def test_kill_9_during_signing_loses_nothing_acknowledged(db_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = server_env(db_url, tmp_path, port)
    nips = [nip(n) for n in range(1, OFFICIALS + 1)]
    runtime = set_up(env, people(OFFICIALS), SLUGS[0], TEXT, nips)
    for slug in SLUGS[1:]:
        actions.publish(runtime.context(), slug, slug.title(), f"{TEXT}({slug})\n", nips, "uji", datetime.now(UTC))
    vkey = str(runtime.ledger.verifier)
    tally = Tally()
    signers = [Signer(n, SLUGS[n % 4 :] + SLUGS[: n % 4], tally) for n in range(1, OFFICIALS + 1)]
    server = Server(env, port, workers=2)
    cut_per_round: list[int] = []
    try:
        # A kill that happened to land when no signing request was on its way does not count.
        while sum(1 for cut in cut_per_round if cut) < ROUNDS and len(cut_per_round) < ROUNDS + 3:
            before = tally.cut_posts
            threads = run_round(server.start(), signers, tally)
            _kill_while_busy(server, tally)
            join(threads, timeout=60)
            cut_per_round.append(tally.cut_posts - before)
        join(run_round(server.start(), signers, tally), timeout=120)  # the last round runs to the end
    finally:
        server.stop()

    assert not tally.failures, tally.failures
    assert sum(1 for cut in cut_per_round if cut) == ROUNDS, f"signing requests cut off by each kill: {cut_per_round}"
    assert not any(s.todo for s in signers), "after the crashes every official could still sign"
    signed = assert_whole(runtime.ledger, tally.acked)
    assert len(signed) == OFFICIALS * len(SLUGS)
    size = runtime.ledger.size()
    assert audit_cli(env, vkey) == (size, OFFICIALS * len(SLUGS), size)
    if runtime.ledger.engine.dialect.name == "sqlite":
        with runtime.ledger.engine.connect() as c:
            assert c.execute(text("PRAGMA integrity_check")).scalar() == "ok"
