"""The public register of applications in Chromium against a real `ikrar serve`: the
register and a request's page on a 360 px phone, filtered by agency and by status with the
form, nothing wider than the screen, and no serious or critical axe-core violation at 360
and 1366 px in both languages (the error of a filter that cannot be used included).
Screenshots go to `test-artifacts/`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from signing import apps
from signing.apps import AttachmentIn
from tests.factories import nip, request_object

from .axe import assert_accessible, screenshot
from .live import free_port, server_env, serving, set_up
from .test_apps_public import checklist, pdf_bytes
from .test_browser import ADMIN_NIP, ADMIN_PASSPHRASE, _fits_the_phone, _phone, browser  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

HEALTH = "Dinas Kesehatan"
LONG = "Dinas Pemberdayaan Perempuan dan Perlindungan Anak, Pengendalian Penduduk dan Keluarga Berencana"
LONG_NAME = "Sistem Informasi Terpadu Pendataan dan Pendampingan Keluarga Berisiko Stunting Kota Kediri"
PEOPLE = {  # factory number: name, and the role given on the ledger (unit)
    1: ("dr. Fauzan Adima, M.Kes.", "pd-head", HEALTH),
    2: ("Dra. Sri Wahyuni Kusumawardhani, M.Si.", "pd-head", LONG),
    3: ("Bagus Prasetyo, S.Kom.", "reviewer", "Bidang Aplikasi Informatika"),
    4: ("Dr. Hendra Wijaya, M.T.", "kominfo-head", "Dinas Komunikasi dan Informatika"),
}
PASSPHRASES = {n: f"frasa tanda tangan {n} uji" for n in PEOPLE}
VIEWPORTS = {"360": {"width": 360, "height": 740}, "1366": {"width": 1366, "height": 768}}


def _now() -> datetime:
    return datetime.now(UTC)


def _submit(
    ctx: Any, head: int, name: str, attachments: Sequence[AttachmentIn] = (), app: str | None = None, **changes: Any
) -> str:
    agency = PEOPLE[head][2]
    request = request_object(agency, name=name, attachments=[a.to_json() for a in attachments], **changes)
    return str(apps.submit_app(ctx, None, request, nip(head), PASSPHRASES[head], _now, app=app).entry.fields["app"])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Four requests in every state, one from an agency with a very long name: recommended
    with notes (a public and an internal attachment), returned, waiting, and not recommended
    after a revision."""
    home = tmp_path_factory.mktemp("apps-browser")
    port = free_port()
    env = server_env(f"sqlite:///{home / 'ikrar.db'}", home, port)
    people = {ADMIN_NIP: ("Operator Diskominfo", "admin", "kata-sandi-operator", ADMIN_PASSPHRASE)}
    people |= {nip(n): (name, "official", "", PASSPHRASES[n]) for n, (name, _, _) in PEOPLE.items()}
    runtime = set_up(env, people, "smart-city", "Kami berkomitmen.\n", [nip(4)])
    ctx = runtime.context()
    for n, (_, role, unit) in PEOPLE.items():
        apps.assign_role(ctx, nip(n), role, unit, True, "Penetapan tugas", ADMIN_NIP, ADMIN_PASSPHRASE, _now)
    kak = apps.keep_attachment(runtime.ledger, "Kerangka Acuan Kerja", "kak.pdf", pdf_bytes("KAK"), _now())
    rab = apps.keep_attachment(
        runtime.ledger, "Rencana Anggaran Biaya", "rab.pdf", pdf_bytes("RAB"), _now(), internal=True
    )
    with_notes = _submit(ctx, 1, "Sistem Informasi Kesehatan Ibu dan Anak", [kak, rab])
    apps.review_app(ctx, with_notes, nip(3), checklist("concern"), _now)
    apps.decide_app(ctx, with_notes, "recommended_with_notes", ["Gunakan SSO kota"], nip(4), PASSPHRASES[4], _now)
    returned = _submit(ctx, 2, LONG_NAME, kind="subscription")
    apps.return_app(ctx, returned, nip(3), ["Lengkapi analisis kebutuhan dan rencana anggaran biaya"], _now)
    waiting = _submit(ctx, 1, "Aplikasi Antrean Puskesmas", kind="development")
    refused = _submit(ctx, 2, "Aplikasi Surat Menyurat", shared_app="SRIKANDI", shared_why_not="Belum dicoba")
    apps.return_app(ctx, refused, nip(3), ["Jelaskan mengapa SRIKANDI tidak dapat dipakai"], _now)
    _submit(ctx, 2, "Aplikasi Surat Menyurat", app=refused, shared_app="SRIKANDI", shared_why_not="Fitur arsip")
    apps.review_app(ctx, refused, nip(3), checklist("does_not_fit"), _now)
    apps.decide_app(ctx, refused, "not_recommended", ["SRIKANDI sudah melayani"], nip(4), PASSPHRASES[4], _now)
    with serving(env, port) as base:
        yield {"base": base, "with_notes": with_notes, "returned": returned, "waiting": waiting, "refused": refused}


