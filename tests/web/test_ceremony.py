"""The operator's ceremony view (issue 13.4), reminders (13.5), publishing without friction and
in protocol order (13.9, 12.6), and the officials' list sorted by name without titles.

A prepared world: the Wali Kota has no key, the Wakil Wali Kota an unused invitation, the
Sekretaris Daerah a signing lock, an Asisten has signed, two heads of agency have not (one
with no e-mail address and no login). Reminders go through the mail outbox to a real SMTP
server (aiosmtpd)."""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from ledger import outbox
from ledger.outbox import Outbox, ReminderRound
from signing import actions
from tests.factories import LedgerFactory, nip, passphrase
from web import accounts
from web.app import create_app
from web.errors import Throttled
from web.i18n import Translator
from web.mail import deliver_due
from web.routes_admin import free_slug, slugify
from web.runtime import Runtime

from .conftest import ADMIN, Site, build_site, csrf_of, password, post, web_settings
from .test_mail import LocalSmtp, Received, smtp  # noqa: F401 - the SMTP server fixture

SLUG = "komitmen-bersama-smart-city-kota-kediri"
TITLE = "Komitmen Bersama Smart City Kota Kediri"
AGENCIES = ["Pemerintah Kota Kediri", "Sekretariat Daerah", "Dinas Perhubungan", "Dinas Kesehatan"]
WALI_KOTA, WAKIL, SEKDA, ASISTEN, PERHUBUNGAN, KESEHATAN = 11, 12, 13, 14, 15, 16
PEOPLE = {  # n: name, position, agency, e-mail
    WALI_KOTA: (
        "H. Abdullah Abu Bakar, S.E.",
        "Wali Kota Kediri",
        "Pemerintah Kota Kediri",
        "walikota@kedirikota.go.id",
    ),
    WAKIL: ("Regina Nadya Suwono", "Wakil Wali Kota Kediri", "Pemerintah Kota Kediri", "wawali@kedirikota.go.id"),
    SEKDA: ("Drs. Bagus Alit, M.Si.", "Sekretaris Daerah Kota Kediri", "Sekretariat Daerah", "sekda@kedirikota.go.id"),
    ASISTEN: ("Ir. Zainal Arifin", "Asisten Pemerintahan dan Kesejahteraan Rakyat", "Sekretariat Daerah", None),
    PERHUBUNGAN: (
        "Budi Santoso, S.Kom., M.T.",
        "Plt. Kepala Dinas Perhubungan Kota Kediri",
        "Dinas Perhubungan",
        "dishub@kedirikota.go.id",
    ),
    KESEHATAN: ("dr. Fauzan Adima, M.Kes.", "Kepala Dinas Kesehatan Kota Kediri", "Dinas Kesehatan", None),
}
PROTOCOL = [WALI_KOTA, WAKIL, SEKDA, ASISTEN, PERHUBUNGAN, KESEHATAN]  # with AGENCIES: Perhubungan first
STATES = {
    WALI_KOTA: "no_key",
    WAKIL: "pending",
    SEKDA: "locked",
    ASISTEN: "signed",
    PERHUBUNGAN: "not_signed",
    KESEHATAN: "not_signed",
}
ROW = re.compile(r'<tr id="s-([^"]+)" data-state="([a-z_]+)">')


@dataclass
class Ceremony:
    site: Site
    smtp: LocalSmtp

    @property
    def world(self) -> LedgerFactory:
        return self.site.world

    def admin(self, lang: str | None = None):
        return self.site.login(ADMIN, lang)

    def rows(self, page: str) -> list[tuple[str, str]]:
        return ROW.findall(page)


def register(world: LedgerFactory, n: int) -> None:
    name, title, unit, email = PEOPLE[n]
    actions.register_official(world.ledger, nip(n), name, title, unit, "official", world.now(), email)


def enrol(world: LedgerFactory, n: int) -> None:
    world.invite(n)
    actions.enrol(world.ctx, nip(n), passphrase(n), world.now())


def lock_signing(site: Site, n: int) -> None:
    """Wrong signing passphrases until the "sign" throttle locks official `n` (for 15 minutes)."""
    moment = site.clock() - timedelta(minutes=5)
    for _ in range(accounts.LOCK_AFTER + 1):
        try:
            accounts.settle_attempt(site.ledger, accounts.SIGN, nip(n), moment, False)
        except Throttled as e:
            if e.key == "err.sign_locked":
                return
        moment += timedelta(seconds=30)
    raise AssertionError("no lock")


