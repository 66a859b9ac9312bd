"""The signatures as files for spreadsheets (issue 13, point 8): the CSV opens in Excel and
LibreOffice as people expect (UTF-8 with a BOM, NIPs kept whole, WIB beside UTC, headers
in the requested language), and the XLSX beside it; an official without a NIP gets an
empty NIP cell, never their identifier. With LibreOffice installed (`soffice`), the files
are opened in it for real; without it those tests skip, unless IKRAR_REQUIRE_LIBREOFFICE
is set."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from ledger.reader import CommitmentRecord
from signing import actions, vouching
from tests.factories import ADMIN_NIP, ADMIN_PASSPHRASE, nip
from web.i18n import Translator
from web.routes_api import _signature_rows, signatures_csv_bytes, signatures_xlsx_bytes
from web.views import CommitmentView, Person, SignedBy

from .conftest import Site

CSV = "/api/v1/commitments/smart-city/signatures.csv"
XLSX = "/api/v1/commitments/smart-city/signatures.xlsx"
HEADERS = {
    "id": ["Nomor entri", "NIP", "Nama", "Jabatan", "Perangkat Daerah", "Waktu tanda tangan (WIB)"],
    "en": ["Entry number", "NIP", "Name", "Position", "Agency", "Signed at (WIB)"],
}
NAME = "Drs. Ketut Suwéndra, M.Si."  # a letter outside ASCII: the file must be read as UTF-8


def _signed_by_ketut(site: Site) -> int:
    """Official 5, named `NAME`, asked to sign `rumus` and signed: the entry's index."""
    official = "198001012005011005"
    actions.register_official(site.ledger, official, NAME, "Kepala Dinas", "Dinas PUPR", "official", site.world.now())
    person = actions.get_official(site.ledger, official)
    vouching.invite(site.world.ctx, person, ADMIN_NIP, ADMIN_PASSPHRASE, site.world.now(), 1)
    actions.enrol(site.world.ctx, official, "frasa-sandi-ketut", site.world.now())
    actions.publish(site.world.ctx, "rumus", "Rumus", "Teks.", [official], "admin", site.world.now())
    return actions.sign(site.world.ctx, "rumus", official, "frasa-sandi-ketut", site.world.now()).entry.index


def _rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM: Excel reads it as UTF-8"
    return list(csv.reader(io.StringIO(content[3:].decode("utf-8"), newline="")))


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_csv_is_headed_in_the_sites_language_or_the_one_asked_for(site: Site, lang: str) -> None:
    site.world.sign(2)
    c = site.client(lang)
    r = c.get(CSV)
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert _rows(r.content)[0][:6] == HEADERS[lang]
    assert r.content.count(b"\r\n") == 2, "CRLF, a header and one row"
    other = "en" if lang == "id" else "id"
    assert _rows(c.get(f"{CSV}?lang={other}").content)[0][:6] == HEADERS[other], "?lang= wins over the cookie"
    again = c.get(CSV)  # from the cache now: still in the cookie's language
    assert again.content == r.content and again.headers["etag"] == r.headers["etag"]
    assert site.client(other).get(CSV).headers["etag"] != r.headers["etag"], "the language is in the ETag"
    assert c.get(f"{CSV}?lang=fr").status_code == 422


def test_the_csv_keeps_the_nip_whole_and_gives_the_time_in_wib_beside_utc(site: Site) -> None:
    signed = site.world.sign(2).entry
    [header, row] = _rows(site.client().get(CSV).content)
    by = dict(zip(header, row, strict=True))
    assert by["NIP"] == f'="{nip(2)}"', "a formula giving the 18 digits as text: Excel keeps them all"
    assert by["Waktu tanda tangan (UTC)"] == signed.time.strftime("%Y-%m-%dT%H:%M:%SZ")
    wib = (signed.time + timedelta(hours=7)).strftime("%Y-%m-%d %H:%M:%S")
    assert by["Waktu tanda tangan (WIB)"] == wib
    assert by["Nomor entri"] == str(signed.index) and by["Nama"] == "Pejabat 2"


def test_the_xlsx_has_the_nip_as_text_the_wib_time_as_a_date_and_no_formula(site: Site) -> None:
    index = _signed_by_ketut(site)
    r = site.client("en").get("/api/v1/commitments/rumus/signatures.xlsx")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="rumus-signatures.xlsx"' in r.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet.title == "Signatures"
    assert [c.value for c in sheet[1]][:6] == HEADERS["en"]
    row = sheet[2]
    assert row[0].value == index and row[2].value == NAME
    assert row[1].value == "198001012005011005" and row[1].data_type == "s" and row[1].number_format == "@"
    signed = site.ledger.entry(index).time
    assert row[5].is_date and row[5].value == (signed + timedelta(hours=7)).replace(tzinfo=None)
    assert row[6].value == signed.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert all(c.data_type != "f" for r_ in sheet.iter_rows() for c in r_), "no cell is a formula"
    indonesian = load_workbook(io.BytesIO(site.client().get("/api/v1/commitments/rumus/signatures.xlsx").content))
    assert [c.value for c in indonesian.active[1]][:6] == HEADERS["id"] and indonesian.active.title == "Tanda tangan"


def test_a_name_that_looks_like_a_formula_stays_text_in_the_xlsx(site: Site) -> None:
    official = "198001012005011002"
    actions.register_official(site.ledger, official, '=HYPERLINK("x")', "+T", "@U", "official", site.world.now())
    person = actions.get_official(site.ledger, official)
    vouching.invite(site.world.ctx, person, ADMIN_NIP, ADMIN_PASSPHRASE, site.world.now(), 1)
    actions.enrol(site.world.ctx, official, "frasa-sandi-formula", site.world.now())
    actions.publish(site.world.ctx, "rumus", "Rumus", "Teks.", [official], "admin", site.world.now())
    actions.sign(site.world.ctx, "rumus", official, "frasa-sandi-formula", site.world.now())
    sheet = load_workbook(io.BytesIO(site.client().get("/api/v1/commitments/rumus/signatures.xlsx").content)).active
    name = sheet.cell(2, 3)
    assert name.value == '=HYPERLINK("x")' and name.data_type == "s"


