"""The verdicts a QR code opens, in a real Chromium on a 360×740 phone, in both languages:
the verdict is on the first screen, without scrolling, for a valid signature, for an entry
that is no signature and for one the ledger does not have; and an edited certificate,
uploaded, says what changed in the page's language right under the verdict."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from signing import actions
from signing.certificate import certificate_pdf
from tests.factories import nip

from ..certs import rebuild
from ..signing.documents import rebuild_pages
from .live import free_port, runtime_for, server_env, serving, set_up
from .test_browser import PHONE, _fits_the_phone, _phone, _shot, browser  # noqa: F401 - `browser` is a fixture

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

SIGNER = ("Dr. Ratna Kusumawati, M.Si.", "frasa tanda tangan ratna")
WORDS = {
    "id": {"valid": "SAH", "invalid": "TIDAK SAH", "trust": "Pastikan alamat di peramban adalah 127.0.0.1:"},
    "en": {"valid": "VALID", "invalid": "INVALID", "trust": "Make sure the address in your browser is 127.0.0.1:"},
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A ledger with one signature, served by `ikrar serve`; its certificate PDF beside it."""
    home = tmp_path_factory.mktemp("verify-browser")
    port = free_port()
    env = server_env(f"sqlite:///{home / 'ikrar.db'}", home, port)
    people = {nip(1): (SIGNER[0], "official", "", SIGNER[1])}
    set_up(env, people, "smart-city", "Kami berkomitmen.\n", [nip(1)])
    runtime = runtime_for(env)
    index = actions.sign(runtime.context(), "smart-city", nip(1), SIGNER[1], datetime.now(UTC)).entry.index
    base_url, now = env["IKRAR_BASE_URL"], datetime.now(UTC)
    first = certificate_pdf(runtime.ledger, index, base_url=base_url, now=now, presentation=1)  # Ikrar 0.1's page
    issued = certificate_pdf(
        runtime.ledger, index, base_url=base_url, now=now, letterhead=runtime.settings.letterhead()
    )
    name = b"(" + SIGNER[0].encode("latin-1") + b")"
    edited, edited2 = home / "sertifikat-diubah.pdf", home / "bukti-diubah.pdf"
    edited.write_bytes(rebuild(first, page_edit=(name, b"(Ratna Palsu)")))
    edited2.write_bytes(rebuild_pages(issued, name, b"(Ratna Palsu)"))
    with serving(env, port) as base:
        yield {"base": base, "index": str(index), "edited": str(edited), "edited2": str(edited2)}


def _verdict_on_first_screen(page) -> str:
    """The verdict box's text, after checking that the whole box is inside the first screen."""
    box = page.locator("section.verdict")
    box.wait_for()
    assert page.evaluate("window.scrollY") == 0
    rect = box.bounding_box()
    assert rect is not None and rect["y"] >= 0 and rect["y"] + rect["height"] <= PHONE["height"], (
        f"the verdict of {page.url} ends at {rect} on a {PHONE['height']}px screen"
    )
    return box.inner_text()


CASES = {  # path -> (status, name of the screenshot, what the verdict says in each language)
    "/v/{index}": (200, "valid", {"id": "lolos semua pemeriksaan", "en": "passed every check"}),
    "/v/1": (404, "not-a-signature", {"id": "Entri 1 adalah pendaftaran kunci", "en": "Entry 1 is a key enrolment"}),
    "/v/9999": (404, "missing", {"id": "belum memiliki entri 9999", "en": "has no entry 9999 yet"}),
}


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_qr_code_opens_a_verdict_on_the_first_screen(browser, served: dict[str, str], lang: str) -> None:
    base, words = served["base"], WORDS[lang]
    context, page, foreign, errors = _phone(browser, base, lang)
    for path, (status, name, says) in CASES.items():
        response = page.goto(base + path.format(index=served["index"]))
        assert response is not None and response.status == status, path
        text = _verdict_on_first_screen(page)
        headline = f"✓ {words['valid']}" if status == 200 else f"✗ {words['invalid']}"
        assert text.split("\n")[0].strip() == headline and says[lang] in text, text
        assert words["trust"] in page.inner_text("main")
        _fits_the_phone(page)
        _shot(page, f"verify-{name}-360-{lang}")
    context.close()
    assert not foreign, f"requests to other hosts: {foreign}"
    assert not [e for e in errors if "404" not in e], errors


@pytest.mark.parametrize("edited", ["edited", "edited2"])  # presentation 1, and 2 (what the server issues)
def test_an_edited_certificate_uploaded_on_a_phone_says_what_changed(
    browser, served: dict[str, str], edited: str
) -> None:
    base = served["base"]
    context, page, foreign, errors = _phone(browser, base)
    page.goto(f"{base}/verify/upload")
    page.set_input_files("#file", served[edited])
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/verify/upload")
    text = page.locator("section.verdict").inner_text()
    assert "TIDAK SAH" in text
    assert f"Yang berubah: nama tercetak “Ratna Palsu”, seharusnya “{SIGNER[0]}”." in text
    main = page.inner_text("main")
    assert "the page says" not in main and "where the ledger says" not in main
    first = page.locator("ul.checks > li").first
    assert "check-failed" in (first.get_attribute("class") or "")
    _fits_the_phone(page)
    _shot(page, f"verify-upload-{edited}-360")
    context.close()
    assert not foreign, f"requests to other hosts: {foreign}"
