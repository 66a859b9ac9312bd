"""Sensitive admin actions ask for the password again when it was given more than
IKRAR_REAUTH_MINUTES ago (issue 10, point 6): the confirm page checks it as the login does,
counted by the same throttle, and returns only to a path of this site."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi import APIRouter, Depends, Form
from fastapi.responses import PlainTextResponse, Response
from fastapi.testclient import TestClient
from sqlmodel import select

from ledger.models import LockLift, LoginThrottle
from signing import actions
from tests.factories import nip, tables
from web import accounts
from web.errors import WebError, message_of, status_of
from web.i18n import Translator
from web.pages import AdminPage, csrf_protect, templates
from web.reauth import recently_confirmed, require_password_in_form

from .conftest import ADMIN, Site, csrf_of, password, post
from .live import free_port, runtime_for, server_env, serving
from .test_browser import _fits_the_phone, _phone, _shot, browser  # noqa: F401 - `browser` is a fixture

MINUTES = 5  # the default of IKRAR_REAUTH_MINUTES
LOCK = {"scope": "login", "nip": nip(1), "address": "127.0.0.2"}
BROWSER_ADMIN = "198802192011011917"


def _lock(site: Site) -> None:
    for _ in range(accounts.LOCK_AFTER):
        try:
            accounts.settle_attempt(site.ledger, "login", nip(1), site.clock(), False, address="127.0.0.2")
        except accounts.Throttled:
            pass
        site.clock.advance(minutes=1)


def _lifts(site: Site) -> int:
    with tables(site.ledger) as s:
        return len(s.exec(select(LockLift)).all())


def _confirm(c: TestClient, pw: str, next: str = "/admin/locks"):
    return c.post("/admin/confirm", data={"password": pw, "next": next, "csrf_token": csrf_of(c, "/admin/confirm")})


def test_a_stale_password_is_asked_again_then_the_admin_returns_to_the_action(site: Site) -> None:
    admin = site.login(ADMIN)
    _lock(site)  # six minutes pass: the password given at login is stale now
    token = csrf_of(admin, "/admin/locks")
    r = admin.post("/admin/locks/lift", data={**LOCK, "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/admin/confirm?next=/admin/locks"
    assert _lifts(site) == 0 and site.ledger.register.locks(site.clock()), "nothing was lifted"

    page = admin.get(r.headers["location"])
    assert page.status_code == 200 and "Ketik kata sandi lagi" in page.text and "5 menit" in page.text
    assert 'name="next" value="/admin/locks"' in page.text

    r = _confirm(admin, "bukan-kata-sandinya")
    assert r.status_code == 422 and "NIP atau kata sandi salah" in r.text
    with tables(site.ledger) as s:
        counted = {(row.nip, row.address): row.failures for row in s.exec(select(LoginThrottle))}
    assert counted[(nip(ADMIN), "testclient")] == 1, "a wrong password here is a failed login"

    r = _confirm(admin, password(ADMIN))
    assert r.status_code == 303 and r.headers["location"] == "/admin/locks"
    with tables(site.ledger) as s:
        counted = {(row.nip, row.address) for row in s.exec(select(LoginThrottle))}
    assert (nip(ADMIN), "testclient") not in counted, "and a right one clears the count"
    r = post(admin, "/admin/locks/lift", LOCK, "/admin/locks")
    assert r.headers["location"] == "/admin/locks?ok=lifted" and _lifts(site) == 1


def test_within_the_minutes_nothing_is_asked(site: Site) -> None:
    _lock(site)
    admin = site.login(ADMIN)  # the login gives the password
    site.clock.advance(minutes=MINUTES)
    r = post(admin, "/admin/locks/lift", LOCK, "/admin/locks")
    assert r.headers["location"] == "/admin/locks?ok=lifted"
    site.clock.advance(seconds=1)
    _lock(site)
    r = post(admin, "/admin/locks/lift", LOCK, "/admin/locks")
    assert r.headers["location"].startswith("/admin/confirm"), "one second past the minutes"


def test_wrong_passwords_here_lock_this_address_as_logins_do(site: Site) -> None:
    admin = site.login(ADMIN)
    for _ in range(accounts.LOCK_AFTER):
        site.clock.advance(minutes=1)
        r = _confirm(admin, "bukan-kata-sandinya")
    assert r.status_code == 429 and "Terkunci; coba lagi dalam 15 menit" in r.text
    r = _confirm(admin, password(ADMIN))
    assert r.status_code == 429, "the right password waits out the lock here too"
    assert admin.get("/admin").status_code == 200, "the session itself goes on"
    r = post(site.client(), "/login", {"nip": nip(ADMIN), "password": password(ADMIN)}, "/login")
    assert r.status_code == 429, "and the login form from this address is locked"
    other = TestClient(site.app, follow_redirects=False, client=("127.0.0.5", 40000))
    site.clients.append(other)
    assert post(other, "/login", {"nip": nip(ADMIN), "password": password(ADMIN)}, "/login").status_code == 303


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/admin",
        "https://evil.example/",
        "http:/evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "",
    ],
)
def test_the_way_back_never_leaves_the_site(site: Site, target: str) -> None:
    admin = site.login(ADMIN)
    page = admin.get("/admin/confirm", params={"next": target})
    assert 'name="next" value="/admin"' in page.text or target.startswith("/\t")
    r = _confirm(admin, password(ADMIN), next=target)
    assert r.status_code == 303
    landing = urlsplit(urljoin("http://testserver/admin/confirm", r.headers["location"]))
    assert landing.scheme == "http" and landing.netloc == "testserver", r.headers["location"]


def test_only_a_logged_in_admin_confirms(site: Site) -> None:
    assert site.client().get("/admin/confirm").headers["location"] == "/login?next=/admin/confirm"
    official = site.login(1)
    assert official.get("/admin/confirm").status_code == 403
    r = official.post("/admin/confirm", data={"password": password(1), "csrf_token": csrf_of(official, "/me")})
    assert r.status_code == 403


def test_a_login_notes_when_the_password_was_given(site: Site) -> None:
    at = site.clock()
    admin = site.login(ADMIN)
    session = accounts.load_session(site.ledger, admin.cookies["ikrar_session"], at)
    assert session is not None and session.confirmed_at == at
    site.clock.advance(minutes=MINUTES + 1)
    assert _confirm(admin, password(ADMIN)).status_code == 303
    session = accounts.load_session(site.ledger, admin.cookies["ikrar_session"], site.clock())
    assert session is not None and session.confirmed_at == site.clock()


def _form_harness(site: Site) -> None:
    """A route like the publish form's, whose typed text a redirect would lose."""
    router = APIRouter(dependencies=[Depends(csrf_protect)])

    @router.post("/admin/test-form")
    def act(p: AdminPage, password: Annotated[str, Form()] = "", text: Annotated[str, Form()] = "") -> Response:
        try:
            require_password_in_form(p, password)
        except WebError as e:
            return PlainTextResponse(f"{message_of(e, p.t)} | {text}", status_code=status_of(e))
        return PlainTextResponse(f"done | {text}")

    site.app.include_router(router)