def _rows(page: Any) -> list[str]:
    rows = page.locator("#register tbody tr")
    return [str(rows.nth(i).get_attribute("id")).removeprefix("app-") for i in range(rows.count())]


def _show(page: Any) -> None:
    with page.expect_navigation(wait_until="load"):
        page.locator("form[role=search] button[type=submit]").click()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_register_filters_by_agency_and_status_on_a_phone(browser: Any, site: dict[str, str], lang: str) -> None:
    base = site["base"]
    context, page, foreign, errors = _phone(browser, base, lang)
    try:
        page.goto(f"{base}/aplikasi")
        _fits_the_phone(page)
        assert _rows(page) == [site["refused"], site["waiting"], site["returned"], site["with_notes"]]
        assert_accessible(page, context=f"apps-register-360-{lang}")
        screenshot(page, f"apps-register-360-{lang}")

        page.select_option("#pd", LONG)
        _show(page)
        assert "pd=" in page.url and _rows(page) == [site["refused"], site["returned"]]
        assert page.locator("#pd").input_value() == LONG
        _fits_the_phone(page)
        page.select_option("#status", "returned")
        _show(page)
        assert _rows(page) == [site["returned"]] and "status=returned" in page.url
        _fits_the_phone(page)
        assert_accessible(page, context=f"apps-register-filtered-360-{lang}")
        screenshot(page, f"apps-register-filtered-360-{lang}")

        page.locator(f"#app-{site['returned']} a").first.click()
        page.wait_for_url(f"{base}/aplikasi/{site['returned']}")
        assert LONG_NAME in page.inner_text("h1")
        _fits_the_phone(page)
        assert_accessible(page, context=f"apps-detail-returned-360-{lang}")

        page.goto(f"{base}/aplikasi")
        page.locator("#counts a", has_text=HEALTH).click()
        page.wait_for_url("**/aplikasi?pd=*")
        assert _rows(page) == [site["waiting"], site["with_notes"]]

        for app in ("with_notes", "refused"):
            page.goto(f"{base}/aplikasi/{site[app]}")
            _fits_the_phone(page)
            assert page.locator("#history > ol > li").count() >= 3
            assert_accessible(page, context=f"apps-detail-{app}-360-{lang}")
            screenshot(page, f"apps-detail-{app}-360-{lang}")
        assert not foreign and not errors, (foreign, errors)
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_filter_that_cannot_be_used_lands_on_its_message(browser: Any, site: dict[str, str], lang: str) -> None:
    base = site["base"]
    context, page, foreign, _ = _phone(browser, base, lang)
    try:
        response = page.goto(f"{base}/aplikasi?status=disetujui")
        assert response is not None and response.status == 400
        page.wait_for_function("document.activeElement && document.activeElement.id === 'form-error'")
        assert "disetujui" in page.inner_text("#form-error")
        _fits_the_phone(page)
        assert_accessible(page, context=f"apps-register-error-360-{lang}")
        screenshot(page, f"apps-register-error-360-{lang}")
        assert not foreign
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_register_and_a_request_are_accessible_on_a_desktop(browser: Any, site: dict[str, str], lang: str) -> None:
    base = site["base"]
    context = browser.new_context(viewport=VIEWPORTS["1366"])
    context.add_cookies([{"name": "ikrar_lang", "value": lang, "url": base}])
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        for name, path in (
            ("register", "/aplikasi"),
            ("register-error", "/aplikasi?year=20266"),
            ("detail-with-notes", f"/aplikasi/{site['with_notes']}"),
            ("detail-refused", f"/aplikasi/{site['refused']}"),
            ("detail-waiting", f"/aplikasi/{site['waiting']}"),
            ("not-found", "/aplikasi/2026-0099"),
        ):
            page.goto(base + path)
            assert page.get_attribute("html", "lang") == lang
            assert_accessible(page, context=f"apps-{name}-1366-{lang}")
            screenshot(page, f"apps-{name}-1366-{lang}")
    finally:
        context.close()
