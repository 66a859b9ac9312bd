"""The official would know (issue 10, point 4): their page lists every key event of theirs
from the ledger, a key event since their previous login is told first at login, and the
verify page says when the signing key was enrolled and who vouched for it.

Every name shown is the ledger's: an admin as their own `key.enrolled` entry names them,
which no later edit of the register changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import update

from ledger.errors import LedgerError
from ledger.models import Official, OfficialKey
from signing import actions, vouching
from signing.cert_words import format_nip
from tests.factories import ADMIN, ADMIN_NIP, ADMIN_PASSPHRASE, SECOND_ADMIN, LedgerFactory, nip, passphrase, tables
from web import accounts
from web.app import create_app
from web.key_history import NOTICE_COOKIE
from web.runtime import Runtime

from .conftest import Clock, Site, password, post, web_settings

ORG = "Pemerintah Kota Kediri (uji)"  # the factory's ledger.created `org`
NEW_PASSPHRASE = "kunci-baru-sekali-1"
FIRST_ADMIN = f"Admin Diskominfo (Pranata Komputer, Dinas Kominfo; NIP {format_nip(ADMIN_NIP)})"
SECOND = f"Admin Kedua (Pranata Komputer, Dinas Kominfo; NIP {format_nip(nip(SECOND_ADMIN))})"
NOTICE = 'id="key-notice"'


@pytest.fixture()
def site(world: LedgerFactory, db_url: str, tmp_path: Path) -> Iterator[Site]:
    """The app over `world` (rules version 3): official 1 enrolled on the founding admin's
    attestation, a second admin approved with the ledger's key; logins for both admins and
    official 1. Ledger actions after the start are dated by the app's clock."""
    world.second_admin()
    clock = Clock(world.now() + timedelta(hours=1))
    for n in (1, ADMIN, SECOND_ADMIN):
        accounts.set_password(world.ledger, nip(n), password(n), clock())
    app = create_app(Runtime.with_context(web_settings(db_url, tmp_path), world.ctx), clock=clock)
    built = Site(world, app, clock)
    yield built
    for c in built.clients:
        c.close()


def _now(site: Site):
    site.clock.advance(minutes=1)
    return site.clock()


def _revoke(site: Site, reason: str = "laptop hilang") -> int:
    return actions.revoke(site.world.ctx, nip(1), reason, ADMIN_NIP, _now(site), ADMIN_PASSPHRASE).entry.index


def _replace(site: Site) -> int:
    """Official 1's new key: invited by the first admin (who revoked the old one), approved by the second."""
    ctx = site.world.ctx
    vouching.invite(ctx, actions.get_official(site.ledger, nip(1)), ADMIN_NIP, ADMIN_PASSPHRASE, _now(site), hours=72)
    official = actions.get_official(site.ledger, nip(1))
    vouching.approve(ctx, official, nip(SECOND_ADMIN), passphrase(SECOND_ADMIN), _now(site))
    return actions.enrol(ctx, nip(1), NEW_PASSPHRASE, _now(site)).entry.index


def _login(site: Site, n: int, next: str = "") -> tuple[TestClient, Response]:
    site.clock.advance(seconds=10)  # not in the second of the entry before (told again rather than missed)
    c = site.client()
    r = post(c, "/login", {"nip": nip(n), "password": password(n), "next": next}, form_page="/login")
    assert r.status_code == 303, r.text
    return c, r


