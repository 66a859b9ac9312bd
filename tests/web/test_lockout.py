"""Failed logins lock the NIP for one client address only, say how many attempts are left
and how long to wait in words; a ceiling per NIP slows (never locks) guesses from many
addresses; an admin lifts a lock, and the lift is recorded and shown (issue 10, point 7)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlmodel import select

from ledger.models import LockLift, LoginThrottle
from signing import actions
from tests.factories import nip, passphrase, tables
from web import accounts
from web.i18n import Translator

from .conftest import ADMIN, Site, csrf_of, password, post

WRONG = "bukan-kata-sandinya"
ERROR_BOX = re.compile(r'<div class="alert alert-error"[^>]*>(.*?)</div>', re.S)


def _from(site: Site, address: str, lang: str | None = None) -> TestClient:
    """A browser at the client address `address`."""
    c = TestClient(site.app, follow_redirects=False, client=(address, 40000))
    if lang:
        c.cookies.set("ikrar_lang", lang)
    site.clients.append(c)
    return c


def _login(c: TestClient, n: int, pw: str):
    return post(c, "/login", {"nip": nip(n), "password": pw}, form_page="/login")


def _fail_until_locked(site: Site, c: TestClient, n: int = 1) -> list[str]:
    """Wrong passwords from `c` until its address is locked; waits out each slowdown. The answers' texts."""
    said = []
    for _ in range(accounts.LOCK_AFTER):
        site.clock.advance(seconds=30)
        r = _login(c, n, WRONG)
        said.append(r.text)
    assert r.status_code == 429
    return said


def test_six_failures_from_one_address_do_not_lock_the_official_out_of_another(site: Site) -> None:
    stranger, official = _from(site, "127.0.0.2"), _from(site, "127.0.0.3")
    said = _fail_until_locked(site, stranger)
    assert "Terkunci" in said[-1] and "127.0.0.2" in said[-1]
    r = _login(stranger, 1, password(1))
    assert r.status_code == 429 and "Terkunci; coba lagi dalam 15 menit" in r.text, "the right password waits too"
    r = _login(official, 1, password(1))
    assert r.status_code == 303 and r.headers["location"] == "/me", "another address logs in"
    with tables(site.ledger) as s:
        rows = {(row.nip, row.address): row.failures for row in s.exec(select(LoginThrottle))}
    assert rows == {(nip(1), "127.0.0.2"): accounts.LOCK_AFTER}, "the official's success cleared only their own count"


def test_each_failure_says_the_attempts_left_and_the_wait_in_words(site: Site) -> None:
    c = _from(site, "127.0.0.2")
    said = _fail_until_locked(site, c)
    assert all("NIP atau kata sandi salah." in text for text in said[:5])
    assert "Sisa" not in said[0] and "Sisa" not in said[1], "two slips say nothing more"
    assert "Sisa 3 kali percobaan sebelum dikunci." in said[2]
    assert "Sisa 2 kali percobaan sebelum dikunci; coba lagi dalam 10 detik." in said[3]
    assert "Sisa 1 kali percobaan sebelum dikunci; coba lagi dalam 20 detik." in said[4]
    assert "Terkunci; coba lagi dalam 15 menit, atau minta operator Diskominfo" in said[5]
    site.clock.advance(minutes=5)
    assert "coba lagi dalam 10 menit" in _login(c, 1, password(1)).text, "the wait shrinks as time passes"
    site.clock.advance(minutes=10)
    assert _login(c, 1, password(1)).status_code == 303, "the lock ran out"


def test_an_attempt_too_soon_is_told_to_wait_and_how_many_are_left(site: Site) -> None:
    c = _from(site, "127.0.0.2", "en")
    for _ in range(accounts.FREE_FAILURES + 1):
        r = _login(c, 1, WRONG)
    assert (
        r.status_code == 422
        and "Attempts left before logging in from here is locked: 2; try again in 10 seconds" in r.text
    )
    site.clock.advance(seconds=4)
    r = _login(c, 1, password(1))  # right, but too soon: refused before the password is checked
    assert (
        r.status_code == 429
        and "Try again in 6 seconds. Attempts left before logging in from here is locked: 2." in r.text
    )
    site.clock.advance(seconds=6)
    assert _login(c, 1, password(1)).status_code == 303


def test_a_lock_speaks_english_in_relative_words(site: Site) -> None:
    said = _fail_until_locked(site, _from(site, "127.0.0.2", "en"))
    assert "Too many failed logins from address 127.0.0.2. Locked; try again in 15 minutes" in said[-1]


def _said(r) -> str:
    found = ERROR_BOX.search(r.text)
    assert found, r.text[:500]
    return found.group(1)


def test_unknown_nips_get_the_same_answers(site: Site) -> None:
    unknown = "198001012005011002"
    known, made_up = _from(site, "127.0.0.2"), _from(site, "127.0.0.3")
    for _ in range(accounts.LOCK_AFTER):
        site.clock.advance(seconds=30)
        a = _login(known, 1, WRONG)
        b = post(made_up, "/login", {"nip": unknown, "password": WRONG}, form_page="/login")
        assert a.status_code == b.status_code
        assert _said(a).replace("127.0.0.2", "127.0.0.3") == _said(b)
    assert "Terkunci" in _said(b)


