"""What the Diskominfo operator and the officials do in the pages, end to end in-process:
each writes the ledger entry DESIGN.md names, and each form error is shown on the form in
the page's language."""

from __future__ import annotations

import hashlib
import re

from sqlmodel import select

from ledger.models import Commitment, CommitmentSigner, Official
from tests.factories import ADMIN as FOUNDER  # the ledger's founding admin, beside the site's
from tests.factories import nip, passphrase, tables
from web.routes_admin import slugify

from .conftest import ADMIN, Site, csrf_of, post

NEW = {
    "nip": "198001012005011002",
    "name": "Dr. Rina Wati, M.Si.",
    "title": "Kepala Bappeda",
    "unit": "Badan Perencanaan Pembangunan Daerah",
    "role": "official",
}


def test_an_admin_adds_an_official_and_creates_an_enrolment_link(site: Site) -> None:
    admin = site.login(ADMIN)
    r = post(admin, "/admin/officials/new", NEW)
    assert r.status_code == 303 and r.headers["location"].startswith("/admin?ok=added")
    page = admin.get(r.headers["location"]).text
    assert "Pejabat telah didaftarkan" in page and "Dr. Rina Wati, M.Si." in page
    with tables(site.ledger) as s:
        assert s.get(Official, NEW["nip"]).unit == NEW["unit"]
    form = {"nip": NEW["nip"], "passphrase": passphrase(ADMIN)}  # attested with the admin's own key
    r = post(admin, "/admin/invite", form, form_page=f"/admin/invite?nip={NEW['nip']}")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    link = re.search(r"readonly>(http://testserver/enrol/[A-Za-z0-9_-]{43})</textarea>", r.text)
    assert link, r.text
    assert "hanya dapat dipakai sekali" in r.text and "WIB" in r.text
    assert "berlaku sampai" in admin.get("/admin").text  # the pending link shows in the list
    enrol = site.client().get(link.group(1).removeprefix("http://testserver"))
    assert enrol.status_code == 200 and "Dr. Rina Wati, M.Si." in enrol.text


def test_adding_an_official_shows_form_errors_in_the_pages_language(site: Site) -> None:
    cases = [
        ({**NEW, "nip": "12345"}, "NIP harus tepat 18 angka", "A NIP is exactly 18 digits"),
        ({**NEW, "nip": "198013012005011002"}, "bukan tanggal lahir", "not a date of birth"),
        ({**NEW, "nip": "198001012005011000"}, "tidak boleh 000", "cannot be 000"),
        ({**NEW, "nip": nip(1)}, "sudah terdaftar", "already registered"),
        ({**NEW, "name": "  "}, "Nama belum diisi", "The name is empty"),
        ({**NEW, "role": "raja"}, "Peran harus", "The role must be"),
    ]
    for lang, col in (("id", 1), ("en", 2)):
        admin = site.login(ADMIN, lang)
        for case in cases:
            form, message = case[0], case[col]
            r = post(admin, "/admin/officials/new", form)
            assert r.status_code in (400, 409, 422), (form, r.status_code)
            assert message in r.text, (lang, form, message)
            assert 'role="alert"' in r.text
            assert f'value="{form["name"]}"' in r.text or not form["name"].strip(), "the form keeps what was typed"


def test_an_admin_revokes_a_key_with_a_reason(site: Site) -> None:
    admin = site.login(ADMIN)
    r = post(admin, f"/admin/officials/{nip(2)}/revoke", {"reason": "", "passphrase": passphrase(ADMIN)})
    assert r.status_code == 400 and "Alasan belum diisi" in r.text
    r = post(
        admin, f"/admin/officials/{nip(2)}/revoke", {"reason": "frasa sandi lupa", "passphrase": passphrase(ADMIN)}
    )
    assert r.status_code == 303
    entry = site.ledger.entry(site.ledger.size() - 1)
    assert entry.kind == "key.revoked" and entry.fields["nip"] == nip(2)
    assert entry.fields["reason"] == "frasa sandi lupa" and entry.fields["by"] == nip(ADMIN)
    assert admin.get(f"/admin/officials/{nip(2)}/revoke").status_code == 403  # no active key any more
    official = site.login(2)
    page = official.get("/sign/smart-city").text
    assert "belum memiliki kunci tanda tangan yang aktif" in page and 'name="passphrase"' not in page


def _publish(admin, form: dict[str, object]):
    preview = post(admin, "/admin/commitments/new", {**form, "step": "preview"})
    assert preview.status_code == 200, preview.text
    fingerprint = re.search(r'name="confirm" value="([0-9a-f]{64})"', preview.text)
    assert fingerprint, "no preview"
    return preview, fingerprint.group(1)


