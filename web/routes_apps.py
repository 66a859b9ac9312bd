"""The public register of the applications Diskominfo verifies (rules version 5), no login:

    GET /aplikasi                            every request: search, filters, a count per PD
    GET /aplikasi/{app}                      one request: its fields, history, attachments
    GET /aplikasi/{app}/lampiran/{sha256}    an attachment's file (none the PD marked internal)
    GET /aplikasi/{app}/rekomendasi.pdf      the Surat Rekomendasi, once the decision is signed
    GET /api/v1/apps, /api/v1/apps.csv       the register as JSON, or as CSV for spreadsheets
    GET /api/v1/apps/{app}                   one request as JSON, with its entries' indexes

Every fact is read from the ledger's entries in one snapshot: the register from
`Reader.applications` (the derived table the audit checks against the entries), a request
from its own entries through `signing.apps.application_view`; never from a draft. The only
thing read from elsewhere is an attachment's file, kept in the register's storage by its
SHA-256, and sent only when its bytes hash to what the ledger recorded.

The search and the filters come in the query (`q`, `pd`, `status`, `year`), the same for the
page, the JSON and the CSV; a value that cannot be used is a 400 that says why, in the
page's language (the page shows the form again with it), never a stack trace. The pages and
the API are cached per tree size like the other public answers (`web.cache`); the letter is
proven against the latest checkpoint at each download, as the naskah is, so never cached.
docs/APPLICATIONS-API.md documents the API.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from ledger.application import APP_ID, CHECKLIST, STATUSES
from ledger.errors import InvalidInput
from ledger.nip import is_nip
from ledger.reader import ApplicationRecord
from ledger.store import Ledger
from ledger.times import as_utc, format_time
from signing.agencies import load_agencies
from signing.app_letter import render_letter
from signing.app_letter_words import letter_words, rupiah
from signing.apps import ApplicationView, Decided, Returned, Reviewed, Submitted, application_view
from signing.cert_words import format_nip
from signing.doc_kop import Letterhead
from signing.wording import LANGS, WIB, format_date_wib, wib

from .cache import cached
from .errors import WebError, message_of
from .i18n import Translator
from .pages import AnyPage, ledger_of, runtime_of
from .routes_api import WIB_SPELLING, cell, errors, spreadsheet_csv
from .settings import Settings

logger = logging.getLogger(__name__)

router = APIRouter()

MAX_SEARCH = 100  # characters of `q`
MAX_PD = 200  # characters of an agency's name (the request object's bound)
YEARS = (2000, 2100)  # the years a request's number may carry (as a fiscal year's)
PDF = "application/pdf"
CSV = "text/csv; charset=utf-8"

AppId = Annotated[str, Path(max_length=40, description="The request's number, `YYYY-NNNN` (e.g. `2026-0001`).")]
Sha256 = Annotated[str, Path(max_length=80, description="The attachment's SHA-256 (64 lowercase hex digits).")]
Lang = Annotated[
    str | None, Query(pattern="^(id|en)$", description="id (Bahasa Indonesia) or en; default: the site's.")
]
Search = Annotated[str | None, Query(description=f"Part of the application's name or number (≤ {MAX_SEARCH}).")]
Agency = Annotated[str | None, Query(description="The owning agency (Perangkat Daerah), its exact name.")]
Status = Annotated[str | None, Query(description="One of " + ", ".join(STATUSES) + ".")]
Year = Annotated[str | None, Query(description="The year of the request (the first four digits of its number).")]


class FilterInvalid(WebError):
    """A search or a filter of the register that cannot be used; its message says why."""

    status = 400


class AppGone(WebError):
    """A request, a letter or an attachment file that this register does not give: its
    message says why (no such request, not decided yet, marked internal, not stored)."""

    status = 404


class StoredFileDiffers(WebError):
    """An attachment's stored bytes do not hash to what the ledger recorded: never sent."""

    status = 500


