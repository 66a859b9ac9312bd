"""Sessions, CSRF, throttling of logins and signing passphrases, and one-time enrolment links."""

from __future__ import annotations

import logging
import re
import threading
import time
from datetime import timedelta

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlmodel import select

from ledger.models import Account, EnrolmentToken, LoginThrottle, Throttle, WebSession
from tests.certs import signed_certificate
from tests.factories import nip, passphrase, tables
from web import accounts
from web.app import ROUTERS
from web.errors import Busy

from .conftest import ADMIN, Site, csrf_of, password, post

# -- CSRF ------------------------------------------------------------------------------

POST_FORMS = {
    "/login": {"nip": nip(1), "password": password(1)},
    "/logout": {},
    "/enrol/{token}": {"password": "kata-sandi-baru-1", "password2": "kata-sandi-baru-1"},
    "/sign/{slug}": {"read": "yes", "passphrase": passphrase(1)},
    "/sign/{slug}/decline": {"reason": "berhalangan", "passphrase": passphrase(1)},
    "/admin/officials/new": {"nip": "198001012005011002", "name": "A", "title": "B", "unit": "C"},
    "/admin/officials/{nip}/invite": {},
    "/admin/invite": {"nip": nip(4), "passphrase": passphrase(ADMIN)},
    "/admin/officials/{nip}/approve": {"invitation": "0" * 32, "passphrase": passphrase(ADMIN)},
    "/admin/officials/{nip}/revoke": {"reason": "uji", "passphrase": passphrase(ADMIN)},
    "/admin/commitments/new": {"title": "T", "text": "X", "mode": "all", "step": "preview"},
    "/admin/confirm": {"password": password(ADMIN), "next": "/admin"},
    "/admin/locks/lift": {"scope": "login", "nip": nip(1), "address": "127.0.0.2"},
    "/admin/commitments/{slug}/remind": {"fingerprint": "0" * 64},
    "/admin/officials/{nip}/update": {"reason": "uji", "passphrase": passphrase(ADMIN)},
    # the verification of applications (routes_apps_work.py, routes_roles.py; test_apps_work.py)
    "/admin/roles": {"nip": nip(4), "role": "reviewer", "unit": "Diskominfo", "reason": "uji", "passphrase": "-"},
    "/kerja/aplikasi/simpan": {"name": "Aplikasi"},  # its token is read from the stream, before any file
    "/kerja/aplikasi/draf/{draft_id}/hapus": {},
    "/kerja/aplikasi/draf/{draft_id}/tandatangan": {"sha256": "0" * 64, "passphrase": "-"},
    "/kerja/aplikasi/{app}/telaah": {"revision": "1"},
    "/kerja/aplikasi/{app}/kembalikan": {"revision": "1", "reasons": "uji"},
    "/kerja/aplikasi/{app}/putusan": {"revision": "1", "decision": "recommended", "passphrase": "-"},
}
# The POST routes that take no CSRF token, by design, each with its reason: they change
# nothing, read no session and set no cookie, so a forged cross-site request gains nothing.
NO_CSRF = {
    "/verify/upload": "checks an uploaded certificate PDF and shows the verdict; the form starts no session",
    "/api/v1/verify": "the same for programs: a public JSON API taking a multipart upload, no cookie",
}


def _fill(path: str, site: Site) -> str:
    return (
        path.replace("{slug}", "smart-city")
        .replace("{nip}", nip(4))
        .replace("{token}", site.invite(1).rsplit("/", 1)[1])
        .replace("{draft_id}", "1")
        .replace("{app}", "2026-0001")
    )


def test_every_form_route_is_known_here() -> None:
    posts = {r.path for router in ROUTERS for r in router.routes if isinstance(r, APIRoute) and "POST" in r.methods}
    assert not set(POST_FORMS) & set(NO_CSRF)
    assert posts == set(POST_FORMS) | set(NO_CSRF), "a new POST route needs its CSRF test (or a reason in NO_CSRF)"


def test_the_posts_without_a_token_change_nothing_and_start_no_session(site: Site) -> None:
    _, pdf = signed_certificate(site.world)
    before = site.ledger.size()
    c = site.client()
    for path in NO_CSRF:
        r = c.post(path, files={"file": ("sertifikat.pdf", pdf, "application/pdf")})
        assert r.status_code == 200, (path, r.status_code)
        assert "set-cookie" not in r.headers, path
    assert not c.cookies
    assert site.ledger.size() == before


