"""The live screen in Debian's Chromium (Playwright) against `ikrar serve` with two workers:
a projector at 1920×1080 and a phone at 360×740, both languages. An official signs through
the web form in another browser and the name is on the open live screen within two seconds;
a screen without EventSource polls; the QR code opens the commitment's page; all signed is
the closing state. The tests follow one ceremony, in order: each signs one more official.
Screenshots go to $IKRAR_TEST_ARTIFACTS (default `test-artifacts/`)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.factories import nip
from web.routes_live import StreamHub

from .axe import assert_accessible, screenshot
from .conftest import Site
from .live import free_port, login_over_http, server_env, serving, set_up, sign_over_http
from .test_browser import browser  # noqa: F401 - the module's Chromium, a fixture
from .test_live import ThreadServer

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PROJECTOR = {"width": 1920, "height": 1080}
PHONE = {"width": 360, "height": 740}
OFFICIALS = {
    1: ("Dr. Hendra Wijaya, M.T.", "Kepala Dinas"),
    2: ("Sri Wahyuni, S.Pd.", "Kepala Dinas"),
    3: ("Ir. Bambang Sutrisno", "Kepala Dinas"),
}


def password(n: int) -> str:
    return f"kata-sandi-{n}-masuk"


def passphrase(n: int) -> str:
    return f"frasa tanda tangan {n} pejabat"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Three officials (logins and keys) asked to sign `smart-city`, served by two workers."""
    home = tmp_path_factory.mktemp("live-browser")
    port = free_port()
    env = server_env(f"sqlite:///{home / 'ikrar.db'}", home, port)
    people = {nip(n): (name, "official", password(n), passphrase(n)) for n, (name, _title) in OFFICIALS.items()}
    set_up(env, people, "smart-city", "Kami berkomitmen melayani warga.\n", [nip(n) for n in OFFICIALS])
    with serving(env, port, workers=2) as url:
        yield url


