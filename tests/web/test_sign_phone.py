"""Signing in a real browser (Debian's Chromium through Playwright, against `ikrar serve`)
at 360×740 and 1366×768, in both languages (issue 13, points 1 and 2): after a refused
attempt the message is inside the viewport and has the focus, the box stays ticked, the
passphrase can be shown; an ended session leads to the login and back to the page.

Screenshots of the page after an error go to $IKRAR_TEST_ARTIFACTS (default
`test-artifacts/`, git-ignored). Without Chromium these skip, unless
IKRAR_REQUIRE_BROWSER is set (CI), when they fail instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories import nip

from .axe import screenshot
from .live import free_port, server_env, serving, set_up

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"]
SCREENS = {"phone": {"width": 360, "height": 740}, "laptop": {"width": 1366, "height": 768}}
TEXT = "\n\n".join(
    f"{n}. Kami berkomitmen melayani warga Kota Kediri dengan cepat, terbuka dan tanpa pungutan liar; "
    "setiap permohonan dijawab dalam tiga hari kerja dan setiap keluhan ditindaklanjuti."
    for n in range(1, 31)
)  # long, as a real commitment is: the signing box is screens below the top on a phone
# One official per (screen, language), each signs once; n: their factory number.
PEOPLE = {
    ("phone", "id"): 1,
    ("phone", "en"): 2,
    ("laptop", "id"): 3,
    ("laptop", "en"): 4,
    ("session", "id"): 5,
    ("decline", "en"): 6,
}
NAMES = {
    1: "Dr. Hendra Wijaya, M.T.",
    2: "Sri Wahyuni, S.Pd.",
    3: "Bambang Sutrisno",
    4: "Siti Aminah",
    5: "Agus Salim",
    6: "Ir. Joko Santoso",
}
SAYS = {
    "id": {
        "must_read": "Centang dulu",
        "wrong": "Frasa sandi",
        "as": "Anda menandatangani sebagai {name}, Kepala Dinas",
        "signed": "Tanda tangan tercatat",
    },
    "en": {
        "must_read": "First tick the statement",
        "wrong": "Wrong passphrase",
        "as": "You are signing as {name}, Kepala Dinas",
        "signed": "Signature recorded",
    },
}


def _password(n: int) -> str:
    return f"kata-sandi-masuk-{n}"


def _passphrase(n: int) -> str:
    return f"frasa tanda tangan {n}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("IKRAR_REQUIRE_BROWSER"):
            pytest.fail(f"browser tests are required here (IKRAR_REQUIRE_BROWSER) but {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("IKRAR_REQUIRE_BROWSER"):
            pytest.fail("browser tests are required here (IKRAR_REQUIRE_BROWSER) but playwright is missing")
        pytest.skip("playwright is not installed")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`ikrar serve` over a ledger where officials 1-5 have a login and a key and are asked
    to sign the long commitment `smart-city`."""
    home = tmp_path_factory.mktemp("sign-phone")
    port = free_port()
    env = server_env(f"sqlite:///{home / 'ikrar.db'}", home, port)
    people = {nip(n): (name, "official", _password(n), _passphrase(n)) for n, name in NAMES.items()}
    set_up(env, people, "smart-city", TEXT + "\n", [nip(n) for n in NAMES])
    with serving(env, port) as url:
        yield url


def _open(browser: Any, base: str, screen: str, lang: str) -> tuple[Any, Any, list[str]]:
    phone = screen == "phone"
    context = browser.new_context(viewport=SCREENS[screen], device_scale_factor=2 if phone else 1, is_mobile=phone)
    context.add_cookies([{"name": "ikrar_lang", "value": lang, "url": base}])
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if "/static/" in r.url and r.status >= 400 else None,
    )
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "status of 4" not in m.text else None)
    return context, page, problems


def _log_in(page: Any, base: str, n: int) -> None:
    page.goto(f"{base}/login?next=/sign/smart-city")
    page.fill("#nip", nip(n))
    page.fill("#password", _password(n))
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/sign/smart-city")


