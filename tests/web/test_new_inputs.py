"""The input paths rules version 4 and the ceremony added (a decline's reason, a mutasi, a
reminder, the live screen's `after`) are bounded: too much is a clear 4xx in the page's
language, and nothing is written to the ledger."""

from __future__ import annotations

from signing.actions import MAX_TEXT
from tests.factories import nip, passphrase

from .conftest import ADMIN, Site, csrf_of

LONG = "alasan " * (MAX_TEXT // 7 + 1)  # over the 200 characters a one-line text may have


def test_a_decline_with_too_long_a_reason_is_refused_and_nothing_is_written(site: Site) -> None:
    official = site.login(1)
    before = site.ledger.size()
    token = csrf_of(official, "/sign/smart-city")
    r = official.post(
        "/sign/smart-city/decline", data={"csrf_token": token, "reason": LONG, "passphrase": passphrase(1)}
    )
    assert 400 <= r.status_code < 500 and "200" in r.text, r.status_code
    assert site.ledger.size() == before
    huge = "x" * (70 * 1024)  # over a form field's 64 KB: refused before the form is read
    r = official.post("/sign/smart-city/decline", data={"csrf_token": token, "reason": huge, "passphrase": "p"})
    assert r.status_code == 413 and site.ledger.size() == before


def test_a_mutasi_with_too_long_a_reason_or_name_is_refused_and_nothing_is_written(site: Site) -> None:
    admin = site.login(ADMIN)
    before = site.ledger.size()
    token = csrf_of(admin, f"/admin/officials/{nip(2)}/update")
    for field in ("reason", "name"):
        form = {"csrf_token": token, "reason": "mutasi", "passphrase": passphrase(ADMIN), field: LONG}
        r = admin.post(f"/admin/officials/{nip(2)}/update", data=form)
        assert 400 <= r.status_code < 500 and "200" in r.text, (field, r.status_code)
    assert site.ledger.size() == before


def test_the_live_screen_refuses_an_index_out_of_range_with_a_4xx(site: Site) -> None:
    c = site.client()
    for after in ("-5", "9" * 30, "abc"):
        r = c.get(f"/live/smart-city/state?after={after}")
        assert r.status_code == 422 and "Traceback" not in r.text, after
    assert c.get("/live/" + "x" * 100).status_code == 422
