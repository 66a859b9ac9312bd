"""Issue 10 in a browser on a 360×740 phone, against a real `ikrar serve`: one admin revokes
an official's key and invites them again; the official's link waits for a second admin;
the second admin approves on their phone; the official then enrols. Screenshots go to
`test-artifacts/`; without Chromium this skips (or fails, with IKRAR_REQUIRE_BROWSER)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from signing import actions, vouching
from tests.factories import nip

from .live import free_port, server_env, serving, set_up
from .test_browser import _fits_the_phone, _phone, _shot, browser

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

__all__ = ["browser"]  # the module-scoped Chromium of test_browser, used here too

FIRST, SECOND = "198802192011011917", "199001012015021002"
PASSPHRASES = {FIRST: "frasa tanda tangan operator", SECOND: "frasa tanda tangan admin kedua"}
PASSWORDS = {FIRST: "kata-sandi-operator", SECOND: "kata-sandi-admin-kedua", nip(1): "kata-sandi-hendra"}
OFFICIAL = "Dr. Hendra Wijaya, M.T."


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Two admins with their own keys (the second invited by the first and approved with
    the ledger's key, as `ikrar official approve --by ledger` does) and an enrolled official."""
    home = tmp_path_factory.mktemp("vouching-browser")
    port = free_port()
    env = server_env(f"sqlite:///{home / 'ikrar.db'}", home, port)
    people = {
        FIRST: ("Operator Diskominfo", "admin", PASSWORDS[FIRST], PASSPHRASES[FIRST]),
        SECOND: ("Kepala Bidang Aplikasi", "admin", PASSWORDS[SECOND], ""),
        nip(1): (OFFICIAL, "official", PASSWORDS[nip(1)], ""),
    }
    runtime = set_up(env, people, "smart-city", "Kami berkomitmen.\n", [nip(1)])
    ctx, now = runtime.context(), datetime.now(UTC)
    second = actions.get_official(runtime.ledger, SECOND)
    vouching.invite(ctx, second, FIRST, PASSPHRASES[FIRST], now, 72)
    vouching.approve(ctx, second, vouching.LEDGER, None, now)
    actions.enrol(ctx, SECOND, PASSPHRASES[SECOND], now)
    vouching.invite(ctx, actions.get_official(runtime.ledger, nip(1)), FIRST, PASSPHRASES[FIRST], now, 72)
    actions.enrol(ctx, nip(1), "frasa tanda tangan hendra", now)
    with serving(env, port) as base:
        yield base


def _login(page, base: str, number: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#nip", number)
    page.fill("#password", PASSWORDS[number])
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert "/login" not in page.url
    page.goto(f"{base}/admin")  # the first page after a login may be the official's own (news of their key)


def test_a_second_admin_approves_a_replacement_key_on_a_phone(browser, site: str) -> None:
    base = site
    first, page, foreign, errors = _phone(browser, base)
    _login(page, base, FIRST)
    page.click(f"#o-{nip(1)} a:has-text('Cabut kunci')")
    page.fill("#reason", "ponsel hilang")
    page.fill("#passphrase", PASSPHRASES[FIRST])
    _fits_the_phone(page)
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Kunci telah dicabut")

    page.click(f"#o-{nip(1)} a:has-text('Undang')")
    assert page.is_checked(f"#i-{nip(1)}") and "perlu persetujuan admin kedua" in page.inner_text("main")
    page.fill("#passphrase", PASSPHRASES[FIRST])
    page.click("main button[type=submit]")
    page.wait_for_selector("#link-1")
    link = page.input_value("#link-1")
    assert "setelah admin lain menyetujui" in page.inner_text("main")
    _fits_the_phone(page)

    page.goto(f"{base}/admin")
    waiting = page.inner_text(f"#w-{nip(1)}")
    assert "Anda yang mengundang; persetujuan harus dari admin lain." in waiting and "ponsel hilang" in waiting
    assert page.locator(f"#passphrase-{nip(1)}").count() == 0
    _fits_the_phone(page)

    official, off_page, off_foreign, off_errors = _phone(browser, base)
    off_page.goto(link)
    assert "Menunggu persetujuan admin kedua" in off_page.inner_text("main")
    assert off_page.locator("#passphrase").count() == 0
    _fits_the_phone(off_page)
    _shot(off_page, "enrol-waits-360")

    second, other, other_foreign, other_errors = _phone(browser, base)
    _login(other, base, SECOND)
    card = other.inner_text(f"#w-{nip(1)}")
    assert "Diundang oleh Operator Diskominfo" in card and "dicabut oleh Operator Diskominfo" in card
    _fits_the_phone(other)
    _shot(other, "approve-360")
    other.fill(f"#passphrase-{nip(1)}", "bukan frasa sandinya")
    other.click(f"#w-{nip(1)} button[type=submit]")
    other.wait_for_selector("#form-error")
    assert "Frasa sandi penandatanganan Anda salah" in other.inner_text("#form-error")
    _fits_the_phone(other)
    other.fill("#passphrase", PASSPHRASES[SECOND])
    other.click("main button[type=submit]")
    other.wait_for_selector("text=Undangan disetujui")
    assert other.locator(f"#w-{nip(1)}").count() == 0

    off_page.goto(link)
    off_page.fill("#password", "kata-sandi-hendra-baru")
    off_page.fill("#password2", "kata-sandi-hendra-baru")
    off_page.fill("#passphrase", "frasa tanda tangan baru hendra")
    off_page.fill("#passphrase2", "frasa tanda tangan baru hendra")
    off_page.click("main button[type=submit]")
    off_page.wait_for_selector("text=Pendaftaran selesai")
    for context in (first, official, second):
        context.close()
    assert not foreign + off_foreign + other_foreign
    assert not errors + off_errors + other_errors, errors + off_errors + other_errors
