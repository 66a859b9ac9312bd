"""The request form and the Kepala PD's signature in a real browser (Debian's Chromium through
Playwright, against `ikrar serve`), on a 360×740 phone (issue 15): a PD operator fills in a few
fields of the request form, uploads a PDF, types the budget wrong and finds the message next to
it with the file kept; saves the draft half filled and sees what it lacks; the Kepala PD cannot
sign it yet (409); the operator comes back, finds what was typed, completes and saves it ("Siap
ditandatangani"); the Kepala reads the draft and signs it. The form, its error state, the
incomplete draft, the 409 and the signing page show no serious or critical WCAG 2.1 A/AA
violation (`tests.web.axe`), in both languages, and none scrolls sideways.

Screenshots go to $IKRAR_TEST_ARTIFACTS (default `test-artifacts/`). Without Chromium these
skip, unless IKRAR_REQUIRE_BROWSER is set (CI), when they fail instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from signing import apps
from signing.wording import WIB
from tests.factories import nip
from web.routes_apps_work import QUESTIONS

from .axe import assert_accessible, screenshot
from .live import free_port, server_env, serving, set_up
from .test_apps_work import REQUEST, pdf
from .test_browser import browser  # noqa: F401  (the module's Chromium, shared with the browser tests)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PHONE = {"width": 360, "height": 740}
PD = "Dinas Kesehatan"
OPERATOR = (nip(1), "Rina Operator", "kata-sandi-rina", "frasa tanda tangan rina")
HEAD = (nip(2), "dr. Fauzan Adhim", "kata-sandi-fauzan", "frasa tanda tangan fauzan")
REVIEWER = (nip(3), "Dewi Lestari, S.Kom.", "kata-sandi-dewi", "frasa tanda tangan dewi")
DECIDER = (nip(5), "Drs. Agus Wibowo", "kata-sandi-agus", "frasa tanda tangan agus")
ADMIN = ("198802192011011917", "Operator Diskominfo", "kata-sandi-operator", "frasa tanda tangan operator")
ANSWERS = {  # the text fields, by id: the answers of the web tests' request
    name: value for name, value in REQUEST.items() if QUESTIONS[name].widget not in ("flag", "choice") and value
}
CHOSEN = [f"{name}-{value}" for name, value in REQUEST.items() if QUESTIONS[name].widget == "choice"]  # radios
TICKED = [name for name, value in REQUEST.items() if QUESTIONS[name].widget == "flag" and value]  # boxes


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """`ikrar serve` over a ledger where official 1 operates for `PD`, official 2 heads it,
    official 3 reviews and official 5 is the Kepala Dinas Kominfo, each role given by the
    admin's key; one request of `PD` is submitted already (`app`), waiting for its review."""
    home = tmp_path_factory.mktemp("apps-work")
    port = free_port()
    env = server_env(f"sqlite:///{home / 'ikrar.db'}", home, port)
    people = {ADMIN[0]: (ADMIN[1], "admin", ADMIN[2], ADMIN[3])}
    people |= {n: (name, "official", pw, phrase) for n, name, pw, phrase in (OPERATOR, HEAD, REVIEWER, DECIDER)}
    runtime = set_up(env, people, "smart-city", "Kami berkomitmen.\n", [OPERATOR[0]])
    ctx, now = runtime.context(), datetime.now(UTC)
    for who, role, unit in (
        (OPERATOR, "pd-operator", PD),
        (HEAD, "pd-head", PD),
        (REVIEWER, "reviewer", "Bidang Aplikasi Informatika"),
        (DECIDER, "kominfo-head", "Dinas Komunikasi dan Informatika"),
    ):
        apps.assign_role(ctx, who[0], role, unit, True, "SK Wali Kota", ADMIN[0], ADMIN[3], now)
    kept = apps.keep_attachment(runtime.ledger, "Kerangka Acuan Kerja", "kak.pdf", pdf(), now)
    request = apps.request_from_form({**REQUEST, "name": "Sistem Antrean Puskesmas"}, [kept], PD, OPERATOR[0])
    draft = apps.save_draft(ctx, PD, request, OPERATOR[0], now)
    app = str(apps.submit_app(ctx, draft, None, HEAD[0], HEAD[3], now).entry.fields["app"])
    with serving(env, port) as url:
        yield {"base": url, "app": app}