def test_an_admin_publishes_after_a_preview_of_the_exact_hash(site: Site) -> None:
    admin = site.login(ADMIN)
    text = "Kami berjanji.\r\nBaris kedua.\r\n"
    form = {"title": "Komitmen Layanan Cepat", "slug": "", "text": text, "mode": "pick", "signer": [nip(1), nip(4)]}
    preview, fingerprint = _publish(admin, form)
    expected = hashlib.sha256(b"Kami berjanji.\nBaris kedua.\n").hexdigest()
    shown = preview.text.split('class="preview"')[1].split("</section>")[0]
    assert expected in shown and "Pejabat 4" in shown and "Pejabat 2" not in shown
    size = site.ledger.size()
    token = csrf_of(admin, "/admin/commitments/new")
    changed = admin.post(
        "/admin/commitments/new",
        data={**form, "text": "Diam-diam diubah.", "step": "publish", "confirm": fingerprint, "csrf_token": token},
    )
    assert changed.status_code == 200 and "Isian berubah sejak pratinjau" in changed.text
    assert site.ledger.size() == size, "a form changed after its preview is not published"
    r = admin.post(
        "/admin/commitments/new", data={**form, "step": "publish", "confirm": fingerprint, "csrf_token": token}
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin?ok=published"
    entry = site.ledger.entry(size)
    assert entry.kind == "commitment.published"
    assert entry.fields["slug"] == "komitmen-layanan-cepat" and entry.fields["text_sha256"] == expected
    assert entry.fields["signers"] == [nip(1), nip(4)] and entry.fields["by"] == nip(ADMIN)
    assert "Komitmen Layanan Cepat" in site.client().get("/").text


def test_signatories_can_be_all_of_a_role_or_everyone(site: Site) -> None:
    admin = site.login(ADMIN)
    for slug, mode, want in (
        ("semua-pejabat", "role:official", {1, 2, 3, 4}),
        ("semua", "all", {1, 2, 3, 4, ADMIN, FOUNDER}),
        ("admin-saja", "role:admin", {ADMIN, FOUNDER}),
    ):
        form = {"title": f"Komitmen {slug}", "slug": slug, "text": "Isi.", "mode": mode}
        _, fingerprint = _publish(admin, form)
        r = post(admin, "/admin/commitments/new", {**form, "step": "publish", "confirm": fingerprint})
        assert r.status_code == 303, r.text
        with tables(site.ledger) as s:
            got = set(s.exec(select(CommitmentSigner.nip).where(CommitmentSigner.slug == slug)))
        assert got == {nip(n) for n in want}, slug


def test_publish_form_errors(site: Site) -> None:
    admin = site.login(ADMIN, "en")
    base = {"title": "T", "slug": "ok-slug", "text": "Text.", "mode": "pick", "signer": [nip(1)]}
    for change, message in (
        ({"title": " "}, "needs a title and a text"),
        ({"slug": "Bad Slug!"}, "The short name may hold only"),
        ({"slug": "smart-city"}, "There is already a commitment named"),
        ({"signer": []}, "Choose at least one signatory"),
        ({"signer": ["999"]}, "Choose at least one signatory"),
        ({"mode": "everyone-please"}, "Choose how the signatories are picked"),
    ):
        r = post(admin, "/admin/commitments/new", {**base, **change})
        assert r.status_code == 422 and message in r.text, (change, r.status_code)
    with tables(site.ledger) as s:
        assert s.get(Commitment, "ok-slug") is None


def test_an_official_signs_and_sees_the_index_the_wib_time_and_the_links(site: Site) -> None:
    c = site.login(3)
    me = c.get("/me").text
    assert "Belum ditandatangani" in me and 'href="/sign/smart-city"' in me
    page = c.get("/sign/smart-city").text
    with tables(site.ledger) as s:
        sha = s.get(Commitment, "smart-city").text_sha256
    assert "Kami berkomitmen." in page and sha in page and 'name="read"' in page
    r = post(c, "/sign/smart-city", {"read": "yes", "passphrase": passphrase(3)})
    assert r.status_code == 303 and r.headers["location"] == "/sign/smart-city?done=1"
    entry = site.ledger.entry(site.ledger.size() - 1)
    assert entry.kind == "commitment.signed" and entry.fields["nip"] == nip(3)
    done = c.get(r.headers["location"]).text
    assert f"#{entry.index}" in done and "pukul" in done and "WIB" in done
    assert f'href="/v/{entry.index}"' in done and f'href="/certificates/{entry.index}.pdf"' in done
    assert "Tanda tangan Anda sudah tersimpan" in done
    assert "Sudah ditandatangani" in c.get("/me").text
    # the form is gone; the form sent again (a second tap, an answer lost on the way) signs
    # nothing and shows the signature that stands
    assert 'name="passphrase"' not in c.get("/sign/smart-city").text
    size = site.ledger.size()
    again = post(c, "/sign/smart-city", {"read": "yes", "passphrase": passphrase(3)}, form_page="/me")
    assert again.status_code == 303 and again.headers["location"] == "/sign/smart-city"
    assert site.ledger.size() == size
    shown = c.get(again.headers["location"]).text
    assert f"#{entry.index}" in shown and "Tanda tangan Anda sudah tersimpan" not in shown
    declined = post(c, "/sign/smart-city/decline", {"reason": "Berubah pikiran", "passphrase": passphrase(3)}, "/me")
    assert declined.headers["location"] == "/sign/smart-city" and site.ledger.size() == size
    assert "Pejabat 3" in site.client().get("/commitments/smart-city").text.split("Belum menandatangani")[0]


def test_signing_a_commitment_that_does_not_exist_is_a_404_page(site: Site) -> None:
    c = site.login(1)
    r = c.get("/sign/tidak-ada")
    assert r.status_code == 404 and "tidak ada" in r.text
    r = post(c, "/sign/tidak-ada", {"read": "yes", "passphrase": passphrase(1)}, form_page="/me")
    assert r.status_code == 404


def test_slugs_are_made_from_titles() -> None:
    assert (
        slugify("Komitmen Bersama Gerakan Smart City Kota Kediri") == "komitmen-bersama-gerakan-smart-city-kota-kediri"
    )
    assert slugify("  Ikrar — Pelayanan Publik 2026!  ") == "ikrar-pelayanan-publik-2026"
    assert slugify("é" * 5) == "eeeee"
    assert len(slugify("a " * 100)) <= 80
