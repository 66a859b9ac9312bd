"""Issue 10 on the web: no one signs for an official. An admin invites, approves and revokes
with their own signing passphrase; one admin alone cannot give an official a new key (the
enrolment through the link is refused, no key becomes active, nothing is signed); with a
second admin's approval, given on the web, it works."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from ledger.models import Throttle
from signing import actions
from tests.factories import ADMIN as FOUNDER
from tests.factories import nip, passphrase, tables
from web import accounts

from .conftest import ADMIN, Site, csrf_of, password, post

LINK = re.compile(r"readonly>http://testserver(/enrol/[A-Za-z0-9_-]{43})</textarea>")
NEW_PASSWORD = "kata-sandi-baru-masuk"
NEW_PASSPHRASE = "frasa-baru-tanda-tangan"
ATTACKER = "kunci-penyerang-rahasia"


@pytest.fixture()
def second_admin(site: Site) -> TestClient:
    """The factory's founding admin (`nip(99)`, with its own admin key) logged in: a second,
    different admin next to the site's `ADMIN`."""
    accounts.set_password(site.ledger, nip(FOUNDER), password(FOUNDER), site.clock())
    return site.login(FOUNDER)


def _revoke(admin: TestClient, n: int, secret: str | None = None) -> Response:
    form = {"reason": "laptop hilang"} | ({"passphrase": secret} if secret is not None else {})
    return post(admin, f"/admin/officials/{nip(n)}/revoke", form)


def _invite(admin: TestClient, ns: list[int], secret: str = passphrase(ADMIN)) -> Response:
    return post(admin, "/admin/invite", {"nip": [nip(n) for n in ns], "passphrase": secret}, form_page="/admin/invite")


def _links(page: Response) -> list[str]:
    assert page.status_code == 200, page.text
    return LINK.findall(page.text)


def _enrol(site: Site, link: str, secret: str = NEW_PASSPHRASE, form_page: str | None = None) -> Response:
    """Enrol through the link's page (or with the anonymous form token of `form_page`, as a
    form kept open from before, or made by hand, would)."""
    form = {"password": NEW_PASSWORD, "password2": NEW_PASSWORD, "passphrase": secret, "passphrase2": secret}
    return post(site.client(), link, form, form_page)


def _keys(site: Site) -> list[Path]:
    return sorted(site.world.keys.directory.iterdir())


def _signed_by(site: Site, n: int) -> list[int]:
    entries = site.ledger.entries(0, site.ledger.size())
    return [e.index for e in entries if e.kind == "commitment.signed" and e.fields["nip"] == nip(n)]


def test_one_admin_alone_cannot_give_an_official_a_new_key(site: Site) -> None:
    """Revoke, invite, enrol, sign — with one admin the enrolment is refused with a clear
    message: no key becomes active and nothing is signed."""
    admin = site.login(ADMIN)
    r = _revoke(admin, 1, passphrase(ADMIN))
    assert r.status_code == 303 and r.headers["location"] == "/admin?ok=revoked"
    revoked = site.ledger.entry(site.ledger.size() - 1)
    assert revoked.kind == "key.revoked" and revoked.fields["by"] == nip(ADMIN) and revoked.fields["revocation"]

    page = _invite(admin, [1])
    [link] = _links(page)
    assert "baru dapat dipakai setelah admin lain menyetujui" in page.text

    shown = site.client().get(link)
    assert shown.status_code == 200 and "Menunggu persetujuan admin kedua" in shown.text
    assert 'name="passphrase"' not in shown.text, "nothing to type before the approval"

    size, keys = site.ledger.size(), _keys(site)
    r = _enrol(site, link, ATTACKER, form_page="/login")  # the page shows no form
    assert r.status_code == 403
    assert "Undangan ini masih menunggu persetujuan admin kedua" in r.text and "Tidak ada yang dicatat" in r.text
    assert site.ledger.size() == size and _keys(site) == keys
    assert actions.active_key(site.ledger, nip(1)) is None

    official = site.login(1)
    assert "belum memiliki kunci tanda tangan yang aktif" in official.get("/sign/smart-city").text
    r = post(official, "/sign/smart-city", {"read": "yes", "passphrase": ATTACKER})
    assert r.status_code == 403 and site.ledger.size() == size and not _signed_by(site, 1)

    # The attester sees the invitation waiting, and why they cannot approve it themself.
    dashboard = admin.get("/admin").text
    assert "Menunggu persetujuan admin kedua (1)" in dashboard and "laptop hilang" in dashboard
    assert "Anda yang mengundang; persetujuan harus dari admin lain." in dashboard
    assert f'action="/admin/officials/{nip(1)}/approve"' not in dashboard
    invitation = site.ledger.invitations.latest(nip(1))
    assert invitation is not None
    form = {"invitation": invitation.id, "passphrase": passphrase(ADMIN)}
    r = post(admin, f"/admin/officials/{nip(1)}/approve", form, form_page="/admin")
    assert r.status_code == 403 and "Anda yang mengundang; persetujuan harus dari admin lain." in r.text
    latest = site.ledger.invitations.latest(nip(1))
    assert latest is not None and latest.approved_by is None


