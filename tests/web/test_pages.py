"""Every page and API route answers, in both languages; the catalogues agree; times are WIB;
pages load nothing from elsewhere and run no inline script."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.factories import nip
from web.i18n import LOCALES, Translator, catalogue
from web.pages import HERE

from .conftest import ADMIN, Site

TEMPLATES = HERE / "templates"

PUBLIC_PAGES = [
    "/",
    "/commitments/smart-city",
    "/ledger",
    "/ledger?start=0",
    "/ledger/0",
    "/ledger/4",
    "/docs",
    "/login",
    "/aplikasi",
]
API_ROUTES = [
    "/checkpoint",
    "/vkey",
    "/openapi.json",
    "/healthz",
    "/api/v1/entries",
    "/api/v1/entries?start=2&limit=3",
    "/api/v1/entries/0",
    "/api/v1/proof/1",
    "/api/v1/proof/1?size=3",
    "/api/v1/consistency?old=1&new=3",
    "/api/v1/commitments",
    "/api/v1/commitments/smart-city/signatures",
    "/api/v1/commitments/smart-city/signatures.csv",
]
OFFICIAL_PAGES = ["/me", "/sign/smart-city"]
ADMIN_PAGES = ["/admin", "/admin/officials/new", "/admin/commitments/new", f"/admin/officials/{nip(1)}/revoke"]

# A word that stands on every page in one language and never in the other.
MARKERS = {"id": "Beranda", "en": "Home"}


def test_the_catalogues_hold_the_same_keys() -> None:
    id_keys, en_keys = set(catalogue("id")), set(catalogue("en"))
    assert id_keys == en_keys, f"only in id: {sorted(id_keys - en_keys)}; only in en: {sorted(en_keys - id_keys)}"
    for key in id_keys:
        fields = [set(re.findall(r"\{(\w+)\}", catalogue(lang)[key])) for lang in ("id", "en")]
        assert fields[0] == fields[1], f"{key}: the languages use different fields {fields}"


def test_the_catalogues_are_the_only_locale_files_and_are_valid_json() -> None:
    assert sorted(p.name for p in LOCALES.iterdir()) == ["en", "id"]
    areas = {lang: sorted(p.name for p in (LOCALES / lang).iterdir()) for lang in ("id", "en")}
    assert areas["id"] == areas["en"] and "common.json" in areas["id"]
    for path in LOCALES.glob("*/*"):
        assert path.suffix == ".json"
        json.loads(path.read_text(encoding="utf-8"))


def test_every_key_the_templates_and_code_use_is_in_the_catalogue() -> None:
    used: set[str] = set()
    for path in list(TEMPLATES.rglob("*.html")) + list(HERE.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\bt\(\s*['"]([a-z_.:]+)['"]\s*[,)]""", text))
        used |= set(re.findall(r"""(?:FormInvalid|Forbidden|Throttled)\(\s*f?["']([a-z_.{}]+)["']""", text))
        used |= set(re.findall(r"""["'](err\.[a-z_.]+)["']""", text))
    used = {k for k in used if "{" not in k}
    missing = sorted(k for k in used if k not in catalogue("id"))
    assert not missing, f"keys used but not in the catalogue: {missing}"
    for scope in ("login", "sign"):
        for state in ("locked", "slow"):
            assert f"err.{scope}_{state}" in catalogue("en")


def test_a_missing_key_shows_the_key_and_does_not_fail() -> None:
    assert Translator("id")("no.such.key") == "no.such.key"


def test_times_are_shown_in_wib_in_each_language() -> None:
    moment = datetime(2019, 9, 23, 2, 33, tzinfo=UTC)
    assert Translator("id").when(moment) == "Senin, 23 September 2019 pukul 09.33.00 WIB"
    assert Translator("en").when(moment) == "Monday, 23 September 2019 at 09:33:00 WIB"
    naive = datetime(2019, 9, 23, 17, 0)  # as SQLite returns it: UTC
    assert Translator("id").short(naive) == "24-09-2019 00.00 WIB"


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_public_page_answers_in_both_languages(site: Site, lang: str) -> None:
    c = site.client(lang)
    for path in PUBLIC_PAGES:
        r = c.get(path)
        assert r.status_code == 200, (path, r.status_code)
        assert f'<html lang="{lang}">' in r.text, path
        assert MARKERS[lang] in r.text and MARKERS["en" if lang == "id" else "id"] not in r.text, path
        assert r.headers["content-type"].startswith("text/html"), path


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_api_route_answers_in_both_languages(site: Site, lang: str) -> None:
    c = site.client(lang)
    for path in API_ROUTES:
        r = c.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        assert r.content, path


@pytest.mark.parametrize("lang", ["id", "en"])
def test_pages_for_logged_in_people_answer_in_both_languages(site: Site, lang: str) -> None:
    official, admin = site.login(1, lang), site.login(ADMIN, lang)
    for path in OFFICIAL_PAGES:
        r = official.get(path)
        assert r.status_code == 200 and MARKERS[lang] in r.text, (path, r.status_code)
    for path in ADMIN_PAGES + ["/me"]:
        r = admin.get(path)
        assert r.status_code == 200 and MARKERS[lang] in r.text, (path, r.status_code)
    enrol = site.client(lang).get(site.invite(4))
    assert enrol.status_code == 200 and MARKERS[lang] in enrol.text


