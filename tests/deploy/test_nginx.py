"""Ikrar behind Debian's nginx with TLS, as docs/DEPLOY.md sets it up, checked from outside.

nginx runs `deploy/nginx/ikrar.conf` (with a throwaway certificate, on free ports) in front
of `ikrar serve`, whose IKRAR_BASE_URL is the https address and which trusts X-Forwarded-*
from 127.0.0.1 only. Clients connect from other loopback addresses (127.0.0.2, .3, ...), so
that what Ikrar believes a client's address to be can be told apart: through nginx, the
client's own; straight to uvicorn, the connecting address, whatever X-Forwarded-For says.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from ledger.models import LoginThrottle
from tests.certs import read_qr_codes
from tests.factories import nip
from tests.reliability.test_headers import assert_secure_headers
from tests.web.live import (
    Server,
    csrf_token,
    free_port,
    ikrar,
    login_over_http,
    server_env,
    set_up,
    sign_over_http,
)
from web.accounts import LOCK_AFTER
from web.i18n import catalogue
from web.routes_verify import FORM_OVERHEAD, MAX_UPLOAD
from web.runtime import Runtime

from . import harness
from .harness import SITE, Nginx, Tls, client_from

pytestmark = pytest.mark.timeout(180)

HSTS = "max-age=63072000"
SLUG = "smart-city"
TEXT = "Kami berkomitmen melayani warga Kota Kediri dengan cepat, jujur dan terbuka.\n"
PASSWORD = {n: f"kata-sandi-pejabat-{n}" for n in (1, 2, 3, 4)}
PASSPHRASE = "frasa tanda tangan pejabat satu"


@dataclass
class Site:
    env: dict[str, str]
    runtime: Runtime
    server: Server
    nginx: Nginx

    @property
    def direct(self) -> str:
        """uvicorn's own address, which only nginx should use."""
        return self.server.base