def publish_on_the_web(admin, title: str, signers: list[int], slug: str = "") -> tuple[str, list[str]]:
    """Preview, then publish; returns the preview page and the signatories the entry lists."""
    form = {"title": title, "slug": slug, "text": "Kami berkomitmen.\n", "mode": "pick"}
    form["signer"] = [nip(n) for n in signers]
    preview = post(admin, "/admin/commitments/new", {**form, "step": "preview"})
    assert preview.status_code == 200, preview.text[:800]
    fingerprint = re.search(r'name="confirm" value="([0-9a-f]{64})"', preview.text).group(1)
    chosen = re.search(r'id="slug" name="slug" value="([^"]*)"', preview.text).group(1)
    done = post(admin, "/admin/commitments/new", {**form, "slug": chosen, "step": "publish", "confirm": fingerprint})
    assert done.status_code == 303, done.text.split("<main")[-1][:1500]
    return preview.text, chosen


@pytest.fixture()
def ceremony(world: LedgerFactory, db_url: str, tmp_path: Path, smtp: LocalSmtp) -> Iterator[Ceremony]:
    built = build_site(world, db_url, tmp_path)
    agencies = tmp_path / "perangkat-daerah.txt"
    agencies.write_text("# Kota Kediri\n" + "\n".join(AGENCIES) + "\n", encoding="utf-8")
    settings = replace(web_settings(db_url, tmp_path), smtp_url=smtp.url(), agencies_file=agencies)
    site = Site(world, create_app(Runtime.with_context(settings, world.ctx), clock=built.clock), built.clock)
    for n in PEOPLE:
        register(world, n)
    for n in (SEKDA, ASISTEN, PERHUBUNGAN, KESEHATAN):
        enrol(world, n)
    for n in (SEKDA, ASISTEN, PERHUBUNGAN):  # the head of Dinas Kesehatan has no login password yet
        accounts.set_password(world.ledger, nip(n), password(n), site.clock())
    shuffled = PROTOCOL[:]
    random.Random(7).shuffle(shuffled)
    _, slug = publish_on_the_web(site.login(ADMIN), TITLE, shuffled)
    assert slug == SLUG
    world.clock = site.clock()  # the entries after the web's own follow it
    world.invite(WAKIL)  # the link is out, unused
    world.sign(ASISTEN, SLUG)
    site.clock.now = world.now()  # and the web's after them
    lock_signing(site, SEKDA)
    yield Ceremony(site, smtp)
    for c in site.clients:
        c.close()


# -- publishing ------------------------------------------------------------------------------


def test_a_shuffled_selection_is_published_in_protocol_order(ceremony: Ceremony) -> None:
    with ceremony.world.ledger.read() as r:
        published = r.commitment(SLUG)
    assert published is not None and list(published.signers) == [nip(n) for n in PROTOCOL]
    entry = ceremony.world.ledger.entry(published.published_index)
    assert entry.fields["signers"] == [nip(n) for n in PROTOCOL]  # the order IS the entry's


def test_the_preview_shows_the_order_and_the_publish_button_beside_it(ceremony: Ceremony) -> None:
    admin = ceremony.admin("en")
    page, slug = publish_on_the_web(admin, TITLE, [KESEHATAN, WALI_KOTA, PERHUBUNGAN])
    assert slug == f"{SLUG}-2"  # made from the title, and free
    preview = page.split('class="preview"')[1].split("</section>")[0]
    listed = re.findall(r"<li><strong>([^<]+)</strong>", preview.split("in-protocol-order")[1])
    assert listed == [PEOPLE[n][0] for n in (WALI_KOTA, PERHUBUNGAN, KESEHATAN)]
    assert 'form="publish-form" name="step" value="publish"' in preview  # the button is by the preview
    assert preview.index('value="publish"') > preview.index("in-protocol-order")


def test_by_default_heads_of_agency_go_by_kota_kediris_list(world: LedgerFactory, db_url: str, tmp_path: Path) -> None:
    site = build_site(world, db_url, tmp_path)
    for n in (PERHUBUNGAN, KESEHATAN, WALI_KOTA):
        register(world, n)
    publish_on_the_web(site.login(ADMIN), "Urutan", [PERHUBUNGAN, WALI_KOTA, KESEHATAN], slug="urutan")
    with world.ledger.read() as r:
        assert list(r.commitment("urutan").signers) == [nip(n) for n in (WALI_KOTA, KESEHATAN, PERHUBUNGAN)]


