"""The operator's ceremony view in Debian's Chromium (Playwright) against a real `ikrar serve`,
at 360×740 and 1366×768, in both languages: every state on screen, the search and the filters
(server-side forms, no script needed), a lock lifted in place and a reminder mailed to a real
SMTP server. Screenshots go to IKRAR_TEST_ARTIFACTS (default `test-artifacts/`)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from signing import actions, vouching
from tests.factories import nip
from web import accounts
from web.errors import Throttled

from .axe import screenshot
from .live import free_port, runtime_for, server_env, serving
from .test_browser import browser  # noqa: F401 - Debian's Chromium through Playwright
from .test_ceremony import ASISTEN, KESEHATAN, PEOPLE, PERHUBUNGAN, PROTOCOL, SEKDA, STATES, WAKIL, WALI_KOTA
from .test_mail import LocalSmtp

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

VIEWPORTS = {"phone": {"width": 360, "height": 740}, "laptop": {"width": 1366, "height": 768}}
ADMIN_NIP, ADMIN_PASSWORD, ADMIN_PASSPHRASE = "198802192011011917", "kata-sandi-operator", "frasa operator diskominfo"
SLUG = "komitmen-bersama-smart-city"
ORDER = PROTOCOL  # published in protocol order (the publish form puts them so: test_ceremony.py)
LABELS = {
    "id": {
        "no_key": "Belum punya kunci",
        "pending": "Pendaftaran tertunda",
        "locked": "Terkunci",
        "signed": "Sudah menandatangani",
    },
    "en": {"no_key": "No key yet", "pending": "Enrolment pending", "locked": "Locked", "signed": "Signed"},
}


@pytest.fixture(scope="module")
def smtp() -> Iterator[LocalSmtp]:
    server = LocalSmtp().start()
    yield server
    server.stop()


def _prepare(env: dict[str, str]) -> None:
    """The prepared day: the Wali Kota without a key, the Wakil with an unused invitation, the
    Sekda locked out of signing, an Asisten signed, two heads of agency not yet."""
    runtime = runtime_for(env)
    now = datetime.now(UTC) - timedelta(minutes=5)
    runtime.create_ledger("Pemerintah Kota Kediri (uji)", "test.kedirikota.go.id/ikrar", now)
    ctx = runtime.context()
    ledger = runtime.ledger
    actions.register_official(
        ledger, ADMIN_NIP, "Operator Diskominfo", "Pranata Komputer", "Dinas Kominfo", "admin", now
    )
    accounts.set_password(ledger, ADMIN_NIP, ADMIN_PASSWORD, now)
    actions.enrol(ctx, ADMIN_NIP, ADMIN_PASSPHRASE, now)  # the first admin: attested by the ledger's key
    for n, (name, title, unit, email) in PEOPLE.items():
        actions.register_official(ledger, nip(n), name, title, unit, "official", now, email)
    for n in (SEKDA, ASISTEN, PERHUBUNGAN, KESEHATAN, WAKIL):
        vouching.invite(ctx, actions.get_official(ledger, nip(n)), ADMIN_NIP, ADMIN_PASSPHRASE, now, 24)
        if n != WAKIL:
            actions.enrol(ctx, nip(n), f"frasa tanda tangan {n}", now)
            accounts.set_password(ledger, nip(n), f"kata-sandi-{n}-masuk", now)
    actions.publish(
        ctx, SLUG, "Komitmen Bersama Smart City", "Kami berkomitmen.\n", [nip(n) for n in ORDER], ADMIN_NIP, now
    )
    actions.sign(ctx, SLUG, nip(ASISTEN), f"frasa tanda tangan {ASISTEN}", now)
    moment = now
    for _ in range(accounts.LOCK_AFTER + 1):
        try:
            accounts.settle_attempt(ledger, accounts.SIGN, nip(SEKDA), moment, False)
        except Throttled as e:
            if e.key == "err.sign_locked":
                return
        moment += timedelta(seconds=20)
    raise AssertionError("the Sekda was not locked")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, smtp: LocalSmtp) -> Iterator[dict[str, str]]:
    home = tmp_path_factory.mktemp("ceremony")
    port = free_port()
    env = server_env(f"sqlite:///{home / 'ikrar.db'}", home, port) | {"IKRAR_SMTP_URL": smtp.url()}
    _prepare(env)
    with serving(env, port) as base:
        yield {"base": base, **env}


def _open(browser, base: str, viewport: str, lang: str):
    phone = viewport == "phone"
    context = browser.new_context(
        viewport=VIEWPORTS[viewport], device_scale_factor=2 if phone else 1, is_mobile=phone, has_touch=phone
    )
    context.add_cookies([{"name": "ikrar_lang", "value": lang, "url": base}])
    page = context.new_page()
    page.set_default_timeout(20_000)
    foreign: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith(base) else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "status of 4" not in m.text else None)
    page.goto(f"{base}/login")
    page.fill("#nip", ADMIN_NIP)
    page.fill("#password", ADMIN_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/(admin|me.*)$"))
    return context, page, foreign, errors


def _rows(page) -> list[tuple[str, str]]:
    return [
        (row.get_attribute("id"), row.get_attribute("data-state"))
        for row in page.query_selector_all("table.ceremony tbody tr")
    ]


def _fits(page, viewport: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= VIEWPORTS[viewport]["width"], f"{page.url} is {width}px wide"


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_operator_sees_every_state_searches_and_filters(browser, site, viewport: str, lang: str) -> None:
    base = site["base"]
    context, page, foreign, errors = _open(browser, base, viewport, lang)
    page.goto(f"{base}/admin/commitments/{SLUG}")
    assert _rows(page) == [(f"s-{nip(n)}", STATES[n]) for n in ORDER]
    for state, label in LABELS[lang].items():
        assert label in page.inner_text("table.ceremony"), state
    first = page.locator(f"#s-{nip(WALI_KOTA)}")
    assert PEOPLE[WALI_KOTA][0] in first.inner_text()
    _fits(page, viewport)
    screenshot(page, f"ceremony-{lang}-{VIEWPORTS[viewport]['width']}")

    page.select_option("#f-state", "not_signed")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r".*state=not_signed.*"))
    assert _rows(page) == [(f"s-{nip(n)}", "not_signed") for n in (PERHUBUNGAN, KESEHATAN)]
    page.fill("#f-q", "fauzan")
    page.select_option("#f-state", "")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r".*q=fauzan.*"))
    assert _rows(page) == [(f"s-{nip(KESEHATAN)}", "not_signed")]
    page.fill("#f-q", "")
    page.select_option("#f-unit", "Sekretariat Daerah")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r".*unit=Sekretariat.*"))
    assert [r[0] for r in _rows(page)] == [f"s-{nip(SEKDA)}", f"s-{nip(ASISTEN)}"]
    _fits(page, viewport)
    context.close()
    assert not foreign, foreign
    assert not errors, errors


def test_a_lock_is_lifted_and_a_reminder_mailed_on_a_phone(browser, site, smtp: LocalSmtp) -> None:
    base = site["base"]
    context, page, foreign, errors = _open(browser, base, "phone", "id")
    page.goto(f"{base}/admin/commitments/{SLUG}")
    page.click(f"#s-{nip(SEKDA)} form[action='/admin/locks/lift'] button")
    page.wait_for_selector("text=Penguncian sudah diangkat dan dicatat.")
    assert page.url.endswith(f"#s-{nip(SEKDA)}")
    assert dict(_rows(page))[f"s-{nip(SEKDA)}"] == "not_signed"

    page.click("a[href$='/remind']")
    page.wait_for_selector("text=Tanpa alamat surel")
    assert PEOPLE[KESEHATAN][0] in page.inner_text("ul.no-address")
    _fits(page, "phone")
    screenshot(page, "ceremony-remind-id-360")
    before = len(smtp.inbox.received)
    page.click("main form button[type=submit]")
    page.wait_for_selector("text=Pengingat untuk 4 orang masuk antrean surel")
    deadline = time.monotonic() + 30  # the server's mail sender looks at the outbox every 5 seconds
    while (
        len([m for m in smtp.inbox.received[before:] if "Pengingat" in m.subject]) < 4 and time.monotonic() < deadline
    ):
        time.sleep(0.2)
    reminders = [m for m in smtp.inbox.received[before:] if "Pengingat" in m.subject]
    assert sorted(m.rcpt_tos[0] for m in reminders) == sorted(
        PEOPLE[n][3] for n in (WALI_KOTA, WAKIL, SEKDA, PERHUBUNGAN)
    )
    assert all(f"{base}/sign/{SLUG}" in m.body for m in reminders)
    context.close()
    assert not foreign, foreign
    assert not errors, errors
