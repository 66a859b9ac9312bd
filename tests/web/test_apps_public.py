"""The public register of applications (issue 15, point 5), through the app on SQLite and
PostgreSQL: `/aplikasi` with its search, filters and per-PD counts, a request's page with
its history and attachments, the letter, and the JSON and CSV of the API — each fact as the
ledger's entries record it; a filter that cannot be used is a 400 in the page's language."""

from __future__ import annotations

import csv
import hashlib
import html
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from pypdf import PdfWriter

from ledger.application import CHECKLIST
from ledger.reader import ApplicationRecord
from ledger.times import format_time
from signing import apps
from signing.apps import AttachmentIn
from signing.wording import wib
from tests.factories import (
    ADMIN_NIP,
    ADMIN_PASSPHRASE,
    LedgerFactory,
    checklist_object,
    nip,
    passphrase,
    request_object,
)
from web.i18n import Translator
from web.routes_apps import FilterInvalid, Filters, parse_filters

from .conftest import Site

AGENCY_1, AGENCY_2 = "Dinas 1", "Dinas 2"  # the units of the factory's officials 1 and 2
HEAD_1, HEAD_2, REVIEWER, DECIDER = 1, 2, 3, 4
HEAD_OF = {AGENCY_1: HEAD_1, AGENCY_2: HEAD_2}
NOTE = "Gunakan SSO kota dan uji beban sebelum operasi"
RETURN_REASON = "Lengkapi analisis kebutuhan dan rencana anggaran biaya"
REFUSAL = "Aplikasi umum SRIKANDI sudah melayani kebutuhan ini"