@pytest.mark.parametrize("token", ["missing", "wrong", "another session's"])
def test_every_post_without_this_sessions_token_is_refused(site: Site, token: str) -> None:
    admin = site.login(ADMIN)
    other = site.login(1)
    for path, data in POST_FORMS.items():
        before = site.ledger.size()
        form = dict(data)
        if token == "wrong":
            form["csrf_token"] = "x" * 43
        elif token == "another session's":
            form["csrf_token"] = csrf_of(other, "/me")
        r = admin.post(_fill(path, site), data=form)
        if path.startswith("/sign/"):  # the signing page sends back to itself (web/pages.py comes_back)
            assert r.status_code == 303 and r.headers["location"] == "/sign/smart-city?again=1", path
        else:
            assert r.status_code == 403, (path, r.status_code)
            assert "Formulir ini kedaluwarsa" in r.text, path
        assert site.ledger.size() == before, path
    assert admin.get("/me").status_code == 200  # still logged in: the refused logout did nothing


def test_the_csrf_refusal_speaks_the_pages_language(site: Site) -> None:
    r = site.login(ADMIN, "en").post("/admin/officials/new", data={"csrf_token": "nope"})
    assert r.status_code == 403 and "This form has expired" in r.text


# -- sessions --------------------------------------------------------------------------


def test_login_gives_a_new_httponly_samesite_session_id(site: Site) -> None:
    c = site.client()
    planted = "p" * 43  # a session id planted in the browser before login (session fixation)
    c.cookies.set("ikrar_session", planted)
    token = csrf_of(c, "/login")
    r = c.post("/login", data={"csrf_token": token, "nip": nip(1), "password": password(1)})
    assert r.status_code == 303 and r.headers["location"] == "/me"
    cookie = r.headers["set-cookie"]
    assert "ikrar_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here
    after = cookie.split("ikrar_session=", 1)[1].split(";", 1)[0]
    assert after and after != planted
    with tables(site.ledger) as s:
        ids = list(s.exec(select(WebSession.id_hash)))
    assert accounts._digest(planted) not in ids, "a planted id never becomes a session"
    assert after not in ids and accounts._digest(after) in ids, "only a hash of the id is stored"


def test_a_session_id_planted_before_login_is_worth_nothing_after_it(site: Site) -> None:
    attacker = site.login(2)
    planted = attacker.cookies.get("ikrar_session")
    victim = site.client()
    victim.cookies.set("ikrar_session", planted)
    token = csrf_of(attacker, "/me")  # the planted session's own token, as the attacker knows it
    r = victim.post("/login", data={"csrf_token": token, "nip": nip(1), "password": password(1)})
    assert r.status_code == 303
    assert "ikrar_session=" in r.headers["set-cookie"] and planted not in r.headers["set-cookie"]
    again = site.client()
    again.cookies.set("ikrar_session", planted)
    assert again.get("/me").status_code == 303, "the planted session ended at the login"


def _sessions(site: Site) -> int:
    with tables(site.ledger) as s:
        return len(list(s.exec(select(WebSession.id_hash))))


def test_anonymous_visitors_write_no_session_row(site: Site) -> None:
    before = _sessions(site)
    link = site.invite(4)
    kept = site.client()
    for n in range(100):
        c = kept if n % 2 else site.client()
        r = c.get("/login")
        assert r.status_code == 200 and "ikrar_session" not in r.headers.get("set-cookie", "")
        assert r.headers["cache-control"] == "no-store", "a page with a form token is not cached"
    assert site.client().get(link).status_code == 200
    assert _login(site, site.client(), "salah-salah-salah").status_code == 422
    assert _sessions(site) == before
    assert post(site.client(), "/login", {"nip": nip(1), "password": password(1)}).status_code == 303
    assert _sessions(site) == before + 1, "a login makes the one session"