# -- the search and the filters ---------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the register is narrowed to: a search in names and numbers, an agency, a status,
    a year (of the request's number). Empty: everything."""

    q: str = ""
    pd: str = ""
    status: str = ""
    year: int | None = None

    @property
    def active(self) -> bool:
        return bool(self.q or self.pd or self.status or self.year)

    def matches(self, a: ApplicationRecord) -> bool:
        if self.pd and a.agency != self.pd:
            return False
        if self.status and a.status != self.status:
            return False
        if self.year is not None and a.app[:4] != str(self.year):
            return False
        if self.q:
            wanted = self.q.casefold()
            return wanted in a.app or wanted in " ".join(a.name.split()).casefold()
        return True

    def query(self) -> str:
        """The filters as a query string (`?…`, or "" when there are none)."""
        given = {"q": self.q, "pd": self.pd, "status": self.status, "year": self.year or ""}
        kept = {k: v for k, v in given.items() if v}
        return "?" + urlencode(kept) if kept else ""


def _one_line(value: str) -> str:
    if not value.isprintable():
        raise FilterInvalid("apps.err.text_chars")
    return " ".join(value.split())


def parse_filters(
    q: str | None, pd: str | None, status: str | None, year: str | None, agencies: Iterable[str]
) -> Filters:
    """The register's filters from the query's values (None or "" for "any"). `agencies`:
    the agencies a `pd` may name. Raises FilterInvalid: a search longer than `MAX_SEARCH`, a
    status not in `STATUSES`, a year not of four digits within `YEARS`, an agency not known,
    or a value holding characters that cannot be shown."""
    search = _one_line(q or "")
    if len(search) > MAX_SEARCH:
        raise FilterInvalid("apps.err.q_long", limit=MAX_SEARCH, length=len(search))
    agency = _one_line(pd or "")
    if agency and (len(agency) > MAX_PD or agency not in set(agencies)):
        raise FilterInvalid("apps.err.pd", value=agency[:MAX_PD])
    chosen = (status or "").strip()
    if chosen and chosen not in STATUSES:
        raise FilterInvalid("apps.err.status", value=_one_line(chosen)[:40], choices=", ".join(STATUSES))
    said = (year or "").strip()
    number: int | None = None
    if said:
        if not (len(said) == 4 and said.isascii() and said.isdigit() and YEARS[0] <= int(said) <= YEARS[1]):
            raise FilterInvalid("apps.err.year", value=_one_line(said)[:20], minimum=YEARS[0], maximum=YEARS[1])
        number = int(said)
    return Filters(search, agency, chosen, number)


# -- the register -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AgencyCount:
    """How many requests an agency made, by status."""

    agency: str
    by_status: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    def of(self, status: str) -> int:
        return self.by_status.get(status, 0)


@dataclass(frozen=True)
class RegisterView:
    """The register at one tree size: the requests the filters leave (newest first), how
    many there are in all, the count per agency (of every request), and what the filters
    may choose from."""

    size: int
    filters: Filters
    shown: list[ApplicationRecord]
    total: int
    counts: list[AgencyCount]
    agencies: list[str]
    years: list[int]

    @property
    def all_counts(self) -> AgencyCount:
        merged: Counter[str] = Counter()
        for c in self.counts:
            merged.update(c.by_status)
        return AgencyCount("", merged)


def _counts(records: Sequence[ApplicationRecord]) -> list[AgencyCount]:
    by_agency: dict[str, Counter[str]] = {}
    for a in records:
        by_agency.setdefault(a.agency, Counter())[a.status] += 1
    return [AgencyCount(agency, by_agency[agency]) for agency in sorted(by_agency, key=str.casefold)]


def _city_agencies(settings: Settings) -> tuple[str, ...]:
    """The city's list of Perangkat Daerah (`IKRAR_AGENCIES_FILE`); none when it cannot be read."""
    try:
        return load_agencies(settings.agencies_file)
    except InvalidInput as e:
        logger.warning("the register's agency filter knows only the ledger's agencies: %s", e)
        return ()


def register_view(
    ledger: Ledger,
    settings: Settings,
    q: str | None,
    pd: str | None,
    status: str | None,
    year: str | None,
    *,
    lenient: bool = False,
) -> tuple[RegisterView, FilterInvalid | None]:
    """The register, filtered as the query asks, read in one snapshot. A query that cannot be
    used raises FilterInvalid; `lenient`: gives the whole register and the error instead."""
    size, every = 0, []
    if ledger.is_initialized():
        with ledger.read() as r:
            size, every = r.size(), r.applications()
    on_ledger = sorted({a.agency for a in every}, key=str.casefold)
    known = set(on_ledger) | (set(_city_agencies(settings)) if pd else set())
    refused = None
    try:
        filters = parse_filters(q, pd, status, year, known)
    except FilterInvalid as e:
        if not lenient:
            raise
        filters, refused = Filters(), e
    agencies = on_ledger if not filters.pd or filters.pd in on_ledger else sorted([*on_ledger, filters.pd])
    years = sorted({int(a.app[:4]) for a in every} | ({filters.year} if filters.year else set()), reverse=True)
    shown = [a for a in every if filters.matches(a)]
    return RegisterView(size, filters, shown, len(every), _counts(every), agencies, years), refused


@router.get("/aplikasi", response_class=HTMLResponse, include_in_schema=False)
@cached
def register_page(
    p: AnyPage, q: Search = None, pd: Agency = None, status: Status = None, year: Year = None
) -> HTMLResponse:
    """The register; a query that cannot be used gives the form again, empty, saying why (400)."""
    view, refused = register_view(p.ledger, p.runtime.settings, q, pd, status, year, lenient=True)
    if refused is not None:
        error = message_of(refused, p.t)
        return p.render("apps/register.html", status=refused.status, view=view, error=error, statuses=STATUSES)
    return p.render("apps/register.html", view=view, error=None, statuses=STATUSES)


# -- one request ----------------------------------------------------------------------------


def check_app_id(app: str) -> str:
    """`app` when it is written as a request's number; raises AppGone otherwise."""
    if not APP_ID.fullmatch(app):
        raise AppGone("apps.err.malformed", app=app[:40])
    return app


def read_view(ledger: Ledger, app: str) -> tuple[ApplicationView, int]:
    """The request `app` from its entries, and the tree size it was read at (one snapshot).
    Raises AppGone (a malformed number, or none such on the ledger)."""
    check_app_id(app)
    if not ledger.is_initialized():
        raise AppGone("apps.err.not_found", app=app)
    with ledger.read() as r:
        if r.application(app) is None:
            raise AppGone("apps.err.not_found", app=app)
        return application_view(r, app), r.size()


@dataclass(frozen=True)
class Attachment:
    """An attachment as the register shows it: what the request records of it, and whether
    its file is published (`public`: no revision of the request marks it internal)."""

    title: str
    file: str
    sha256: str
    size: int
    public: bool

    def url(self, app: str) -> str | None:
        return f"/aplikasi/{app}/lampiran/{self.sha256}" if self.public else None

    @property
    def kb(self) -> int:
        return max(1, -(-self.size // 1024))


def _internal_hashes(view: ApplicationView) -> set[str]:
    """The hashes of every attachment that any revision of the request marks internal: a
    file the agency once withheld stays withheld."""
    return {a["sha256"] for s in view.revisions for a in s.request["attachments"] if a["internal"]}


def attachments_of(view: ApplicationView, revision: Submitted | None = None) -> list[Attachment]:
    """The attachments of `revision` (default: the latest), in the request's order."""
    internal = _internal_hashes(view)
    request = (revision or view.latest).request
    return [
        Attachment(a["title"], a["file"], a["sha256"], a["bytes"], a["sha256"] not in internal)
        for a in request["attachments"]
    ]


def letter_number(settings: Settings, decided: Decided) -> str:
    """The Surat Rekomendasi's number: the city's numbering of the decision's entry."""
    return Letterhead(settings.office, settings.office_address, settings.number_pattern).number(
        decided.index, decided.time
    )


@dataclass(frozen=True)
class Formats:
    """How the detail page writes numbers, money and dates in its language: as the letter
    does (`signing.app_letter_words`, `signing.wording`)."""

    lang: str

    def number(self, n: int) -> str:
        return f"{n:,}".replace(",", letter_words(self.lang)["thousands"])

    def rupiah(self, amount: int) -> str:
        return rupiah(amount, self.lang)

    def day(self, iso: str) -> str:
        """A request's date (``2026-12-31``) as ``31 Desember 2026`` / ``31 December 2026``."""
        try:
            when = datetime.combine(date.fromisoformat(iso), time(12), tzinfo=WIB)
        except ValueError:
            return iso
        return format_date_wib(when, self.lang).split(", ", 1)[1]


Event = Submitted | Reviewed | Returned | Decided


def step_kind(e: Event) -> str:
    """The kind of a step of a request's history: its entry kind without ``app.``."""
    kinds: dict[type, str] = {Submitted: "submitted", Reviewed: "reviewed", Returned: "returned", Decided: "decided"}
    return kinds[type(e)]


def named(identifier: str) -> str:
    """An official the ledger names by identifier only: ``NIP 1975…`` for a NIP (spaced as
    printed), the identifier itself otherwise."""
    return f"NIP {format_nip(identifier)}" if is_nip(identifier) else identifier


def acted_by(step: Reviewed | Returned) -> str:
    """Who reviewed or returned a request: their name and capacity as the ledger knew them
    then, or their NIP when it knew none."""
    if step.identity is not None:
        return f"{step.identity.name}, {step.identity.capacity}"
    return named(step.by)


@router.get("/aplikasi/{app}", response_class=HTMLResponse, include_in_schema=False)
@cached
def detail_page(p: AnyPage, app: AppId) -> HTMLResponse:
    view, size = read_view(p.ledger, app)
    decided = view.decision
    return p.render(
        "apps/detail.html",
        view=view,
        size=size,
        attachments=attachments_of(view),
        number=letter_number(p.runtime.settings, decided) if decided is not None else None,
        fmt=Formats(p.lang),
        checklist=CHECKLIST,
        history=[(step_kind(e), e) for e in view.history],
        acted_by=acted_by,
        named=named,
    )


@router.get(
    "/aplikasi/{app}/lampiran/{sha256}",
    response_class=Response,
    summary="An attachment's file (PDF), unless the agency marked it internal",
    responses={200: {"content": {PDF: {}}}, **errors(404, 422, 503, html=True)},
)
@cached
def attachment_file(p: AnyPage, app: AppId, sha256: Sha256) -> Response:
    """The file of an attachment of request `app`, by the SHA-256 the ledger records of it:
    a 404 that says why when no revision lists it, the agency marked it internal (its hash
    stays public), or this server does not hold the file; never bytes of another hash."""
    view, _ = read_view(p.ledger, app)
    listed = [a for s in view.revisions for a in s.request["attachments"] if a["sha256"] == sha256]
    if not listed:
        raise AppGone("apps.err.no_attachment", app=app, sha256=sha256[:80])
    title, file_name = listed[-1]["title"], listed[-1]["file"]
    if sha256 in _internal_hashes(view):
        raise AppGone("apps.err.internal", app=app, sha256=sha256, title=title)
    stored = p.ledger.register.attachment(sha256)
    if stored is None:
        raise AppGone("apps.err.file_missing", app=app, sha256=sha256, title=title)
    if hashlib.sha256(stored.data).hexdigest() != sha256:
        logger.error("stored attachment differs from its hash sha256=%s app=%s", sha256, app)
        raise StoredFileDiffers("apps.err.file_differs", title=title)
    return Response(
        bytes(stored.data),
        media_type=PDF,
        headers={"Content-Disposition": content_disposition("attachment", file_name)},
    )


def content_disposition(disposition: str, file_name: str) -> str:
    """A Content-Disposition naming `file_name`: an ASCII fallback and its UTF-8 spelling (RFC 6266)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in file_name)
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


@router.get(
    "/aplikasi/{app}/rekomendasi.pdf",
    response_class=Response,
    summary="The Surat Rekomendasi of a decided request (PDF, verifiable by scan, upload and offline)",
    responses={200: {"content": {PDF: {}}}, **errors(404, 422, 503, html=True)},
)
def letter(p: AnyPage, app: AppId, lang: Lang = None) -> Response:
    """A4: the letterhead, the number, the request's essentials, the decision and its notes,
    the signatory's block with a QR code of its verify page, and the evidence attached; in
    the site's language (or `lang`). A 404 that says so before the decision is signed."""
    check_app_id(app)
    chosen = lang if lang in LANGS else p.lang
    with p.ledger.read() as r:
        record = r.application(app)
    if record is None:
        raise AppGone("apps.err.not_found", app=app)
    if record.decided_index is None:
        raise AppGone("apps.err.no_letter", app=app)
    settings = p.runtime.settings
    data = render_letter(
        p.ledger, app, lang=chosen, base_url=settings.base_url, now=p.now(), letterhead=settings.letterhead()
    )
    name = f"surat-rekomendasi-{app}.pdf" if chosen == "id" else f"recommendation-letter-{app}.pdf"
    return Response(
        data, media_type=PDF, headers={"Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "no-cache"}
    )


# -- the API ----------------------------------------------------------------------------------


def _utc(moment: datetime | None) -> str | None:
    return format_time(as_utc(moment)) if moment is not None else None


class AppOut(BaseModel):
    app: str  # YYYY-NNNN
    revision: int
    status: str  # one of ledger.application.STATUSES
    agency: str
    name: str
    kind: str  # one of ledger.application.KINDS_OF_APP
    fiscal_year: int
    request_sha256: str  # of the latest revision's request
    submitted_at: str  # the first submission (UTC)
    submitted_index: int
    revised_at: str  # the latest revision's submission (UTC)
    revised_index: int
    decided_at: str | None
    decided_index: int | None
    decision: str | None
    page: str  # the public page's path
    letter: str | None  # the Surat Rekomendasi's path, once decided


class AgencyCountOut(BaseModel):
    agency: str
    total: int
    by_status: dict[str, int]


class AppsOut(BaseModel):
    size: int  # the tree size the register was read at
    filters: dict[str, str | int | None]
    total: int  # every request on the ledger
    count: int  # the requests the filters leave
    applications: list[AppOut]
    counts: list[AgencyCountOut]  # every request, by agency and status (not filtered)


def app_json(a: ApplicationRecord) -> dict[str, Any]:
    decided = a.decided_index is not None
    return {
        "app": a.app,
        "revision": a.revision,
        "status": a.status,
        "agency": a.agency,
        "name": a.name,
        "kind": a.kind,
        "fiscal_year": a.fiscal_year,
        "request_sha256": a.request_sha256,
        "submitted_at": _utc(a.first_time),
        "submitted_index": a.first_index,
        "revised_at": _utc(a.submitted_time),
        "revised_index": a.submitted_index,
        "decided_at": _utc(a.decided_time),
        "decided_index": a.decided_index,
        "decision": a.decision,
        "page": f"/aplikasi/{a.app}",
        "letter": f"/aplikasi/{a.app}/rekomendasi.pdf" if decided else None,
    }


@router.get(
    "/api/v1/apps",
    response_model=AppsOut,
    responses=errors(400, 422, 503),
    summary="The register of application verifications, newest first, with the same filters as /aplikasi",
)
@cached
def apps_json(
    request: Request, q: Search = None, pd: Agency = None, status: Status = None, year: Year = None
) -> dict[str, Any]:
    view, _ = register_view(ledger_of(request), runtime_of(request).settings, q, pd, status, year)
    f = view.filters
    return {
        "size": view.size,
        "filters": {"q": f.q or None, "pd": f.pd or None, "status": f.status or None, "year": f.year},
        "total": view.total,
        "count": len(view.shown),
        "applications": [app_json(a) for a in view.shown],
        "counts": [{"agency": c.agency, "total": c.total, "by_status": dict(c.by_status)} for c in view.counts],
    }


CSV_COLUMNS = (
    "apps.csv.app",
    "apps.csv.revision",
    "apps.csv.name",
    "apps.csv.agency",
    "apps.csv.kind",
    "apps.csv.status",
    "apps.csv.fiscal_year",
    "apps.csv.submitted_wib",
    "apps.csv.submitted_utc",
    "apps.csv.revised_wib",
    "apps.csv.decided_wib",
    "apps.csv.decided_utc",
    "apps.csv.decided_index",
    "apps.csv.page",
    "apps.csv.letter",
)


def _wib(moment: datetime | None) -> str:
    return wib(as_utc(moment)).strftime(WIB_SPELLING) if moment is not None else ""


def apps_csv_bytes(records: Sequence[ApplicationRecord], t: Translator, base_url: str) -> bytes:
    """The register as CSV for spreadsheets, as the signatures' CSV is (`routes_api`): UTF-8
    with a BOM, commas, CRLF, headers and the kinds and statuses in the language of `t`,
    times in WIB (``YYYY-MM-DD HH:MM:SS``, which spreadsheets read as a date) beside the
    ledger's UTC, full addresses of the page and the letter; no cell runs as a formula."""
    base = base_url.rstrip("/")

    def line(a: ApplicationRecord) -> list[Any]:
        decided = a.decided_index is not None
        return [
            a.app,
            a.revision,
            cell(a.name),
            cell(a.agency),
            t(f"apps.kind.{a.kind}"),
            t(f"apps.status.{a.status}"),
            a.fiscal_year,
            _wib(a.first_time),
            _utc(a.first_time),
            _wib(a.submitted_time),
            _wib(a.decided_time),
            _utc(a.decided_time) or "",
            a.decided_index if decided else "",
            f"{base}/aplikasi/{a.app}",
            f"{base}/aplikasi/{a.app}/rekomendasi.pdf" if decided else "",
        ]

    return spreadsheet_csv([t(key) for key in CSV_COLUMNS], map(line, records))


@router.get(
    "/api/v1/apps.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, **errors(400, 422, 503)},
    summary="The register as CSV for spreadsheets (UTF-8 with BOM, WIB and UTC), with the same filters",
)
@cached
def apps_csv(
    p: AnyPage, q: Search = None, pd: Agency = None, status: Status = None, year: Year = None, lang: Lang = None
) -> Response:
    view, _ = register_view(p.ledger, p.runtime.settings, q, pd, status, year)
    t = Translator(lang if lang in LANGS else p.lang)
    name = "register-aplikasi.csv" if t.lang == "id" else "application-register.csv"
    return Response(
        apps_csv_bytes(view.shown, t, p.runtime.settings.base_url),
        media_type=CSV,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


class SignerOut(BaseModel):
    nip: str
    name: str | None  # as the entry names them (a reviewer: their identity at the time, if known)
    capacity: str | None
    key: str | None  # the signing key (C2SP), for the signed entries


class EventOut(BaseModel):
    index: int  # the entry's index in the ledger
    kind: str  # app.submitted, app.reviewed, app.returned, app.decided
    time: str  # UTC
    revision: int
    by: SignerOut
    request_sha256: str | None = None  # app.submitted, app.decided
    signature: str | None = None  # app.submitted, app.decided: base64 Ed25519 over the statement
    checklist: dict[str, dict[str, str]] | None = None  # app.reviewed
    reasons: list[str] | None = None  # app.returned
    decision: str | None = None  # app.decided
    notes: list[str] | None = None  # app.decided
    verify: str | None = None  # the verify page of a signed entry
    entry: str  # the entry's page


class AttachmentOut(BaseModel):
    title: str
    file: str
    sha256: str
    bytes: int
    internal: bool
    url: str | None  # the file's path; None when the agency marked it internal


class AppDetailOut(BaseModel):
    size: int  # the tree size it was read at
    app: str
    revision: int
    status: str
    agency: str
    name: str
    kind: str
    request: dict[str, Any]  # the latest revision's request object, exactly as signed
    request_sha256: str
    attachments: list[AttachmentOut]
    submitted_at: str
    decision: str | None
    notes: list[str] | None
    decided_at: str | None
    letter_number: str | None
    letter: str | None
    page: str
    entries: list[int]  # every entry of the request, in ledger order
    history: list[EventOut]


def event_json(e: Event) -> dict[str, Any]:
    """One step of a request's history, as `EventOut`."""
    out: dict[str, Any] = {
        "index": e.index,
        "kind": f"app.{step_kind(e)}",
        "time": _utc(e.time),
        "revision": e.revision,
        "entry": f"/ledger/{e.index}",
    }
    if isinstance(e, Submitted | Decided):  # signed by the Kepala PD, or the Kepala Dinas Kominfo
        out["by"] = {"nip": e.nip, "name": e.name, "capacity": e.capacity, "key": e.key}
        out |= {"request_sha256": e.request_sha256, "signature": e.signature, "verify": f"/v/{e.index}"}
    else:  # by a reviewer, as the ledger knew them then; the checkpoint signs these entries
        who = e.identity
        out["by"] = {"nip": e.by, "name": who and who.name, "capacity": who and who.capacity, "key": None}
    if isinstance(e, Decided):
        out |= {"decision": e.decision, "notes": list(e.notes)}
    elif isinstance(e, Reviewed):
        out["checklist"] = {point: dict(e.checklist[point]) for point in CHECKLIST}
    elif isinstance(e, Returned):
        out["reasons"] = list(e.reasons)
    return out


@router.get(
    "/api/v1/apps/{app}",
    response_model=AppDetailOut,
    responses=errors(404, 422, 503),
    summary="One request: its fields, attachments, and every entry of its history with the entry's index",
)
@cached
def app_detail_json(request: Request, app: AppId) -> dict[str, Any]:
    view, size = read_view(ledger_of(request), app)
    return detail_json(view, size, runtime_of(request).settings)


def detail_json(view: ApplicationView, size: int, settings: Settings) -> dict[str, Any]:
    """A request as `/api/v1/apps/{id}` gives it (`AppDetailOut`), read at tree size `size`;
    the letter's number in the numbering of `settings`. `ikrar app show --json` gives the same."""
    decided = view.decision
    return {
        "size": size,
        "app": view.app,
        "revision": view.revision,
        "status": view.status,
        "agency": view.agency,
        "name": view.request["name"],
        "kind": view.request["kind"],
        "request": dict(view.request),
        "request_sha256": view.latest.request_sha256,
        "attachments": [
            {"title": a.title, "file": a.file, "sha256": a.sha256, "bytes": a.size, "internal": not a.public}
            | {"url": a.url(view.app)}
            for a in attachments_of(view)
        ],
        "submitted_at": _utc(view.first.time),
        "decision": decided.decision if decided else None,
        "notes": list(decided.notes) if decided else None,
        "decided_at": _utc(decided.time) if decided else None,
        "letter_number": letter_number(settings, decided) if decided else None,
        "letter": f"/aplikasi/{view.app}/rekomendasi.pdf" if decided else None,
        "page": f"/aplikasi/{view.app}",
        "entries": [e.index for e in view.history],
        "history": [event_json(e) for e in view.history],
    }