def test_a_form_can_carry_the_password_itself_and_keeps_its_text(site: Site) -> None:
    _form_harness(site)
    admin = site.login(ADMIN)

    def send(pw: str = ""):
        return admin.post(
            "/admin/test-form", data={"text": "teks panjang", "password": pw, "csrf_token": csrf_of(admin, "/admin")}
        )

    assert send().text == "done | teks panjang", "a fresh password needs no field"
    site.clock.advance(minutes=MINUTES, seconds=1)
    r = send()
    assert r.status_code == 422 and "ketik lagi kata sandi masuk Anda" in r.text and r.text.endswith("| teks panjang")
    r = send("bukan-kata-sandinya")
    assert r.status_code == 422 and "NIP atau kata sandi salah" in r.text and r.text.endswith("| teks panjang")
    assert site.ledger.register.throttle("login", nip(ADMIN), "testclient").failures == 1
    assert send(password(ADMIN)).text == "done | teks panjang"
    assert send().text == "done | teks panjang", "and the password counts as given again"


def test_the_field_shows_only_when_the_password_is_stale() -> None:
    macro = '{% from "admin/reauth.html" import password_again with context %}{{ password_again(stale, 5) }}'
    shown = templates.env.from_string(macro).render(t=Translator("id"), stale=True)
    assert 'name="password" type="password"' in shown and "lebih dari 5 menit" in shown
    assert templates.env.from_string(macro).render(t=Translator("en"), stale=False).strip() == ""