def test_an_anonymous_forms_token_belongs_to_its_browser_and_expires(site: Site) -> None:
    mine, theirs = site.client(), site.client()
    token = csrf_of(mine, "/login")
    csrf_of(theirs, "/login")  # another browser, with a nonce of its own
    form = {"nip": nip(1), "password": password(1)}
    assert theirs.post("/login", data={**form, "csrf_token": token}).status_code == 403
    bare = site.client()
    assert bare.post("/login", data={**form, "csrf_token": token}).status_code == 403, "no nonce cookie"
    issued, _, mac = token.partition(".")
    forged = f"{int(issued) + 3600}.{mac}"
    assert mine.post("/login", data={**form, "csrf_token": forged}).status_code == 403, "the time is signed"
    site.clock.advance(hours=accounts.ANONYMOUS_HOURS, minutes=1)
    r = mine.post("/login", data={**form, "csrf_token": token})
    assert r.status_code == 403 and "Formulir ini kedaluwarsa" in r.text
    assert mine.post("/login", data={**form, "csrf_token": csrf_of(mine, "/login")}).status_code == 303


def test_the_form_secret_is_a_private_file(site: Site) -> None:
    csrf_of(site.client(), "/login")
    secret = site.app.state.runtime.settings.data_dir / "form-secret"
    assert secret.stat().st_mode & 0o777 == 0o600
    assert len(secret.read_text().strip()) >= 32


def test_the_session_cookie_is_secure_over_https(site: Site) -> None:
    c = site.client()
    c.base_url = c.base_url.copy_with(scheme="https")
    token = csrf_of(c, "/login")
    r = c.post("/login", data={"csrf_token": token, "nip": nip(1), "password": password(1)})
    assert r.status_code == 303 and "Secure" in r.headers["set-cookie"]


def test_a_login_lands_an_admin_on_the_admin_page_and_honours_a_local_next(site: Site) -> None:
    c = site.client()
    r = post(c, "/login", {"nip": nip(ADMIN), "password": password(ADMIN)})
    assert r.headers["location"] == "/admin"
    c = site.client()
    r = post(c, "/login", {"nip": nip(1), "password": password(1), "next": "/sign/smart-city"})
    assert r.headers["location"] == "/sign/smart-city"
    c = site.client()
    r = post(c, "/login", {"nip": nip(1), "password": password(1), "next": "https://evil.example/"})
    assert r.headers["location"] == "/me"


def test_logout_ends_the_session(site: Site) -> None:
    c = site.login(1)
    stolen = c.cookies.get("ikrar_session")
    r = post(c, "/logout", {}, form_page="/me")
    assert r.status_code == 303
    again = site.client()
    again.cookies.set("ikrar_session", stolen)
    assert again.get("/me").status_code == 303


def test_a_session_expires(site: Site) -> None:
    c = site.login(1)
    site.clock.advance(hours=8, seconds=1)
    r = c.get("/me")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_a_page_that_needs_a_login_sends_to_the_login_form_and_back(site: Site) -> None:
    r = site.client().get("/sign/smart-city")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/sign/smart-city"


# -- throttling ------------------------------------------------------------------------


def _login(site: Site, c, pw: str):
    return post(c, "/login", {"nip": nip(1), "password": pw}, form_page="/login")


def test_failed_logins_slow_down_then_lock_the_account_with_a_message(site: Site) -> None:
    c = site.client()
    for _ in range(accounts.FREE_FAILURES):
        r = _login(site, c, "salah-salah-salah")
        assert r.status_code == 422 and "NIP atau kata sandi salah" in r.text
    r = _login(site, c, "salah-salah-salah")  # the 4th failure: from now on, wait
    assert r.status_code == 422
    r = _login(site, c, password(1))  # right password, too soon: refused without checking
    assert r.status_code == 429 and "Coba lagi dalam 10 detik" in r.text
    for _ in range(accounts.LOCK_AFTER - accounts.FREE_FAILURES - 1):
        site.clock.advance(minutes=1)
        r = _login(site, c, "salah-salah-salah")
    assert r.status_code == 429 and "Terkunci; coba lagi dalam 15 menit" in r.text
    until = site.clock() + accounts.LOCK_STEP
    assert site.client().get("/").status_code == 200
    site.clock.advance(minutes=14)
    r = _login(site, c, password(1))
    assert r.status_code == 429 and "Terkunci; coba lagi dalam 1 menit" in r.text
    assert accounts.throttle_state(site.ledger, "login", nip(1), site.clock(), "testclient").until == until
    site.clock.advance(minutes=2)
    assert _login(site, c, password(1)).status_code == 303  # the lock ran out; success clears it
    assert accounts.throttle_state(site.ledger, "login", nip(1), site.clock(), "testclient") is None