@pytest.mark.parametrize(
    ("seconds", "id_words", "en_words"),
    [
        (0.2, "1 detik", "1 second"),
        (9.2, "10 detik", "10 seconds"),
        (59, "59 detik", "59 seconds"),
        (60, "1 menit", "1 minute"),
        (61, "2 menit", "2 minutes"),
        (3599, "1 jam", "1 hour"),
        (3600, "1 jam", "1 hour"),
        (3601, "2 jam", "2 hours"),
        (86400, "24 jam", "24 hours"),
    ],
)
def test_a_wait_is_said_in_words_rounded_up(seconds: float, id_words: str, en_words: str) -> None:
    assert Translator("id").wait(timedelta(seconds=seconds)) == id_words
    assert Translator("en").wait(timedelta(seconds=seconds)) == en_words


def test_an_ipv6_client_is_counted_by_its_network() -> None:
    assert accounts.address_of("2001:db8:1:2:3:4:5:6") == accounts.address_of("2001:db8:1:2::9") == "2001:db8:1:2::/64"
    assert accounts.address_of("::ffff:10.1.2.3") == "10.1.2.3"
    assert accounts.address_of("fe80::1%eth0") == "fe80::/64"
    assert accounts.address_of("10.1.2.3") == "10.1.2.3"
    assert accounts.address_of(None) == accounts.UNKNOWN_ADDRESS
    assert len(accounts.address_of("x" * 300)) == 64


# -- the ceiling per NIP: guesses from many addresses are slowed, the official is never locked


def _guesses_from_many_addresses(site: Site, n: int, count: int, pace: timedelta = timedelta(0)) -> None:
    """`count` wrong passwords for official `n`, each from another address, `pace` apart."""
    for i in range(count):
        site.clock.now += pace
        accounts.settle_attempt(site.ledger, "login", nip(n), site.clock(), False, address=f"10.0.{i // 250}.{i % 250}")


def test_many_addresses_guessing_one_nip_are_slowed_but_never_lock_it(site: Site) -> None:
    _guesses_from_many_addresses(site, 1, accounts.NIP_CEILING)
    c = _from(site, "127.0.0.9")
    r = _login(c, 1, password(1))
    assert r.status_code == 429 and "Banyak percobaan masuk yang gagal untuk NIP ini" in r.text
    assert "coba lagi dalam 5 detik" in r.text
    assert _login(_from(site, "127.0.0.2"), 2, password(2)).status_code == 303, "other NIPs are not slowed"
    site.clock.advance(seconds=5)
    r = _login(c, 1, password(1))
    assert r.status_code == 303, "after the short wait the official logs in"
    _guesses_from_many_addresses(site, 1, 5 * accounts.NIP_CEILING, pace=accounts.NIP_SLOW)
    with pytest.raises(accounts.Throttled, match="err.login_crowded"):
        _guesses_from_many_addresses(site, 1, 1)  # the guesses could come no faster
    site.clock.advance(seconds=5)
    assert _login(_from(site, "127.0.0.10"), 1, password(1)).status_code == 303, "slowed, never locked"


def test_the_ceiling_rests_after_an_hour_without_failures(site: Site) -> None:
    _guesses_from_many_addresses(site, 1, accounts.NIP_CEILING - 1)
    site.clock.advance(hours=1, seconds=1)
    _guesses_from_many_addresses(site, 1, 1)
    assert site.ledger.register.throttle(accounts.LOGIN_ANY, nip(1)).failures == 1
    assert _login(_from(site, "127.0.0.9"), 1, password(1)).status_code == 303


def test_a_browser_that_logged_in_before_skips_the_ceiling(site: Site) -> None:
    mine = _from(site, "127.0.0.9")
    assert _login(mine, 1, password(1)).status_code == 303
    assert "ikrar_device" in mine.cookies
    post(mine, "/logout", {}, form_page="/me")
    _guesses_from_many_addresses(site, 1, accounts.NIP_CEILING)
    assert _login(mine, 1, password(1)).status_code == 303, "the device cookie of an earlier login of this NIP"
    other = _from(site, "127.0.0.9")
    other.cookies.set("ikrar_device", mine.cookies["ikrar_device"])
    assert _login(other, 2, password(2)).status_code == 303, "(another NIP has no ceiling here)"
    stranger = _from(site, "127.0.0.9")
    stranger.cookies.set("ikrar_device", "1767225600.forged")
    assert _login(stranger, 1, password(1)).status_code == 429, "a forged cookie is worth nothing"