@pytest.mark.parametrize(
    ("after", "recent"), [(timedelta(0), True), (timedelta(minutes=5), True), (timedelta(minutes=5, seconds=1), False)]
)
def test_recently_confirmed_is_true_for_at_most_the_minutes(after: timedelta, recent: bool) -> None:
    given = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
    session = accounts.SessionInfo("h", nip(1), "t", given + timedelta(hours=8), given)
    assert recently_confirmed(session, given + after, MINUTES) is recent
    assert not recently_confirmed(accounts.SessionInfo("h", nip(1), "t", given), given, MINUTES), "never given"
    assert not recently_confirmed(None, given, MINUTES)


# -- in a browser ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live_admin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`ikrar serve` over a fresh ledger with one admin who has a login; its base URL."""
    home = tmp_path_factory.mktemp("reauth")
    port = free_port()
    env = server_env(f"sqlite:///{home / 'ikrar.db'}", home, port)
    runtime = runtime_for(env)
    now = datetime.now(UTC)
    runtime.create_ledger("Pemerintah Kota Kediri (uji)", "test.kedirikota.go.id/ikrar", now)
    actions.register_official(
        runtime.ledger, BROWSER_ADMIN, "Operator Diskominfo", "Pranata", "Diskominfo", "admin", now
    )
    accounts.set_password(runtime.ledger, BROWSER_ADMIN, "kata-sandi-operator", now)
    for minutes in range(accounts.LOCK_AFTER):  # someone at 10.1.2.3 guessed, and locked that address
        try:
            accounts.settle_attempt(
                runtime.ledger, "login", nip(1), now + timedelta(minutes=minutes), False, "10.1.2.3"
            )
        except accounts.Throttled:
            pass
    with serving(env, port) as base:
        yield base


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_the_confirm_page_on_a_phone(browser, live_admin: str) -> None:
    context, page, foreign, errors = _phone(browser, live_admin)
    page.goto(f"{live_admin}/login")
    page.fill("#nip", BROWSER_ADMIN)
    page.fill("#password", "kata-sandi-operator")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_admin}/admin")

    page.goto(f"{live_admin}/admin/confirm?next=/admin/locks")
    assert "Ketik kata sandi lagi" in page.inner_text("main") and "Operator Diskominfo" in page.inner_text("main")
    _fits_the_phone(page)
    page.fill("#password", "bukan-kata-sandinya")
    page.click("main button[type=submit]")
    assert "NIP atau kata sandi salah" in page.inner_text("#form-error")
    _shot(page, "confirm-360")
    page.fill("#password", "kata-sandi-operator")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_admin}/admin/locks")
    assert "Masuk dari alamat 10.1.2.3" in page.inner_text("main")
    _fits_the_phone(page)
    page.click("main button:has-text('Angkat kunci')")
    page.wait_for_selector("text=Penguncian sudah diangkat dan dicatat.")
    assert "Kunci diangkat oleh Operator Diskominfo" in page.inner_text("main")
    _fits_the_phone(page)
    _shot(page, "locks-360")
    context.close()
    assert not foreign, foreign
    assert not errors, errors