def test_signatories_are_added_by_position_or_agency(ceremony: Ceremony) -> None:
    admin = ceremony.admin()
    form = {"title": "Per jabatan", "slug": "", "text": "Isi.", "mode": "pick", "step": "preview"}
    page = post(admin, "/admin/commitments/new", {**form, "group": ["leaders", "heads"]}).text
    ticked = set(re.findall(r'id="s-(\d+)" name="signer" value="\d+" checked', page))
    heads = {nip(n) for n in range(1, 5)}  # the world's "Kepala Dinas n"
    assert ticked == {nip(n) for n in (WALI_KOTA, WAKIL, PERHUBUNGAN, KESEHATAN)} | heads
    page = post(admin, "/admin/commitments/new", {**form, "unit": ["Sekretariat Daerah"], "signer": [nip(1)]}).text
    ticked = set(re.findall(r'id="s-(\d+)" name="signer" value="\d+" checked', page))
    assert ticked == {nip(SEKDA), nip(ASISTEN), nip(1)}
    assert 'id="g-leaders" name="group" value="leaders">' in page  # the groups are not ticked again


def test_a_deadline_in_wib_is_published_in_utc_and_shown_in_wib(ceremony: Ceremony) -> None:
    admin = ceremony.admin()
    now = ceremony.site.clock()
    day = (now + timedelta(days=2)).date().isoformat()
    form = {"title": "Dengan batas waktu", "slug": "batas", "text": "Isi.", "mode": "pick", "signer": [nip(1)]}
    for change, message in (
        ({"deadline_date": "besok"}, "Batas waktu tidak dapat dibaca"),
        ({"deadline_date": day, "deadline_time": "25:00"}, "Batas waktu tidak dapat dibaca"),
        ({"deadline_date": "2020-01-01"}, "sudah lewat"),
    ):
        r = post(admin, "/admin/commitments/new", {**form, **change, "step": "preview"})
        assert r.status_code == 422 and message in r.text, change
    timed = {**form, "deadline_date": day, "deadline_time": "14:30"}
    preview = post(admin, "/admin/commitments/new", {**timed, "step": "preview"}).text
    assert "pukul 14.30.00 WIB" in preview.split('class="preview"')[1]
    fingerprint = re.search(r'name="confirm" value="([0-9a-f]{64})"', preview).group(1)
    r = post(admin, "/admin/commitments/new", {**timed, "step": "publish", "confirm": fingerprint})
    assert r.status_code == 303
    with ceremony.world.ledger.read() as reader:
        published = reader.commitment("batas")
    entry = ceremony.world.ledger.entry(published.published_index)
    assert entry.fields["deadline"] == f"{day}T07:30:00Z"  # 14.30 WIB
    assert "pukul 14.30.00 WIB" in admin.get("/admin/commitments/batas").text
    dated = {**form, "slug": "tanpa-jam", "deadline_date": day}
    preview = post(admin, "/admin/commitments/new", {**dated, "step": "preview"}).text
    assert "pukul 23.59.00 WIB" in preview  # a date alone: the end of that day


def test_the_slug_is_made_from_the_title() -> None:
    assert slugify("Komitmen Bersama: Smart City — Kota Kediri 2026!") == "komitmen-bersama-smart-city-kota-kediri-2026"
    assert slugify("Çinta Ñusantara") == "cinta-nusantara"
    assert free_slug("Smart City", {"smart-city", "smart-city-2"}.__contains__) == "smart-city-3"
    assert free_slug("كيديري", lambda s: False) == "komitmen"  # no ASCII letter in the title
    long = free_slug("a" * 200, {"a" * 80}.__contains__)
    assert long == "a" * 78 + "-2" and len(long) == 80


# -- the ceremony view -----------------------------------------------------------------------


def test_each_state_appears_in_protocol_order(ceremony: Ceremony) -> None:
    page = ceremony.admin().get(f"/admin/commitments/{SLUG}")
    assert page.status_code == 200
    assert ceremony.rows(page.text) == [(nip(n), STATES[n]) for n in PROTOCOL]
    assert "1 dari 6 telah menandatangani" in page.text
    en = ceremony.admin("en").get(f"/admin/commitments/{SLUG}").text
    for label in ("No key yet", "Enrolment pending", "Locked", "Not signed", "Signed"):
        assert label in en


def test_search_and_filters_work_on_the_server(ceremony: Ceremony) -> None:
    admin = ceremony.admin()
    base = f"/admin/commitments/{SLUG}"
    cases = {
        "?q=budi": [PERHUBUNGAN],
        "?q=Dr.+Fauzan": [KESEHATAN],  # titles do not get in the way
        f"?q={nip(SEKDA)}": [SEKDA],
        "?unit=Sekretariat+Daerah": [SEKDA, ASISTEN],
        "?state=not_signed": [PERHUBUNGAN, KESEHATAN],
        "?state=locked": [SEKDA],
        "?state=pending": [WAKIL],
        "?state=no_key": [WALI_KOTA],
        "?state=signed": [ASISTEN],
        "?unit=Sekretariat+Daerah&state=signed": [ASISTEN],
        "?state=anything": PROTOCOL,  # no such state: no filter
        "?q=nobody-by-this-name": [],
    }
    for query, want in cases.items():
        page = admin.get(base + query).text
        assert [n for n, _ in ceremony.rows(page)] == [nip(n) for n in want], query
    assert "Tidak ada yang cocok" in admin.get(base + "?q=nobody-by-this-name").text