def test_failures_and_locks_are_counted_in_the_metrics(site: Site) -> None:
    def value(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    failures, locks = value("ikrar_login_failures_total"), value("ikrar_locks_total", scope="login")
    _fail_until_locked(site, _from(site, "127.0.0.2"))
    assert value("ikrar_login_failures_total") == failures + accounts.LOCK_AFTER
    assert value("ikrar_locks_total", scope="login") == locks + 1


# -- an admin lifts a lock -------------------------------------------------------------


def _lock_signing(site: Site, n: int) -> None:
    for _ in range(accounts.LOCK_AFTER):
        try:
            accounts.settle_attempt(site.ledger, "sign", nip(n), site.clock(), False)
        except accounts.Throttled:
            pass
        site.clock.advance(minutes=1)


def test_an_admin_lifts_a_login_lock_and_it_is_recorded_and_shown(site: Site) -> None:
    stranger = _from(site, "127.0.0.2")
    _fail_until_locked(site, stranger)
    _lock_signing(site, 2)
    admin = site.login(ADMIN)
    page = admin.get("/admin/locks")
    assert page.status_code == 200
    assert "Masuk dari alamat 127.0.0.2" in page.text and "Pejabat 1" in page.text
    assert "Penandatanganan" in page.text and "Pejabat 2" in page.text
    assert "dalam 9 menit" in page.text and "dalam 14 menit" in page.text and "WIB" in page.text
    assert page.text.count("Angkat kunci</button>") == 2

    lifted_at = site.clock()
    r = post(admin, "/admin/locks/lift", {"scope": "login", "nip": nip(1), "address": "127.0.0.2"}, "/admin/locks")
    assert r.status_code == 303 and r.headers["location"] == "/admin/locks?ok=lifted"
    page = admin.get(r.headers["location"])
    assert "Penguncian sudah diangkat dan dicatat." in page.text
    assert "Masuk dari alamat 127.0.0.2" in page.text and page.text.count("Angkat kunci</button>") == 1
    by = actions.get_official(site.ledger, nip(ADMIN)).name
    assert f"Kunci diangkat oleh {by} pada" in page.text and "WIB" in page.text
    with tables(site.ledger) as s:
        (lift,) = s.exec(select(LockLift)).all()
    assert (lift.scope, lift.nip, lift.address, lift.lifted_by) == ("login", nip(1), "127.0.0.2", nip(ADMIN))
    assert lift.lifted_at.replace(tzinfo=lifted_at.tzinfo) == lifted_at
    assert _login(stranger, 1, password(1)).status_code == 303, "the address may log in again"

    r = post(admin, "/admin/locks/lift", {"scope": "sign", "nip": nip(2)}, "/admin/locks")
    assert r.headers["location"] == "/admin/locks?ok=lifted"
    official = site.login(2)
    assert post(official, "/sign/smart-city", {"read": "yes", "passphrase": passphrase(2)}).status_code == 303


def test_lifting_a_lock_that_ran_out_records_nothing(site: Site) -> None:
    _fail_until_locked(site, _from(site, "127.0.0.2"))
    site.clock.advance(minutes=16)
    admin = site.login(ADMIN)
    r = post(admin, "/admin/locks/lift", {"scope": "login", "nip": nip(1), "address": "127.0.0.2"}, "/admin/locks")
    assert r.headers["location"] == "/admin/locks?ok=gone"
    assert "sudah berakhir" in admin.get(r.headers["location"]).text
    with tables(site.ledger) as s:
        assert not s.exec(select(LockLift)).all()


@pytest.mark.parametrize(
    "form",
    [
        {"scope": "login", "nip": nip(1)},  # a login lock needs its address
        {"scope": "everything", "nip": nip(1)},
        {"scope": "sign", "nip": "1"},
    ],
)
def test_a_lift_that_names_no_lock_is_refused(site: Site, form: dict[str, str]) -> None:
    admin = site.login(ADMIN)
    r = post(admin, "/admin/locks/lift", form, "/admin/locks")
    assert r.status_code == 422 and "Penguncian ini tidak dikenal." in r.text


def test_only_an_admin_sees_or_lifts_locks(site: Site) -> None:
    _fail_until_locked(site, _from(site, "127.0.0.2"))
    official = site.login(2)
    assert official.get("/admin/locks").status_code == 403
    form = {"scope": "login", "nip": nip(1), "address": "127.0.0.2", "csrf_token": csrf_of(official, "/me")}
    r = official.post("/admin/locks/lift", data=form)
    assert r.status_code == 403
    assert site.client().get("/admin/locks").headers["location"] == "/login?next=/admin/locks"
    assert site.ledger.register.locks(site.clock()), "the lock holds"


def test_the_lock_pages_speak_english(site: Site) -> None:
    _fail_until_locked(site, _from(site, "127.0.0.2"))
    admin = site.login(ADMIN, "en")
    page = admin.get("/admin/locks")
    assert "Login and signing locks" in page.text and "Logging in from address 127.0.0.2" in page.text
    assert "Lift lock</button>" in page.text and "in 15 minutes" in page.text
    assert "Enter your password again" in admin.get("/admin/confirm").text
    assert 'href="/admin/locks"' in admin.get("/admin").text, "the dashboard leads there"