def test_the_language_switch_is_on_every_page_and_is_remembered(site: Site) -> None:
    c = site.client()
    home = c.get("/commitments/smart-city")
    assert 'href="/lang/en?next=/commitments/smart-city"' in home.text
    assert "telah menandatangani" in home.text
    r = c.get("/lang/en?next=/commitments/smart-city")
    assert r.status_code == 303 and r.headers["location"] == "/commitments/smart-city"
    assert "ikrar_lang=en" in r.headers["set-cookie"] and "max-age" in r.headers["set-cookie"].lower()
    assert "0 of 3 have signed" in c.get("/commitments/smart-city").text
    assert "0 of 3 have signed" in c.get("/").text  # remembered on the next page
    c.get("/lang/id?next=/")
    assert "0 dari 3 telah menandatangani" in c.get("/").text


def test_the_language_switch_never_leaves_the_site(site: Site) -> None:
    c = site.client()
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"):
        r = c.get("/lang/en", params={"next": target})
        assert r.status_code == 303 and r.headers["location"] == "/", target
    assert c.get("/lang/xx").status_code == 404


def test_progress_is_counted_on_the_home_page(site: Site) -> None:
    site.world.sign(1)
    site.world.sign(2)
    assert "2 dari 3 telah menandatangani" in site.client().get("/").text
    assert "2 of 3 have signed" in site.client("en").get("/").text


def test_the_commitment_page_lists_who_signed_with_wib_times_and_who_has_not(site: Site) -> None:
    index = site.world.sign(2).entry.index
    page = site.client().get("/commitments/smart-city").text
    signed, pending = page.split("Belum menandatangani (2)")
    assert "Pejabat 2" in signed and "Kepala Dinas 2" in signed and "Dinas 2" in signed
    assert f'href="/v/{index}"' in signed and "WIB" in signed
    assert "Pejabat 1" in pending and "Pejabat 3" in pending and "Pejabat 2" not in pending
    assert site.world.ledger.entry(index).time.strftime("%d-%m-%Y") in signed
    assert "Kami berkomitmen." in page  # the full text
    assert "SHA-256" in page


def test_the_ledger_explorer_pages_through_entries_and_shows_the_checkpoint_and_key(site: Site) -> None:
    size = site.ledger.size()
    c = site.client()
    latest = c.get("/ledger").text
    assert site.ledger.checkpoint().note.splitlines()[2] in latest
    assert str(site.ledger.verifier) in latest
    assert f'href="/ledger/{size - 1}"' in latest
    first = c.get("/ledger?start=0").text
    assert 'href="/ledger/0"' in first and "Buku besar" in first
    beyond = c.get(f"/ledger?start={size + 50}")
    assert beyond.status_code == 200


def test_pages_load_nothing_from_elsewhere_and_run_no_inline_script() -> None:
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"""(src|href)=["'](https?:)?//""", text), f"{path.name} loads from another site"
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag, f"{path.name} has an inline script"
        assert not re.search(r"\son[a-z]+=", text), f"{path.name} has an inline event handler"
        assert "style=" not in text, f"{path.name} has an inline style"
    css = (HERE / "static" / "css" / "ikrar.css").read_text()
    assert "@import" not in css and "url(http" not in css


def test_static_assets_are_served_by_the_app(site: Site) -> None:
    c = site.client()
    page = c.get("/").text
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
    assert len(assets) >= 3
    for asset in assets:
        r = c.get(asset)
        assert r.status_code == 200 and r.content, asset


def test_the_api_reference_is_rendered_here_from_the_schema(site: Site) -> None:
    r = site.client().get("/docs")
    assert r.status_code == 200
    for path in ("/api/v1/entries/{index}", "/api/v1/proof/{index}", "/api/v1/consistency", "/checkpoint", "/vkey"):
        assert path in r.text
    schema = site.client().get("/openapi.json").json()
    assert "/api/v1/commitments/{slug}/signatures.csv" in schema["paths"]
    assert not any(p.startswith("/admin") or p == "/login" for p in schema["paths"]), "pages are not API"


def test_the_demo_banner_shows_only_on_the_demo(site: Site) -> None:
    assert "data contoh" not in site.client().get("/").text
    site.app.state.org = site.app.state.demo_org
    site.app.state.cache_epoch += 1  # state behind the ledger's back: the cache's documented hook
    assert "data contoh" in site.client().get("/").text


def test_pages_fit_a_phone(site: Site) -> None:
    page = site.client().get("/").text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    css = (HERE / "static" / "css" / "ikrar.css").read_text()
    assert "@media (max-width: 720px)" in css


def test_the_locales_folder_is_packaged() -> None:
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    assert '"locales/*/*.json"' in pyproject and '"templates/**/*"' in pyproject and '"static/**/*"' in pyproject