class Screen:
    """A browser page with what went wrong on it: requests to other hosts, script errors,
    console errors (a CSP violation is one), broken assets."""

    def __init__(self, browser: Any, base: str, viewport: dict[str, int], lang: str | None = None, **options: Any):
        self.context = browser.new_context(viewport=viewport, **options)
        if lang:
            self.context.add_cookies([{"name": "ikrar_lang", "value": lang, "url": base}])
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.problems: list[str] = []
        self.page.on("request", lambda r: None if r.url.startswith(base) else self.problems.append(f"foreign {r.url}"))
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))
        self.page.on("console", lambda m: self.problems.append(m.text) if m.type == "error" else None)
        self.page.on("response", lambda r: self.problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    def shot(self, name: str) -> None:
        screenshot(self.page, name, full_page=False, animations="disabled")

    def status(self) -> str | None:
        return self.page.get_attribute("#live-status", "data-state")

    def close(self) -> list[str]:
        self.context.close()
        return self.problems


def _fits(page: Any, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll}px wide at {width}px"


def _sign_in_the_browser(browser: Any, base: str, n: int) -> None:
    """Official `n` logs in and signs through the web form on a phone."""
    phone = Screen(browser, base, PHONE, is_mobile=True, has_touch=True)
    page = phone.page
    page.goto(f"{base}/login?next=/sign/smart-city")
    page.fill("#nip", nip(n))
    page.fill("#password", password(n))
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/sign/smart-city")
    page.check("#read")
    page.fill("#passphrase", passphrase(n))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/sign/smart-city\?done=1(#.*)?$"))  # the page that says it is signed
    phone.close()


def _sign_over_http(base: str, n: int) -> int:
    with httpx.Client(base_url=base, timeout=30) as c:
        login_over_http(c, nip(n), password(n))
        return sign_over_http(c, "smart-city", passphrase(n))


def _decode_qr(png: bytes) -> str:
    import io

    import zxingcpp
    from PIL import Image

    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert found, "no QR code found in the screenshot"
    return str(found[0].text)


def test_a_name_appears_on_the_projector_within_two_seconds_of_signing(browser: Any, base: str) -> None:
    screen = Screen(browser, base, PROJECTOR)
    live = screen.page
    live.goto(f"{base}/live/smart-city")
    assert live.inner_text("#live-count") == "0 dari 3 telah menandatangani"
    assert live.inner_text("h1") == "Komitmen Bersama Smart City"
    live.wait_for_selector("#live-status[data-state=live]")
    assert live.inner_text("#live-status") == "Langsung"
    assert _decode_qr(live.locator(".live-qr-code").screenshot()) == f"{base}/commitments/smart-city"
    _fits(live, PROJECTOR["width"])
    assert live.evaluate("document.documentElement.scrollHeight") <= PROJECTOR["height"]  # one screen, no scrolling
    screen.shot("live-projector-id-empty")

    _sign_in_the_browser(browser, base, 1)
    signed_at = time.monotonic()
    name, title = OFFICIALS[1]
    live.wait_for_selector(f".live-newest .live-name:text-is('{name}')", timeout=2_000)
    assert time.monotonic() - signed_at < 2.0
    newest = live.locator(".live-newest")
    assert newest.locator(".live-capacity").inner_text() == title
    assert newest.locator("time").inner_text().endswith(" WIB")
    assert live.inner_text("#live-count") == "1 dari 3 telah menandatangani"
    assert live.inner_text("#live-waiting") == "menunggu 2 lagi"
    assert live.is_hidden("#live-done") and live.is_hidden("#live-empty")
    size = live.evaluate("parseFloat(getComputedStyle(document.querySelector('.live-newest .live-name')).fontSize)")
    assert size >= 48, f"the newest name is {size}px on a projector"  # readable from the back of a hall
    screen.shot("live-projector-id-signed")
    assert_accessible(live, context="live screen, 1920×1080, id")
    phone = Screen(browser, base, PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    phone.page.goto(f"{base}/live/smart-city")
    assert phone.page.inner_text(".live-newest .live-name") == name
    _fits(phone.page, PHONE["width"])
    screenshot(phone.page, "live-phone-id", animations="disabled")
    assert_accessible(phone.page, context="live screen, 360×740, id")
    assert screen.close() == [] and phone.close() == []


def test_the_phone_screen_in_english_and_a_screen_that_polls(browser: Any, base: str) -> None:
    phone = Screen(browser, base, PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = phone.page
    page.goto(f"{base}/live/smart-city?lang=en")
    assert page.inner_text("#live-count") == "1 of 3 have signed"
    page.wait_for_selector("#live-status[data-state=live]")
    _fits(page, PHONE["width"])

    old = Screen(browser, base, PROJECTOR, lang="en")  # a browser without EventSource: it polls /state
    old.context.add_init_script("delete window.EventSource;")
    old.page.goto(f"{base}/live/smart-city")
    old.page.wait_for_selector("#live-status[data-state=polling]")
    assert old.page.inner_text("#live-status") == "Updated every 3 seconds"

    index = _sign_over_http(base, 2)
    name = OFFICIALS[2][0]
    page.wait_for_selector(f".live-newest .live-name:text-is('{name}')", timeout=2_000)
    assert page.get_attribute(".live-newest", "data-index") == str(index)
    assert page.inner_text("#live-count") == "2 of 3 have signed"
    _fits(page, PHONE["width"])
    phone.shot("live-phone-en")
    assert_accessible(page, context="live screen, 360×740, en")
    old.page.wait_for_selector(f".live-newest .live-name:text-is('{name}')", timeout=5_000)
    assert old.page.inner_text("#live-count") == "2 of 3 have signed"
    assert old.page.locator(".live-item").count() == 2
    assert phone.close() == [] and old.close() == []


def test_the_last_signature_is_the_closing_state_in_both_languages(browser: Any, base: str) -> None:
    id_screen = Screen(browser, base, PROJECTOR)
    en_phone = Screen(browser, base, PHONE, lang="en", is_mobile=True, has_touch=True)
    for screen in (id_screen, en_phone):
        screen.page.goto(f"{base}/live/smart-city")
        screen.page.wait_for_selector("#live-status[data-state=live]")
        assert screen.page.is_hidden("#live-done")
    _sign_over_http(base, 3)
    id_screen.page.wait_for_selector("#live-done:has-text('Semua telah menandatangani')", timeout=2_000)
    en_phone.page.wait_for_selector("#live-done:has-text('Everyone has signed')", timeout=2_000)
    assert id_screen.page.inner_text("#live-count") == "3 dari 3 telah menandatangani"
    assert id_screen.page.is_hidden("#live-waiting")
    assert id_screen.page.evaluate("document.body.classList.contains('live-complete')")
    names = id_screen.page.locator(".live-item .live-name").all_inner_texts()
    assert names == [OFFICIALS[3][0], OFFICIALS[2][0], OFFICIALS[1][0]]  # newest first
    id_screen.shot("live-projector-id-complete")
    _fits(en_phone.page, PHONE["width"])
    screenshot(en_phone.page, "live-phone-en-complete", animations="disabled")
    reloaded = Screen(browser, base, PROJECTOR, lang="en")
    reloaded.page.goto(f"{base}/live/smart-city")  # rendered by the server in its closing state
    assert reloaded.page.inner_text("#live-done") == "Everyone has signed"
    reloaded.shot("live-projector-en-complete")
    assert id_screen.close() == [] and en_phone.close() == [] and reloaded.close() == []


def test_a_screen_refused_a_stream_polls_instead(browser: Any, site: Site) -> None:
    """A worker with no room for one more stream answers 503: the page then polls /state."""
    site.app.state.live_hub = StreamHub(site.ledger, limit=0)
    with ThreadServer(site) as server:
        screen = Screen(browser, server.base, PROJECTOR)
        screen.page.goto(f"{server.base}/live/smart-city")
        screen.page.wait_for_selector("#live-status[data-state=polling]")
        assert screen.page.inner_text("#live-status") == "Diperbarui tiap 3 detik"
        index = site.world.sign(2).entry.index
        screen.page.wait_for_selector(
            f".live-newest[data-index='{index}'] .live-name:text-is('Pejabat 2')", timeout=5_000
        )
        assert screen.page.inner_text("#live-count") == "1 dari 3 telah menandatangani"
        problems = screen.close()
        assert problems and all("503" in p for p in problems), problems  # only the refused stream
