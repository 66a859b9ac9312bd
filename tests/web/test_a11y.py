"""Accessibility in Chromium, at 360×740 and 1366×768, in both languages.

One `ikrar serve` and one browser serve the whole module: a ledger where `smart-city` has a
deadline, one official has signed it (so there is an entry and a verify page), one without a
NIP has declined it, a third is asked to sign and is logged in (the sign page, /me), a fourth
has an enrolment link, and an admin is logged in (the admin pages, the ceremony view). Each page, and each form sent back with an error,
must show no serious or critical WCAG 2.1 A/AA violation with its <details> opened
(`tests.web.axe`), carry the page's language in `<html lang>`, fit a 360 px phone without
sideways scrolling, and land on its error message; a screenshot of each is kept as a test
artefact (`a11y-<page>-<width>-<lang>.png`). Tabbing through the main pages, every stop
shows the focus and keeps its contrast; the first Tab reaches the skip link; the PDFs name
their language and title.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from signing import actions, vouching
from tests.factories import nip

from .axe import CAPTURE_TRIES, assert_accessible, report, screenshot, violations
from .live import free_port, login_over_http, server_env, serving, set_up
from .test_browser import browser  # noqa: F401  (the module's Chromium, shared with the browser tests)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("a11y")]

VIEWPORTS = {"360": {"width": 360, "height": 740}, "1366": {"width": 1366, "height": 768}}
LANGS = ("id", "en")
SLUG = "smart-city"
ADMIN = ("198802192011011917", "kata-sandi-operator", "frasa tanda tangan operator")
SIGNED = (nip(1), "kata-sandi-hendra", "frasa tanda tangan hendra")  # has signed SLUG
SIGNER = (nip(2), "kata-sandi-wahyuni", "frasa tanda tangan wahyuni")  # asked to sign SLUG, logged in
INVITED = nip(3)  # has an enrolment link
DECLINED = ("pn-wa2kt3", "frasa tanda tangan wali kota")  # an official without a NIP, who declined


def _send_empty(form: str) -> Callable[[Any, dict[str, Any]], None]:
    """Send the `form` (a CSS selector) empty, the browser's own checks off: the page comes
    back with the error message (`#form-error`)."""

    def send(page: Any, site: dict[str, Any]) -> None:
        page.evaluate("document.querySelectorAll('form').forEach(f => { f.noValidate = true; })")
        with page.expect_navigation(wait_until="load"):  # and its scripts have run
            page.locator(f"{form} button[type=submit]").first.click()
        page.wait_for_selector("#form-error")

    return send


def _upload(source: str | bytes) -> Callable[[Any, dict[str, Any]], None]:
    """Upload a file on the verify page: the PDF at the path `source`, or these bytes."""

    def upload(page: Any, site: dict[str, Any]) -> None:
        data = source if isinstance(source, bytes) else page.request.get(site["base"] + source.format(**site)).body()
        page.set_input_files("#file", files=[{"name": "sertifikat.pdf", "mimeType": "application/pdf", "buffer": data}])
        with page.expect_navigation(wait_until="load"):
            page.locator("main form[action='/verify/upload'] button[type=submit]").click()

    return upload


@dataclass(frozen=True)
class Target:
    """A page to check: its path (formatted with the site's `index`, `token`, `slug`, `signer`), who looks
    at it (anyone, the official asked to sign, the admin), its status, and what to do on it first."""

    name: str
    path: str
    who: str = "anyone"
    status: int = 200
    then: Callable[[Any, dict[str, Any]], None] | None = None


PAGES = [
    Target("home", "/"),
    Target("commitment", "/commitments/{slug}"),
    Target("ledger", "/ledger"),
    Target("entry", "/ledger/{index}"),
    Target("verify", "/v/{index}"),
    Target("verify-upload", "/verify/upload"),
    Target("verify-upload-result", "/verify/upload", then=_upload("/certificates/{index}.pdf")),
    Target("verify-upload-error", "/verify/upload", status=200, then=_upload(b"bukan PDF")),
    Target("docs", "/docs"),
    Target("not-found", "/commitments/tidak-ada", status=404),
    Target("login", "/login"),
    Target("login-error", "/login", then=_send_empty("main form[action='/login']")),
    Target("enrol", "/enrol/{token}"),
    Target("sign", "/sign/{slug}", who="official"),
    Target("sign-error", "/sign/{slug}", who="official", then=_send_empty("main form[action^='/sign/']")),
    Target("me", "/me", who="official"),
    Target("admin", "/admin", who="admin"),
    Target("admin-official-new", "/admin/officials/new", who="admin"),
    Target("admin-invite", "/admin/invite", who="admin"),
    Target("admin-publish", "/admin/commitments/new", who="admin"),
    Target("admin-locks", "/admin/locks", who="admin"),
    Target("admin-confirm", "/admin/confirm", who="admin"),
    Target("admin-official-update", "/admin/officials/{signer}/update", who="admin"),
    Target("admin-revoke", "/admin/officials/{signer}/revoke", who="admin"),
    Target("live", "/live/{slug}"),
    Target("admin-ceremony", "/admin/commitments/{slug}", who="admin"),
    Target("admin-remind", "/admin/commitments/{slug}/remind", who="admin"),
    Target("admin-roles", "/admin/roles", who="admin"),
    Target("apps-register", "/aplikasi"),
    Target("apps-register-error", "/aplikasi?status=x", status=400),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The ledger described above, served by `ikrar serve`; with the session cookies of the
    official asked to sign and of the admin."""
    home = tmp_path_factory.mktemp("a11y")
    port = free_port()
    env = server_env(f"sqlite:///{home / 'ikrar.db'}", home, port)
    env["IKRAR_REAUTH_MINUTES"] = "120"  # the admin's login stays fresh for the module's admin pages
    people = {
        ADMIN[0]: ("Operator Diskominfo", "admin", ADMIN[1], ADMIN[2]),
        SIGNED[0]: ("Dr. Hendra Wijaya, M.T.", "official", SIGNED[1], SIGNED[2]),
        SIGNER[0]: ("Sri Wahyuni, S.Pd.", "official", SIGNER[1], SIGNER[2]),
        INVITED: ("Teguh Santoso", "official", "", ""),
        DECLINED[0]: ("Abdullah Abu Bakar", "official", "", DECLINED[1]),
    }
    text = "Kami berkomitmen melayani warga dengan cepat.\n\nSetiap aplikasi diverifikasi Diskominfo.\n"
    now = datetime.now(UTC)
    runtime = set_up(
        env, people, SLUG, text, [DECLINED[0], SIGNED[0], SIGNER[0], INVITED], deadline=now + timedelta(days=7)
    )
    ctx = runtime.context()
    index = actions.sign(ctx, SLUG, SIGNED[0], SIGNED[2], now).entry.index
    actions.decline(ctx, SLUG, DECLINED[0], DECLINED[1], "Berhalangan: dinas luar kota.", now)
    token = vouching.invite(ctx, actions.get_official(runtime.ledger, INVITED), ADMIN[0], ADMIN[2], now, 24).token
    with serving(env, port) as base:
        cookies = {}
        for who, (number, password, _passphrase) in {"official": SIGNER, "admin": ADMIN}.items():
            with httpx.Client(base_url=base, timeout=30) as c:
                login_over_http(c, number, password)
                cookies[who] = [{"name": k, "value": v, "url": base} for k, v in c.cookies.items()]
        yield {"base": base, "index": index, "token": token, "slug": SLUG, "signer": SIGNER[0], "cookies": cookies}


@pytest.fixture(scope="module")
def tab(browser, site: dict[str, Any]) -> Iterator[Callable[[str, str, str], Any]]:
    """`tab(who, size, lang)`: one page per person, window size and language, opened once."""
    opened: dict[tuple[str, str, str], Any] = {}

    def open_tab(who: str, size: str, lang: str) -> Any:
        if (who, size, lang) not in opened:
            context = browser.new_context(viewport=VIEWPORTS[size], is_mobile=size == "360", has_touch=size == "360")
            context.add_cookies([{"name": "ikrar_lang", "value": lang, "url": site["base"]}])
            context.add_cookies(site["cookies"].get(who, []))
            page = context.new_page()
            page.set_default_timeout(20_000)
            opened[who, size, lang] = page
        return opened[who, size, lang]

    yield open_tab
    for page in opened.values():
        page.context.close()


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("size", VIEWPORTS)
@pytest.mark.parametrize("target", PAGES, ids=[p.name for p in PAGES])
def test_no_serious_violation(target: Target, size: str, lang: str, site: dict[str, Any], tab) -> None:
    page = tab(target.who, size, lang)
    url = site["base"] + target.path.format(**site)
    response = page.goto(url)
    assert response is not None and response.status == target.status, f"{page.url}: {response and response.status}"
    assert page.url == url, f"{url} led to {page.url}"  # not to the login form
    assert page.get_attribute("html", "lang") == lang
    if target.then:
        target.then(page, site)
    name = f"{target.name}-{size}-{lang}"
    screenshot(page, f"a11y-{name}")
    if page.locator("#form-error").count():  # a form sent back: the page lands on its message
        assert page.evaluate("document.activeElement.id") == "form-error", f"{name}: the error message has no focus"
        box = page.locator("#form-error").bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= VIEWPORTS[size]["height"], f"{name}: {box}"
    if size == "360":  # WCAG 1.4.10 reflow: no sideways scrolling on a phone
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= VIEWPORTS[size]["width"], f"{name} is {width}px wide"
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")  # check what they hide too
    assert_accessible(page, context=name)


# Tab through these pages: every stop shows that it has the focus and keeps its contrast.
FOCUS_PAGES = [t for t in PAGES if t.name in ("home", "sign", "login-error", "admin", "admin-ceremony", "live")]
FOCUS_SHOWN = """() => {
  const e = document.activeElement, s = getComputedStyle(e);
  const ring = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2 && s.outlineColor !== 'rgba(0, 0, 0, 0)';
  return {tag: e.outerHTML.slice(0, 120), body: e === document.body, shown: ring || s.boxShadow !== 'none'};
}"""


@pytest.mark.parametrize("size", VIEWPORTS)
@pytest.mark.parametrize("target", FOCUS_PAGES, ids=[p.name for p in FOCUS_PAGES])
def test_each_focus_stop_shows_and_keeps_its_contrast(target: Target, size: str, site: dict[str, Any], tab) -> None:
    page = tab(target.who, size, "id")
    page.goto(site["base"] + target.path.format(**site))
    if target.then:
        target.then(page, site)
    stops: list[str] = []
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUS_SHOWN)
        if focused["body"] or focused["tag"] in stops:
            break
        stops.append(focused["tag"])
        assert focused["shown"], f"{target.name} at {size}: no visible focus on {focused['tag']}"
        found = violations(page, selector=":focus", rules=["color-contrast"])
        if found:
            pytest.fail(f"{target.name} at {size}, focused {focused['tag']}:\n{report(found)}")
    assert len(stops) >= 3, f"{target.name}: only {stops} take the focus"


