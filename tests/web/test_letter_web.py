"""The pages a Surat Rekomendasi's QR code lands on, and its upload check, through the app:
every entry of the application process explained in words, in both languages, with its verdict."""

from __future__ import annotations

import re
from html import unescape

import pytest

from signing.app_letter import MANIFEST, render_letter
from signing.doc_kop import Letterhead

from ..certs import attachments, read_qr_codes
from ..signing.documents import rebuild_pages
from ..signing.test_app_letter import OFFICE, decided, with_roles
from .conftest import Site
from .test_verify_web import path_of, verdict_of

KINDS = ("role.assigned", "app.submitted", "app.reviewed", "app.returned", "app.decided")
SAID = {  # what each kind's page says it is, in each language
    "id": {
        "role.assigned": "memberikan atau mencabut peran",
        "app.submitted": "permohonan verifikasi aplikasi kepada Dinas Kominfo",
        "app.reviewed": "penelaahan permohonan oleh penelaah Dinas Kominfo",
        "app.returned": "mengembalikan permohonan kepada Perangkat Daerah",
        "app.decided": "keputusan Kepala Dinas Kominfo atas permohonan",
    },
    "en": {
        "role.assigned": "gives or withdraws a role",
        "app.submitted": "a request to Dinas Kominfo to verify an application",
        "app.reviewed": "a Dinas Kominfo reviewer's review of the request",
        "app.returned": "returns the request to its agency for revision",
        "app.decided": "the decision of the Head of Dinas Kominfo on the request",
    },
}
RAW_KEY = re.compile(r"\b(?:letter|kind|check)\.[a-z_.-]+\b")


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _letter(site: Site, app: str, lang: str = "id") -> bytes:
    base = "http://testserver"  # the site's IKRAR_BASE_URL (conftest.web_settings)
    return render_letter(site.ledger, app, lang=lang, base_url=base, now=site.clock(), letterhead=Letterhead(OFFICE))


@pytest.fixture()
def process(site: Site) -> Site:
    """The site with the roles given and one application returned, revised, reviewed and decided."""
    with_roles(site.world)
    decided(site.world, "recommended_with_notes")
    return site


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_explained_with_its_verdict(process: Site, kind: str, lang: str) -> None:
    ledger = process.ledger
    index = max(i for i in range(ledger.size()) if ledger.entry(i).kind == kind)
    c = process.client(lang)
    entry = c.get(f"/ledger/{index}")
    assert entry.status_code == 200, entry.text[:500]
    text = _text(entry.text)
    assert SAID[lang][kind] in text
    assert not RAW_KEY.findall(text), RAW_KEY.findall(text)
    link = re.search(r'href="(/v/\d+\?h=[0-9a-f]{16})"', entry.text)
    assert link, "the entry page links to its verify page"
    page = c.get(unescape(link[1]))
    assert page.status_code == 200, page.text[:500]
    verdict, said = verdict_of(page.text)
    assert verdict == "valid", said
    assert SAID[lang][kind] in said
    assert not RAW_KEY.findall(_text(page.text)), RAW_KEY.findall(_text(page.text))
    body = c.get(f"/api/v1/verify/{index}").json()
    assert body["kind"] == kind and body["verdict"] == "valid"
    assert {ch["name"] for ch in body["checks"]} >= {"role", "inclusion", "consistency", "chain"}


def test_the_letters_qr_code_opens_the_decision_and_says_who_signed(process: Site) -> None:
    app = next(e.fields["app"] for e in process.ledger.entries(0, 100) if e.kind == "app.decided")
    pdf = _letter(process, app)
    codes = [c.text for page in range(2) for c in read_qr_codes(pdf, 150, page)]
    assert len(codes) == 1
    page = process.client().get(path_of(codes[0]))
    assert page.status_code == 200
    verdict, said = verdict_of(page.text)
    assert verdict == "valid" and "Kepala Dinas Kominfo yang menjabat saat itu" in said
    text = _text(page.text)
    assert "Direkomendasikan dengan catatan" in text and "Gunakan SSO Pemerintah Kota" in text
    assert "Pejabat 3" in text and "Kepala Dinas Kominfo menurut penetapan peran" in text
    assert f"/aplikasi/{app}/rekomendasi.pdf" in page.text
    # a QR code whose h= is not this entry's: the page says the paper is not this entry's
    wrong = process.client().get(path_of(codes[0])[:-4] + "0000")
    assert verdict_of(wrong.text)[0] == "invalid" and "TIDAK cocok" in wrong.text


@pytest.mark.parametrize("lang", ["id", "en"])
def test_upload_says_genuine_and_an_edit_says_what_changed(process: Site, lang: str) -> None:
    app = next(e.fields["app"] for e in process.ledger.entries(0, 100) if e.kind == "app.decided")
    pdf = _letter(process, app, lang)
    c = process.client(lang)
    answer = c.post("/api/v1/verify", files={"file": ("surat.pdf", pdf, "application/pdf")}).json()
    assert answer["valid"] is True and answer["kind"] == "letter", answer
    assert answer["letter"]["app"] == app and answer["letter"]["decision"] == "recommended_with_notes"
    page = c.post("/verify/upload", files={"file": ("surat.pdf", pdf, "application/pdf")})
    verdict, said = verdict_of(page.text)
    assert verdict == "valid", said
    assert ("Surat Rekomendasi Nomor" if lang == "id" else "Recommendation Letter Number") in said

    edited = attachments(pdf)[MANIFEST].replace(b'"fiscal_year": 2027', b'"fiscal_year": 2028', 1)
    forged = rebuild_pages(pdf, replace={MANIFEST: edited})
    answer = c.post("/api/v1/verify", files={"file": ("surat.pdf", forged, "application/pdf")}).json()
    assert answer["valid"] is False and answer["reason"] == "edited"
    assert answer["difference"] == {"fact": "fiscal_year", "printed": "2028", "ledger": "2027", "place": "data"}
    page = c.post("/verify/upload", files={"file": ("surat.pdf", forged, "application/pdf")})
    verdict, said = verdict_of(page.text)
    assert verdict == "invalid"
    assert ("tahun anggaran “2028”, seharusnya “2027”" if lang == "id" else "fiscal year is “2028”") in said