def test_a_lock_speaks_english_on_english_pages(site: Site) -> None:
    c = site.client("en")
    for _ in range(accounts.LOCK_AFTER):
        site.clock.advance(minutes=1)
        r = _login(site, c, "wrong-wrong-wrong")
    assert r.status_code == 429 and "Locked; try again in 15 minutes" in r.text


def test_unknown_nips_are_throttled_alike_and_not_revealed(site: Site) -> None:
    c = site.client()
    unknown = "198001012005011002"
    first = post(c, "/login", {"nip": unknown, "password": "apa-saja-boleh"}, form_page="/login")
    known = _login(site, c, "apa-saja-boleh")
    assert first.status_code == known.status_code == 422
    assert "NIP atau kata sandi salah" in first.text and "NIP atau kata sandi salah" in known.text


def test_wrong_signing_passphrases_slow_down_then_lock_signing(site: Site) -> None:
    c = site.login(1)
    size = site.ledger.size()
    for _ in range(accounts.LOCK_AFTER):
        site.clock.advance(minutes=1)
        r = post(c, "/sign/smart-city", {"read": "yes", "passphrase": "bukan-frasa-saya"})
    assert r.status_code == 429 and "Penandatanganan untuk akun ini dikunci sampai" in r.text
    site.clock.advance(minutes=1)
    r = post(c, "/sign/smart-city", {"read": "yes", "passphrase": passphrase(1)})
    assert r.status_code == 429, "the right passphrase is refused while locked"
    assert "dikunci sampai" in c.get("/me").text  # the lock is shown where the official looks
    assert site.ledger.size() == size
    assert c.get("/me").status_code == 200, "a signing lock does not lock the login"
    site.clock.advance(minutes=15)
    assert post(c, "/sign/smart-city", {"read": "yes", "passphrase": passphrase(1)}).status_code == 303
    assert site.ledger.size() == size + 1


def test_signing_needs_the_read_tick_and_a_passphrase(site: Site) -> None:
    c = site.login(1)
    r = post(c, "/sign/smart-city", {"passphrase": passphrase(1)})
    assert r.status_code == 422 and "Centang dulu" in r.text
    r = post(c, "/sign/smart-city", {"read": "yes"})
    assert r.status_code == 422 and "Ketik frasa sandi" in r.text
    assert accounts.throttle_state(site.ledger, "sign", nip(1), site.clock()) is None, "form slips are not failures"


# -- enrolment links -------------------------------------------------------------------


def _enrol(c, link: str, pw: str = "kata-sandi-empat", pp: str = "frasa-sandi-empat"):
    return post(c, link, {"password": pw, "password2": pw, "passphrase": pp, "passphrase2": pp})


def test_an_enrolment_link_makes_the_key_once_and_then_no_longer_works(site: Site) -> None:
    actions_before = site.ledger.size()
    site.world.official(5, enrol=False)
    link = site.invite(5)
    c = site.client()
    r = _enrol(c, link)
    assert r.status_code == 200 and "Pendaftaran selesai" in r.text
    entry = site.ledger.entry(site.ledger.size() - 1)
    assert entry.kind == "key.enrolled" and entry.fields["nip"] == nip(5)
    assert site.ledger.size() == actions_before + 1
    again = c.get(link)
    assert again.status_code == 410 and "tidak berlaku" in again.text
    replay = c.post(link, data={"csrf_token": csrf_of(c, "/me"), "password": "x" * 12})  # enrolment logged them in
    assert replay.status_code == 410
    r = post(site.client(), "/login", {"nip": nip(5), "password": "kata-sandi-empat"})
    assert r.status_code == 303


def test_an_expired_or_unknown_link_is_refused(site: Site) -> None:
    site.world.official(5, enrol=False)
    link = site.invite(5, hours=1)
    site.clock.advance(hours=1, seconds=1)
    c = site.client("en")
    r = c.get(link)
    assert r.status_code == 410 and "it expired" in r.text
    assert c.get("/enrol/" + "A" * 43).status_code == 410
    assert c.get("/enrol/" + "A" * 400).status_code in (410, 422)