@pytest.mark.parametrize("size", VIEWPORTS)
def test_the_first_tab_shows_the_skip_link_and_it_leads_to_the_content(size: str, site: dict[str, Any], tab) -> None:
    page = tab("anyone", size, "id")
    page.goto(site["base"] + "/ledger")
    page.keyboard.press("Tab")
    link = page.locator(".skip-link")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    box = link.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0, f"the focused skip link is off screen: {box}"
    assert link.inner_text() == "Langsung ke isi"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    page.keyboard.press("Tab")  # the next stop is inside the content, not back in the header
    assert page.evaluate("!!document.activeElement.closest('main')"), page.evaluate("document.activeElement.outerHTML")


def test_a_page_with_violations_fails_with_each_rule_and_element(browser, tmp_path, monkeypatch) -> None:
    """The failing twin: a page with an unlabelled field and grey-on-grey text fails, naming both."""
    monkeypatch.setenv("IKRAR_TEST_ARTIFACTS", str(tmp_path))
    context = browser.new_context(viewport=VIEWPORTS["360"])
    page = context.new_page()
    page.set_content(
        '<!doctype html><html lang="id"><head><title>Uji</title></head><body><main>'
        '<p id="pale" style="color:#aaa;background:#bbb">Teks pucat</p>'
        '<input id="nameless" type="text"></main></body></html>'
    )
    found = {v["id"] for v in violations(page)}
    assert {"color-contrast", "label"} <= found
    with pytest.raises(AssertionError) as failed:
        assert_accessible(page, context="uji")
    message = str(failed.value)
    assert "color-contrast (serious)" in message and "#pale" in message
    assert "label (critical)" in message and "#nameless" in message
    assert "(uji)" in message and (tmp_path / "axe-uji.png").exists()
    assert_accessible(page, context="uji", exclude=["#pale", "#nameless"])  # left out: nothing else is wrong
    assert screenshot(page, "a page/with odd:name").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "a-page-with-odd-name.png").exists()
    context.close()