def test_each_state_has_its_action_in_place(ceremony: Ceremony) -> None:
    admin = ceremony.admin()
    page = admin.get(f"/admin/commitments/{SLUG}").text
    row = {n: page.split(f'id="s-{nip(n)}"')[1].split("</tr>")[0] for n in PROTOCOL}
    assert f'href="/admin/invite?nip={nip(WALI_KOTA)}"' in row[WALI_KOTA]
    assert f'href="/admin/invite?nip={nip(WAKIL)}"' in row[WAKIL] and "Kirim ulang" in row[WAKIL]
    assert 'action="/admin/locks/lift"' in row[SEKDA] and 'name="scope" value="sign"' in row[SEKDA]
    assert 'href="/v/' in row[ASISTEN] and "remind" not in row[ASISTEN]
    assert f"remind?nip={nip(PERHUBUNGAN)}" in row[PERHUBUNGAN]
    assert f'action="/admin/officials/{nip(KESEHATAN)}/invite"' in row[KESEHATAN]  # a password link: no login
    assert "Tidak ada alamat surel" in row[KESEHATAN] and "remind" not in row[KESEHATAN]  # nowhere to send it
    assert "remind" not in row[WALI_KOTA]  # a key first: the reminder of the whole list tells them so


def test_a_lock_is_lifted_in_place(ceremony: Ceremony) -> None:
    admin = ceremony.admin()
    here = f"/admin/commitments/{SLUG}?state=locked"
    r = post(
        admin,
        "/admin/locks/lift",
        {"scope": "sign", "nip": nip(SEKDA), "next": f"{here}#s-{nip(SEKDA)}"},
        form_page=here,
    )
    assert r.status_code == 303
    assert r.headers["location"] == f"{here}&ok=lifted#s-{nip(SEKDA)}"
    page = admin.get(r.headers["location"]).text
    assert "Penguncian sudah diangkat dan dicatat." in page
    assert ceremony.rows(admin.get(f"/admin/commitments/{SLUG}").text)[2] == (nip(SEKDA), "not_signed")
    r = post(
        admin, "/admin/locks/lift", {"scope": "sign", "nip": nip(SEKDA), "next": "https://evil.example/"}, "/admin"
    )
    assert r.headers["location"] == "/admin/locks?ok=gone"  # never another site


def test_a_decline_is_shown_with_its_reason_and_asks_for_nothing(ceremony: Ceremony) -> None:
    world = ceremony.world
    actions.decline(world.ctx, SLUG, nip(PERHUBUNGAN), passphrase(PERHUBUNGAN), "Sedang dinas luar kota", world.now())
    admin = ceremony.admin()
    page = admin.get(f"/admin/commitments/{SLUG}").text
    assert dict(ceremony.rows(page))[nip(PERHUBUNGAN)] == "declined"
    row = page.split(f'id="s-{nip(PERHUBUNGAN)}"')[1].split("</tr>")[0]
    assert "Menolak" in row and "Alasan: Sedang dinas luar kota" in row and "remind" not in row
    assert [n for n, _ in ceremony.rows(admin.get(f"/admin/commitments/{SLUG}?state=declined").text)] == [
        nip(PERHUBUNGAN)
    ]
    assert PEOPLE[PERHUBUNGAN][3] not in admin.get(f"/admin/commitments/{SLUG}/remind").text


# -- reminders -------------------------------------------------------------------------------
#
# A reminder goes through the mail outbox: confirming queues a round, the server's mail
# sender (here `deliver`, what its thread runs) sends it to the real SMTP server.

REMINDED = (WALI_KOTA, WAKIL, SEKDA, PERHUBUNGAN)  # not signed, not declined, with an address
REMIND = f"/admin/commitments/{SLUG}/remind"


def _fingerprint(page: str) -> str:
    return re.search(r'name="fingerprint" value="([0-9a-f]{64})"', page).group(1)


def _once(page: str) -> str:
    return re.search(r'name="once" value="([0-9a-f]{32})"', page).group(1)


def deliver(ceremony: Ceremony, after: timedelta = timedelta(0)) -> int:
    """Run the server's mail sender `after` the app's now until nothing is due; how many it sent."""
    site = ceremony.site
    settings, moment, sent = site.app.state.runtime.settings, site.clock() + after, 0
    while (done := deliver_due(site.ledger, settings, moment)).claimed:
        sent += done.sent
    return sent