def test_with_a_second_admins_approval_the_official_enrols_and_signs(site: Site, second_admin: TestClient) -> None:
    admin = site.login(ADMIN)
    assert _revoke(admin, 1, passphrase(ADMIN)).status_code == 303
    [link] = _links(_invite(admin, [1]))

    dashboard = second_admin.get("/admin").text
    assert "Menunggu persetujuan admin kedua (1)" in dashboard
    assert f"Diundang oleh Operator Kominfo (NIP {nip(ADMIN)})" in dashboard
    assert f"dicabut oleh Operator Kominfo (NIP {nip(ADMIN)})" in dashboard and "«laptop hilang»" in dashboard
    assert f'action="/admin/officials/{nip(1)}/approve"' in dashboard
    invitation = site.ledger.invitations.latest(nip(1))
    assert invitation is not None
    form = {"invitation": invitation.id, "passphrase": passphrase(FOUNDER)}
    r = post(second_admin, f"/admin/officials/{nip(1)}/approve", form, form_page="/admin")
    assert r.status_code == 303 and r.headers["location"] == "/admin?ok=approved"
    assert "Undangan disetujui" in second_admin.get(r.headers["location"]).text

    assert 'name="passphrase"' in site.client().get(link).text, "the form is there now"
    r = _enrol(site, link)
    assert r.status_code == 200 and "Pendaftaran selesai" in r.text
    enrolled = site.ledger.entry(site.ledger.size() - 1)
    assert enrolled.kind == "key.enrolled" and enrolled.fields["nip"] == nip(1)
    assert (enrolled.fields["attested_by"], enrolled.fields["approved_by"]) == (nip(ADMIN), nip(FOUNDER))

    official = site.client()
    r = post(official, "/login", {"nip": nip(1), "password": NEW_PASSWORD}, form_page="/login")
    assert r.status_code == 303
    r = post(official, "/sign/smart-city", {"read": "yes", "passphrase": NEW_PASSPHRASE})
    assert r.status_code == 303 and _signed_by(site, 1)


def test_one_passphrase_invites_several_officials(site: Site) -> None:
    for n in (5, 6, 7):
        site.world.official(n, enrol=False)
    admin = site.login(ADMIN)
    form = admin.get(f"/admin/invite?nip={nip(6)}").text
    assert f'value="{nip(6)}" checked' in form and f'value="{nip(5)}">' in form
    assert f'value="{nip(1)}"' not in form, "an official with an active key is not offered"

    page = _invite(admin, [5, 6, 7])
    links = _links(page)
    assert len(set(links)) == 3 and page.text.count("dapat langsung dipakai") == 3
    for n in (5, 6, 7):
        invitation = site.ledger.invitations.latest(nip(n))
        assert invitation is not None and invitation.attested_by == nip(ADMIN) and not invitation.needs_approval
    assert _enrol(site, links[1]).status_code == 200
    enrolled = site.ledger.entry(site.ledger.size() - 1)
    assert enrolled.fields["nip"] == nip(6) and enrolled.fields["attested_by"] == nip(ADMIN)
    assert "approved_by" not in enrolled.fields


def _sign_failures(site: Site, n: int) -> int:
    with tables(site.ledger) as s:
        row = s.get(Throttle, ("sign", nip(n)))
    return 0 if row is None else row.failures


def test_a_wrong_admin_passphrase_creates_nothing_and_is_throttled(site: Site) -> None:
    site.world.official(5, enrol=False)
    admin = site.login(ADMIN)
    r = _invite(admin, [5], "bukan-frasa-sandinya")
    assert r.status_code == 403 and "Frasa sandi penandatanganan Anda salah" in r.text
    assert 'role="alert"' in r.text and f'value="{nip(5)}" checked' in r.text, "the form again, as ticked"
    assert site.ledger.invitations.latest(nip(5)) is None
    assert _sign_failures(site, ADMIN) == 1

    for attempt in range(2, accounts.LOCK_AFTER + 1):
        site.clock.advance(seconds=40)  # past each wait, within the re-authentication's minutes
        r = _invite(admin, [5], "bukan-frasa-sandinya")
        assert r.status_code == (429 if attempt == accounts.LOCK_AFTER else 403), (attempt, r.status_code)
    assert "dikunci sampai" in r.text
    r = _invite(admin, [5])
    assert r.status_code == 429, "while locked, the right passphrase is refused too"
    assert site.ledger.invitations.latest(nip(5)) is None


