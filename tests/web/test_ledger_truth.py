"""Every public fact about a signature is what the ledger recorded: editing the register
(the mutable list of people) changes no page, API answer or file about a past signature."""

from __future__ import annotations

from sqlalchemy import text

from signing.cert_words import format_nip
from tests.factories import nip

from .conftest import Site


def _rename_in_the_register(site: Site, n: int, name: str, title: str) -> None:
    with site.ledger.engine.begin() as c:
        c.execute(
            text("UPDATE official SET name = :name, title = :title WHERE nip = :nip"),
            {"name": name, "title": title, "nip": nip(n)},
        )


def test_editing_the_register_changes_no_public_fact_about_a_past_signature(site: Site) -> None:
    signed = site.world.sign(1).entry.index
    _rename_in_the_register(site, 1, "Nama Palsu", "Jabatan Palsu")
    c = site.client("id")
    views = {
        "commitment page": c.get("/commitments/smart-city").text,
        "signatures JSON": c.get("/api/v1/commitments/smart-city/signatures").text,
        "signatures CSV": c.get("/api/v1/commitments/smart-city/signatures.csv").text,
        "ledger explorer": c.get("/ledger").text,
        "entry page": c.get(f"/ledger/{signed}").text,
        "verify page": c.get(f"/v/{signed}").text,
    }
    for where, shown in views.items():
        assert "Nama Palsu" not in shown and "Jabatan Palsu" not in shown, where
    for where in ("commitment page", "signatures JSON", "signatures CSV"):
        assert "Pejabat 1" in views[where] and "Kepala Dinas 1" in views[where], where
    assert "Pejabat 1" in views["ledger explorer"]
    pdf = c.get(f"/certificates/{signed}.pdf")
    assert pdf.status_code == 200 and b"Nama Palsu" not in pdf.content


def test_those_who_have_not_signed_are_named_as_their_key_records_them(site: Site) -> None:
    _rename_in_the_register(site, 2, "Nama Baru", "Jabatan Baru")
    page = site.client("id").get("/commitments/smart-city").text
    assert "Pejabat 2" in page and "Nama Baru" not in page


def test_editing_the_register_changes_no_capacity_agency_or_nip_shown(site: Site) -> None:
    signed = site.world.sign(1).entry.index
    with site.ledger.engine.begin() as c:
        c.execute(
            text("UPDATE official SET title = 'Jabatan Palsu', unit = 'Dinas Palsu' WHERE nip IN (:a, :b)"),
            {"a": nip(1), "b": nip(2)},
        )
    page = site.client("id").get("/commitments/smart-city").text
    assert "Palsu" not in page
    card = page.split(f'<li id="signature-{signed}">')[1].split("</li>")[0]
    assert "Kepala Dinas 1 · Dinas 1" in card and f"NIP {format_nip(nip(1))}" in card
    pending = page.split('id="pending-h"')[1]
    assert "Kepala Dinas 2 · Dinas 2" in pending  # enrolled: as the ledger knows them, not the register