def confirm(admin, path: str = REMIND):
    """Open the reminder page at `path` (its filters in the query) and confirm what it shows."""
    form = admin.get(path)
    assert form.status_code == 200, form.text[:500]
    data = {**dict(parse_qsl(urlsplit(path).query)), "fingerprint": _fingerprint(form.text), "once": _once(form.text)}
    return admin.post(REMIND, data={**data, "csrf_token": csrf_of(admin, path)})


def reminders(ceremony: Ceremony) -> list[Received]:
    return [m for m in ceremony.smtp.inbox.received if m.message["X-Ikrar-Event"] == outbox.REMINDER]


def rounds(ceremony: Ceremony) -> list[ReminderRound]:
    return Outbox(ceremony.site.ledger.engine).rounds(SLUG)


def test_a_confirmed_reminder_is_queued_then_sent_by_the_mail_sender(ceremony: Ceremony) -> None:
    admin = ceremony.admin()
    form = admin.get(REMIND)
    to, without = form.text.split("Tanpa alamat surel")
    for n in REMINDED:
        assert PEOPLE[n][3] in to
    assert PEOPLE[KESEHATAN][0] in without and PEOPLE[ASISTEN][0] not in form.text  # signed: not asked
    assert rounds(ceremony) == [] and deliver(ceremony) == 0  # nothing queued before the admin confirms

    r = confirm(admin)
    assert r.status_code == 200 and "Pengingat untuk 4 orang masuk antrean surel" in r.text, r.text[:2000]
    assert "Menunggu di antrean surel" in r.text and "tanpa alamat surel tidak menerima pengingat" in r.text
    [queued] = rounds(ceremony)
    assert queued.sent_by == nip(ADMIN) and queued.created_at == ceremony.site.clock()
    assert [n.nip for n in queued.notices] == [nip(n) for n in REMINDED]  # in protocol order, one transaction
    assert {n.event for n in queued.notices} == {outbox.REMINDER} and queued.count("waiting") == 4
    assert not ceremony.smtp.inbox.received  # queued: the sender mails it

    assert deliver(ceremony) == 4
    got = {m.rcpt_tos: m for m in reminders(ceremony)}
    assert set(got) == {(PEOPLE[n][3],) for n in REMINDED}
    mail = got[(PEOPLE[PERHUBUNGAN][3],)]
    assert mail.subject == (
        f"Ikrar: Pengingat: «{TITLE}» menunggu tanda tangan Anda / Reminder: «{TITLE}» waits for your signature"
    )
    assert mail.body.count(f"http://testserver/sign/{SLUG}\n") == 2  # the sign page, in each language
    assert mail.body.index("Yth. Budi Santoso") < mail.body.index("Dear Budi Santoso")  # Indonesian first
    assert "belum memiliki kunci" not in mail.body and "Batas waktu" not in mail.body  # a key; no deadline
    assert mail.message["Message-ID"].startswith(f"<ikrar.reminder.{queued.id}.{nip(PERHUBUNGAN)}@")
    keyless = got[(PEOPLE[WALI_KOTA][3],)].body
    assert "Anda belum memiliki kunci tanda tangan" in keyless and "You have no signing key yet" in keyless
    assert deliver(ceremony, timedelta(days=1)) == 0  # each once

    page = admin.get(f"/admin/commitments/{SLUG}").text
    when = Translator("id").short(queued.created_at)
    assert f"Pengingat terakhir: {when} oleh Operator Kominfo, 4 penerima (4 terkirim, 0 menunggu)." in page
    english = ceremony.admin("en").get(f"/admin/commitments/{SLUG}").text
    assert "Last reminder: " in english and "by Operator Kominfo, 4 recipients (4 sent, 0 waiting)." in english


def test_a_stopped_mail_server_keeps_reminders_queued_until_it_is_back(ceremony: Ceremony) -> None:
    admin = ceremony.admin()
    ceremony.smtp.stop()
    assert "masuk antrean surel" in confirm(admin).text
    assert deliver(ceremony) == 0
    [waiting] = rounds(ceremony)
    assert waiting.count("waiting") == 4 and {(n.attempts, n.sent_at) for n in waiting.notices} == {(1, None)}
    assert all(n.last_error.startswith("cannot reach the mail server") for n in waiting.notices)
    page = admin.get(REMIND).text
    assert "server surel belum dapat dihubungi (1 kali)" in page and "0 terkirim, 4 menunggu" in page
    assert "(0 terkirim, 4 menunggu)" in admin.get(f"/admin/commitments/{SLUG}").text
    assert deliver(ceremony, timedelta(seconds=59)) == 0  # tried again a minute later, not before

    ceremony.smtp.start()  # back, on the same port
    assert deliver(ceremony, timedelta(minutes=1)) == 4
    assert sorted(m.rcpt_tos[0] for m in reminders(ceremony)) == sorted(PEOPLE[n][3] for n in REMINDED)
    [done] = rounds(ceremony)
    assert done.count("sent") == 4 and {n.attempts for n in done.notices} == {2}
    assert "(4 terkirim, 0 menunggu)" in admin.get(f"/admin/commitments/{SLUG}").text