class _Stuttering:
    """A page whose screenshots fail with `errors` first (Chromium's messages), then succeed."""

    def __init__(self, *errors: str) -> None:
        self.errors, self.waited = list(errors), 0

    def screenshot(self, path: str, full_page: bool) -> None:
        if self.errors:
            raise RuntimeError(self.errors.pop(0))
        Path(path).write_bytes(b"\x89PNG")

    def wait_for_timeout(self, ms: float) -> None:
        self.waited += 1


def test_a_screenshot_chromium_could_not_capture_is_asked_for_again(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("IKRAR_TEST_ARTIFACTS", str(tmp_path))
    busy = "Page.screenshot: Protocol error (Page.captureScreenshot): Unable to capture screenshot"
    page = _Stuttering(busy, busy)
    assert screenshot(page, "busy").read_bytes() == b"\x89PNG" and page.waited == 2
    with pytest.raises(RuntimeError, match="Unable to capture"):  # not forever: the last try's error is the test's
        screenshot(_Stuttering(*[busy] * CAPTURE_TRIES), "never")
    closed = _Stuttering("Target page, context or browser has been closed")
    with pytest.raises(RuntimeError, match="closed"):  # any other error at once
        screenshot(closed, "closed")
    assert closed.waited == 0


PDFS = [
    pytest.param("/commitments/{slug}/naskah.pdf", id="naskah"),
    pytest.param("/certificates/{index}.pdf", id="certificate"),
    pytest.param("/commitments/{slug}/certificate.pdf", id="summary"),
]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", PDFS)
def test_each_pdf_names_its_language_and_title(path: str, lang: str, site: dict[str, Any]) -> None:
    """A screen reader reads a PDF in the language its catalogue names (/Lang) and announces
    its title (WCAG techniques PDF16, PDF18)."""
    url = site["base"] + path.format(**site)
    r = httpx.get(url, cookies={"ikrar_lang": lang}, timeout=60)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf", f"{url}: {r.status_code}"
    pdf = PdfReader(io.BytesIO(r.content))
    assert pdf.trailer["/Root"].get("/Lang") == lang, f"{url}: /Lang {pdf.trailer['/Root'].get('/Lang')}"
    assert pdf.metadata is not None and (pdf.metadata.title or "").strip(), f"{url}: no /Title"
