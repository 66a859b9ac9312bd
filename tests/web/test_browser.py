"""Browser tests: Debian's Chromium, driven by Playwright, against a real `ikrar serve`.

An official enrols from the link, logs in and signs on a 360×740 phone, and the public
commitment page then lists them; the admin works on a phone too. Screenshots go to
`test-artifacts/`. Without Chromium these skip, unless IKRAR_REQUIRE_BROWSER is set (CI),
when they fail instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import nip

from .axe import screenshot
from .live import free_port, ikrar, server_env, serving, set_up

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 360, "height": 740}
ADMIN_NIP = "198802192011011917"
ADMIN_PASSPHRASE = "frasa tanda tangan operator"  # the admin's own signing key: they invite with it
OFFICIALS = {1: "Dr. Hendra Wijaya, M.T.", 2: "Sri Wahyuni, S.Pd."}


def _unavailable(reason: str) -> None:
    if os.environ.get("IKRAR_REQUIRE_BROWSER"):
        pytest.fail(f"browser tests are required here (IKRAR_REQUIRE_BROWSER) but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A fresh ledger set up with the command line, served by `ikrar serve`."""
    home = tmp_path_factory.mktemp("browser")
    port = free_port()
    env = server_env(f"sqlite:///{home / 'ikrar.db'}", home, port)
    people = {ADMIN_NIP: ("Operator Diskominfo", "admin", "kata-sandi-operator", ADMIN_PASSPHRASE)}
    people |= {nip(n): (name, "official", "", "") for n, name in OFFICIALS.items()}
    text = "Kami berkomitmen melayani warga dengan cepat.\n\nSetiap aplikasi diverifikasi Diskominfo.\n"
    set_up(env, people, "smart-city", text, [nip(n) for n in OFFICIALS])
    secret = home / "admin-passphrase"
    secret.write_text(ADMIN_PASSPHRASE + "\n")
    with serving(env, port) as base:
        yield {"base": base, "admin_passphrase_file": str(secret), **env}


def _phone(browser, base: str, lang: str | None = None):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    if lang:
        context.add_cookies([{"name": "ikrar_lang", "value": lang, "url": base}])
    page = context.new_page()
    page.set_default_timeout(20_000)
    foreign: list[str] = []
    page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith(base) else None)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # A form refused with a 4xx is expected (the console notes its status); a broken asset is not.
    page.on(
        "response", lambda r: errors.append(f"{r.status} {r.url}") if "/static/" in r.url and r.status >= 400 else None
    )
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "status of 4" not in m.text else None)
    return context, page, foreign, errors