def test_a_later_round_is_mailed_again_and_both_are_recorded(ceremony: Ceremony) -> None:
    admin, alone = ceremony.admin(), f"{REMIND}?nip={nip(PERHUBUNGAN)}"
    confirm(admin, alone)
    assert deliver(ceremony) == 1
    ceremony.site.clock.advance(hours=2)
    admin = ceremony.admin()  # logged in again, later that day
    second = confirm(admin, alone)
    assert "Pengingat untuk 1 orang masuk antrean surel" in second.text
    assert "Pengingat sebelumnya" in second.text  # the first round, below
    assert deliver(ceremony) == 1
    mails = reminders(ceremony)
    assert [m.rcpt_tos for m in mails] == [(PEOPLE[PERHUBUNGAN][3],)] * 2
    assert len({m.message["Message-ID"] for m in mails}) == 2
    newest, first = rounds(ceremony)
    assert newest.created_at - first.created_at == timedelta(hours=2)
    assert [n.nip for n in newest.notices] == [n.nip for n in first.notices] == [nip(PERHUBUNGAN)]
    page = admin.get(REMIND).text.split('id="rounds"')[1]
    assert page.count("oleh Operator Kominfo, 1 penerima · 1 terkirim") == 2 and PEOPLE[PERHUBUNGAN][0] in page
    when = Translator("id").short(newest.created_at)
    assert f"Pengingat terakhir: {when} oleh" in admin.get(f"/admin/commitments/{SLUG}").text


def test_the_same_confirmation_sent_twice_queues_one_round(ceremony: Ceremony) -> None:
    admin = ceremony.admin()
    form = admin.get(REMIND).text
    data = {"fingerprint": _fingerprint(form), "once": _once(form), "csrf_token": csrf_of(admin, REMIND)}
    assert "masuk antrean surel" in admin.post(REMIND, data=data).text
    again = admin.post(REMIND, data=data)  # a reload of the page, a double click
    assert again.status_code == 200 and "Pengingat untuk 4 orang masuk antrean surel" in again.text
    assert len(rounds(ceremony)) == 1 and deliver(ceremony) == 4
    forged = admin.post(REMIND, data={**data, "once": "x"})  # not from our page: shown to confirm
    assert forged.status_code == 409 and len(rounds(ceremony)) == 1


def test_someone_who_signs_before_the_mail_goes_gets_none(ceremony: Ceremony) -> None:
    confirm(ceremony.admin(), f"{REMIND}?nip={nip(PERHUBUNGAN)}")
    ceremony.world.clock = ceremony.site.clock()
    ceremony.world.sign(PERHUBUNGAN, SLUG)  # in the hall, while the mail server was slow
    ceremony.site.clock.now = ceremony.world.now()
    assert deliver(ceremony) == 0 and not reminders(ceremony)
    [settled] = rounds(ceremony)
    assert [(n.state, n.last_error) for n in settled.notices] == [("unsent", "signed meanwhile")]
    page = ceremony.admin("en").get(REMIND).text
    assert "Not sent: signed before the reminder went out" in page and "0 sent, 0 waiting, 1 not sent" in page


def test_one_official_is_reminded_alone(ceremony: Ceremony) -> None:
    admin = ceremony.admin("en")
    r = confirm(admin, f"{REMIND}?nip={nip(PERHUBUNGAN)}")
    assert "Reminders for 1 people are queued for mail" in r.text
    assert deliver(ceremony) == 1
    assert [m.rcpt_tos for m in reminders(ceremony)] == [(PEOPLE[PERHUBUNGAN][3],)]
    signed = admin.get(f"{REMIND}?nip={nip(ASISTEN)}").text
    assert "Nobody needs a reminder" in signed and 'name="fingerprint"' not in signed


def test_a_list_changed_since_it_was_shown_is_shown_again(ceremony: Ceremony) -> None:
    admin = ceremony.admin()
    path = f"{REMIND}?state=not_signed"
    form = admin.get(path).text
    ceremony.world.sign(PERHUBUNGAN, SLUG)  # meanwhile, in the hall
    data = {"state": "not_signed", "fingerprint": _fingerprint(form), "once": _once(form)}
    r = post(admin, REMIND, data, path)
    assert r.status_code == 409 and "Daftar penerima berubah" in r.text
    assert rounds(ceremony) == [] and deliver(ceremony) == 0 and not ceremony.smtp.inbox.received
    assert PEOPLE[PERHUBUNGAN][0] not in r.text.split("Daftar penerima berubah")[1]