def pdf_bytes(title: str) -> bytes:
    """A one-page PDF whose bytes differ by `title`."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def checklist(finding: str = "fits") -> dict[str, Any]:
    """A checklist whose every point has `finding` (with a note unless it fits)."""
    note = "" if finding == "fits" else "Perlu dibahas bersama Bidang Aplikasi"
    return checklist_object(**{point: (finding, note) for point in CHECKLIST})


@dataclass
class Register:
    """The site with four requests: `with_notes` (Dinas 1, recommended with notes, a public and
    an internal attachment), `returned` (Dinas 2), `waiting` (Dinas 1, submitted), and
    `refused` (Dinas 2: returned, revised, then not recommended)."""

    site: Site
    with_notes: str
    returned: str
    waiting: str
    refused: str
    public: AttachmentIn
    internal: AttachmentIn
    public_bytes: bytes

    @property
    def world(self) -> LedgerFactory:
        return self.site.world


def _roles(world: LedgerFactory) -> None:
    for who, role, unit in (
        (HEAD_1, "pd-head", AGENCY_1),
        (HEAD_2, "pd-head", AGENCY_2),
        (REVIEWER, "reviewer", "Bidang Aplikasi Informatika"),
        (DECIDER, "kominfo-head", "Dinas Komunikasi dan Informatika"),
    ):
        apps.assign_role(
            world.ctx, nip(who), role, unit, True, "Penetapan tugas", ADMIN_NIP, ADMIN_PASSPHRASE, world.now()
        )


def submit(
    world: LedgerFactory,
    agency: str,
    name: str,
    attachments: Sequence[AttachmentIn] = (),
    app: str | None = None,
    **changes: Any,
) -> str:
    """The Kepala of `agency` signs a request (a new one, or the next revision of `app`):
    `tests.factories.request_object` named `name`, with these attachments and changes."""
    request = request_object(agency, name=name, attachments=[a.to_json() for a in attachments], **changes)
    head = HEAD_OF[agency]
    appended = apps.submit_app(world.ctx, None, request, nip(head), passphrase(head), world.now(), app=app)
    return str(appended.entry.fields["app"])


def decide(world: LedgerFactory, app: str, decision: str, notes: list[str]) -> None:
    apps.review_app(
        world.ctx, app, nip(REVIEWER), checklist("fits" if decision == "recommended" else "concern"), world.now()
    )
    apps.decide_app(world.ctx, app, decision, notes, nip(DECIDER), passphrase(DECIDER), world.now())


@pytest.fixture()
def register(site: Site) -> Register:
    world = site.world
    _roles(world)
    public_bytes = pdf_bytes("Kerangka Acuan Kerja")
    public = apps.keep_attachment(world.ledger, "Kerangka Acuan Kerja", "kak.pdf", public_bytes, world.now())
    internal = apps.keep_attachment(
        world.ledger,
        "Rencana Anggaran Biaya",
        "rab.pdf",
        pdf_bytes("Rencana Anggaran Biaya"),
        world.now(),
        internal=True,
    )
    with_notes = submit(world, AGENCY_1, "Sistem Informasi Kepegawaian", [public, internal])
    decide(world, with_notes, "recommended_with_notes", [NOTE])
    returned = submit(world, AGENCY_2, "Aplikasi Antrean Puskesmas", kind="subscription")
    apps.review_app(world.ctx, returned, nip(REVIEWER), checklist("concern"), world.now())
    apps.return_app(world.ctx, returned, nip(REVIEWER), [RETURN_REASON], world.now())
    waiting = submit(world, AGENCY_1, "Portal Data Terbuka", kind="development")
    refused = submit(world, AGENCY_2, "Aplikasi Surat Menyurat", shared_app="SRIKANDI", shared_why_not="Belum dicoba")
    apps.return_app(world.ctx, refused, nip(REVIEWER), ["Jelaskan mengapa SRIKANDI tidak dapat dipakai"], world.now())
    submit(world, AGENCY_2, "Aplikasi Surat Menyurat", app=refused, shared_app="SRIKANDI", shared_why_not="Fitur arsip")
    decide(world, refused, "not_recommended", [REFUSAL])
    return Register(site, with_notes, returned, waiting, refused, public, internal, public_bytes)


def _row(page: str, app: str) -> str:
    m = re.search(rf'<tr id="app-{app}">(.*?)</tr>', page, re.S)
    assert m, f"no row for {app}"
    return html.unescape(m.group(1))


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr id="app-([0-9]{4}-[0-9]{4})">', page)


def _record(reg: Register, app: str) -> ApplicationRecord:
    with reg.site.ledger.read() as r:
        record: ApplicationRecord | None = r.application(app)
    assert record is not None
    return record


# -- the register ------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_register_lists_every_request_with_its_status_dates_and_letter(register: Register, lang: str) -> None:
    reg, t = register, Translator(lang)
    r = reg.site.client(lang).get("/aplikasi")
    assert r.status_code == 200 and f'<html lang="{lang}">' in r.text
    page = r.text
    assert _rows(page) == [reg.refused, reg.waiting, reg.returned, reg.with_notes]  # newest first
    expected = {
        reg.with_notes: ("recommended_with_notes", AGENCY_1, "new"),
        reg.returned: ("returned", AGENCY_2, "subscription"),
        reg.waiting: ("submitted", AGENCY_1, "development"),
        reg.refused: ("not_recommended", AGENCY_2, "new"),
    }
    for app, (status, agency, kind) in expected.items():
        row, record = _row(page, app), _record(reg, app)
        plain = re.sub(r"<[^>]+>", "", row)
        assert t(f"apps.status.{status}") in row and agency in row and t(f"apps.kind.{kind}") in row
        assert f'href="/aplikasi/{app}"' in row and t.short(record.first_time) in plain
        if record.decided_time is not None:
            assert t.short(record.decided_time) in plain and f"/aplikasi/{app}/rekomendasi.pdf" in row
        else:
            assert "rekomendasi.pdf" not in row
    assert t("apps.register.revision", n=2) in _row(page, reg.refused)
    assert t("apps.register.found", n=4, total=4) in html.unescape(page)
    assert 'href="/aplikasi"' in page  # the navigation names the register on every page
    assert "WIB" in _row(page, reg.with_notes)


def test_the_register_counts_each_agencys_requests_by_status(register: Register) -> None:
    page = register.site.client("en").get("/aplikasi?status=submitted").text  # the counts ignore the filters
    table = re.search(r'<table class="table responsive counts-table" id="counts">(.*?)</table>', page, re.S)
    assert table
    rows = [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1), re.S)[1:]
    ]
    # agency, total, then submitted, returned, recommended, with notes, not recommended
    assert rows == [
        [AGENCY_1, "2", "1", "0", "0", "1", "0"],
        [AGENCY_2, "2", "0", "1", "0", "0", "1"],
        ["All agencies", "4", "1", "1", "0", "1", "1"],
    ]
    assert 'href="/aplikasi?pd=Dinas%201"' in table.group(1)


FILTERED = {  # a query, and the requests it leaves (the fixture's names), newest first
    "pd=Dinas+1": ["waiting", "with_notes"],
    "pd=Dinas+2&status=returned": ["returned"],
    "status=not_recommended": ["refused"],
    "status=recommended": [],
    "year=2026": ["refused", "waiting", "returned", "with_notes"],
    "year=2025": [],
    "year=2027": [],  # the year of the request's number, not its fiscal year (2027 in request_object)
    "q=kepegawaian": ["with_notes"],
    "q=++SURAT+++menyurat": ["refused"],
    "q=2026-0002": ["returned"],
    "q=&pd=&status=&year=": ["refused", "waiting", "returned", "with_notes"],  # the form's "any"
    "pd=Dinas+Kesehatan": [],  # an agency of the city's list without requests
}


def test_the_register_filters_by_agency_status_year_and_search(register: Register) -> None:
    c = register.site.client()
    for query, shown in FILTERED.items():
        apps_shown = [getattr(register, name) for name in shown]
        page = c.get(f"/aplikasi?{query}")
        assert page.status_code == 200, query
        assert _rows(page.text) == apps_shown, query
        if not shown:
            assert Translator("id")("apps.register.none_match") in page.text, query
        api = c.get(f"/api/v1/apps?{query}").json()
        assert [a["app"] for a in api["applications"]] == apps_shown, query
        assert (api["count"], api["total"]) == (len(shown), 4), query
        listed = list(csv.reader(io.StringIO(c.get(f"/api/v1/apps.csv?{query}").content.decode("utf-8-sig"))))
        assert [row[0] for row in listed[1:]] == apps_shown, query


def test_the_chosen_filters_stay_chosen_in_the_form(register: Register) -> None:
    page = register.site.client().get("/aplikasi?pd=Dinas+2&status=returned&year=2026&q=antrean").text
    assert '<option value="Dinas 2" selected>' in page and '<option value="returned" selected>' in page
    assert '<option value="2026" selected>' in page and 'value="antrean"' in page
    assert 'href="/api/v1/apps?q=antrean&amp;pd=Dinas+2&amp;status=returned&amp;year=2026"' in page


BAD_FILTERS = {
    "status=approved": {
        "id": "Status «approved» tidak dikenal. Pilih salah satu: submitted, returned, recommended, "
        "recommended_with_notes, not_recommended.",
        "en": "There is no status “approved”. Choose one of: submitted, returned, recommended, "
        "recommended_with_notes, not_recommended.",
    },
    "year=26": {
        "id": "Tahun «26» tidak dapat dipakai: tulis tahun permohonan dengan empat angka, antara 2000 dan 2100.",
        "en": "The year “26” cannot be used: write the year of the request in four digits, between 2000 and 2100.",
    },
    "year=1999": {
        "id": "Tahun «1999» tidak dapat dipakai",
        "en": "The year “1999” cannot be used",
    },
    "year=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%96": {  # fullwidth digits: not a year here
        "id": "tulis tahun permohonan dengan empat angka",
        "en": "write the year of the request in four digits",
    },
    "pd=Dinas+Entah": {
        "id": "Tidak ada Perangkat Daerah bernama «Dinas Entah». Pilih Perangkat Daerah dari daftar.",
        "en": "There is no agency named “Dinas Entah”. Choose an agency from the list.",
    },
    "q=" + "x" * 101: {
        "id": "Pencarian paling panjang 100 karakter; yang dikirim 101.",
        "en": "A search is at most 100 characters long; this one is 101.",
    },
    "q=a%0Ab": {
        "id": "Pencarian atau saringan memuat karakter yang tidak dapat ditampilkan",
        "en": "The search or a filter holds characters that cannot be shown",
    },
}


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_filter_that_cannot_be_used_is_a_400_in_the_pages_language(register: Register, lang: str) -> None:
    c = register.site.client(lang)
    for query, words in BAD_FILTERS.items():
        said = words[lang]
        page = c.get(f"/aplikasi?{query}")
        assert page.status_code == 400 and f'<html lang="{lang}">' in page.text, query
        text = html.unescape(page.text)
        assert said in text and 'id="form-error"' in text and "Traceback" not in text, query
        assert Translator(lang)("apps.err.all") in text and 'id="register"' not in text, query  # the form, no results
        assert page.headers["cache-control"] == "no-store", query
        for api in ("/api/v1/apps", "/api/v1/apps.csv"):
            answer = c.get(f"{api}?{query}")
            assert answer.status_code == 400 and said in answer.json()["detail"], (api, query)


def test_the_filters_are_parsed_and_matched_as_documented() -> None:
    agencies = ["Dinas 1", "Dinas Kesehatan"]
    assert parse_filters(None, None, None, None, agencies) == Filters()
    assert parse_filters("  Surat   Masuk ", "Dinas  Kesehatan", "returned", " 2027 ", agencies) == Filters(
        "Surat Masuk", "Dinas Kesehatan", "returned", 2027
    )
    with pytest.raises(FilterInvalid) as caught:
        parse_filters(None, None, "Returned", None, agencies)
    assert caught.value.key == "apps.err.status" and caught.value.status == 400
    moment = datetime(2027, 1, 4, 2, 0, tzinfo=UTC)
    record = ApplicationRecord(
        "2027-0012", 1, "returned", "Dinas 1", "Sistem  Surat Masuk", "new", 2027, "0" * 64,
        5, moment, 5, moment, None, None, None, moment,
    )  # fmt: skip
    assert Filters(q="surat masuk", year=2027, status="returned", pd="Dinas 1").matches(record)
    assert Filters(q="0012").matches(record) and Filters(q="2027-").matches(record)
    for other in (Filters(year=2026), Filters(pd="Dinas 2"), Filters(status="submitted"), Filters(q="keluar")):
        assert not other.matches(record), other
    assert Filters(q="a b", pd="Dinas 1", year=2027).query() == "?q=a+b&pd=Dinas+1&year=2027"
    assert Filters().query() == ""


# -- one request ----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_requests_page_shows_its_fields_history_and_letter(register: Register, lang: str) -> None:
    reg, t = register, Translator(lang)
    app = reg.refused
    page = reg.site.client(lang).get(f"/aplikasi/{app}")
    assert page.status_code == 200
    text = html.unescape(page.text)
    with reg.site.ledger.read() as r:
        view = apps.application_view(r, app)
        entries = r.application_entries(app)
    assert "Aplikasi Surat Menyurat" in text and AGENCY_2 in text and t("apps.status.not_recommended") in text
    assert t("apps.detail.contact", contact=request_object()["contact"]) in text
    assert "SRIKANDI" in text and "Fitur arsip" in text  # the latest revision's answers
    assert "Belum dicoba" not in text  # not the returned revision's
    assert ("Rp350.000.000" if lang == "id" else "IDR 350,000,000") in text  # request_object's budget
    assert ("30 Juni 2027" if lang == "id" else "30 June 2027") in text and "PT Contoh Teknologi" in text
    assert ("5.000" if lang == "id" else "5,000") in text  # users
    assert view.latest.request_sha256 in text
    # the history: every entry in ledger order, each with its entry page; the signed ones with their verify page
    steps = re.findall(r'<li class="step-(\w+)" id="entry-(\d+)">', page.text)
    assert steps == [(k, str(e.index)) for k, e in zip(
        ["submitted", "returned", "submitted", "reviewed", "decided"], entries, strict=True
    )]  # fmt: skip
    for e in entries:
        assert f'href="/ledger/{e.index}"' in page.text
    for e in (view.revisions[0], view.revisions[1], view.decision):
        assert e is not None and f'href="/v/{e.index}"' in page.text
    assert t("apps.history.submitted_by", name=f"Pejabat {HEAD_2}", capacity=f"Kepala Dinas {HEAD_2}") in text
    assert "Jelaskan mengapa SRIKANDI tidak dapat dipakai" in text and REFUSAL in text
    assert t("apps.check.duplication") in text and t("apps.finding.concern") in text
    assert t("apps.history.by", who=f"Pejabat {REVIEWER}, Kepala Dinas {REVIEWER}") in text
    decided = view.decision
    assert decided is not None
    assert (
        t("apps.detail.decided", when=decided.time, name=f"Pejabat {DECIDER}", capacity=f"Kepala Dinas {DECIDER}")
        in text
    )
    assert f"{decided.index}/IKRAR/2026" in text  # the letter's number: the decision entry's
    assert f'href="/aplikasi/{app}/rekomendasi.pdf"' in page.text


@pytest.mark.parametrize("lang", ["id", "en"])
def test_an_undecided_request_says_where_it_stands_and_has_no_letter(register: Register, lang: str) -> None:
    reg, t = register, Translator(lang)
    waiting = html.unescape(reg.site.client(lang).get(f"/aplikasi/{reg.waiting}").text)
    assert t("apps.detail.waiting") in waiting and "rekomendasi.pdf" not in waiting
    returned = html.unescape(reg.site.client(lang).get(f"/aplikasi/{reg.returned}").text)
    assert t("apps.detail.returned") in returned and RETURN_REASON in returned and "rekomendasi.pdf" not in returned


@pytest.mark.parametrize("lang", ["id", "en"])
def test_an_internal_attachment_is_refused_and_its_hash_still_shown(register: Register, lang: str) -> None:
    reg, t = register, Translator(lang)
    c = reg.site.client(lang)
    page = html.unescape(c.get(f"/aplikasi/{reg.with_notes}").text)
    assert reg.internal.sha256 in page and reg.public.sha256 in page and t("apps.attach.internal") in page
    assert f"/aplikasi/{reg.with_notes}/lampiran/{reg.public.sha256}" in page
    assert f"/lampiran/{reg.internal.sha256}" not in page
    refused = c.get(f"/aplikasi/{reg.with_notes}/lampiran/{reg.internal.sha256}")
    assert refused.status_code == 404 and f'<html lang="{lang}">' in refused.text
    said = t("apps.err.internal", title="Rencana Anggaran Biaya", sha256=reg.internal.sha256, app=reg.with_notes)
    assert said in html.unescape(refused.text)
    served = c.get(f"/aplikasi/{reg.with_notes}/lampiran/{reg.public.sha256}")
    assert served.status_code == 200 and served.content == reg.public_bytes
    assert hashlib.sha256(served.content).hexdigest() == reg.public.sha256
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["content-disposition"].startswith('attachment; filename="kak.pdf"')
    # a file of another request, or none at all: a 404 that says so
    other = c.get(f"/aplikasi/{reg.waiting}/lampiran/{reg.public.sha256}")
    assert other.status_code == 404
    assert t("apps.err.no_attachment", app=reg.waiting, sha256=reg.public.sha256) in html.unescape(other.text)
    api = c.get(f"/api/v1/apps/{reg.with_notes}").json()
    assert [(a["sha256"], a["internal"], a["url"]) for a in api["attachments"]] == [
        (reg.public.sha256, False, f"/aplikasi/{reg.with_notes}/lampiran/{reg.public.sha256}"),
        (reg.internal.sha256, True, None),
    ]


def test_an_attachment_file_missing_or_changed_in_storage_is_not_sent(
    register: Register, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg = register
    c = reg.site.client("en")
    store = reg.site.ledger.register
    path = f"/aplikasi/{reg.with_notes}/lampiran/{reg.public.sha256}"
    kept = store.attachment(reg.public.sha256)
    assert kept is not None and kept.data == reg.public_bytes
    monkeypatch.setattr(store, "attachment", lambda sha256: None)
    missing = c.get(path)
    assert missing.status_code == 404
    assert "is not in this server's storage" in html.unescape(missing.text) and reg.public.sha256 in missing.text
    monkeypatch.setattr(store, "attachment", lambda sha256: replace(kept, data=kept.data + b"%"))
    changed = c.get(path)
    assert changed.status_code == 500 and "does not match the SHA-256 in the ledger" in html.unescape(changed.text)
    assert "%PDF" not in changed.text


@pytest.mark.parametrize("lang", ["id", "en"])
def test_unknown_and_malformed_request_numbers_are_a_404_that_says_why(register: Register, lang: str) -> None:
    t, c = Translator(lang), register.site.client(lang)
    for path in (
        "/aplikasi/2026-0099",
        "/aplikasi/2026-0099/rekomendasi.pdf",
        "/aplikasi/2026-0099/lampiran/" + "a" * 64,
    ):
        r = c.get(path)
        assert r.status_code == 404 and t("apps.err.not_found", app="2026-0099") in html.unescape(r.text), path
    r = c.get("/aplikasi/permohonan-saya")
    assert r.status_code == 404 and t("apps.err.malformed", app="permohonan-saya") in html.unescape(r.text)
    api = c.get("/api/v1/apps/2026-0099")
    assert api.status_code == 404 and api.json()["detail"] == t("apps.err.not_found", app="2026-0099")


def test_the_letter_is_a_404_before_the_decision_and_a_pdf_after(register: Register) -> None:
    reg = register
    c = reg.site.client()
    before = c.get(f"/aplikasi/{reg.waiting}/rekomendasi.pdf")
    assert before.status_code == 404
    assert Translator("id")("apps.err.no_letter", app=reg.waiting) in html.unescape(before.text)
    decide(reg.world, reg.waiting, "recommended", [])
    after = c.get(f"/aplikasi/{reg.waiting}/rekomendasi.pdf")
    assert after.status_code == 200 and after.content.startswith(b"%PDF-")
    assert after.headers["content-type"] == "application/pdf" and after.headers["cache-control"] == "no-cache"
    assert after.headers["content-disposition"] == f'inline; filename="surat-rekomendasi-{reg.waiting}.pdf"'
    english = c.get(f"/aplikasi/{reg.waiting}/rekomendasi.pdf?lang=en")
    assert english.headers["content-disposition"] == f'inline; filename="recommendation-letter-{reg.waiting}.pdf"'
    page = c.get(f"/aplikasi/{reg.waiting}").text
    assert f'href="/aplikasi/{reg.waiting}/rekomendasi.pdf"' in page


def test_a_draft_never_reaches_the_register(register: Register) -> None:
    reg = register
    world = reg.world
    request = request_object(AGENCY_1, name="Aplikasi Draf Rahasia", attachments=[])
    apps.save_draft(world.ctx, AGENCY_1, request, nip(HEAD_1), world.now())
    revised = request_object(AGENCY_2, name="Nama Perbaikan Belum Ditandatangani", attachments=[])
    apps.save_draft(world.ctx, AGENCY_2, revised, nip(HEAD_2), world.now(), app=reg.returned)
    c = reg.site.client()
    for path in ("/aplikasi", f"/aplikasi/{reg.returned}", "/api/v1/apps", f"/api/v1/apps/{reg.returned}"):
        text = c.get(path).text
        assert "Aplikasi Draf Rahasia" not in text and "Nama Perbaikan Belum Ditandatangani" not in text, path


# -- the API --------------------------------------------------------------------------------


def test_the_json_register_gives_each_request_with_its_entries(register: Register) -> None:
    reg = register
    api = reg.site.client().get("/api/v1/apps").json()
    assert api["size"] == reg.site.ledger.size() and api["filters"] == {
        "q": None,
        "pd": None,
        "status": None,
        "year": None,
    }
    first = {a["app"]: a for a in api["applications"]}[reg.refused]
    record = _record(reg, reg.refused)
    assert record.decided_time is not None
    assert first == {
        "app": reg.refused,
        "revision": 2,
        "status": "not_recommended",
        "agency": AGENCY_2,
        "name": "Aplikasi Surat Menyurat",
        "kind": "new",
        "fiscal_year": 2027,  # request_object's
        "request_sha256": record.request_sha256,
        "submitted_at": format_time(record.first_time),
        "submitted_index": record.first_index,
        "revised_at": format_time(record.submitted_time),
        "revised_index": record.submitted_index,
        "decided_at": format_time(record.decided_time),
        "decided_index": record.decided_index,
        "decision": "not_recommended",
        "page": f"/aplikasi/{reg.refused}",
        "letter": f"/aplikasi/{reg.refused}/rekomendasi.pdf",
    }
    assert api["counts"] == [
        {"agency": AGENCY_1, "total": 2, "by_status": {"recommended_with_notes": 1, "submitted": 1}},
        {"agency": AGENCY_2, "total": 2, "by_status": {"returned": 1, "not_recommended": 1}},
    ]


def test_the_json_of_a_request_names_every_entry_and_each_checks_out(register: Register) -> None:
    reg = register
    c = reg.site.client()
    api = c.get(f"/api/v1/apps/{reg.refused}").json()
    with reg.site.ledger.read() as r:
        entries = r.application_entries(reg.refused)
        view = apps.application_view(r, reg.refused)
    assert api["entries"] == [e.index for e in entries]
    assert [h["kind"] for h in api["history"]] == [e.kind for e in entries]
    assert api["request"] == dict(view.request) and api["request_sha256"] == view.latest.request_sha256
    assert (api["status"], api["revision"], api["decision"], api["notes"]) == (
        "not_recommended",
        2,
        "not_recommended",
        [REFUSAL],
    )
    for step, e in zip(api["history"], entries, strict=True):
        published = c.get(f"/api/v1/entries/{step['index']}").json()
        assert published["kind"] == step["kind"] and published["body"]["app"] == reg.refused
        assert step["time"] == format_time(e.time) and step["entry"] == f"/ledger/{e.index}"
        if "signature" in e.fields:
            assert step["signature"] == e.fields["signature"] and step["verify"] == f"/v/{e.index}"
            assert c.get(step["verify"]).status_code == 200  # the verify page of a request or decision
            assert step["by"] == {
                "nip": e.fields["nip"],
                "name": e.fields["name"],
                "capacity": e.fields["capacity"],
                "key": e.fields["key"],
            }
        else:
            assert step["by"]["nip"] == e.fields["by"] and step["verify"] is None
    reviewed = next(h for h in api["history"] if h["kind"] == "app.reviewed")
    assert set(reviewed["checklist"]) == set(CHECKLIST)
    returned = next(h for h in api["history"] if h["kind"] == "app.returned")
    assert returned["reasons"] == ["Jelaskan mengapa SRIKANDI tidak dapat dipakai"]


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_csv_has_a_bom_wib_times_and_headers_in_the_language(register: Register, lang: str) -> None:
    reg, t = register, Translator(lang)
    r = reg.site.client().get(f"/api/v1/apps.csv?lang={lang}")
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.content.startswith(b"\xef\xbb\xbf") and b"\r\n" in r.content
    name = "register-aplikasi.csv" if lang == "id" else "application-register.csv"
    assert r.headers["content-disposition"] == f'attachment; filename="{name}"'
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:3] == [t("apps.csv.app"), t("apps.csv.revision"), t("apps.csv.name")]
    assert rows[0][7] == t("apps.csv.submitted_wib") and "WIB" in rows[0][7]
    by_app = {row[0]: row for row in rows[1:]}
    record = _record(reg, reg.with_notes)
    row = by_app[reg.with_notes]
    assert row[4:6] == [t("apps.kind.new"), t("apps.status.recommended_with_notes")]
    assert row[7] == wib(record.first_time).strftime("%Y-%m-%d %H:%M:%S")
    assert row[8] == format_time(record.first_time)
    assert record.decided_time is not None and row[10] == wib(record.decided_time).strftime("%Y-%m-%d %H:%M:%S")
    assert row[12] == str(record.decided_index)
    assert row[13:] == [
        f"http://testserver/aplikasi/{reg.with_notes}",
        f"http://testserver/aplikasi/{reg.with_notes}/rekomendasi.pdf",
    ]
    assert by_app[reg.waiting][10:13] == ["", "", ""] and by_app[reg.waiting][14] == ""


def test_a_name_that_looks_like_a_formula_stays_text_in_the_csv(register: Register) -> None:
    reg = register
    app = submit(reg.world, AGENCY_1, '=HYPERLINK("http://contoh")')
    rows = list(csv.reader(io.StringIO(reg.site.client().get("/api/v1/apps.csv").content.decode("utf-8-sig"))))
    assert {row[0]: row for row in rows[1:]}[app][2] == '\'=HYPERLINK("http://contoh")'


# -- caching ---------------------------------------------------------------------------------


def test_the_pages_are_cached_until_the_ledger_grows(register: Register) -> None:
    reg = register
    c = reg.site.client()
    for path in (
        "/aplikasi",
        f"/aplikasi/{reg.waiting}",
        "/api/v1/apps",
        "/api/v1/apps.csv",
        f"/api/v1/apps/{reg.waiting}",
    ):
        first = c.get(path)
        etag = first.headers["etag"]
        assert first.headers["cache-control"] == "public, max-age=2, must-revalidate", path
        assert c.get(path, headers={"If-None-Match": etag}).status_code == 304, path
    etags = {path: c.get(path).headers["etag"] for path in ("/aplikasi", f"/aplikasi/{reg.waiting}")}
    apps.review_app(reg.world.ctx, reg.waiting, nip(REVIEWER), checklist(), reg.world.now())
    for path, etag in etags.items():
        again = c.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 200 and again.headers["etag"] != etag, path
    assert Translator("id")("apps.history.reviewed", revision=1) in c.get(f"/aplikasi/{reg.waiting}").text


# -- an empty register, and the home page ---------------------------------------------------------


@pytest.mark.parametrize("lang", ["id", "en"])
def test_an_empty_register_says_so_and_the_home_page_links_it(site: Site, lang: str) -> None:
    t, c = Translator(lang), site.client(lang)
    page = c.get("/aplikasi")
    assert page.status_code == 200 and t("apps.register.none") in page.text and 'id="counts"' not in page.text
    assert c.get("/api/v1/apps").json()["applications"] == []
    assert c.get("/api/v1/apps.csv").content.decode("utf-8-sig").count("\r\n") == 1  # the header only
    home = c.get("/").text
    assert 'href="/aplikasi"' in home and t("apps.home.link") in home and t("apps.nav") in home