def _text(html: str) -> str:
    """The page's words, tags and spacing aside."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("&#39;", "'").split())


def _history(html: str) -> list[str]:
    """The cards of the key history, newest first, as text."""
    section = html.split('id="key-history"', 1)[1]
    return [_text(card) for card in re.findall(r'<li class="card key-event">(.*?)</li>', section, re.S)]


def test_the_official_page_lists_every_key_event_with_the_admins_the_ledger_names(site: Site) -> None:
    with site.ledger.read() as r:
        (enrolled,) = (e.index for e in r.key_events(nip(1)))
    revoked = _revoke(site)
    replaced = _replace(site)
    c, _ = _login(site, 1)
    page = c.get("/me")
    assert page.status_code == 200
    cards = _history(page.text)
    assert len(cards) == 3, cards
    newest, middle, first = cards
    assert f"Entri #{replaced}" in newest and "Kunci tanda tangan didaftarkan pada" in newest
    assert f"Atas pernyataan {FIRST_ADMIN}." in newest
    assert f"Karena menggantikan kunci sebelumnya, pendaftaran ini disetujui oleh {SECOND}." in newest
    assert f"Entri #{revoked}" in middle and "Kunci dicabut" in middle
    assert f"oleh {FIRST_ADMIN}, dengan alasan: “laptop hilang”." in middle
    assert f"Entri #{enrolled}" in first and f"Atas pernyataan {FIRST_ADMIN}." in first
    assert "disetujui" not in first, "a first key needs no second admin"
    for index in (enrolled, revoked, replaced):
        assert f'href="/ledger/{index}"' in page.text

    # The register is not the ledger: renaming the admin there changes nothing the history says.
    with tables(site.ledger) as s:
        admin = s.get(Official, ADMIN_NIP)
        assert admin is not None
        admin.name = "Nama Palsu"
        s.add(admin)
        s.commit()
    again = c.get("/me")
    assert _history(again.text) == cards
    assert "Nama Palsu" not in again.text.split('id="key-history"', 1)[1]

    c.cookies.set("ikrar_lang", "en")
    english = c.get("/me")
    assert "Your key history" in english.text
    assert f"As it replaced an earlier key, the enrolment was approved by {SECOND}." in _text(english.text)


def test_a_revocation_since_the_last_login_is_told_first_and_only_until_the_next_login(site: Site) -> None:
    first, r = _login(site, 1)
    assert r.headers["location"] == "/me" and NOTICE not in first.get("/me").text, "a first login has no news"

    revoked = _revoke(site)
    second, r = _login(site, 1, next="/sign/smart-city")
    assert r.headers["location"] == "/me?then=/sign/smart-city", "the news comes before where the login was going"
    page = second.get(r.headers["location"])
    assert page.text.index(NOTICE) < page.text.index("<h1"), "shown first"
    notice = _text(page.text.split(NOTICE, 1)[1].split("</section>", 1)[0])
    assert (
        "Kunci tanda tangan Anda DICABUT pada Senin, 5 Januari 2026 pukul " in notice
        and f"oleh {FIRST_ADMIN}: “laptop hilang”." in notice
        and f"Jika ini bukan atas permintaan Anda, segera hubungi Dinas Komunikasi dan Informatika {ORG}." in notice
    ), notice
    assert "DIDAFTARKAN" not in notice, "only what came since the previous login"
    assert NOTICE not in first.get("/me").text, "the session of the login before is not told"
    assert f'href="/ledger/{revoked}"' in page.text and 'href="/sign/smart-city"' in page.text
    assert NOTICE in second.get("/me").text, "the notice lasts as long as this login"

    third, r = _login(site, 1)
    assert r.headers["location"] == "/me"
    assert NOTICE not in third.get("/me").text, "told once: a second login has nothing new"
    assert "Kunci dicabut" in third.get("/me").text, "the history still lists it"


def test_the_notice_cookie_serves_only_its_own_session(site: Site) -> None:
    _login(site, 1)
    _revoke(site)
    told, _ = _login(site, 1)
    cookie = told.cookies[NOTICE_COOKIE]
    assert NOTICE in told.get("/me").text
    other, _ = _login(site, 1)  # a later login: nothing new for it
    assert NOTICE not in other.get("/me").text
    for forged in (cookie, "0." + cookie.split(".", 1)[1], "0.1.x", "9" * 300):
        other.cookies.set(NOTICE_COOKIE, forged)
        assert NOTICE not in other.get("/me").text, forged


def test_an_admin_is_told_too_and_then_sent_on_to_the_admin_page(site: Site) -> None:
    _, r = _login(site, ADMIN)
    assert r.headers["location"] == "/admin"
    actions.revoke(site.world.ctx, ADMIN_NIP, "pindah tugas", nip(SECOND_ADMIN), _now(site), passphrase(SECOND_ADMIN))
    c, r = _login(site, ADMIN)
    assert r.headers["location"] == "/me?then=/admin"
    notice = _text(c.get(r.headers["location"]).text.split(NOTICE, 1)[1].split("</section>", 1)[0])
    assert "DICABUT pada Senin, 5 Januari 2026 pukul" in notice and f"oleh {SECOND}: “pindah tugas”." in notice


def test_the_verify_page_says_when_the_key_was_enrolled_and_who_approved_the_replacement(site: Site) -> None:
    _revoke(site)
    replaced = _replace(site)
    index = actions.sign(site.world.ctx, "smart-city", nip(1), NEW_PASSPHRASE, _now(site)).entry.index
    page = site.client().get(f"/v/{index}")
    assert page.status_code == 200
    said = _enrolment(page.text)
    assert said.startswith("Kunci tanda tangan didaftarkan pada Senin, 5 Januari 2026 pukul"), said
    assert f"Atas pernyataan {FIRST_ADMIN}." in said
    assert said.endswith(f"pendaftaran ini disetujui oleh {SECOND}. Entri #{replaced}"), said
    assert f'href="/ledger/{replaced}"' in page.text

    plain = actions.sign(site.world.ctx, "smart-city", nip(2), passphrase(2), _now(site)).entry.index
    said = _enrolment(site.client("en").get(f"/v/{plain}").text)
    assert said.startswith("Signing key enrolled on Monday, 5 January 2026 at"), said
    assert f"Attested by {FIRST_ADMIN}." in said and "approved" not in said


def _enrolment(html: str) -> str:
    found = re.search(r'<dt>[^<]*</dt><dd class="key-enrolment">(.*?)</dd>', html, re.S)
    assert found, "the verify page says nothing of the key's enrolment"
    return _text(found.group(1))


def test_a_key_table_that_points_elsewhere_is_named_damaged_not_shown(site: Site) -> None:
    """The history is read from the entries the key table points at: pointing it at another
    official's entry is caught, never shown as theirs."""
    with site.ledger.read() as r:
        other = r.key_events(nip(2))[0].index
    with tables(site.ledger) as s:
        s.exec(update(OfficialKey).where(OfficialKey.nip == nip(1)).values(enrolled_index=other))
        s.commit()
    with site.ledger.read() as r, pytest.raises(LedgerError, match="damaged, run `ikrar audit`"):
        r.key_events(nip(1))
