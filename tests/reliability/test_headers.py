"""Every response carries the security headers — pages, API, files, redirects, every
error down to an unexpected 500 — and the pages work under the content security policy
in Chromium, with no violation reported on any of them."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.factories import nip
from tests.web.conftest import ADMIN, Site, csrf_of
from tests.web.live import (
    VOUCHER,
    VOUCHER_PASSPHRASE,
    free_port,
    ikrar,
    login_over_http,
    server_env,
    serving,
    set_up,
    sign_over_http,
)
from tests.web.test_browser import browser  # noqa: F401 - the Chromium fixture of the browser tests
from web import routes_api
from web.app import ROUTERS
from web.routes_live import StreamHub

pytestmark = pytest.mark.timeout(60)

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
}


@pytest.fixture()
def db_url(sqlite_url: str) -> str:
    """Headers do not depend on the database: SQLite only here."""
    return sqlite_url


def assert_secure_headers(r: httpx.Response) -> None:
    where = f"{r.request.method} {r.request.url.path} ({r.status_code})"
    policies = r.headers.get_list("content-security-policy")
    assert len(policies) == 1, f"{where}: {policies}"
    directives = dict(d.strip().split(" ", 1) for d in policies[0].split(";") if d.strip())
    assert directives == CSP, f"{where}: {policies[0]}"
    assert "'unsafe-inline'" not in policies[0] and "'unsafe-eval'" not in policies[0]
    assert r.headers.get_list("x-content-type-options") == ["nosniff"], where
    assert r.headers.get_list("x-frame-options") == ["DENY"], where
    assert r.headers.get_list("referrer-policy") == ["no-referrer"], where


def _fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values[m.group(1)], path)


def test_every_route_and_every_error_carries_the_headers(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    index = site.world.sign(1).entry.index
    values = {
        "index": str(index),
        "slug": "smart-city",
        "nip": nip(4),
        "lang": "en",
        "token": site.invite(4).rsplit("/", 1)[1],
        "path": "css/ikrar.css",
        "app": "2026-0001",
        "sha256": "0" * 64,
        "draft_id": "1",
    }
    anonymous, admin = site.client(), site.login(ADMIN)
    seen: list[httpx.Response] = []
    # The live screen's event stream never ends by itself, which the test client would wait
    # for: a hub that is closing (as at shutdown) answers its 503 at once, headers and all.
    site.app.state.live_hub = StreamHub(site.ledger)
    site.app.state.live_hub.close()
    routes = [route for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)]
    assert len(routes) > 30
    for route in routes:
        path = _fill(route.path, values)
        for c in (anonymous, admin):
            if "GET" in route.methods:
                seen.append(c.get(path))
            if "POST" in route.methods:
                seen.append(c.post(path, data={"csrf_token": "wrong"}))  # refused: 403
    token = csrf_of(admin, "/admin")
    seen += [
        anonymous.get("/static/css/ikrar.css"),
        anonymous.get("/static/js/ikrar.js"),
        anonymous.get("/static/nothing"),
        anonymous.get("/no/such/page"),
        anonymous.get("/api/v1/no/such/thing"),
        anonymous.get("/api/v1/entries/-1"),
        anonymous.get("/ledger/abc"),
        anonymous.delete("/checkpoint"),
        anonymous.post("/api/v1/verify"),
        anonymous.post("/api/v1/verify", files={"file": ("x.pdf", b"not a pdf", "application/pdf")}),
        anonymous.get("/sign/smart-city"),  # a redirect to the login form
        admin.post("/admin/officials/new", data={"csrf_token": token, "nip": "123"}),  # a form with an error
        anonymous.head("/"),
        anonymous.options("/api/v1/commitments"),
    ]
    monkeypatch.setattr(routes_api, "commitment_summaries", lambda ledger: 1 / 0)
    site.app.state.cache_epoch += 1  # not from the response cache: the route itself must run (and fail)
    with TestClient(site.app, raise_server_exceptions=False) as crashing:
        seen.append(crashing.get("/api/v1/commitments"))
    statuses = {r.status_code for r in seen}
    assert {200, 303, 403, 404, 405, 415, 422, 500} <= statuses, statuses
    for r in seen:
        assert_secure_headers(r)


# -- the pages work under the policy, in Chromium -------------------------------------------

ADMIN_NIP = "198802192011011917"


# Listens in the page for violations of the policy (the console reports them too).
REPORT_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " at " + e.sourceFile + ":" + e.lineNumber));
"""


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.xdist_group("browser")
@pytest.mark.timeout(180)
def test_every_page_works_under_the_policy_in_chromium(browser, tmp_path: Path) -> None:
    port = free_port()
    env = server_env(f"sqlite:///{tmp_path / 'ikrar.db'}", tmp_path, port)
    people = {
        ADMIN_NIP: ("Operator Diskominfo", "admin", "kata-sandi-operator", ""),
        nip(1): ("Pejabat Satu", "official", "kata-sandi-satu", "frasa sandi pejabat satu"),
        nip(2): ("Pejabat Dua", "official", "", ""),
    }
    set_up(env, people, "smart-city", "Kami berkomitmen.\n", [nip(1), nip(2)])
    with serving(env, port) as base:
        with httpx.Client(base_url=base, timeout=30) as c:
            login_over_http(c, nip(1), "kata-sandi-satu")
            index = sign_over_http(c, "smart-city", "frasa sandi pejabat satu")
            certificate = c.get(f"/certificates/{index}.pdf").content
        (tmp_path / "voucher").write_text(VOUCHER_PASSPHRASE)  # the admin who vouches (tests/web/live.py)
        vouched = ("--by", VOUCHER, "--passphrase-file", str(tmp_path / "voucher"))
        link = ikrar(env, "official", "invite", "--nip", nip(2), *vouched).strip().rsplit("\n", 1)[-1]
        (tmp_path / "sertifikat.pdf").write_bytes(certificate)
        context = browser.new_context()
        context.add_init_script(REPORT_VIOLATIONS)
        page = context.new_page()
        page.set_default_timeout(20_000)
        console: list[str] = []
        page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
        blocked: list[str] = []
        visited: list[str] = []

        def visit(path: str) -> None:
            response = page.goto(base + path)
            assert response is not None and response.headers.get("content-security-policy"), path
            visited.append(path)
            blocked.extend(f"{path}: {v}" for v in page.evaluate("window.__csp"))

        for path in (
            "/",
            "/commitments/smart-city",
            "/ledger",
            f"/ledger/{index}",
            f"/v/{index}",
            f"/v/{index}?h=00",
            "/verify/upload",
            "/docs",
            "/no/such/page",
            link.removeprefix(base),
            "/login",
        ):
            visit(path)
        page.fill("#nip", ADMIN_NIP)
        page.fill("#password", "kata-sandi-operator")
        page.click("main button[type=submit]")
        page.wait_for_url(f"{base}/admin")
        for path in (
            "/me",
            "/admin/officials/new",
            "/admin/commitments/new",
            f"/admin/officials/{nip(1)}/revoke",
            "/lang/en?next=/admin",
        ):
            visit(path)
        page.click(f"#o-{nip(1)} form[action$='/invite'] button")  # a POST that shows a new (password) link
        page.wait_for_selector("#link-1")
        blocked.extend(f"invite: {v}" for v in page.evaluate("window.__csp"))
        visit("/verify/upload")
        page.set_input_files("input[type=file]", str(tmp_path / "sertifikat.pdf"))
        page.click("main button[type=submit]")
        page.wait_for_load_state()
        blocked.extend(f"upload: {v}" for v in page.evaluate("window.__csp"))
        styled = page.evaluate("getComputedStyle(document.body).fontFamily")  # the stylesheet applies
        context.close()
    assert len(visited) == 17
    assert not blocked and not console, blocked + console
    assert styled.startswith("system-ui"), f"the site's stylesheet does not apply under the policy: {styled}"
