"""The signing page on a phone, as its HTML says it (issue 13, points 1, 2 and the
enrolment part of 9): after an error the form opens at its message with the box as it
was and the field marked; who signs, and as what, next to the button; a session or form
that ended on an open page leads to the login and back, and signs nothing. The same in a
real browser: tests/web/test_sign_phone.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from signing import actions
from tests.factories import LedgerFactory, nip, passphrase
from web import accounts

from .conftest import Site, csrf_of, password, post

SIGN = "/sign/smart-city"


def _signatures(site: Site, n: int) -> int:
    with site.ledger.read() as r:
        return sum(1 for s in r.signatures("smart-city") if s.nip == nip(n))


def _tag(html: str, element_id: str) -> str:
    m = re.search(rf'<[a-z]+ id="{element_id}"[^>]*>', html)
    assert m, f"no #{element_id}"
    return m.group(0)


@pytest.mark.parametrize(
    ("form", "field", "ticked", "message"),
    [
        ({"passphrase": passphrase(1)}, "read", False, "Centang dulu"),
        ({"read": "yes"}, "passphrase", True, "Ketik frasa sandi"),
        ({"read": "yes", "passphrase": "bukan-frasa-yang-benar"}, "passphrase", True, "Frasa sandi"),
    ],
)
def test_after_an_error_the_form_opens_at_its_message_with_the_box_as_it_was(
    site: Site, form: dict[str, str], field: str, ticked: bool, message: str
) -> None:
    c = site.login(1)
    r = post(c, SIGN, form)
    assert r.status_code in (403, 422) and message in r.text
    assert 'action="/sign/smart-city#sign-box"' in r.text, "the answer opens at the signing box"
    assert 'id="sign-box"' in r.text and re.search(r'id="form-error" tabindex="-1"', r.text)
    box, secret = _tag(r.text, "read"), _tag(r.text, "passphrase")
    assert ("checked" in box) is ticked, box
    invalid, other = (box, secret) if field == "read" else (secret, box)
    assert 'aria-invalid="true"' in invalid and 'aria-describedby="form-error' in invalid
    assert "aria-invalid" not in other
    assert "value=" not in secret, "the passphrase is never sent back"
    if "passphrase" in form:
        assert form["passphrase"] not in r.text
    assert _signatures(site, 1) == 0


def test_the_page_says_who_signs_and_as_what_in_plain_words_with_the_details_kept(site: Site) -> None:
    page = site.login(1).get(SIGN).text
    assert "Anda menandatangani sebagai Pejabat 1, Kepala Dinas 1." in page
    assert '<a href="#sign-box">Langsung ke kotak tanda tangan' in page
    lead = re.search(r'<p class="lead">(.*?)</p>', page, re.S)
    assert lead and "SHA" not in lead.group(1) and "hash" not in lead.group(1)
    with site.ledger.read() as r:
        commitment = r.commitment("smart-city")
    assert commitment is not None
    details = page.split('<details class="statement">', 1)[1].split("</details>", 1)[0]
    assert "<summary>Rincian</summary>" in details and commitment.text_sha256 in details
    statement = ["ikrar/signature/v2", f"signer {nip(1)}", "name Pejabat 1", "capacity Kepala Dinas 1", "time …"]
    assert all(line in details for line in statement), "the statement the key signs (rules 4), its time open"
    assert page.count(commitment.text_sha256) == details.count(commitment.text_sha256), (
        "the hash is in the details only"
    )
    assert re.search(r'<script src="/static/js/sign\.js\?v=\w+" defer></script>', page)
    assert 'data-reveal="passphrase"' in page and "hidden>" in page, "the switch shows only with sign.js"
    english = site.login(2, "en").get(SIGN).text
    assert "You are signing as Pejabat 2, Kepala Dinas 2." in english and "Go to the signing box" in english


def test_a_position_ending_in_a_full_stop_gets_no_second_one(site: Site) -> None:
    from web.pages import sentence

    assert sentence("Anda menandatangani sebagai Dr. Hendra, M.T.") == "Anda menandatangani sebagai Dr. Hendra, M.T."
    assert sentence("You are signing as Sri, Kepala Dinas") == "You are signing as Sri, Kepala Dinas."
    assert sentence("Terima kasih, Sri Wahyuni, S.Pd. ") == "Terima kasih, Sri Wahyuni, S.Pd."


# -- a session or form that ended on an open signing page ---------------------------------------


def test_an_expired_session_on_the_open_form_leads_to_the_login_and_back(site: Site) -> None:
    c = site.login(1)
    token = csrf_of(c, SIGN)
    site.clock.advance(hours=8, seconds=1)  # the session has ended while the page was open
    r = c.post(SIGN, data={"csrf_token": token, "read": "yes", "passphrase": passphrase(1)})
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/sign/smart-city&ended=sign"
    assert _signatures(site, 1) == 0
    login = c.get(r.headers["location"])
    assert login.status_code == 200 and "Sesi Anda berakhir; masuk lagi untuk menandatangani" in login.text
    assert "tidak berasal dari situs ini" not in login.text
    assert 'name="next" value="/sign/smart-city"' in login.text
    back = post(c, "/login", {"nip": nip(1), "password": password(1), "next": SIGN}, form_page="/login")
    assert back.status_code == 303 and back.headers["location"] == SIGN
    assert 'name="passphrase"' in c.get(SIGN).text
    signed = post(c, SIGN, {"read": "yes", "passphrase": passphrase(1)})
    assert signed.status_code == 303 and _signatures(site, 1) == 1


def test_reloading_the_page_after_the_session_ended_says_so_too(site: Site) -> None:
    c = site.login(1)
    site.clock.advance(hours=8, seconds=1)
    r = c.get(SIGN)
    assert r.headers["location"] == "/login?next=/sign/smart-city&ended=sign"
    assert "Your session ended" in site.client("en").get(r.headers["location"]).text
    fresh = site.client().get(SIGN)  # never logged in: just the login, no news of a session
    assert fresh.headers["location"] == "/login?next=/sign/smart-city"


def test_a_stale_form_of_a_live_session_comes_back_and_signs_nothing(site: Site) -> None:
    c = site.login(1)
    other = site.login(2)
    for token in ("x" * 43, csrf_of(other, "/me"), None):  # forged, another session's, missing
        form = {"read": "yes", "passphrase": passphrase(1), **({"csrf_token": token} if token else {})}
        r = c.post(SIGN, data=form)
        assert r.status_code == 303 and r.headers["location"] == "/sign/smart-city?again=1"
    assert _signatures(site, 1) == 0
    page = c.get("/sign/smart-city?again=1")
    assert page.status_code == 200 and "Formulir tadi sudah tidak berlaku" in page.text
    assert c.get("/me").status_code == 200, "still logged in"


def test_a_post_from_another_site_signs_nothing(site: Site) -> None:
    victim = site.login(1)
    token = csrf_of(victim, SIGN)
    stranger = site.client()  # SameSite: a cross-site post comes without the session cookie
    r = stranger.post(SIGN, data={"csrf_token": token, "read": "yes", "passphrase": passphrase(1)})
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/sign/smart-city")
    assert _signatures(site, 1) == 0


# -- enrolment and login -------------------------------------------------------------------------------


def _hendra(site: Site) -> str:
    """Official 6, "Dr. Hendra Wijaya, M.T." (a name ending in a full stop), without a key: the link."""
    actions.register_official(
        site.ledger, nip(6), "Dr. Hendra Wijaya, M.T.", "Kepala Dinas", "Dinas PUPR", "official", site.world.now()
    )
    return site.invite(6)


def test_enrolment_marks_the_wrong_field_and_never_sends_a_secret_back(site: Site) -> None:
    link = _hendra(site)
    c = site.client()
    form = {"password": "kata-sandi-hendra", "password2": "kata-sandi-hendra", "passphrase": "frasa-hendra-1"}
    r = post(c, link, {**form, "passphrase2": "frasa-hendra-2"})
    assert r.status_code == 422 and "Frasa sandi" in r.text
    assert 'aria-invalid="true" aria-describedby="form-error"' in _tag(r.text, "passphrase2")
    assert "aria-invalid" not in _tag(r.text, "passphrase")
    for secret in ("kata-sandi-hendra", "frasa-hendra-1", "frasa-hendra-2"):
        assert secret not in r.text
    r = post(c, link, {**form, "password2": "lain"})
    assert 'aria-invalid="true"' in _tag(r.text, "password2")


@pytest.mark.parametrize("lang", ["id", "en"])
def test_enrolment_logs_the_official_in_and_ends_with_the_advice_to_keep_the_passphrase(site: Site, lang: str) -> None:
    link = _hendra(site)
    c = site.client(lang)
    pw, pp = "kata-sandi-hendra", "frasa tanda tangan hendra"
    r = post(c, link, {"password": pw, "password2": pw, "passphrase": pp, "passphrase2": pp})
    assert r.status_code == 200 and "ikrar_session=" in r.headers["set-cookie"]
    thanks = {"id": "Terima kasih, Dr. Hendra Wijaya, M.T. Akun", "en": "Thank you, Dr. Hendra Wijaya, M.T. Your"}
    assert thanks[lang] in r.text and "M.T.." not in r.text
    keep = {"id": "Simpan frasa sandi Anda baik-baik", "en": "Keep your passphrase safe"}
    assert keep[lang] in r.text and 'href="/me"' in r.text
    me = c.get("/me")
    assert me.status_code == 200 and "Dr. Hendra Wijaya, M.T." in me.text, "logged in"
    assert accounts.authenticate(site.ledger, nip(6), pw, site.clock()).nip == nip(6)


def test_a_password_link_logs_in_too_and_says_the_passphrase_is_unchanged(site: Site) -> None:
    link = site.invite(1)  # official 1 has a key: the link only sets a new password
    c = site.client()
    r = post(c, link, {"password": "kata-sandi-baru-1", "password2": "kata-sandi-baru-1"})
    assert r.status_code == 200 and "frasa sandi penandatanganan tidak berubah" in r.text
    assert "Simpan frasa sandi" not in r.text
    assert c.get(SIGN).status_code == 200, "logged in: the signing page opens"


def test_the_login_form_asks_for_a_nip_or_id_on_a_keyboard_with_letters(site: Site) -> None:
    page = site.client().get("/login").text
    assert '<label for="nip">NIP atau ID</label>' in page
    assert "inputmode" not in _tag(page, "nip"), "a keyboard with letters: an ID has some"
    assert "NIP or ID" in site.client("en").get("/login").text


def test_a_login_takes_a_nip_or_a_given_identifier_as_typed_on_a_phone() -> None:
    assert accounts.clean_nip(" 1975 0314 2001 041003 ") == "197503142001041003"
    assert accounts.clean_nip("PN-7kq3xa ") == "pn-7kq3xa", "a phone capitalises the first letter"
    assert accounts.is_login_id("197503142001041003") and accounts.is_login_id("pn-7kq3xa")
    for wrong in ("12345", "1975031420010410031", "pn-7kq3x", "pn-7kq3xa1", "pn-7kq3x0", "pn_7kq3xa", ""):
        assert not accounts.is_login_id(accounts.clean_nip(wrong)), wrong


def test_the_capacity_in_force_is_the_one_signed_in(site: Site) -> None:
    site.world.update(1, acting="Plt.", appointment="800.1.3.3/45/419.022/2026", title="Kepala Dinas Perhubungan")
    page = site.login(1).get(SIGN).text
    capacity = "Plt. Kepala Dinas Perhubungan (Nomor 800.1.3.3/45/419.022/2026)"
    assert f"Anda menandatangani sebagai Pejabat 1, {capacity}." in page
    assert f"capacity {capacity}" in page
    c = site.login(1)
    assert post(c, SIGN, {"read": "yes", "passphrase": passphrase(1)}).status_code == 303
    with site.ledger.read() as r:
        [signed] = [s for s in r.signatures("smart-city") if s.nip == nip(1)]
    assert site.ledger.entry(signed.index).fields["capacity"] == capacity, "the page said what the entry records"


# -- declining (rules version 4) -------------------------------------------------------------------


def _declines(site: Site, n: int) -> list[str]:
    with site.ledger.read() as r:
        return [d.reason for d in r.declines("smart-city") if d.nip == nip(n)]


def test_an_official_declines_with_a_reason_and_the_passphrase_and_it_is_final(site: Site) -> None:
    c = site.login(2)
    page = c.get(SIGN).text
    assert 'action="/sign/smart-city/decline#decline-box"' in page and "Tolak menandatangani" in page
    r = post(c, "/sign/smart-city/decline", {"reason": "  ", "passphrase": passphrase(2)}, SIGN)
    assert r.status_code == 422 and "Alasan belum diisi" in r.text
    assert 'id="decline-box" open' in r.text and 'aria-invalid="true"' in _tag(r.text, "reason")
    assert "aria-invalid" not in _tag(r.text, "read"), "the signing form is not the one refused"
    reason = "Sedang dinas luar kota & belum membaca lampiran"
    r = post(c, "/sign/smart-city/decline", {"reason": reason, "passphrase": "bukan-frasa-yang-benar"}, SIGN)
    assert r.status_code == 403 and "Frasa sandi salah" in r.text
    assert "Sedang dinas luar kota &amp; belum membaca lampiran</textarea>" in r.text, "the reason is kept"
    assert 'aria-invalid="true"' in _tag(r.text, "decline-passphrase") and _declines(site, 2) == []
    r = post(c, "/sign/smart-city/decline", {"reason": reason, "passphrase": passphrase(2)}, SIGN)
    assert r.status_code == 303 and r.headers["location"] == "/sign/smart-city?done=1"
    assert _declines(site, 2) == [reason]
    done = c.get(r.headers["location"]).text
    assert "Anda telah menolak menandatangani «Komitmen Bersama»" in done and reason.replace("&", "&amp;") in done
    assert 'name="passphrase"' not in done
    assert "Lihat penolakan" in c.get("/me").text
    again = post(c, SIGN, {"read": "yes", "passphrase": passphrase(2)}, form_page="/me")
    assert again.status_code == 303 and _signatures(site, 2) == 0, "no signature after a decline"
    assert "Anda telah menolak menandatangani" in c.get(again.headers["location"]).text  # the decline stands
    english = site.login(2, "en").get(SIGN).text
    assert "You have declined to sign «Komitmen Bersama»" in english


def test_a_wrong_passphrase_when_declining_counts_towards_the_lock_as_when_signing(site: Site) -> None:
    c = site.login(3)
    for _ in range(accounts.FREE_FAILURES + 1):
        post(c, "/sign/smart-city/decline", {"reason": "Tidak setuju", "passphrase": "salah-salah-salah"}, SIGN)
    r = post(c, "/sign/smart-city/decline", {"reason": "Tidak setuju", "passphrase": passphrase(3)}, SIGN)
    assert r.status_code == 429 and _declines(site, 3) == []
    r = post(c, SIGN, {"read": "yes", "passphrase": passphrase(3)})
    assert r.status_code == 429, "the same count as signing"


def test_an_expired_session_on_the_decline_form_comes_back_to_the_signing_page(site: Site) -> None:
    c = site.login(1)
    token = csrf_of(c, SIGN)
    site.clock.advance(hours=8, seconds=1)
    r = c.post("/sign/smart-city/decline", data={"csrf_token": token, "reason": "x", "passphrase": passphrase(1)})
    assert r.headers["location"] == "/login?next=/sign/smart-city&ended=sign" and _declines(site, 1) == []
    live = site.login(1)
    r = live.post("/sign/smart-city/decline", data={"csrf_token": "x" * 43, "reason": "x", "passphrase": passphrase(1)})
    assert r.headers["location"] == "/sign/smart-city?again=1" and _declines(site, 1) == []


# -- officials without a NIP -----------------------------------------------------------------------


def test_an_official_without_a_nip_logs_in_with_their_identifier_typed_in_capitals(site: Site) -> None:
    identifier = site.world.without_nip()
    accounts.set_password(site.ledger, identifier, "kata-sandi-wali-kota", site.clock())
    c = site.client()
    typed = identifier.upper()
    r = post(c, "/login", {"nip": f" {typed} ", "password": "kata-sandi-wali-kota"}, form_page="/login")
    assert r.status_code == 303
    me = c.get("/me").text
    assert "Wali Kota Uji" in me and f"NIP {identifier}" not in me and f"ID {identifier}" in me
    assert f"NIP {nip(1)}" in site.login(1).get("/me").text


def test_the_deadline_is_shown_and_once_passed_the_forms_are_gone(site: Site) -> None:
    from datetime import timedelta

    soon = site.world.now() + timedelta(minutes=30)  # the site's clock is an hour after the world's
    actions.publish(site.world.ctx, "tutup", "Sudah ditutup", "Isi.\n", [nip(1)], "admin", site.world.now(), soon)
    later = site.clock() + timedelta(days=2)
    actions.publish(site.world.ctx, "buka", "Masih dibuka", "Isi.\n", [nip(1)], "admin", site.world.now(), later)
    c = site.login(1)
    open_page = c.get("/sign/buka").text
    assert "Batas waktu penandatanganan:" in open_page and 'name="passphrase"' in open_page
    closed = c.get("/sign/tutup").text
    assert "Penandatanganan komitmen ini ditutup pada" in closed
    assert 'name="passphrase"' not in closed and "decline-box" not in closed


def test_a_ledger_under_older_rules_shows_the_v1_statement_and_offers_no_decline(
    ledger_factory: LedgerFactory, db_url: str, tmp_path: Path
) -> None:
    from .conftest import build_site

    site = build_site(ledger_factory.created(rules=3).with_commitment(officials=3), db_url, tmp_path)
    c = site.login(1)
    page = c.get(SIGN).text
    details = page.split('<details class="statement">', 1)[1].split("</details>", 1)[0]
    assert "ikrar/signature/v1" in details and "capacity " not in details
    assert "decline-box" not in page and "Anda menandatangani sebagai Pejabat 1, Kepala Dinas 1." in page
    for client in site.clients:
        client.close()
