"""What the public pages say a signature proves (issues 12 and 13): a key revoked later
leaves a signature valid, with a note; signatories in the published protocol order;
the NIP printed only when the identifier is one; every name, capacity and agency as the
ledger recorded them."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest

from ledger.entries import KINDS, ZERO_HASH, make_entry
from ledger.reader import OfficialRecord
from signing import actions
from signing.cert_words import format_nip
from tests.factories import ADMIN_NIP, ADMIN_PASSPHRASE, nip
from web.i18n import Translator, catalogue
from web.routes_public import _summary
from web.views import Person, Revocation, SignedBy, commitment_view

from .conftest import Site

REVOKED_LATER = {  # the verify page's words: every view says it alike
    "id": "Kunci penanda tangan dicabut kemudian, pada {time} (entri #{index}). Alasan: {reason}. "
    "Tanda tangan ini dibuat sebelum pencabutan dan tetap sah.",
    "en": "The signer's key was revoked later, on {time} (entry #{index}). Reason: {reason}. "
    "This signature was made before the revocation and remains valid.",
}
VALID = {"id": "Sah", "en": "Valid"}
NO_NIP = "pn-7kq3xa"  # an identifier the system gives an official without a NIP (rules 4)


def _now(site: Site) -> datetime:
    site.clock.advance(minutes=1)
    return site.clock()


def _card(page: str, index: int) -> str:
    """The signature's card on the commitment page."""
    m = re.search(rf'<li id="signature-{index}">(.*?)</li>', page, re.S)
    assert m, f"no card for signature {index}"
    return m.group(1)


def _names_in(page: str, section: str) -> list[str]:
    """The names listed in a section (by its heading id), in the order shown."""
    m = re.search(rf'<section aria-labelledby="{section}">(.*?)</section>', page, re.S)
    assert m, f"no section {section}"
    return re.findall(r"Pejabat \d", m.group(1))


# -- 12.5: revoked later is not invalid ----------------------------------------------------


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_signature_whose_key_was_revoked_later_is_valid_with_a_note(site: Site, lang: str) -> None:
    signed = site.world.sign(1).entry.index
    kept = site.world.sign(2).entry.index
    revoked = actions.revoke(site.world.ctx, nip(1), "laptop hilang", ADMIN_NIP, _now(site), ADMIN_PASSPHRASE)
    page = site.client(lang).get("/commitments/smart-city").text
    when = Translator(lang).when(revoked.entry.time)
    note = REVOKED_LATER[lang].format(time=when, index=revoked.entry.index, reason="laptop hilang")
    card = html.unescape(_card(page, signed))  # "signer's" is written &#39; in the page
    assert note in card and f">{VALID[lang]}<" in card
    other = _card(page, kept)
    assert f">{VALID[lang]}<" in other and "laptop hilang" not in other  # its key was never revoked
    assert ("2 dari 3" if lang == "id" else "2 of 3") in page  # still counted
    entry = html.unescape(site.client(lang).get(f"/ledger/{signed}").text)
    assert note in entry
    assert "laptop hilang" not in site.client(lang).get(f"/ledger/{kept}").text


def test_only_a_signature_made_with_a_key_already_revoked_is_invalid() -> None:
    person = Person(nip(1), "Pejabat 1", "Kepala Dinas 1", "Dinas 1")
    moment = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
    never = SignedBy(person, 10, moment, "k")
    later = SignedBy(person, 10, moment, "k", revoked=Revocation(11, moment, "laptop hilang"))
    before = SignedBy(person, 10, moment, "k", revoked=Revocation(9, moment, "laptop hilang"))
    assert never.valid and never.revoked_later is None
    assert later.valid and later.revoked_later == Revocation(11, moment, "laptop hilang")
    assert not before.valid and before.revoked_later is None


# -- 12.6: protocol order ------------------------------------------------------------------


