"""Sixteen officials sign at the same moment through `ikrar serve --workers 2`, on SQLite
and PostgreSQL, each through the real login and signing forms: every signature the server
acknowledged is in the ledger exactly once, at the index the page showed, the public API
lists it, and `ikrar audit` and the standalone verifier pass. And guesses of a password or
a signing passphrase sent in parallel get no more tries than guesses sent one by one."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from ledger.models import LoginThrottle, Throttle
from signing import actions
from tests.factories import nip, passphrase, tables
from tests.web.conftest import Site
from tests.web.live import csrf_token, free_port, login_over_http, server_env, serving, set_up
from web import accounts
from web.errors import Throttled

from .load import Signer, Tally, assert_whole, audit_cli, join, password, people, run_round, verify_export_standalone

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

OFFICIALS = 16
SLUGS = ["bersama", "integritas"]  # each official signs both, half of them in the other order
TEXT = "Kami berkomitmen melayani warga Kota Kediri dengan cepat, jujur dan terbuka.\n"


def test_sixteen_officials_sign_at_once_through_two_workers(db_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = server_env(db_url, tmp_path, port)
    nips = [nip(n) for n in range(1, OFFICIALS + 1)]
    runtime = set_up(env, people(OFFICIALS), SLUGS[0], TEXT, nips)
    actions.publish(runtime.context(), SLUGS[1], "Pakta Integritas", TEXT.upper(), nips, "uji", datetime.now(UTC))
    vkey = str(runtime.ledger.verifier)
    tally = Tally()
    signers = [Signer(n, SLUGS if n % 2 else SLUGS[::-1], tally) for n in range(1, OFFICIALS + 1)]

    with serving(env, port, workers=2) as base:
        join(run_round(base, signers, tally, together=True), timeout=180)
        listed = {slug: httpx.get(f"{base}/api/v1/commitments/{slug}/signatures", timeout=30).json() for slug in SLUGS}

    assert not tally.failures, tally.failures
    assert tally.cut_posts == 0 and not any(s.todo for s in signers)
    assert len(tally.acked) == OFFICIALS * len(SLUGS) and None not in tally.acked.values()
    signed = assert_whole(runtime.ledger, tally.acked)
    assert signed == tally.acked
    for slug in SLUGS:
        assert {s["nip"]: s["index"] for s in listed[slug]["signatures"]} == {
            n: index for (s, n), index in tally.acked.items() if s == slug
        }
        assert listed[slug]["pending"] == []
    size = runtime.ledger.size()
    assert audit_cli(env, vkey) == (size, OFFICIALS * len(SLUGS), size)
    verify_export_standalone(env, vkey, tmp_path / "export")


GUESSES = 24


def _at_once(base: str, cookies: httpx.Cookies, path: str, form: dict[str, str]) -> list[int]:
    """GUESSES clients post `form` to `path` at the same moment; returns the statuses."""
    ready = threading.Barrier(GUESSES)
    statuses: list[int] = []

    def guess() -> None:
        with httpx.Client(base_url=base, timeout=60, cookies=cookies) as c:
            token = csrf_token(c.get(path))
            ready.wait(60)
            statuses.append(c.post(path, data={**form, "csrf_token": token}).status_code)

    threads = [threading.Thread(target=guess) for _ in range(GUESSES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert len(statuses) == GUESSES
    return sorted(statuses)


def test_parallel_guesses_get_no_more_tries_than_serial_ones(db_url: str, tmp_path: Path) -> None:
    """One after another, the first FREE_FAILURES + 1 wrong guesses are answered, then the
    next must wait; sent all at once (two workers, many threads), it must be the same: no
    more answers, no more failures counted."""
    port = free_port()
    env = server_env(db_url, tmp_path, port)
    runtime = set_up(env, people(2), SLUGS[0], TEXT, [nip(1), nip(2)])
    size = runtime.ledger.size()
    tried = accounts.FREE_FAILURES + 1
    with serving(env, port, workers=2) as base:
        logins = _at_once(base, httpx.Cookies(), "/login", {"nip": nip(1), "password": "bukan-kata-sandinya"})
        with httpx.Client(base_url=base, timeout=60) as official:
            login_over_http(official, nip(2), password(2))
            signs = _at_once(
                base, official.cookies, f"/sign/{SLUGS[0]}", {"read": "yes", "passphrase": "bukan-frasanya"}
            )
    assert logins == [422] * tried + [429] * (GUESSES - tried), "wrong password: 422; told to wait: 429"
    assert signs == [403] * tried + [429] * (GUESSES - tried), "wrong passphrase: 403; told to wait: 429"
    with tables(runtime.ledger) as s:
        counted = {(row.scope, row.nip): row.failures for row in s.exec(select(Throttle))}
        per_address = {(row.nip, row.address): row.failures for row in s.exec(select(LoginThrottle))}
    assert counted == {(accounts.LOGIN_ANY, nip(1)): tried, ("sign", nip(2)): tried}
    assert per_address == {(nip(1), "127.0.0.1"): tried}
    assert runtime.ledger.size() == size, "nothing was signed"


def test_a_right_secret_settled_while_throttled_is_not_acted_on(site: Site) -> None:
    """What the parallel test cannot pin down (which guess settles first): a right
    passphrase or password whose attempt passed the check together with wrong ones that
    settled before it is refused — nothing signed, nobody logged in, the count kept."""
    now, official = site.clock(), nip(1)
    for _ in range(accounts.FREE_FAILURES + 1):  # wrong guesses that passed the check at the same moment
        accounts.settle_attempt(site.ledger, "sign", official, now, right=False)
        accounts.settle_attempt(site.ledger, "login", official, now, right=False, address="127.0.0.2")
    size = site.ledger.size()
    settle = partial(accounts.settle_attempt, site.ledger, "sign", official, now, True)
    with pytest.raises(Throttled, match="err.sign_slow"):
        actions.sign(site.world.ctx, "smart-city", official, passphrase(1), now, authorize=settle)
    assert site.ledger.size() == size, "nothing was signed"
    with pytest.raises(Throttled, match="err.login_slow"):
        accounts.settle_attempt(site.ledger, "login", official, now, right=True, address="127.0.0.2")
    assert accounts.throttle_state(site.ledger, "sign", official, now) is not None, "the count was kept"
