"""The public pages on a 360 px phone, in Chromium against a real `ikrar serve`: nothing is
wider than the screen, and what the pages say about signatures (a key revoked later, the
protocol order) is what a reader sees. Screenshots go to `test-artifacts/`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from signing import actions
from tests.factories import nip

from .live import free_port, server_env, serving, set_up
from .test_browser import ADMIN_NIP, ADMIN_PASSPHRASE, _fits_the_phone, _phone, _shot, browser  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

LONG = "Dr. Ir. Raden Mas Hendra Wijayakusuma Prawiranegara, S.T., M.T., M.Sc."
OFFICIALS = {1: LONG, 2: "Sri Wahyuni, S.Pd.", 3: "Budi Santoso"}
PASSPHRASES = {n: f"frasa tanda tangan {n} uji" for n in OFFICIALS}
REASON = "perangkat hilang dalam perjalanan dinas ke Surabaya"
DECLINED = "sedang menunaikan ibadah haji sampai akhir bulan depan"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Officials 3, 1, 2 asked in that protocol order; 1 and 3 signed (1 first), then 1's key
    revoked, and 2 declined; a second commitment with a deadline three days ahead."""
    home = tmp_path_factory.mktemp("public-browser")
    port = free_port()
    env = server_env(f"sqlite:///{home / 'ikrar.db'}", home, port)
    people = {ADMIN_NIP: ("Operator Diskominfo", "admin", "kata-sandi-operator", ADMIN_PASSPHRASE)}
    people |= {nip(n): (name, "official", "", PASSPHRASES[n]) for n, name in OFFICIALS.items()}
    text = "Kami berkomitmen melayani warga dengan cepat.\n"
    runtime = set_up(env, people, "smart-city", text, [nip(3), nip(1), nip(2)])
    ctx = runtime.context()
    for n in (1, 3):
        actions.sign(ctx, "smart-city", nip(n), PASSPHRASES[n], datetime.now(UTC))
    revoked = actions.revoke(ctx, nip(1), REASON, ADMIN_NIP, datetime.now(UTC), ADMIN_PASSPHRASE)
    actions.decline(ctx, "smart-city", nip(2), PASSPHRASES[2], DECLINED, datetime.now(UTC))
    deadline = datetime.now(UTC) + timedelta(days=3)
    actions.publish(ctx, "tenggat", "Komitmen Bertenggat", text, [nip(3), nip(2)], "uji", datetime.now(UTC), deadline)
    with serving(env, port) as base:
        yield {"base": base, "revoked": str(revoked.entry.index)}


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_public_pages_fit_a_phone_and_say_what_the_ledger_proves(browser, site: dict[str, str], lang: str) -> None:
    base = site["base"]
    context, page, foreign, errors = _phone(browser, base, lang)
    try:
        page.goto(f"{base}/commitments/smart-city")
        _fits_the_phone(page)
        signed = page.locator("ol.signatures > li")
        assert [signed.nth(i).locator(".who").inner_text() for i in range(signed.count())] == [OFFICIALS[3], LONG]
        note = signed.nth(1).locator(".revoked-later")
        assert note.is_visible() and REASON in note.inner_text()
        assert ("tetap sah" if lang == "id" else "remains valid") in note.inner_text()
        declined = page.locator("ul.declined > li")
        assert declined.count() == 1 and DECLINED in declined.inner_text() and OFFICIALS[2] in declined.inner_text()
        _shot(page, f"public-commitment-360-{lang}")
        page.goto(f"{base}/commitments/tenggat")
        _fits_the_phone(page)
        assert page.locator("#deadline").is_visible() and "WIB" in page.locator("#deadline").inner_text()
        for path in ("/", "/ledger", f"/ledger/{site['revoked']}", f"/ledger/{int(site['revoked']) - 1}"):
            page.goto(base + path)
            _fits_the_phone(page)
        page.goto(f"{base}/ledger")
        assert REASON in page.inner_text("main") and DECLINED in page.inner_text("main")
        _shot(page, f"public-ledger-360-{lang}")
        assert not foreign and not errors, (foreign, errors)
    finally:
        context.close()
