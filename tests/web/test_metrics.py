"""`GET /metrics`: off without IKRAR_METRICS_TOKEN, 401 without the right bearer token, and
Prometheus' text format with counters that move with real requests, labelled by route
template (a bounded set); and one sum over the worker processes of a real `ikrar serve`."""

from __future__ import annotations

import json
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from ledger import outbox
from tests.factories import nip, passphrase
from tests.web.conftest import Site, post
from tests.web.live import Server, free_port, runtime_for, server_env
from web.routes_verify import MAX_UPLOAD

TOKEN = "token-metrik-uji-7f3a9c2e51"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture()
def metered(site: Site) -> Site:
    """The site with IKRAR_METRICS_TOKEN set."""
    runtime = site.app.state.runtime
    runtime.settings = replace(runtime.settings, metrics_token=TOKEN)
    return site


def parse(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def scrape(c: TestClient | httpx.Client) -> Samples:
    r = c.get("/metrics", headers=AUTH)
    assert r.status_code == 200, r.text[:300]
    return parse(r.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def label_values(samples: Samples, name: str, label: str) -> set[str]:
    return {dict(labels)[label] for (n, labels) in samples if n == name and label in dict(labels)}


# -- the door ----------------------------------------------------------------------------------


def test_without_a_token_setting_metrics_is_a_404_like_any_unknown_path(site: Site) -> None:
    c = site.client()
    r = c.get("/metrics", headers=AUTH)
    assert r.status_code == 404
    assert r.headers["content-type"] == c.get("/tidak-ada-di-sini").headers["content-type"]
    assert "ikrar_" not in r.text


@pytest.mark.parametrize(
    "header",
    [None, f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", "Bearer ", f"Basic {TOKEN}", TOKEN, f"Token {TOKEN}"],
)
def test_a_missing_or_wrong_token_is_a_401_with_a_bearer_challenge(metered: Site, header: str | None) -> None:
    r = metered.client().get("/metrics", headers={"Authorization": header} if header is not None else {})
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer ")
    assert "ikrar_" not in r.text and TOKEN not in r.text


def test_the_right_token_gets_prometheus_text_with_every_ikrar_metric(metered: Site) -> None:
    c = metered.client()
    c.get("/")
    r = c.get("/metrics", headers={"Authorization": f"bearer {TOKEN}"})  # the scheme is case-insensitive
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert r.headers["cache-control"] == "no-store"
    families = {f.name: f.type for f in text_string_to_metric_families(r.text)}
    assert {
        "ikrar_http_requests": "counter",
        "ikrar_http_request_duration_seconds": "histogram",
        "ikrar_appends": "counter",
        "ikrar_login_failures": "counter",
        "ikrar_locks": "counter",
        "ikrar_uploads_refused": "counter",
        "ikrar_tree_size": "gauge",
        "ikrar_mail_outbox": "gauge",
        "ikrar_database_up": "gauge",
    }.items() <= families.items()
    assert "/metrics" not in metered.client().get("/openapi.json").text


# -- counters that move -----------------------------------------------------------------------


def test_a_page_request_moves_its_route_counter_and_latency_histogram(metered: Site) -> None:
    c = metered.client()
    labels = {"method": "GET", "route": "/commitments/{slug}"}
    before = scrape(c)
    assert c.get("/commitments/smart-city").status_code == 200
    assert c.get("/commitments/smart-city").status_code == 200
    assert c.get("/commitments/tidak-ada").status_code == 404
    after = scrape(c)
    counter = "ikrar_http_requests_total"
    assert value(after, counter, **labels, status="200") - value(before, counter, **labels, status="200") == 2
    assert value(after, counter, **labels, status="404") - value(before, counter, **labels, status="404") == 1
    count = "ikrar_http_request_duration_seconds_count"
    assert value(after, count, **labels) - value(before, count, **labels) == 3
    assert value(after, "ikrar_http_request_duration_seconds_sum", **labels) > value(
        before, "ikrar_http_request_duration_seconds_sum", **labels
    )
    assert not label_values(after, counter, "route") & {"/commitments/smart-city", "/commitments/tidak-ada"}


def test_a_signature_on_the_web_counts_one_append_and_tree_size_is_the_ledgers_size(metered: Site) -> None:
    c = metered.login(3)
    before = scrape(c)
    assert value(before, "ikrar_tree_size") == metered.ledger.size()
    r = post(c, "/sign/smart-city", {"read": "yes", "passphrase": passphrase(3)})
    assert r.status_code == 303, r.text[:300]
    after = scrape(c)
    signed = {"kind": "commitment.signed"}
    assert value(after, "ikrar_appends_total", **signed) - value(before, "ikrar_appends_total", **signed) == 1
    assert value(after, "ikrar_tree_size") == metered.ledger.size() == value(before, "ikrar_tree_size") + 1
    assert value(after, "ikrar_database_up") == 1
    route = {"method": "POST", "route": "/sign/{slug}", "status": "303"}
    assert value(after, "ikrar_http_requests_total", **route) - value(before, "ikrar_http_requests_total", **route) == 1


def test_the_mail_outbox_gauge_counts_the_notices_not_sent(metered: Site) -> None:
    c = metered.client()
    before = value(scrape(c), "ikrar_mail_outbox")
    assert before == outbox.pending_count(metered.ledger.engine)
    with metered.ledger.engine.begin() as conn:
        outbox.enqueue(conn, outbox.SIGNED, nip(1), 0, datetime.now(UTC))
        outbox.enqueue(conn, outbox.SIGNED, nip(2), 0, datetime.now(UTC))
    assert value(scrape(c), "ikrar_mail_outbox") == before + 2 == outbox.pending_count(metered.ledger.engine)


def test_refused_uploads_are_counted_by_reason(metered: Site) -> None:
    c = metered.client()
    before = scrape(c)
    assert c.post("/api/v1/verify", data={"bukan": "berkas"}).status_code == 400
    assert c.post("/api/v1/verify", files={"file": ("c.pdf", b"not a PDF at all", "application/pdf")}).status_code in (
        400,
        415,
        422,
    )
    big = b"0" * (MAX_UPLOAD + 128 * 1024)
    assert c.post("/api/v1/verify", files={"file": ("c.pdf", big, "application/pdf")}).status_code == 413
    page = c.post("/verify/upload", files={"file": ("c.pdf", big, "application/pdf")})
    assert page.status_code == 413
    after = scrape(c)
    name = "ikrar_uploads_refused_total"
    moved = {
        reason: value(after, name, reason=reason) - value(before, name, reason=reason)
        for reason in ("missing", "not_certificate", "too_large", "busy")
    }
    assert moved == {"missing": 1, "not_certificate": 1, "too_large": 2, "busy": 0}


# -- bounded labels ---------------------------------------------------------------------------


def test_a_hundred_unknown_paths_add_one_route_label_not_a_hundred(metered: Site) -> None:
    c = metered.client()
    before = scrape(c)
    run = uuid.uuid4().hex[:8]
    for i in range(100):
        assert c.get(f"/tak-ada-{run}-{i}/x?q={i}").status_code == 404
    assert c.request("FROB", f"/tak-ada-{run}").status_code in (404, 405)  # a made-up method: one label too
    after = scrape(c)
    for name in ("ikrar_http_requests_total", "ikrar_http_request_duration_seconds_count"):
        new_routes = label_values(after, name, "route") - label_values(before, name, "route")
        assert new_routes <= {"unmatched"}, new_routes
        assert not any(run in route for route in label_values(after, name, "route"))
    assert label_values(after, "ikrar_http_requests_total", "method") <= {
        "GET",
        "HEAD",
        "POST",
        "PUT",
        "PATCH",
        "DELETE",
        "OPTIONS",
        "OTHER",
    }
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    name = "ikrar_http_requests_total"
    assert value(after, name, **unmatched) - value(before, name, **unmatched) == 100


def test_answers_made_before_routing_are_labelled_by_their_route(metered: Site) -> None:
    """A form over its size limit is refused (413) before the router runs; a wrong method
    gets a 405 from it: both are labelled with the route's template, not "unmatched"; so
    are the files of a mounted folder."""
    c = metered.client()
    before = scrape(c)
    big = {"nip": "1" * 18, "password": "x" * (300 * 1024)}
    assert c.post("/login", data=big).status_code == 413
    assert c.delete("/ledger").status_code == 405
    assert c.get("/static/css/ikrar.css").status_code == 200
    after = scrape(c)
    name = "ikrar_http_requests_total"
    for labels in (
        {"method": "POST", "route": "/login", "status": "413"},
        {"method": "DELETE", "route": "/ledger", "status": "405"},
        {"method": "GET", "route": "/static/{path}", "status": "200"},
    ):
        assert value(after, name, **labels) - value(before, name, **labels) == 1, labels


# -- several worker processes: one sum ---------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_two_workers_answer_every_scrape_with_the_sum_over_both(tmp_path: Path) -> None:
    """`ikrar serve --workers 2`: requests spread over both processes (their access lines
    name two pids), and every scrape, whichever worker answers it, gives the same total.
    The shared metrics folder exists while the server runs and is gone after it stops; one
    left by a killed server is removed at the start, one of a live server is not."""
    port = free_port()
    env = server_env(f"sqlite:///{tmp_path / 'data' / 'ikrar.db'}", tmp_path, port)
    temp = tmp_path / "tmp"
    temp.mkdir()
    env.update(
        {"IKRAR_METRICS_TOKEN": TOKEN, "IKRAR_LOG_LEVEL": "INFO", "IKRAR_LOG_FORMAT": "json", "TMPDIR": str(temp)}
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    runtime = runtime_for(env)
    runtime.create_ledger("Pemerintah Kota Kediri (uji)", "test.kedirikota.go.id/ikrar", datetime.now(UTC))
    runtime.ledger.engine.dispose()
    stale, live = temp / "ikrar-metrics-999999999-x", temp / f"ikrar-metrics-{os.getpid()}-y"
    stale.mkdir()
    live.mkdir()
    server = Server(env, port, workers=2)
    base = server.start()
    try:
        assert server.proc is not None
        assert not stale.exists() and live.is_dir()
        assert [f.is_dir() for f in temp.glob(f"ikrar-metrics-{server.proc.pid}-*")] == [True]

        def fetch(_: int) -> int:
            return httpx.get(f"{base}/checkpoint", timeout=30).status_code  # a new connection each

        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(fetch, range(60))) == [200] * 60
        labels = {"method": "GET", "route": "/checkpoint", "status": "200"}
        totals = []
        for _ in range(8):
            with httpx.Client(base_url=base, timeout=30) as c:
                samples = scrape(c)
            totals.append(value(samples, "ikrar_http_requests_total", **labels))
            assert value(samples, "ikrar_tree_size") == 1
        assert totals == [60.0] * 8
    finally:
        server.stop()
    assert list(temp.glob("ikrar-metrics-*")) == [live], "the shared folder is removed at the end"
    lines = [json.loads(line) for line in server.log().splitlines() if line.strip()]
    pids = {line["pid"] for line in lines if line.get("route") == "/checkpoint"}
    assert len(pids) >= 2, f"both workers answered (a worker uvicorn replaced has a new pid): {pids}"
    scrapers = {line["pid"] for line in lines if line.get("route") == "/metrics"}
    assert scrapers, "the scrapes were answered"