@pytest.fixture(scope="session")
def site(tls: Tls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A ledger on SQLite with four officials who can log in (the first has a signing key),
    served by `ikrar serve` behind nginx: once per test process, whichever tests it runs."""
    home = tmp_path_factory.mktemp("behind-nginx")
    port = free_port()
    nginx = Nginx(home / "nginx", [port], tls)
    env = server_env(f"sqlite:///{home / 'ikrar.db'}", home, port)
    env |= {"IKRAR_BASE_URL": nginx.base, "IKRAR_TRUSTED_PROXIES": "127.0.0.1"}
    people = {nip(n): (f"Pejabat {n}", "official", PASSWORD[n], PASSPHRASE if n == 1 else "") for n in PASSWORD}
    runtime = set_up(env, people, SLUG, TEXT, [nip(1), nip(2)])
    server = Server(env, port)
    server.start()
    try:
        nginx.start()
        yield Site(env, runtime, server, nginx)
    finally:
        nginx.stop()
        server.stop()


def test_http_is_sent_to_https(site: Site) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{site.nginx.http_port}") as c:
        r = c.get("/commitments/smart-city?lang=en")
    assert r.status_code == 301
    assert r.headers["location"] == "https://127.0.0.1/commitments/smart-city?lang=en"


def test_over_https_the_session_cookie_is_secure_and_hsts_is_sent(site: Site) -> None:
    with site.nginx.client() as c:
        login = c.get("/login")
        token = csrf_token(login)
        r = c.post("/login", data={"csrf_token": token, "nip": nip(1), "password": PASSWORD[1]})
        assert r.status_code == 303
        cookies = {h.split("=", 1)[0]: h for h in r.headers.get_list("set-cookie")}
        assert "ikrar_session" in cookies, cookies
        for name, header in cookies.items():
            attributes = {a.strip().lower() for a in header.split(";")[1:]}
            assert {"secure", "httponly", "samesite=lax"} <= attributes, f"{name}: {header}"
        me = c.get("/me")
        api = c.get("/api/v1/commitments")
        missing = c.get("/no-such-page")
        static = c.get("/static/css/ikrar.css")
        refused = c.post("/api/v1/verify", content=b"x" * (6 * 1024 * 1024))  # nginx's own 413
    assert me.status_code == 200 and "Pejabat 1" in me.text
    assert (api.status_code, missing.status_code, static.status_code, refused.status_code) == (200, 404, 200, 413)
    for answer in (login, r, me, api, missing, static, refused):
        assert answer.headers.get_list("strict-transport-security") == [HSTS], answer.request.url
    for answer in (login, r, me, api, missing, static):  # Ikrar's own headers come through nginx unchanged
        assert_secure_headers(answer)


def test_links_and_qr_codes_use_https(site: Site) -> None:
    with site.nginx.client() as c:
        login_over_http(c, nip(1), PASSWORD[1])
        index = sign_over_http(c, SLUG, PASSPHRASE)
        pdf = c.get(f"/certificates/{index}.pdf")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        (qr,) = read_qr_codes(pdf.content)
        assert qr.text.startswith(f"{site.nginx.base}/v/{index}?h="), qr.text
        assert c.get(qr.text).status_code == 200
        verdict = c.get(f"/api/v1/verify/{index}?{qr.text.partition('?')[2]}").json()  # the page's JSON twin
        assert (verdict["verdict"], verdict["printed_matches"]) == ("valid", True)

        link = ikrar(site.env, "official", "invite", "--nip", nip(1)).strip()  # a link to set a new password
        assert re.fullmatch(rf"{re.escape(site.nginx.base)}/enrol/[\w-]+", link), link
        enrol = c.get(link)
        assert enrol.status_code == 200 and 'name="csrf_token"' in enrol.text

        slash = c.get("/ledger/")  # a redirect Ikrar builds from the request's own address
    assert slash.status_code in (307, 308), slash.status_code
    assert slash.headers["location"].startswith("https://127.0.0.1"), slash.headers["location"]
    with client_from("127.0.0.5", site.direct) as stranger:  # the same claim, not from the proxy
        forged = stranger.get("/ledger/", headers={"x-forwarded-proto": "https"})
    assert forged.headers["location"].startswith("http://127.0.0.1"), forged.headers["location"]


# -- the client's address, as the login throttle sees it ------------------------------------


def _fail_login(c: httpx.Client, number: int, headers: dict[str, str] | None = None) -> httpx.Response:
    """A login of official `number` with a wrong password, through the login form. The form's
    cookie is sent by hand: it is `Secure`, and a client that talks plain HTTP to uvicorn
    would not send it otherwise."""
    page = c.get("/login")
    cookie = "; ".join(f"{name}={value}" for name, value in c.cookies.items())
    data = {"csrf_token": csrf_token(page), "nip": nip(number), "password": "bukan-kata-sandinya"}
    return c.post("/login", data=data, headers={"cookie": cookie, **(headers or {})})


def _throttle_rows(runtime: Runtime, number: int) -> dict[str, int]:
    """The login throttle's failures for the official, by client address."""
    table = LoginThrottle.__table__  # type: ignore[attr-defined]
    with runtime.ledger.engine.connect() as c:
        rows = c.execute(select(table.c.address, table.c.failures).where(table.c.nip == nip(number)))
        return {address: failures for address, failures in rows}


def _as_if_an_hour_passed(runtime: Runtime, number: int, address: str) -> None:
    """The wait after the last failure is over (the server keeps real time: the row goes back)."""
    table = LoginThrottle.__table__  # type: ignore[attr-defined]
    where = (table.c.nip == nip(number)) & (table.c.address == address)
    with runtime.ledger.engine.begin() as c:
        last = c.execute(select(table.c.last_failure_at).where(where)).scalar_one()
        c.execute(update(table).where(where).values(last_failure_at=last - timedelta(hours=1)))


def _said(key: str) -> str:
    """The words of a message before its first variable, in Bahasa Indonesia."""
    return catalogue("id")[key].split("{")[0]


def test_the_throttle_counts_the_real_clients_address_through_nginx(site: Site) -> None:
    """A stranger at 127.0.0.2 fails the login of official 2 until that address is locked
    out; official 2, at 127.0.0.3, is not, and logs in."""
    failures = 0
    with site.nginx.client("127.0.0.2") as stranger:
        while True:
            r = _fail_login(stranger, 2)
            if r.status_code == 429 and _said("err.login_locked") in r.text:
                break
            if r.status_code == 429:  # slowed down: wait (an hour, at once)
                _as_if_an_hour_passed(site.runtime, 2, "127.0.0.2")
                continue
            assert r.status_code == 422 and _said("err.login_failed") in r.text, r.status_code
            failures += 1
            assert failures < LOCK_AFTER, f"{failures} failures and no lock"
        assert failures + 1 == LOCK_AFTER, "the failure that locks is the last one allowed"
        assert f"{_said('err.login_locked')}127.0.0.2" in r.text, "the page names the address locked out"
        assert _throttle_rows(site.runtime, 2) == {"127.0.0.2": LOCK_AFTER}
        page = stranger.get("/login")
        right = {"csrf_token": csrf_token(page), "nip": nip(2), "password": PASSWORD[2]}
        assert stranger.post("/login", data=right).status_code == 429, "a locked address stays locked"
    with site.nginx.client("127.0.0.3") as official:
        login_over_http(official, nip(2), PASSWORD[2])
        assert official.get("/me").status_code == 200


def test_a_forged_x_forwarded_for_is_not_believed(site: Site) -> None:
    """Straight to uvicorn from 127.0.0.5, claiming to forward for 127.0.0.3: counted against
    127.0.0.5. Through nginx from 127.0.0.2, claiming the same: counted against 127.0.0.2."""
    forged = {"x-forwarded-for": "127.0.0.3"}
    with client_from("127.0.0.5", site.direct) as direct:
        assert _fail_login(direct, 3, forged).status_code == 422
    assert _throttle_rows(site.runtime, 3) == {"127.0.0.5": 1}
    with site.nginx.client("127.0.0.2") as through:
        assert _fail_login(through, 3, forged).status_code == 422
    assert _throttle_rows(site.runtime, 3) == {"127.0.0.5": 1, "127.0.0.2": 1}


# -- the upload limit -------------------------------------------------------------------------


def _nginx_limit() -> int:
    (size,) = re.findall(r"^\s*client_max_body_size (\d+)k;", SITE.read_text(), flags=re.M)
    return int(size) * 1024


def _upload(c: httpx.Client, size: int) -> httpx.Response:
    """POST a certificate upload whose body is `size` bytes."""
    boundary = "batas-uji"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.pdf"\r\n\r\n'.encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    body = head + b"%" * (size - len(head) - len(tail)) + tail
    return c.post("/api/v1/verify", content=body, headers={"content-type": f"multipart/form-data; boundary={boundary}"})


def test_nginx_takes_what_ikrar_takes_and_no_more(site: Site) -> None:
    limit = MAX_UPLOAD + FORM_OVERHEAD
    assert _nginx_limit() == limit, "client_max_body_size in deploy/nginx/ikrar.conf is not Ikrar's upload limit"
    with site.nginx.client() as c:
        at_limit = _upload(c, limit)
        over = _upload(c, limit + 1)
    # At the limit the request reaches Ikrar, which answers it (JSON, its own headers) ...
    assert at_limit.headers.get("content-security-policy"), at_limit.text[:200]
    assert at_limit.status_code in (413, 422) and at_limit.json()["detail"]
    # ... one byte more and nginx refuses it itself.
    assert over.status_code == 413 and "content-security-policy" not in over.headers
    assert over.headers.get_list("strict-transport-security") == [HSTS]


def test_without_nginx_these_skip_unless_it_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness, "NGINX", Path("/nonexistent/nginx"))
    monkeypatch.delenv("IKRAR_REQUIRE_NGINX", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install nginx"):
        harness.require_nginx()
    monkeypatch.setenv("IKRAR_REQUIRE_NGINX", "1")
    with pytest.raises(pytest.fail.Exception, match="required"):
        harness.require_nginx()