def test_signatories_are_listed_in_the_published_order_not_the_signing_order(site: Site) -> None:
    site.world.sign(3)
    site.world.sign(1)
    view = commitment_view(site.ledger, "smart-city")
    assert [s.person.name for s in view.signed] == ["Pejabat 1", "Pejabat 3"]
    assert [s.person.name for s in view.in_ledger_order] == ["Pejabat 3", "Pejabat 1"]
    assert [(s.position, s.state) for s in view.signatories] == [(1, "signed"), (2, "pending"), (3, "signed")]
    page = site.client().get("/commitments/smart-city").text
    assert _names_in(page, "signed-h") == ["Pejabat 1", "Pejabat 3"]
    api = site.client().get("/api/v1/commitments/smart-city/signatures").json()
    assert [s["name"] for s in api["signatures"]] == ["Pejabat 1", "Pejabat 3"]


def test_the_order_is_the_one_published_whatever_the_names_or_numbers(site: Site) -> None:
    order = [nip(3), nip(1), nip(2)]
    actions.publish(site.world.ctx, "urutan", "Urutan Protokol", "Teks.\n", order, "admin", _now(site))
    for n in (2, 3):
        actions.sign(site.world.ctx, "urutan", nip(n), f"rahasia-tanda-{n}-tangan", _now(site))
    view = commitment_view(site.ledger, "urutan")
    assert [s.person.nip for s in view.signed] == [nip(3), nip(2)]
    assert [s.nip for s in view.pending] == [nip(1)]
    assert [s.person.nip for s in view.signatories] == order
    page = site.client("en").get("/commitments/urutan").text
    assert _names_in(page, "signed-h") == ["Pejabat 3", "Pejabat 2"]
    assert "protocol order" in page


# -- 12.1 and 12.4: who signed, in what capacity, with a NIP only when there is one -------


def test_each_signature_shows_name_capacity_agency_and_the_nip(site: Site) -> None:
    index = site.world.sign(1).entry.index
    card = _card(site.client().get("/commitments/smart-city").text, index)
    for shown in ("Pejabat 1", "Kepala Dinas 1 · Dinas 1", f"NIP {format_nip(nip(1))}"):
        assert shown in card
    pending = site.client().get("/commitments/smart-city").text.split('id="pending-h"')[1]
    assert f"NIP {format_nip(nip(2))}" in pending


def test_an_identifier_that_is_not_a_nip_is_never_printed_as_one() -> None:
    moment = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
    mayor = Person.of(OfficialRecord(NO_NIP, "Wali Kota", "Wali Kota Kediri", "Pemkot", "official", moment), NO_NIP)
    assert not mayor.has_nip and mayor.printed_nip == ""
    official = Person.of(OfficialRecord(nip(1), "Pejabat 1", "Kepala Dinas 1", "Dinas 1", "official", moment), nip(1))
    assert official.has_nip and official.printed_nip == format_nip(nip(1))
    fields = {"nip": NO_NIP, "key": "k", "reason": "laptop hilang", "by": "admin"}
    revoked = make_entry(7, "key.revoked", moment, ZERO_HASH, fields)
    t = Translator("id")
    line = _summary(revoked, {"k": mayor}, t)
    assert line == "Kunci Wali Kota dicabut: laptop hilang" and "NIP" not in line
    fields["nip"] = nip(1)
    line = _summary(make_entry(7, "key.revoked", moment, ZERO_HASH, fields), {"k": official}, t)
    assert line == f"Kunci Pejabat 1 (NIP {format_nip(nip(1))}) dicabut: laptop hilang"


def test_an_acting_official_signs_as_plt_with_the_appointment() -> None:
    acting = Person(
        nip(1), "Pejabat 1", "Kepala Dinas Perhubungan Kota Kediri", "Dishub", acting="Plt.", appointment="800/45"
    )
    assert acting.capacity == "Plt. Kepala Dinas Perhubungan Kota Kediri (Nomor 800/45)"
    assert Person(nip(1), "Pejabat 1", "Wali Kota Kediri", "Pemkot").capacity == "Wali Kota Kediri"


# -- the explorer names and summarises every kind ------------------------------------------


def test_every_kind_of_entry_is_named_and_summarised_in_both_languages() -> None:
    for lang in ("id", "en"):
        texts = catalogue(lang)
        for kind in KINDS:
            assert f"kind.{kind}" in texts and f"kind.{kind}.summary" in texts, (lang, kind)
