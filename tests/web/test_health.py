"""The server checks itself: a divergence found by the self-audit (or by an append) shows as
a banner on the public pages in both languages, as a 503 on /healthz, and in the log; once
rebuilt, everything says it holds again."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from web.health import Health, SelfAuditor, self_audit

from .conftest import Site


def _health(site: Site) -> Health:
    return site.app.state.health


def test_a_divergence_shows_on_the_pages_and_on_healthz_until_rebuilt(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    site.world.sign(1)
    c = site.client("id")
    assert "Peringatan:" not in c.get("/").text
    assert c.get("/healthz").text.startswith("ok\n")
    with site.ledger.engine.begin() as conn:  # someone forges who signed, behind the ledger's back
        conn.execute(text("DELETE FROM signature"))
    with caplog.at_level(logging.ERROR, logger="web.health"):
        self_audit(site.ledger, _health(site), site.clock())
    assert "table signature" in caplog.text
    page = c.get("/").text
    assert "Peringatan:" in page and "pemeriksaan mandiri server" in page
    assert "Warning:" in site.client("en").get("/commitments/smart-city").text
    health = c.get("/healthz")
    assert health.status_code == 503 and "diverged: table signature" in health.text
    site.ledger.rebuild()
    self_audit(site.ledger, _health(site), site.clock())
    assert "Peringatan:" not in c.get("/").text
    assert c.get("/healthz").status_code == 200


def test_an_append_refused_for_a_damaged_tree_store_raises_the_banner(site: Site) -> None:
    site.world.sign(1)
    with site.ledger.engine.begin() as conn:
        conn.execute(text("UPDATE merkle_node SET hash = :h"), {"h": bytes(32)})
    site.app.state.runtime.ledger._tip = None  # as another worker process would: it reads the tree store
    c = site.login(2)
    from tests.factories import passphrase

    from .conftest import post

    r = post(c, "/sign/smart-city", {"read": "yes", "passphrase": passphrase(2)}, form_page="/sign/smart-city")
    assert r.status_code == 503
    assert _health(site).problem is not None and "tree store" in _health(site).problem
    assert "Peringatan:" in site.client("id").get("/").text


def test_the_background_auditor_runs_at_its_interval_and_stops(site: Site) -> None:
    health = Health()
    auditor = SelfAuditor(site.ledger, health, 1, site.clock)
    auditor._interval = 0.05  # a minute is the least a setting says; here, a twentieth of a second
    auditor.start()
    try:
        for _ in range(100):
            if health.checked_at is not None:
                break
            auditor._stop.wait(0.05)
    finally:
        auditor.stop()
    assert health.checked_size == site.ledger.size() and health.problem is None