def test_a_reminder_asks_for_the_password_again_when_it_is_stale(ceremony: Ceremony) -> None:
    admin = ceremony.admin()
    form = admin.get(REMIND).text
    token = csrf_of(admin, "/admin")
    ceremony.site.clock.advance(minutes=30)
    assert admin.get(REMIND).headers["location"].startswith("/admin/confirm?next=")
    r = admin.post(REMIND, data={"csrf_token": token, "fingerprint": _fingerprint(form), "once": _once(form)})
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/confirm?next=")
    assert rounds(ceremony) == [] and deliver(ceremony) == 0


def test_without_a_mail_server_the_reminder_page_says_what_it_needs(
    world: LedgerFactory, db_url: str, tmp_path: Path
) -> None:
    site = build_site(world, db_url, tmp_path)
    admin = site.login(ADMIN, "en")
    page = admin.get("/admin/commitments/smart-city/remind").text
    assert "Reminders cannot be sent: no mail server is set up (IKRAR_SMTP_URL)" in page
    assert 'name="fingerprint"' not in page
    with world.ledger.read() as r:
        waiting = sorted(set(r.commitment("smart-city").signers) - {s.nip for s in r.signatures("smart-city")})
    crafted = post(
        admin,
        "/admin/commitments/smart-city/remind",
        {"fingerprint": hashlib.sha256(json.dumps(waiting).encode()).hexdigest(), "once": "0" * 32},
        "/admin/commitments/smart-city/remind",
    )
    assert crafted.status_code == 422 and "Reminders cannot be sent" in crafted.text
    assert Outbox(world.ledger.engine).rounds("smart-city") == [] and outbox.pending_count(world.ledger.engine) == 0
    assert "IKRAR_SMTP_URL" in admin.get("/admin/commitments/smart-city").text


def test_a_reminder_names_the_deadline_in_force_in_wib(ceremony: Ceremony) -> None:
    world, site = ceremony.world, ceremony.site
    world.clock = site.clock()
    deadline = datetime(2026, 12, 24, 9, 0, tzinfo=UTC)
    assert world.clock < deadline - timedelta(days=2)
    actions.publish(
        world.ctx, "tenggat", TITLE, "Kami berkomitmen.\n", [nip(WAKIL)], world.admin(), world.now(), deadline
    )
    Outbox(site.ledger.engine).remind("tenggat", [nip(WAKIL)], world.admin(), "1" * 32, world.now())
    actions.extend(world.ctx, "tenggat", deadline + timedelta(days=1), world.admin(), "diperpanjang", world.now())
    site.clock.now = world.now()
    assert deliver(ceremony) == 1
    [mail] = reminders(ceremony)
    assert "Batas waktu penandatanganan: Jumat, 25 Desember 2026 pukul 16.00.00 WIB." in mail.body
    assert "Signing closes at: Friday, 25 December 2026 at 16:00:00 WIB." in mail.body
    assert "http://testserver/sign/tenggat\n" in mail.body and "Anda belum memiliki kunci" in mail.body  # invited only
    Outbox(site.ledger.engine).remind("tenggat", [nip(WAKIL)], world.admin(), "2" * 32, world.now())
    closed = deadline + timedelta(days=1) - site.clock()
    assert deliver(ceremony, closed) == 0  # past the deadline: nothing to remind of
    [late, _] = Outbox(site.ledger.engine).rounds("tenggat")
    assert [n.last_error for n in late.notices] == ["the deadline has passed"]


# -- the officials' list ---------------------------------------------------------------------


def test_the_officials_list_sorts_by_name_without_titles_and_filters(ceremony: Ceremony) -> None:
    admin = ceremony.admin()
    page = admin.get("/admin").text
    names = re.findall(r'<tr id="o-\d+">\s*<td data-label="[^"]+"><strong>([^<]+)</strong>', page)
    keyed = [re.sub(r"^((Drs?|dr|H|Hj|Ir|Prof)\.\s*)+", "", n).lower() for n in names]
    assert keyed == sorted(keyed), names
    assert names.index("H. Abdullah Abu Bakar, S.E.") < names.index("Admin Diskominfo")  # "H." is not the name
    assert names.index("Budi Santoso, S.Kom., M.T.") < names.index("dr. Fauzan Adima, M.Kes.")
    only = lambda q: re.findall(r'<tr id="o-(\d+)">', admin.get(f"/admin?{q}").text)  # noqa: E731
    assert only("q=fauzan") == [nip(KESEHATAN)]
    assert only("unit=Sekretariat+Daerah") == [nip(SEKDA), nip(ASISTEN)]
    assert set(only("state=none")) == {nip(WALI_KOTA), nip(WAKIL)}
    assert nip(ADMIN) in only("state=role:admin") and nip(1) not in only("state=role:admin")