def test_a_new_link_replaces_the_earlier_one(site: Site) -> None:
    site.world.official(5, enrol=False)
    first, second = site.invite(5), site.invite(5)
    c = site.client()
    assert c.get(first).status_code == 410
    assert c.get(second).status_code == 200


def test_a_failed_enrolment_keeps_the_link_usable_and_explains_the_rules(site: Site) -> None:
    site.world.official(5, enrol=False)
    link = site.invite(5)
    c = site.client()
    page = c.get(link).text
    assert "Minimal 10 karakter" in page and "berbeda dari kata sandi" in page
    r = _enrol(c, link, pw="sama-sama-saja", pp="sama-sama-saja")
    assert r.status_code == 422 and "harus berbeda dari kata sandi masuk" in r.text
    r = _enrol(c, link, pw="pendek")
    assert r.status_code == 422 and "Kata sandi minimal 10 karakter" in r.text
    r = post(
        c,
        link,
        {
            "password": "kata-sandi-lima",
            "password2": "kata-sandi-lain",
            "passphrase": "frasa-sandi-lima",
            "passphrase2": "frasa-sandi-lima",
        },
    )
    assert r.status_code == 422 and "Kedua kata sandi tidak sama" in r.text
    assert _enrol(c, link).status_code == 200


def test_a_link_for_someone_with_a_key_resets_only_the_password(site: Site) -> None:
    c = site.login(1)
    link = site.invite(1)
    size = site.ledger.size()
    page = site.client().get(link).text
    assert 'name="passphrase"' not in page
    r = post(site.client(), link, {"password": "kata-sandi-baru", "password2": "kata-sandi-baru"})
    assert r.status_code == 200 and site.ledger.size() == size, "no new key"
    assert c.get("/me").status_code == 303, "the old sessions ended with the old password"
    assert post(site.client(), "/login", {"nip": nip(1), "password": "kata-sandi-baru"}).status_code == 303
    assert post(site.client(), "/login", {"nip": nip(1), "password": password(1)}).status_code == 422


def test_passwords_are_stored_as_argon2id_hashes(site: Site) -> None:
    with tables(site.ledger) as s:
        stored = s.get(Account, nip(1)).password_hash
    assert stored.startswith("$argon2id$") and password(1) not in stored


def test_enrolment_tokens_are_stored_only_as_hashes(site: Site) -> None:
    link = site.invite(2)
    token = link.rsplit("/", 1)[1]
    with tables(site.ledger) as s:
        rows = list(s.exec(select(EnrolmentToken)))
    assert all(token not in (r.token_hash, r.created_by) for r in rows)
    assert accounts._digest(token) in {r.token_hash for r in rows}
    assert all(accounts.timedelta(hours=71) < r.expires_at - r.created_at <= timedelta(hours=72) for r in rows)


def test_old_failure_counts_are_forgotten(site: Site) -> None:
    for made_up in ("198001012005011002", "198001012005011003"):
        accounts.settle_attempt(site.ledger, "login", made_up, site.clock(), right=False, address="10.0.0.1")
    site.clock.advance(hours=25)
    accounts.settle_attempt(site.ledger, "login", nip(1), site.clock(), right=False, address="10.0.0.1")
    with tables(site.ledger) as s:
        kept = list(s.exec(select(LoginThrottle.nip))) + list(s.exec(select(Throttle.nip)))
    assert kept == [nip(1), nip(1)], "the count of the address and the NIP's count over every address"


# -- bounded password hashing ------------------------------------------------------------


class SlowHasher:
    """A stand-in for argon2id that takes a while and counts how many run at once."""

    def __init__(self, real, seconds: float) -> None:
        self.real, self.seconds = real, seconds
        self.running = self.most = 0
        self.lock = threading.Lock()

    def _slow(self, work):
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(self.seconds)
            return work()
        finally:
            with self.lock:
                self.running -= 1

    def hash(self, password: str) -> str:
        return self._slow(lambda: self.real.hash(password))

    def verify(self, stored: str, password: str) -> bool:
        return self._slow(lambda: self.real.verify(stored, password))

    def check_needs_rehash(self, stored: str) -> bool:
        return self.real.check_needs_rehash(stored)