@pytest.fixture(scope="module")
def base(site: dict[str, str]) -> str:
    return site["base"]


def _phone(browser: Any, base: str, lang: str) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    context.add_cookies([{"name": "ikrar_lang", "value": lang, "url": base}])
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "status of 4" not in m.text else None)
    return context, page, problems


def _log_in(page: Any, base: str, who: tuple[str, str, str, str], then: str) -> None:
    page.goto(f"{base}/login?next={then}")
    page.fill("#nip", who[0])
    page.fill("#password", who[2])
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}{then}")


def _fits(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "no sideways scroll"


def _looks_right(page: Any, context: str, shot: str) -> None:
    """No sideways scroll, no serious or critical axe violation; the screenshot `shot`."""
    _fits(page)
    assert_accessible(page, context=context)
    screenshot(page, shot)


def test_the_english_form_reads_in_english_and_is_accessible(browser: Any, base: str) -> None:
    context, page, problems = _phone(browser, base, "en")
    _log_in(page, base, OPERATOR, "/kerja/aplikasi/baru")
    assert page.inner_text("label[for=name]").startswith("Application name")
    assert "Hosting and integration" in page.inner_text("#group-hosting legend")
    _fits(page)
    assert_accessible(page, context="request form, 360×740, en")
    context.close()
    assert not problems, problems


def test_a_half_filled_draft_in_english_says_what_it_lacks(browser: Any, base: str) -> None:
    context, page, problems = _phone(browser, base, "en")
    _log_in(page, base, OPERATOR, "/kerja/aplikasi/baru")
    page.fill("#name", "Aplikasi Setengah Jadi")
    page.check("#hosting-other")
    with page.expect_navigation(wait_until="load"):
        page.click("main form button[type=submit]")
    assert re.search(r"/kerja/aplikasi/draf/\d+\?ok=saved#draft-state$", page.url)
    notice = page.inner_text("#draft-state")
    assert notice.startswith("Draft saved. Not complete yet:")
    assert "Short description: Required." in notice
    assert "Why it is hosted elsewhere: Required for the answer you chose." in notice
    assert page.input_value("#name") == "Aplikasi Setengah Jadi" and page.is_checked("#hosting-other")
    _looks_right(page, "incomplete draft saved, 360×740, en", "apps-work-draft-incomplete-360-en")
    draft = re.search(r"/draf/(\d+)", page.url)
    assert draft is not None
    page.goto(f"{base}/kerja/aplikasi")
    assert "Not complete" in page.inner_text(f"#draft-{draft[1]}")
    with page.expect_navigation(wait_until="load"):
        page.click(f"#draft-{draft[1]} form button[type=submit]")  # deleted: it does not linger in the other tests
    assert page.query_selector(f"#draft-{draft[1]}") is None
    context.close()
    assert not problems, problems


def test_an_operator_prepares_a_request_and_the_head_signs_it(browser: Any, base: str) -> None:
    context, page, problems = _phone(browser, base, "id")
    _log_in(page, base, OPERATOR, "/kerja/aplikasi")
    with page.expect_navigation(wait_until="load"):
        page.click("text=Buat permohonan baru")
    assert page.url.startswith(f"{base}/kerja/aplikasi/baru?unit=")
    _fits(page)
    assert_accessible(page, context="request form, 360×740, id")

    # A few fields and a PDF; the budget typed wrong: refused next to it, the rest and the file kept.
    page.fill("#name", ANSWERS["name"])
    page.fill("#description", ANSWERS["description"])
    page.fill("#budget_amount", "dua ratus juta")
    page.check("#builder-vendor")
    page.check("#splp")
    page.set_input_files("#new-0-file", files=[{"name": "kak.pdf", "mimeType": "application/pdf", "buffer": pdf()}])
    page.fill("#new-0-title", "Kerangka Acuan Kerja")
    page.check("#new-0-internal")
    with page.expect_navigation(wait_until="load"):
        page.click("main form button[type=submit]")
    page.wait_for_selector("#form-error")
    assert page.evaluate("document.activeElement && document.activeElement.id") == "form-error"
    assert "Tulis bilangan bulat" in page.inner_text("#budget_amount-error")
    assert page.inner_text(".error-list").startswith("Nilai anggaran")  # the list of what to correct
    page.click(".error-list a[href='#field-budget_amount']")
    assert page.evaluate("location.hash") == "#field-budget_amount"
    assert page.get_attribute("#budget_amount", "aria-invalid") == "true"
    assert page.input_value("#description") == ANSWERS["description"], "the answers are kept"
    assert page.is_checked("#builder-vendor") and page.is_checked("#splp")
    assert "kak.pdf" in page.inner_text("#keep-0 legend"), "the uploaded file is kept"
    assert page.input_value("#keep-0-title") == "Kerangka Acuan Kerja" and page.is_checked("#keep-0-internal")
    _looks_right(page, "request form with an error, 360×740, id", "apps-work-form-error-360-id")

    # Saved half filled: the draft's form again, with what it still lacks.
    page.fill("#budget_amount", ANSWERS["budget_amount"])
    with page.expect_navigation(wait_until="load"):
        page.click("main form button[type=submit]")
    found = re.search(r"/kerja/aplikasi/draf/(\d+)\?ok=saved#draft-state$", page.url)
    assert found is not None, page.url
    draft = found[1]
    notice = page.inner_text("#draft-state")
    assert notice.startswith("Draf tersimpan. Belum lengkap:")
    assert "Narahubung: Wajib diisi." in notice and "Nama penyedia: Wajib diisi untuk jawaban" in notice
    assert "Nama aplikasi" not in notice
    _looks_right(page, "incomplete draft saved, 360×740, id", "apps-work-draft-incomplete-360-id")
    context.close()
    assert not problems, problems

    # The Kepala cannot sign it yet: a 409 that says what is missing.
    context, page, problems = _phone(browser, base, "id")
    _log_in(page, base, HEAD, "/kerja/aplikasi")
    assert "Belum lengkap" in page.inner_text(f"#draft-{draft}")
    assert page.query_selector(f"#draft-{draft} a[href$='/tandatangan']") is None
    response = page.goto(f"{base}/kerja/aplikasi/draf/{draft}/tandatangan")
    assert response is not None and response.status == 409
    assert "belum lengkap" in page.inner_text("#form-error") and "Narahubung" in page.inner_text("#form-error")
    _looks_right(page, "signing an incomplete draft (409), 360×740, id", "apps-work-sign-incomplete-360-id")
    context.close()
    assert not problems, problems

    # The operator comes back later: the answers as typed, completes the rest, saves.
    context, page, problems = _phone(browser, base, "id")
    _log_in(page, base, OPERATOR, "/kerja/aplikasi")
    row = page.inner_text(f"#draft-{draft}")
    assert ANSWERS["name"] in row and "Belum lengkap" in row
    _fits(page)
    assert_accessible(page, context="work home with an incomplete draft, 360×740, id")
    with page.expect_navigation(wait_until="load"):
        page.click(f"#draft-{draft} a[href='/kerja/aplikasi/draf/{draft}']")
    assert page.inner_text("#draft-state").startswith("Draf ini belum lengkap:")
    assert page.input_value("#name") == ANSWERS["name"] and page.input_value("#budget_amount") == "250.000.000"
    assert page.is_checked("#builder-vendor") and page.is_checked("#splp") and not page.is_checked("#sso")
    assert "kak.pdf" in page.inner_text("#keep-0 legend")
    page.click("#draft-state a[href='#field-contact']")
    assert page.evaluate("location.hash") == "#field-contact"
    for field, value in ANSWERS.items():
        page.fill(f"#{field}", value)
    for radio in CHOSEN:
        page.check(f"#{radio}")
    for box in TICKED:
        page.check(f"#{box}")
    with page.expect_navigation(wait_until="load"):
        page.click("main form button[type=submit]")
    assert page.url.startswith(f"{base}/kerja/aplikasi?ok=saved")
    assert "Draf tersimpan" in page.inner_text("main")
    row = page.inner_text(f"#draft-{draft}")
    assert ANSWERS["name"] in row and "Siap ditandatangani" in row
    _looks_right(page, "work home with a complete draft, 360×740, id", "apps-work-draft-ready-360-id")
    context.close()
    assert not problems, problems

    context, page, problems = _phone(browser, base, "id")
    _log_in(page, base, HEAD, "/kerja/aplikasi")
    with page.expect_navigation(wait_until="load"):
        page.click("text=Baca dan tandatangani")
    assert "Anda menandatangani sebagai dr. Fauzan Adhim, Kepala Dinas" in page.inner_text("#signing-as")
    assert "Uji penetrasi oleh BSSN" in page.inner_text("main")
    assert "Kerangka Acuan Kerja" in page.inner_text("#part-attachments + ul")
    _fits(page)
    assert_accessible(page, context="signing a request, 360×740, id")
    page.fill("#passphrase", "bukan frasa yang benar")
    with page.expect_navigation(wait_until="load"):
        page.click("#sign-box button[type=submit]")
    page.wait_for_selector("#form-error")
    assert "Frasa sandi" in page.inner_text("#form-error")
    assert page.get_attribute("#passphrase", "aria-invalid") == "true"
    assert_accessible(page, context="signing a request, wrong passphrase, 360×740, id")
    page.fill("#passphrase", HEAD[3])
    with page.expect_navigation(wait_until="load"):
        page.click("#sign-box button[type=submit]")
    year = datetime.now(WIB).year  # the id's year (the test does not run across midnight of 31 December)
    assert re.search(rf"Permohonan {year}-\d{{4}} ditandatangani", page.inner_text("main"))
    assert "Diajukan" in page.inner_text("table.requests")
    screenshot(page, "apps-work-signed-360-id")
    context.close()
    assert not problems, problems


def test_a_reviewer_reviews_and_the_kominfo_head_decides(browser: Any, site: dict[str, str]) -> None:
    base, app = site["base"], site["app"]
    context, page, problems = _phone(browser, base, "en")
    _log_in(page, base, REVIEWER, f"/kerja/aplikasi/{app}/telaah")
    assert "Sistem Antrean Puskesmas" in page.inner_text("h1 + .lead")
    _fits(page)
    assert_accessible(page, context="review page, 360×740, en")
    with page.expect_navigation(wait_until="load"):
        page.click("#review-box button[type=submit]")  # no finding chosen
    page.wait_for_selector("#form-error")
    assert "Choose one." in page.inner_text("#architecture-finding-error")
    assert_accessible(page, context="review page with errors, 360×740, en")
    for point in ("architecture", "duplication", "hosting", "integration", "security", "personal_data"):
        page.check(f"#{point}-finding-fits")
    with page.expect_navigation(wait_until="load"):
        page.click("#review-box button[type=submit]")
    assert f"The review of request {app} is recorded." in page.inner_text("main")
    context.close()
    assert not problems, problems

    context, page, problems = _phone(browser, base, "id")
    _log_in(page, base, DECIDER, f"/kerja/aplikasi/{app}/putusan")
    assert "Anda menandatangani sebagai Drs. Agus Wibowo, Kepala Dinas" in page.inner_text("#signing-as")
    _fits(page)
    assert_accessible(page, context="decision page, 360×740, id")
    page.check("#decision-recommended_with_notes")
    page.fill("#notes", "Perbarui DPIA sebelum digunakan.")
    page.fill("#passphrase", DECIDER[3])
    with page.expect_navigation(wait_until="load"):
        page.click("#decide-box button[type=submit]")
    assert "Keputusan ditandatangani dan tercatat" in page.inner_text("main")
    assert page.get_attribute(f"a[href='/aplikasi/{app}/rekomendasi.pdf']", "class") == "button"
    _fits(page)
    assert_accessible(page, context="decision signed, 360×740, id")
    screenshot(page, "apps-work-decided-360-id")
    context.close()
    assert not problems, problems


def test_the_roles_page_on_a_phone(browser: Any, base: str) -> None:
    context, page, problems = _phone(browser, base, "id")
    _log_in(page, base, ADMIN, "/admin/roles")
    assert "Kepala Dinas Kominfo" in page.inner_text("table.roles-held")
    assert "SK Wali Kota" in page.inner_text("table.roles-history")
    _fits(page)
    assert_accessible(page, context="roles page, 360×740, id")
    context.close()
    assert not problems, problems