def test_a_right_admin_passphrase_clears_the_count(site: Site) -> None:
    site.world.official(5, enrol=False)
    admin = site.login(ADMIN)
    assert _invite(admin, [5], "bukan-frasa-sandinya").status_code == 403
    assert _sign_failures(site, ADMIN) == 1
    assert len(_links(_invite(admin, [5]))) == 1
    assert _sign_failures(site, ADMIN) == 0


def test_a_revocation_needs_the_admins_own_passphrase(site: Site) -> None:
    admin = site.login(ADMIN)
    form = admin.get(f"/admin/officials/{nip(2)}/revoke").text
    assert 'name="passphrase"' in form and "Frasa sandi penandatanganan Anda sendiri" in form
    size = site.ledger.size()
    r = _revoke(admin, 2)
    assert r.status_code == 422 and "Ketik frasa sandi penandatanganan Anda." in r.text
    assert "laptop hilang" in r.text, "the reason typed is kept"
    r = _revoke(admin, 2, passphrase(2))  # the official's passphrase is not the admin's
    assert r.status_code == 403 and "Frasa sandi penandatanganan Anda salah" in r.text
    assert site.ledger.size() == size and actions.active_key(site.ledger, nip(2)) is not None
    assert _revoke(admin, 2, passphrase(ADMIN)).status_code == 303
    assert site.ledger.entry(size).fields["by"] == nip(ADMIN)


def test_an_admin_without_an_admin_key_is_told_to_get_one_first(site: Site) -> None:
    actions.register_official(
        site.ledger, nip(8), "Admin Baru", "Pranata Komputer", "Diskominfo", "admin", site.world.now()
    )
    accounts.set_password(site.ledger, nip(8), password(8), site.clock())
    admin = site.login(8)
    notice = "Anda belum memiliki kunci admin yang aktif"
    dashboard = admin.get("/admin").text
    assert notice in dashboard and f"ikrar official enrol --nip {nip(8)}" in dashboard
    for page in (f"/admin/officials/{nip(2)}/revoke", "/admin/invite"):
        shown = admin.get(page).text
        assert notice in shown and 'name="passphrase"' not in shown, page
    size = site.ledger.size()
    r = _revoke(admin, 2, "apa-saja-frasanya")
    assert r.status_code == 403 and notice in r.text and site.ledger.size() == size
    assert _sign_failures(site, 8) == 0, "no passphrase was tried"


def test_the_password_link_makes_no_key_and_an_official_without_a_key_is_invited_instead(site: Site) -> None:
    admin = site.login(ADMIN)
    dashboard = admin.get("/admin").text
    assert "Tautan kata sandi baru" in dashboard and "tidak membuat kunci" in dashboard
    r = post(admin, f"/admin/officials/{nip(3)}/invite", {}, form_page="/admin")
    assert r.status_code == 200 and "tidak ada kunci yang dibuat" in r.text
    [link] = _links(r)
    assert 'name="passphrase"' not in site.client().get(link).text
    site.world.official(5, enrol=False)
    r = post(admin, f"/admin/officials/{nip(5)}/invite", {}, form_page="/admin")
    assert r.status_code == 303 and r.headers["location"] == f"/admin/invite?nip={nip(5)}"
    assert site.ledger.invitations.latest(nip(5)) is None


def test_a_stale_password_is_asked_again_before_an_invitation(site: Site) -> None:
    site.world.official(5, enrol=False)
    admin = site.login(ADMIN)
    token = csrf_of(admin, "/admin")
    site.clock.advance(minutes=6)
    r = admin.post("/admin/invite", data={"nip": nip(5), "passphrase": passphrase(ADMIN), "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == f"/admin/confirm?next=/admin/invite%3Fnip%3D{nip(5)}"
    assert site.ledger.invitations.latest(nip(5)) is None
    for path in ("/admin/invite", f"/admin/officials/{nip(2)}/revoke", "/admin/commitments/new"):
        assert admin.get(path).headers["location"].startswith("/admin/confirm?next="), path


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_vouching_pages_answer_in_both_languages(site: Site, second_admin: TestClient, lang: str) -> None:
    admin = site.login(ADMIN, lang)
    assert _revoke(admin, 1, passphrase(ADMIN)).status_code == 303
    [link] = _links(_invite(admin, [1]))
    other = site.login(FOUNDER, lang)
    marker = {"id": "Setujui", "en": "Approve"}[lang]
    for c, path in ((other, "/admin"), (other, f"/admin/officials/{nip(1)}/approve"), (admin, "/admin/invite")):
        r = c.get(path)
        assert r.status_code == 200 and f'<html lang="{lang}">' in r.text, path
    assert marker in other.get(f"/admin/officials/{nip(1)}/approve").text
    waits = {"id": "Menunggu persetujuan admin kedua", "en": "Waiting for a second admin"}[lang]
    assert waits in site.client(lang).get(link).text