def _fits_the_phone(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide on a {PHONE['width']}px phone"


def _shot(page, name: str) -> None:
    screenshot(page, name)


def test_an_official_enrols_logs_in_and_signs_on_a_phone(browser, site: dict[str, str]) -> None:
    base = site["base"]
    by = ("--by", ADMIN_NIP, "--passphrase-file", site["admin_passphrase_file"])  # attested with the admin's key
    out = ikrar(site, "official", "invite", "--nip", nip(1), *by)
    link = re.search(rf"{re.escape(base)}/enrol/\S+", out).group(0)
    context, page, foreign, errors = _phone(browser, base)

    page.goto(link)
    assert OFFICIALS[1] in page.inner_text("main")
    _fits_the_phone(page)
    page.fill("#password", "kata-sandi-hendra")
    page.fill("#password2", "kata-sandi-hendra")
    page.fill("#passphrase", "frasa tanda tangan hendra")
    page.fill("#passphrase2", "frasa tanda tangan hendra")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Pendaftaran selesai")
    assert "tercatat di buku besar sebagai entri #" in page.inner_text("main")

    assert "Simpan frasa sandi Anda baik-baik" in page.inner_text("main")
    page.click("text=Ke halaman saya")  # enrolment logs the official in
    page.wait_for_url(f"{base}/me")
    _fits_the_phone(page)

    page.click("text=Baca dan tanda tangani")
    page.wait_for_url(f"{base}/sign/smart-city")
    assert "Kami berkomitmen melayani warga dengan cepat." in page.inner_text(".document")
    _fits_the_phone(page)
    _shot(page, "sign-page-360")

    page.fill("#passphrase", "frasa tanda tangan hendra")
    page.click("main button[type=submit]")  # not ticked yet: the form says so
    page.wait_for_selector("#form-error")
    assert "Centang dulu" in page.inner_text("#form-error")
    page.check("#read")
    page.fill("#passphrase", "frasa tanda tangan hendra")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Tanda tangan tercatat")
    result = page.inner_text("main")
    index = re.search(r"#(\d+)", result).group(1)
    assert "WIB" in result
    assert page.get_attribute(f"a[href='/v/{index}']", "href") and page.get_attribute(
        f"a[href='/certificates/{index}.pdf']", "href"
    )
    _shot(page, "signed-360")

    public, pub_page, pub_foreign, pub_errors = _phone(browser, base)
    pub_page.goto(f"{base}/commitments/smart-city")
    signed = pub_page.inner_text("ol.signatures")
    assert OFFICIALS[1] in signed and "WIB" in signed and f"#{index}" in signed
    assert OFFICIALS[2] in pub_page.inner_text("#pending-h + ul")
    assert "1 dari 2 telah menandatangani" in pub_page.inner_text("main")
    _fits_the_phone(pub_page)
    _shot(pub_page, "commitment-360")
    pub_page.goto(f"{base}/")
    _shot(pub_page, "home-360")
    public.close()
    context.close()
    assert not foreign and not pub_foreign, f"requests to other hosts: {foreign + pub_foreign}"
    assert not errors and not pub_errors, errors + pub_errors


def test_the_admin_manages_on_a_phone_in_english(browser, site: dict[str, str]) -> None:
    base = site["base"]
    context, page, foreign, errors = _phone(browser, base)
    page.goto(f"{base}/login")
    page.click("a[hreflang=en]")  # the switch, remembered from here on
    page.fill("#nip", ADMIN_NIP)
    page.fill("#password", "kata-sandi-operator")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/(admin|me\?then=/admin)$"))  # first the news of the admin's own key, if any
    page.goto(f"{base}/admin")
    assert "Registered officials" in page.inner_text("main")
    _fits_the_phone(page)
    _shot(page, "admin-360")

    page.click("text=Add an official")
    page.fill("#nip", "12345")
    page.fill("#name", "Teguh Santoso")
    page.fill("#title", "Kepala Badan")
    page.fill("#unit", "Badan Perencanaan Pembangunan Daerah")
    page.click("main button[type=submit]")
    assert "A NIP is exactly 18 digits" in page.inner_text("#form-error")
    assert page.input_value("#name") == "Teguh Santoso"
    page.fill("#nip", nip(3))
    page.click("main button[type=submit]")
    page.wait_for_selector("text=The official is registered")

    page.click(f"#o-{nip(3)} a:has-text('Invite')")
    assert page.is_checked(f"#i-{nip(3)}")
    page.fill("#passphrase", ADMIN_PASSPHRASE)
    page.click("main button[type=submit]")
    page.wait_for_selector("#link-1")
    link = page.input_value("#link-1")
    assert link.startswith(f"{base}/enrol/")
    _fits_the_phone(page)

    page.goto(f"{base}/admin/commitments/new")
    page.fill("#title", "Second commitment")
    page.fill("#text", "We keep our promises.")
    page.check(f"#s-{nip(2)}")
    page.click("button[value=preview]")
    page.wait_for_selector("text=Check once more")
    page.click("button[value=publish]")
    page.wait_for_selector("text=The commitment is published")
    page.goto(f"{base}/")
    assert "0 of 1 have signed" in page.inner_text("main")
    context.close()
    assert not foreign, foreign
    assert not errors, errors


def test_without_chromium_these_skip_only_when_the_browser_is_not_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IKRAR_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception):
        _unavailable("no chromium")
    monkeypatch.setenv("IKRAR_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="required"):
        _unavailable("no chromium")