# -- officials: added with a full position, without a NIP; a mutasi -------------------------


def test_an_official_without_a_nip_is_added_with_the_full_position(ceremony: Ceremony) -> None:
    admin = ceremony.admin()
    form = {
        "nip": "",
        "name": "Regina Nadya Suwono",
        "title": "Wakil Wali Kota Kediri",
        "unit": "Pemerintah Kota Kediri",
        "rank": "",
        "acting": "",
        "appointment": "",
        "role": "official",
        "email": "",
    }
    page = admin.get("/admin/officials/new").text
    assert '<option value="Dinas Perhubungan">' in page  # the city's list (IKRAR_AGENCIES_FILE here)
    r = post(admin, "/admin/officials/new", {**form, "name": "Tanpa Surat", "acting": "Plt."})
    assert r.status_code == 400 and 'value="Tanpa Surat"' in r.text  # acting without its letter; kept as typed
    r = post(admin, "/admin/officials/new", {**form, "acting": "Pj."})
    assert r.status_code == 422 and "definitif, Plt., atau Plh." in r.text
    r = post(admin, "/admin/officials/new", form)
    assert r.status_code == 303, r.text[:500]
    given = re.search(r"id=(pn-[a-z0-9]+)#o-\1$", r.headers["location"]).group(1)
    assert f"Pengenal masuknya: {given}" in admin.get(r.headers["location"]).text
    with ceremony.world.ledger.read() as reader:
        assert reader.official(given).title == "Wakil Wali Kota Kediri"
    r = post(
        admin,
        "/admin/officials/new",
        {**form, "nip": nip(21), "name": "Sri Wahyuni", "title": "Kepala Dinas Kesehatan Kota Kediri"}
        | {
            "unit": "Dinas Kesehatan",
            "rank": "Pembina Tingkat I (IV/b)",
            "acting": "Plt.",
            "appointment": "800/12/2026",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == f"/admin?ok=added#o-{nip(21)}"
    with ceremony.world.ledger.read() as reader:
        added = reader.official(nip(21))
    assert (added.rank, added.acting, added.appointment) == ("Pembina Tingkat I (IV/b)", "Plt.", "800/12/2026")


def test_a_mutasi_is_recorded_with_the_reason_and_the_admins_key(ceremony: Ceremony) -> None:
    admin = ceremony.admin()
    path = f"/admin/officials/{nip(PERHUBUNGAN)}/update"
    page = admin.get(path).text
    assert f'value="{PEOPLE[PERHUBUNGAN][1]}"' in page and '<option value="" selected>Definitif' in page
    form = {
        "name": PEOPLE[PERHUBUNGAN][0],
        "title": "Kepala Dinas Komunikasi dan Informatika",
        "unit": "Dinas Kesehatan",
        "rank": "",
        "acting": "",
        "appointment": "",
        "reason": "Mutasi, SK Wali Kota 800/77/2026",
        "passphrase": "bukan frasa sandinya",
    }
    size = ceremony.world.ledger.size()
    r = post(admin, path, form)
    assert r.status_code == 403 and "Frasa sandi" in r.text and ceremony.world.ledger.size() == size
    r = post(admin, path, {**form, "unit": "Dinas Antah Berantah", "passphrase": passphrase(ADMIN)})
    assert r.status_code in (400, 403, 422) and ceremony.world.ledger.size() == size  # not on the city's list
    r = post(admin, path, {**form, "passphrase": passphrase(ADMIN)})
    assert r.status_code == 303 and r.headers["location"] == f"/admin?ok=updated#o-{nip(PERHUBUNGAN)}"
    entry = ceremony.world.ledger.entry(size)
    assert entry.kind == "official.updated" and entry.fields["nip"] == nip(PERHUBUNGAN)
    assert entry.fields["title"] == "Kepala Dinas Komunikasi dan Informatika" and "acting" not in entry.fields
    assert entry.fields["reason"] == "Mutasi, SK Wali Kota 800/77/2026" and entry.fields["attested_by"] == nip(ADMIN)
    assert "Perubahan jabatan dicatat" in admin.get(r.headers["location"]).text
    assert actions.active_key(ceremony.world.ledger, nip(PERHUBUNGAN)) is not None  # the key stays
    r = post(admin, path, {**form, "passphrase": passphrase(ADMIN)})
    assert r.status_code in (400, 403, 409, 422) and ceremony.world.ledger.size() == size + 1  # nothing changes