def _in_view(page: Any, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    height = page.viewport_size["height"]
    assert box is not None, f"{selector} is not shown"
    assert box["y"] >= 0 and box["y"] + box["height"] <= height, f"{selector} at {box}, viewport {height}px high"


def _focused(page: Any) -> str:
    return str(page.evaluate("document.activeElement ? document.activeElement.id : ''"))


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("screen", ["phone", "laptop"])
def test_a_refused_attempt_lands_on_its_message_with_the_box_still_ticked(
    browser: Any, base: str, screen: str, lang: str
) -> None:
    n, says = PEOPLE[(screen, lang)], SAYS[lang]
    context, page, problems = _open(browser, base, screen, lang)
    _log_in(page, base, n)
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREENS[screen]["width"], "no sideways scroll"
    assert says["as"].format(name=NAMES[n]) in page.inner_text("#signing-as")
    assert page.evaluate("window.scrollY") == 0
    page.click("a[href='#sign-box']")  # the jump link at the top
    _in_view(page, "#sign-h")

    page.fill("#passphrase", _passphrase(n))  # the box not ticked
    page.click("main button[type=submit]")
    page.wait_for_selector("#form-error")
    assert says["must_read"] in page.inner_text("#form-error")
    _in_view(page, "#form-error")
    assert _focused(page) == "form-error"
    assert page.get_attribute("#read", "aria-invalid") == "true"
    assert page.input_value("#passphrase") == "", "the passphrase is never sent back"

    page.check("#read")
    page.fill("#passphrase", "bukan frasa yang benar")
    page.click("[data-reveal=passphrase]")  # the switch: shows what was typed
    assert page.get_attribute("#passphrase", "type") == "text"
    assert page.get_attribute("[data-reveal=passphrase]", "aria-pressed") == "true"
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    page.wait_for_selector("#form-error")
    assert says["wrong"] in page.inner_text("#form-error")
    _in_view(page, "#form-error")
    assert _focused(page) == "form-error"
    assert page.is_checked("#read"), "the box stays ticked"
    assert page.get_attribute("#passphrase", "aria-invalid") == "true"
    assert page.get_attribute("#passphrase", "type") == "password"
    screenshot(page, f"sign-error-{screen}-{lang}", full_page=False)  # the viewport, as the official sees it

    page.fill("#passphrase", _passphrase(n))
    page.click("main button[type=submit]")
    page.wait_for_selector(f"text={says['signed']}")
    context.close()
    assert not problems, problems


def test_a_session_that_ended_on_the_open_page_leads_to_the_login_and_back(browser: Any, base: str) -> None:
    n = PEOPLE[("session", "id")]
    context, page, problems = _open(browser, base, "phone", "id")
    _log_in(page, base, n)
    context.clear_cookies(name="ikrar_session")  # the session is gone, the page still open
    page.check("#read")
    page.fill("#passphrase", _passphrase(n))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(re.escape(f"{base}/login?next=/sign/smart-city&ended=sign") + "(#sign-box)?$"))
    assert "Sesi Anda berakhir; masuk lagi untuk menandatangani" in page.inner_text("main")
    _in_view(page, "main .alert-warning")
    page.fill("#nip", nip(n))
    page.fill("#password", _password(n))
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/sign/smart-city")
    page.check("#read")
    page.fill("#passphrase", _passphrase(n))
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Tanda tangan tercatat")
    screenshot(page, "signed-after-login-again-phone-id", full_page=False)
    context.close()
    assert not problems, problems


def test_declining_on_a_phone_lands_on_its_message_and_ends_declined(browser: Any, base: str) -> None:
    n = PEOPLE[("decline", "en")]
    context, page, problems = _open(browser, base, "phone", "en")
    _log_in(page, base, n)
    page.click("#decline-box summary")
    page.fill("#reason", "On leave abroad until the 20th")
    page.fill("#decline-passphrase", "not the right one")
    page.click("#decline-box button[type=submit]")
    page.wait_for_selector("#decline-box #form-error")
    assert "Wrong passphrase" in page.inner_text("#form-error")
    _in_view(page, "#form-error")
    assert _focused(page) == "form-error"
    assert page.input_value("#reason") == "On leave abroad until the 20th", "the reason is kept"
    assert page.get_attribute("#decline-passphrase", "aria-invalid") == "true"
    screenshot(page, "decline-error-phone-en", full_page=False)
    page.fill("#decline-passphrase", _passphrase(n))
    page.click("#decline-box button[type=submit]")
    page.wait_for_selector("text=Decline recorded")
    assert "On leave abroad until the 20th" in page.inner_text("main")
    context.close()
    assert not problems, problems