def test_at_most_four_password_hashes_run_at_once_and_the_rest_wait_or_are_told_to_retry(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = SlowHasher(accounts.HASHER, 0.3)
    monkeypatch.setattr(accounts, "HASHER", slow)
    monkeypatch.setattr(accounts, "HASHING", accounts.HashSlots(accounts.HASH_SLOTS, queue=4, wait=5))
    outcomes: list[str] = []

    def attempt(n: int) -> None:
        try:
            accounts.authenticate(site.ledger, f"1980010120050110{n:02d}", "apa-saja-boleh", site.clock())
        except accounts.FormInvalid:
            outcomes.append("wrong")
        except Busy:
            outcomes.append("busy")

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert slow.most == accounts.HASH_SLOTS == 4
    assert outcomes.count("wrong") >= 8, "four ran at once, four waited their turn"
    assert outcomes.count("busy") >= 1 and len(outcomes) == 16, "the rest were told to come back"


def test_a_waiting_hash_gives_up_after_its_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    slots = accounts.HashSlots(1, queue=1, wait=0.1)
    with slots.taken():
        started = time.monotonic()
        with pytest.raises(Busy, match="err.busy"), slots.taken():
            pass
        assert 0.1 <= time.monotonic() - started < 1
    with slots.taken():  # the place is free again
        pass


def test_a_login_while_hashing_is_full_is_a_503_with_retry_after_and_counts_nothing(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    slots = accounts.HashSlots(accounts.HASH_SLOTS, queue=4, wait=0.05)
    monkeypatch.setattr(accounts, "HASHING", slots)
    held = [slots.semaphore.acquire(timeout=1) for _ in range(accounts.HASH_SLOTS)]
    try:
        r = _login(site, site.client("en"), password(1))
    finally:
        for _ in held:
            slots.semaphore.release()
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert "The server is busy" in r.text
    assert accounts.throttle_state(site.ledger, "login", nip(1), site.clock(), "testclient") is None
    with tables(site.ledger) as s:
        assert not list(s.exec(select(Throttle.nip))), "a refused attempt is not a failure"
        assert not list(s.exec(select(LoginThrottle.nip)))
    assert _login(site, site.client(), password(1)).status_code == 303


# -- enrolment links: the configured address, never in a log ---------------------------


def test_an_invite_link_uses_the_configured_address_not_the_requests_host(site: Site) -> None:
    admin = site.login(ADMIN)
    token = csrf_of(admin, "/admin")
    r = admin.post(
        f"/admin/officials/{nip(4)}/invite",
        data={"csrf_token": token},
        headers={"Host": "evil.example", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"},
    )
    assert r.status_code == 200, r.text[:300]
    shown = re.search(r'<textarea id="link-1"[^>]*>([^<]+)</textarea>', r.text)
    assert shown and shown.group(1).startswith("http://testserver/enrol/"), "IKRAR_BASE_URL of the site"
    assert "evil.example" not in r.text and "https://" not in shown.group(1)


def test_no_log_record_of_any_level_holds_an_enrolment_token(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    site.world.official(5, enrol=False)
    link = site.invite(5)
    token = link.rsplit("/", 1)[1]
    caplog.set_level(logging.DEBUG)  # the root and every logger under it
    for name in ("sqlalchemy.engine", "uvicorn.access", "uvicorn.error", "httpx", "python_multipart"):
        caplog.set_level(logging.DEBUG, logger=name)
    c = site.client()
    assert c.get(link).status_code == 200
    form = {"password": "kata-sandi-lima", "password2": "kata-sandi-lima", "passphrase": "frasa-sandi-lima"}
    r = c.post(link, data={**form, "passphrase2": "frasa-sandi-lima", "csrf_token": "kedaluwarsa"})
    assert r.status_code == 403, "the enrol form's CSRF check fails"
    logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "1.2.3.4", "POST", link, "1.1", 403)
    logging.getLogger("web.test").debug("visited %s", httpx.URL(f"http://testserver{link}"))
    logging.getLogger("web.test").debug(f"visited {link}?x=1")
    try:
        raise ValueError(f"no such page {link}")
    except ValueError:
        logging.getLogger("web.test").exception("failed")
    assert c.get(link).status_code == 200, "the link still works"
    assert any("CSRF" in r.getMessage() for r in caplog.records), "the refusal is logged"
    assert any("/enrol/***" in r.getMessage() for r in caplog.records)
    assert token not in caplog.text
    for record in caplog.records:
        assert token not in record.getMessage() and token not in (record.exc_text or "")