def test_an_official_without_a_nip_gets_an_empty_nip_cell_never_the_identifier(site: Site) -> None:
    signed = site.world.sign(1).entry
    real = site.world.ledger
    with real.read() as r:
        commitment = r.commitment("smart-city")
    assert isinstance(commitment, CommitmentRecord)
    mayor = Person("pn-walikota1", "Wali Kota Kediri", "Wali Kota Kediri", "Pemerintah Kota Kediri")
    clerk = Person(nip(1), "Pejabat 1", "Kepala Dinas 1", "Dinas 1")
    view = CommitmentView(
        commitment,
        [SignedBy(mayor, signed.index, signed.time, "k1"), SignedBy(clerk, signed.index + 1, signed.time, "k2")],
        [],
    )
    rows = _signature_rows(view)
    assert [r.nip for r in rows] == ["", nip(1)]
    t = Translator("id")
    text = signatures_csv_bytes(rows, t).decode("utf-8-sig")
    assert [line[1] for line in csv.reader(io.StringIO(text))] == ["NIP", "", f'="{nip(1)}"']
    sheet = load_workbook(io.BytesIO(signatures_xlsx_bytes(rows, t))).active
    assert sheet.cell(2, 2).value is None and sheet.cell(3, 2).value == nip(1)


def test_the_json_api_keeps_its_shape(site: Site) -> None:
    site.world.sign(2)
    got = site.client("en").get("/api/v1/commitments/smart-city/signatures").json()
    # the fields of before are all kept; rules 4 added the capacity, and whether the key was revoked since
    assert set(got["signatures"][0]) == {"index", "nip", "name", "title", "unit", "signed_at", "key"} | {
        "capacity",
        "revoked_later",
    }
    assert {"deadline", "declined", "pending", "text", "commitment"} <= set(got)
    assert got["signatures"][0]["nip"] == nip(2)


# -- opened in LibreOffice ---------------------------------------------------------------------


def _soffice() -> str:
    found = shutil.which("soffice")
    if found is None:
        if os.environ.get("IKRAR_REQUIRE_LIBREOFFICE"):
            pytest.fail("LibreOffice is required here (IKRAR_REQUIRE_LIBREOFFICE) but soffice is missing")
        pytest.skip("LibreOffice (soffice) is not installed")
    return found


def _as_shown(soffice: str, source: Path, infilter: str | None = None) -> list[list[str]]:
    """The cells of `source` as LibreOffice shows them (opened, then saved as CSV "as shown")."""
    out = source.parent / "shown"
    profile = source.parent / "profile"
    command = [soffice, f"-env:UserInstallation=file://{profile}", "--headless"]
    command += [f"--infilter={infilter}"] if infilter else []
    command += ["--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true", "--outdir", str(out)]
    done = subprocess.run([*command, str(source)], capture_output=True, text=True, timeout=180)
    converted = out / (source.stem + ".csv")
    assert done.returncode == 0 and converted.exists(), done.stderr
    return list(csv.reader(io.StringIO(converted.read_text(encoding="utf-8"), newline="")))


@pytest.mark.slow
def test_libreoffice_opens_both_files_with_the_nip_whole_and_the_name_intact(site: Site, tmp_path: Path) -> None:
    soffice = _soffice()
    signed = site.ledger.entry(_signed_by_ketut(site)).time
    wib = (signed + timedelta(hours=7)).strftime("%Y-%m-%d %H:%M:%S")
    c = site.client()
    (tmp_path / "tanda-tangan.csv").write_bytes(c.get("/api/v1/commitments/rumus/signatures.csv").content)
    (tmp_path / "tanda-tangan.xlsx").write_bytes(c.get("/api/v1/commitments/rumus/signatures.xlsx").content)
    # The CSV as its import dialog reads it: UTF-8 (the BOM says so), comma-separated.
    from_csv = _as_shown(soffice, tmp_path / "tanda-tangan.csv", "CSV:44,34,76,1")
    from_xlsx = _as_shown(soffice, tmp_path / "tanda-tangan.xlsx")
    for shown in (from_csv, from_xlsx):
        assert shown[0][:6] == HEADERS["id"]
        assert shown[1][1] == "198001012005011005", "18 digits, not 1.98001012005011E+017"
        assert shown[1][2] == NAME
        assert shown[1][5] == wib, "a date and time in WIB"


def test_a_real_official_without_a_nip_has_an_empty_nip_cell(site: Site) -> None:
    mayor = site.world.without_nip()
    actions.publish(site.world.ctx, "rumus", "Rumus", "Teks.", [mayor, nip(1)], "admin", site.world.now())
    site.world.sign(mayor, "rumus")
    site.world.sign(1, "rumus")
    c = site.client()
    text = c.get("/api/v1/commitments/rumus/signatures.csv").content.decode("utf-8-sig")
    by_name = {row[2]: row[1] for row in csv.reader(io.StringIO(text))}
    assert by_name["Wali Kota Uji"] == "" and by_name["Pejabat 1"] == f'="{nip(1)}"'
    sheet = load_workbook(io.BytesIO(c.get("/api/v1/commitments/rumus/signatures.xlsx").content)).active
    cells = {sheet.cell(row, 3).value: sheet.cell(row, 2).value for row in range(2, 4)}
    assert cells == {"Wali Kota Uji": None, "Pejabat 1": nip(1)}
