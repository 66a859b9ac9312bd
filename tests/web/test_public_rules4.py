"""The public pages on a rules-4 ledger (issues 12 and 13): officials without a NIP, changes
of position recorded as entries, the capacity signed, declines and deadlines. Each page
says what the ledger recorded, in both languages."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.entries import KINDS
from ledger.note import NoteSigner
from signing import actions, vouching
from signing.cert_words import format_nip
from tests.factories import (
    ADMIN_NIP,
    ADMIN_PASSPHRASE,
    ORIGIN,
    LedgerFactory,
    append_decision,
    append_request,
    append_return,
    append_review,
    apps_world,
    nip,
    passphrase,
)
from web.i18n import Translator
from web.views import commitment_summaries, commitment_view

from .conftest import Site, build_site

MAYOR = "Abdullah Abu Bakar, S.E."
MAYOR_PASSPHRASE = "frasa tanda tangan wali kota"
DISHUB = "Kepala Dinas Perhubungan Kota Kediri"


def _now(site: Site) -> datetime:
    site.clock.advance(minutes=1)
    return site.clock()


def _sign(site: Site, n: int, slug: str = "smart-city") -> int:
    return actions.sign(site.world.ctx, slug, nip(n), passphrase(n), _now(site)).entry.index


def _section(page: str, heading: str) -> str:
    m = re.search(rf'<section aria-labelledby="{heading}">(.*?)</section>', page, re.S)
    assert m, f"no section {heading}"
    return m.group(1)


def _card(page: str, index: int) -> str:
    m = re.search(rf'<li id="signature-{index}">(.*?)</li>', page, re.S)
    assert m, f"no card for signature {index}"
    return m.group(1)


def _mayor(site: Site) -> str:
    """The Wali Kota: registered without a NIP (the system gives an identifier), enrolled."""
    ctx = site.world.ctx
    mayor = actions.register_official(
        site.ledger, None, MAYOR, "Wali Kota Kediri", "Pemerintah Kota Kediri", "official", _now(site)
    )
    vouching.invite(ctx, mayor, ADMIN_NIP, ADMIN_PASSPHRASE, _now(site), hours=72)
    actions.enrol(ctx, mayor.nip, MAYOR_PASSPHRASE, _now(site))
    return mayor.nip


# -- 12.1: people without a NIP ------------------------------------------------------------


def test_an_official_without_a_nip_signs_and_no_page_prints_a_nip_for_them(site: Site) -> None:
    mayor = _mayor(site)
    order = [mayor, nip(1)]
    actions.publish(site.world.ctx, "protokol", "Komitmen Protokol", "Teks.\n", order, "admin", _now(site))
    signed = actions.sign(site.world.ctx, "protokol", mayor, MAYOR_PASSPHRASE, _now(site)).entry.index
    _sign(site, 1, "protokol")
    c = site.client()
    page = c.get("/commitments/protokol").text
    card = _card(page, signed)
    assert MAYOR in card and "Wali Kota Kediri · Pemerintah Kota Kediri" in card
    assert "NIP" not in card and mayor not in card
    assert f"NIP {format_nip(nip(1))}" in page  # an official with a NIP keeps it
    assert re.findall(r'<span class="who">([^<]+)</span>', page) == [MAYOR, "Pejabat 1"]  # the protocol order
    explorer = c.get("/ledger").text
    assert MAYOR in explorer and f"NIP {mayor}" not in explorer and f"{MAYOR} (NIP" not in explorer
    entry = c.get(f"/ledger/{signed}").text
    assert MAYOR in entry and f"NIP {mayor}" not in entry


# -- 12.3 and 12.4: a change of position is an entry; every signature keeps its capacity --


def test_a_mutasi_after_a_signature_leaves_the_signature_in_its_old_capacity(site: Site) -> None:
    before = _sign(site, 1)
    ctx = site.world.ctx
    actions.update_official(
        ctx, nip(1), ADMIN_NIP, ADMIN_PASSPHRASE, "mutasi", _now(site), title=DISHUB, unit="Dinas Perhubungan"
    )
    actions.update_official(
        ctx,
        nip(2),
        ADMIN_NIP,
        ADMIN_PASSPHRASE,
        "penunjukan Plt.",
        _now(site),
        acting="Plt.",
        appointment="800/45/2026",
    )
    actions.publish(ctx, "kedua", "Komitmen Kedua", "Teks kedua.\n", [nip(1)], "admin", _now(site))
    after = _sign(site, 1, "kedua")
    c = site.client()
    page = c.get("/commitments/smart-city").text
    assert "Kepala Dinas 1 · Dinas 1" in _card(page, before) and DISHUB not in _card(page, before)
    assert "Plt. Kepala Dinas 2 (Nomor 800/45/2026) · Dinas 2" in _section(page, "pending-h")
    assert f"{DISHUB} · Dinas Perhubungan" in _card(c.get("/commitments/kedua").text, after)
    for lang, words in (
        ("id", "Data Pejabat 1 (NIP {nip}) diperbarui"),
        ("en", "Details of Pejabat 1 (NIP {nip}) updated"),
    ):
        explorer = site.client(lang).get("/ledger").text
        assert f"{words.format(nip=format_nip(nip(1)))}: {DISHUB}, Dinas Perhubungan (mutasi)" in explorer
        label = ">Data pejabat diperbarui<" if lang == "id" else ">Official&#39;s details updated<"
        assert label in explorer
    api = c.get("/api/v1/commitments/smart-city/signatures").json()
    assert api["signatures"][0]["title"] == "Kepala Dinas 1" and api["signatures"][0]["unit"] == "Dinas 1"


@pytest.fixture()
def legacy_site(ledger_factory: LedgerFactory, db_url: str, tmp_path: Path) -> Site:
    """A ledger begun under rules version 3: official 1 signed with `ikrar/signature/v1`;
    then the rules were raised to 4."""
    world = ledger_factory
    world.signer = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    world.ledger.create("Pemerintah Kota Kediri (uji)", ORIGIN, world.signer, world.now(), rules=3)
    world.with_commitment(officials=3)
    world.sign(1)
    world.ledger.raise_rules(world.signer, world.now())
    return build_site(world, db_url, tmp_path)


def test_a_signature_before_rules_4_shows_the_identity_in_force_when_it_was_made(legacy_site: Site) -> None:
    site = legacy_site
    signed = commitment_view(site.ledger, "smart-city").signed[0].index
    actions.update_official(
        site.world.ctx,
        nip(1),
        ADMIN_NIP,
        ADMIN_PASSPHRASE,
        "nama dibetulkan",
        _now(site),
        name="Pejabat Satu",
        title=DISHUB,
    )
    page = site.client().get("/commitments/smart-city").text
    card = _card(page, signed)
    assert "Pejabat 1" in card and "Kepala Dinas 1 · Dinas 1" in card and "Pejabat Satu" not in card
    later = _sign(site, 2)
    assert "Kepala Dinas 2 · Dinas 2" in _card(site.client().get("/commitments/smart-city").text, later)


# -- 13.5: declines and the deadline --------------------------------------------------------


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_decline_is_shown_with_its_reason_in_its_own_group(site: Site, lang: str) -> None:
    _sign(site, 1)
    declined = actions.decline(
        site.world.ctx, "smart-city", nip(2), passphrase(2), "sedang cuti", _now(site)
    ).entry.index
    c = site.client(lang)
    page = c.get("/commitments/smart-city").text
    group = _section(page, "declined-h")
    assert ("Menolak menandatangani (1)" if lang == "id" else "Declined to sign (1)") in group
    assert "Pejabat 2" in group and "Kepala Dinas 2 · Dinas 2" in group
    assert ("Alasan: sedang cuti" if lang == "id" else "Reason: sedang cuti") in group
    assert f'href="/ledger/{declined}"' in group
    assert "Pejabat 2" not in _section(page, "pending-h") and "Pejabat 3" in _section(page, "pending-h")
    assert "Pejabat 2" not in _section(page, "signed-h")
    declined_word = "1 menolak" if lang == "id" else "1 declined"
    assert declined_word in page and declined_word in c.get("/").text
    assert ("1 dari 3" if lang == "id" else "1 of 3") in c.get("/").text
    summary = {
        "id": "Pejabat 2 (NIP {}) menolak menandatangani smart-city: sedang cuti",
        "en": "Pejabat 2 (NIP {}) declined to sign smart-city: sedang cuti",
    }[lang]
    assert summary.format(format_nip(nip(2))) in c.get("/ledger").text
    assert summary.format(format_nip(nip(2))) in c.get(f"/ledger/{declined}").text
    view = commitment_view(site.ledger, "smart-city")
    assert [(s.person.name, s.state) for s in view.signatories] == [
        ("Pejabat 1", "signed"),
        ("Pejabat 2", "declined"),
        ("Pejabat 3", "pending"),
    ]
    assert not view.asks(nip(2)) and view.asks(nip(3))


def test_when_everyone_has_answered_no_one_is_waited_for(site: Site) -> None:
    _sign(site, 1)
    _sign(site, 3)
    actions.decline(site.world.ctx, "smart-city", nip(2), passphrase(2), "sedang cuti", _now(site))
    page = site.client().get("/commitments/smart-city").text
    assert (
        "Tidak ada lagi yang ditunggu" in page and "Semua penanda tangan yang diminta telah menandatangani" not in page
    )


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_deadline_is_shown_and_the_pages_say_closed_once_it_has_passed(site: Site, lang: str) -> None:
    t = Translator(lang)
    ctx = site.world.ctx
    deadline = site.clock() + timedelta(hours=2)
    actions.publish(ctx, "tenggat", "Komitmen Bertenggat", "Teks.\n", [nip(1), nip(2)], "admin", _now(site), deadline)
    c = site.client(lang)
    opens = "Batas waktu penandatanganan: {}" if lang == "id" else "Signing closes: {}"
    first = c.get("/commitments/tenggat")
    assert opens.format(t.when(deadline)) in first.text and opens.format(t.when(deadline)) in c.get("/").text
    closed = ">Ditutup<" if lang == "id" else ">Closed<"
    assert closed not in first.text
    later = deadline + timedelta(days=1)
    actions.extend(ctx, "tenggat", later, "admin", "banyak yang dinas luar", _now(site))
    page = c.get("/commitments/tenggat").text
    assert opens.format(t.when(later)) in page and t.when(deadline) not in page
    extended = {
        "id": "Batas waktu penandatanganan tenggat diperpanjang sampai {}: banyak yang dinas luar",
        "en": "Signing deadline of tenggat extended to {}: banyak yang dinas luar",
    }[lang]
    assert extended.format(t.when(later)) in c.get("/ledger").text
    _sign(site, 1, "tenggat")
    open_tags = {}
    for path in ("/commitments/tenggat", "/"):  # open: cached, under an ETag that counts the deadlines passed
        shown = c.get(path)
        open_tags[path] = shown.headers["etag"]
        assert c.get(path, headers={"If-None-Match": open_tags[path]}).status_code == 304, path
    site.clock.now = later + timedelta(minutes=1)  # no entry since: the same tree, one more deadline passed
    for path, tag in open_tags.items():  # neither the stored page nor the ETag handed out still holds
        stale = c.get(path, headers={"If-None-Match": tag})
        assert stale.status_code == 200 and closed in stale.text and stale.headers["etag"] != tag, path
    after = c.get("/commitments/tenggat")
    assert closed in after.text and opens.format(t.when(later)) not in after.text
    again = c.get("/commitments/tenggat", headers={"If-None-Match": after.headers["etag"]})
    assert again.status_code == 304  # closed is final for this view of the ledger: cached again
    assert t.when(later) in after.text
    pending = "Tidak menandatangani sebelum batas waktu (1)" if lang == "id" else "Did not sign before the deadline (1)"
    assert pending in after.text
    assert closed in c.get("/").text
    other = site.client(lang).get("/commitments/smart-city").text
    assert closed not in other  # a commitment without a deadline never closes


def test_an_official_is_not_offered_to_sign_after_the_deadline(site: Site) -> None:
    deadline = site.clock() + timedelta(hours=1)
    actions.publish(site.world.ctx, "tenggat", "Bertenggat", "Teks.\n", [nip(1)], "admin", _now(site), deadline)
    official = site.login(1)
    assert 'href="/sign/tenggat"' in official.get("/commitments/tenggat").text
    site.clock.now = deadline + timedelta(seconds=1)
    assert 'href="/sign/tenggat"' not in official.get("/commitments/tenggat").text


def test_the_home_page_counts_agree_with_the_commitment_page(site: Site) -> None:
    _sign(site, 3)
    actions.decline(site.world.ctx, "smart-city", nip(1), passphrase(1), "berhalangan", _now(site))
    (summary,) = commitment_summaries(site.ledger)
    view = commitment_view(site.ledger, "smart-city")
    assert (
        (summary.signed, summary.declined, summary.waiting)
        == (1, 1, 1)
        == (
            len(view.signed),
            len(view.declined),
            len(view.pending),
        )
    )
    assert summary == view.summary


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_explorer_names_and_summarises_every_kind_of_entry(legacy_site: Site, lang: str) -> None:
    site = legacy_site
    ctx = site.world.ctx
    deadline = site.clock() + timedelta(hours=2)
    actions.publish(ctx, "tenggat", "Bertenggat", "Teks.\n", [nip(2), nip(3)], "admin", _now(site), deadline)
    actions.extend(ctx, "tenggat", deadline + timedelta(days=1), "admin", "diperpanjang", _now(site))
    actions.decline(ctx, "tenggat", nip(2), passphrase(2), "berhalangan", _now(site))
    actions.update_official(ctx, nip(3), ADMIN_NIP, ADMIN_PASSPHRASE, "mutasi", _now(site), title=DISHUB)
    _sign(site, 3, "tenggat")
    site.world.clock = _now(site)  # the factory's entries follow the site's clock ...
    roles = apps_world(site.world)  # rules version 5: roles, a request returned, revised and decided
    append_request(site.world, "2026-0001", roles["pd-head"])
    append_return(site.world, "2026-0001", roles["reviewer"], ["Lampirkan KAK."])
    append_request(site.world, "2026-0001", roles["pd-head"], revision=2)
    append_review(site.world, "2026-0001", roles["reviewer"], revision=2)
    append_decision(site.world, "2026-0001", roles["kominfo-head"], revision=2)
    site.clock.advance(minutes=30)  # ... and the site's clock goes on after them
    actions.revoke(ctx, nip(3), "laptop hilang", ADMIN_NIP, _now(site), ADMIN_PASSPHRASE)
    page = site.client(lang).get("/ledger?start=0").text
    kinds = set(re.findall(r'<span class="kind kind-([a-z-]+)">([^<]+)</span>', page))
    assert {k for k, _ in kinds} == {k.replace(".", "-") for k in KINDS}
    assert not any(label.startswith("kind.") for _, label in kinds)
    lines = re.findall(r'<p class="what">([^<]*)</p>', page)
    assert len(lines) == site.ledger.size()
    assert not [line for line in lines if "{" in line or "kind." in line]
