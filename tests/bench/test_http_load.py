"""The HTTP benchmark's own parts: wrk's figures as its Lua prints them, the check that every
acknowledged signature is on the ledger, and the throwaway PostgreSQL database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bench import world
from bench.append import pg_database
from bench.build import build
from bench.http_load import COMMON_LUA, Load, Sweep, audit_ledger, check_acknowledged, parse_wrk
from ledger.db import normalize_url
from ledger.store import Ledger

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:8000/
  2 threads and 16 connections
  3000 requests in 10.00s, 1.00MB read
Requests/sec:    300.00
ikrar-wrk requests=3000 duration_us=10000000 status=2 connect=0 read=1 write=0 timeout=3 p50_us=6300 p95_us=21000 p99_us=73900 max_us=120000
"""


def test_wrk_figures_are_read_from_the_done_line() -> None:
    load = parse_wrk(WRK_OUTPUT, connections=16, cpu_seconds=2.1)
    assert (load.requests, load.seconds, load.rps) == (3000, 10.0, 300.0)
    assert (load.p50, load.p95, load.p99, load.max) == (6.3, 21.0, 73.9, 120.0)
    assert (load.status_errors, load.socket_errors, load.timeouts, load.errors) == (2, 1, 3, 6)
    assert load.cpu_ms == pytest.approx(0.7)
    assert "ikrar-wrk requests=" in COMMON_LUA  # the line parse_wrk reads is the one done() prints


def test_no_done_line_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="no figures"):
        parse_wrk("Running 10s test\n", connections=16)


def _load(p99: float, rps: float, connections: int = 8) -> Load:
    return Load(connections, int(rps * 10), 10.0, 1.0, 2.0, p99, p99, 0, 0, 0)


def test_the_sweep_pairs_each_round_with_its_reference() -> None:
    sweep = Sweep()
    for page, static in ((20.0, 10.0), (90.0, 30.0), (40.0, 20.0)):
        sweep.add("page", _load(page, 1000))
        sweep.add("static", _load(static, 2000))
    assert sweep.median("page", 8, "p99") == 40.0
    assert sweep.ratio("page", "static", 8, "p99") == 2.0  # median of 2, 3, 2
    assert sweep.ratio("page", "static", 8, "rps") == 0.5


def test_acknowledged_signatures_are_looked_up_and_the_ledger_audited(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    build(url, 250)  # commitment 0 signed by everyone, commitment 1 by some
    ledger = Ledger(url)
    try:
        signed = ("komitmen-00000", world.nip(7))
        unsigned = ("komitmen-00001", world.nip(99))
        assert check_acknowledged(ledger, {signed}) == []
        assert check_acknowledged(ledger, {signed, unsigned}) == [unsigned]
        assert audit_ledger(ledger) == (250, "")
    finally:
        ledger.engine.dispose()


@pytest.mark.postgres
def test_the_postgresql_database_is_made_and_dropped() -> None:
    url = os.environ.get("IKRAR_TEST_DATABASE_URL")
    if not url:
        pytest.skip("IKRAR_TEST_DATABASE_URL is not set")
    admin = create_engine(normalize_url(url), isolation_level="AUTOCOMMIT")
    exists = text("SELECT count(*) FROM pg_database WHERE datname = :name")
    name = f"ikrar_bench_{os.getpid()}"
    try:
        with pg_database(url) as made:
            assert made.endswith(f"/{name}")
            engine = create_engine(normalize_url(made))
            with engine.connect() as c:
                assert c.execute(text("SELECT current_database()")).scalar() == name
            engine.dispose()
        with admin.connect() as c:
            assert c.execute(exists, {"name": name}).scalar() == 0
    finally:
        admin.dispose()
