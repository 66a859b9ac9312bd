"""The public JSON, CSV and text routes of DESIGN.md: entries, proofs, checkpoints, commitments.

All are read-only and need no login. Indexes and sizes are bounded before they reach the
database, so no number, however large, becomes a server error.
"""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel

from ledger.db import MAX_SIZE
from ledger.errors import InvalidInput, LedgerError
from ledger.nip import is_nip
from ledger.times import as_utc, format_time
from signing.wording import LANGS, wib

from .cache import cached
from .i18n import Translator
from .pages import AnyPage, Page, ledger_of
from .views import CommitmentView, commitment_summaries, commitment_view, entry_json

router = APIRouter()

MAX_INDEX = MAX_SIZE - 1  # the last index a ledger can hold; larger numbers are a 422, never a database error
Index = Annotated[int, Path(ge=0, le=MAX_INDEX, description="The entry's index (0 is `ledger.created`).")]
TEXT = "text/plain; charset=utf-8"


def _utc(moment: datetime) -> str:
    return format_time(as_utc(moment))


class ErrorOut(BaseModel):
    """What every error of the API says: one message, in the language chosen on the site."""

    detail: str


_ERRORS = {
    400: "The request is well formed but asks for something impossible (the message says what).",
    404: "There is no such entry, checkpoint, commitment or certificate.",
    413: "The upload is larger than 5 MB.",
    415: "The upload is not a PDF.",
    422: "A parameter is missing, malformed or out of range; or the upload is not an Ikrar certificate.",
    503: "There is no ledger here yet, or the database is busy: try again.",
}
_ERROR_SCHEMA = ErrorOut.model_json_schema()


def errors(*statuses: int, html: bool = False) -> dict[int | str, dict[str, Any]]:
    """The error responses of a route for its OpenAPI `responses`: `{"detail": ...}` JSON
    (`ErrorOut`), or for a page route (a download a browser opens) the HTML error page."""
    content = {"text/html": {"schema": {"type": "string"}}} if html else {"application/json": {"schema": _ERROR_SCHEMA}}
    return {status: {"description": _ERRORS[status], "content": content} for status in statuses}


class EntryOut(BaseModel):
    index: int
    kind: str
    body: dict[str, Any]
    leaf: str  # base64 of the exact leaf bytes (RFC 8785 canonical JSON)
    leaf_hash: str  # hex SHA-256(0x00 || leaf)
    prev: str  # hex leaf hash of the entry before


class EntriesOut(BaseModel):
    size: int
    start: int
    entries: list[EntryOut]


class CommitmentOut(BaseModel):
    slug: str
    title: str
    text_sha256: str
    published_index: int
    published_at: str
    required: int
    signed: int


class SignatureOut(BaseModel):
    index: int
    nip: str
    name: str
    title: str
    unit: str
    signed_at: str
    key: str
    capacity: str  # the capacity signed in (rules 4: as the signature names it; before, the title then)
    revoked_later: bool  # the key was revoked after this signature, which stays valid


class DeclinedOut(BaseModel):
    index: int
    nip: str
    name: str
    unit: str
    declined_at: str
    reason: str


class PendingOut(BaseModel):
    nip: str
    name: str
    title: str
    unit: str


class SignaturesOut(BaseModel):
    commitment: CommitmentOut
    text: str
    deadline: str | None  # rules 4: no signature or decline after it (UTC); None: no deadline
    signatures: list[SignatureOut]
    declined: list[DeclinedOut]
    pending: list[PendingOut]


@router.get(
    "/checkpoint",
    response_class=PlainTextResponse,
    responses=errors(404, 503),
    summary="The latest signed checkpoint (C2SP tlog-checkpoint)",
)
@cached
def checkpoint(request: Request) -> PlainTextResponse:
    return PlainTextResponse(ledger_of(request).checkpoint().note, media_type=TEXT)


@router.get(
    "/vkey",
    response_class=PlainTextResponse,
    responses=errors(503),
    summary="The ledger's verifier key (C2SP signed-note)",
)
def vkey(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"{ledger_of(request).verifier}\n", media_type=TEXT)


@router.get(
    "/api/v1/entries/{index}",
    response_model=EntryOut,
    responses=errors(404, 422, 503),
    summary="One entry with its exact leaf bytes",
)
@cached
def entry(request: Request, index: Index) -> dict[str, Any]:
    return entry_json(ledger_of(request).entry(index))


@router.get(
    "/api/v1/entries",
    response_model=EntriesOut,
    responses=errors(400, 422, 503),
    summary="Entries from `start` on, at most `limit`",
)
@cached
def entries(
    request: Request,
    start: Annotated[int, Query(ge=0, le=MAX_INDEX)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    with ledger_of(request).read() as r:  # one snapshot: `size` and the entries agree
        return {"size": r.size(), "start": start, "entries": [entry_json(e) for e in r.entries(start, limit)]}


@router.get(
    "/api/v1/proof/{index}",
    response_class=PlainTextResponse,
    responses=errors(400, 404, 422, 503),
    summary="C2SP tlog-proof of entry `index` in the tree of `size` (default: the latest)",
)
@cached
def proof(
    request: Request, index: Index, size: Annotated[int | None, Query(ge=1, le=MAX_SIZE)] = None
) -> PlainTextResponse:
    ledger = ledger_of(request)
    if size is not None and index >= size:
        raise InvalidInput(f"index {index} is not in a tree of size {size}", code="index.range", index=index, size=size)
    return PlainTextResponse(ledger.tlog_proof(index, size).text(), media_type=TEXT)


@router.get(
    "/api/v1/consistency",
    response_class=PlainTextResponse,
    responses=errors(400, 422, 503),
    summary="Consistency proof from tree size `old` to `new`, one base64 hash a line",
)
@cached
def consistency(
    request: Request,
    old: Annotated[int, Query(ge=1, le=MAX_SIZE)],
    new: Annotated[int, Query(ge=1, le=MAX_SIZE)],
) -> PlainTextResponse:
    hashes = ledger_of(request).consistency_proof(old, new)
    return PlainTextResponse("".join(base64.b64encode(h).decode() + "\n" for h in hashes), media_type=TEXT)


def _commitment_out(c: Any) -> dict[str, Any]:
    return {
        "slug": c.slug,
        "title": c.title,
        "text_sha256": c.text_sha256,
        "published_index": c.published_index,
        "published_at": _utc(c.published_at),
        "required": c.required,
        "signed": c.signed,
    }


@router.get(
    "/api/v1/commitments",
    response_model=list[CommitmentOut],
    responses=errors(503),
    summary="Every commitment with its progress",
)
@cached
def commitments(request: Request) -> list[dict[str, Any]]:
    ledger = ledger_of(request)
    if not ledger.is_initialized():
        return []
    return [_commitment_out(c) for c in commitment_summaries(ledger)]


Slug = Annotated[str, Path(max_length=80, description="The commitment's slug.")]


@router.get(
    "/api/v1/commitments/{slug}/signatures",
    response_model=SignaturesOut,
    responses=errors(404, 422, 503),
    summary="Who signed the commitment (in protocol order: the published order of signers) and who has not yet",
)
@cached
def signatures(request: Request, slug: Slug) -> dict[str, Any]:
    view = commitment_view(ledger_of(request), slug)
    return {
        "commitment": _commitment_out(view.summary),
        "text": view.commitment.text,
        "deadline": _utc(view.deadline) if view.deadline is not None else None,
        "signatures": [
            {
                "index": s.index,
                "nip": s.person.nip,
                "name": s.person.name,
                "title": s.person.title,
                "unit": s.person.unit,
                "signed_at": _utc(s.signed_at),
                "key": s.key,
                "capacity": s.signed_as,
                "revoked_later": s.revoked_later is not None,
            }
            for s in view.signed
        ],
        "declined": [
            {
                "index": d.index,
                "nip": d.person.nip,
                "name": d.person.name,
                "unit": d.person.unit,
                "declined_at": _utc(d.declined_at),
                "reason": d.reason,
            }
            for d in view.declined
        ],
        "pending": [{"nip": p.nip, "name": p.name, "title": p.title, "unit": p.unit} for p in view.pending],
    }


# -- the signatures as a file for spreadsheets ------------------------------------------------
#
# For people who open it in Excel or LibreOffice (programs read the JSON above): headers in
# the requested language, the time in WIB beside the ledger's UTC, and NIPs that stay
# 18 digits. In the CSV (UTF-8 with a BOM, so that Excel reads it as UTF-8; commas, CRLF) a
# NIP is written `="197505122000031001"`: a bare one becomes 1.97505E+17 in Excel, and its
# last three digits are lost once saved; quoting does not help, Excel and LibreOffice read
# a quoted field of digits as a number too. The XLSX has the NIP as a text cell and the WIB
# time as a date, and opens right whatever the computer's list separator (a semicolon on
# Windows set to Indonesian, where a comma-separated file lands in one column).
# docs/signatures-files.md says the same for readers of the files.

COLUMNS = ("csv.index", "csv.nip", "csv.name", "csv.title", "csv.unit", "csv.signed_wib", "csv.signed_utc", "csv.key")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WIB_SPELLING = "%Y-%m-%d %H:%M:%S"  # a spelling both spreadsheets read as a date and time
Lang = Annotated[
    str | None, Query(pattern="^(id|en)$", description="id (Bahasa Indonesia) or en; default: the site's.")
]


@dataclass(frozen=True)
class SignatureRow:
    """One signature as the files give it: `nip` empty for an official without a NIP
    (their identifier is the system's, never printed as a NIP)."""

    index: int
    nip: str
    name: str
    title: str
    unit: str
    signed_at: datetime  # UTC
    key: str

    @property
    def wib(self) -> datetime:
        """The time in WIB, without its zone (a spreadsheet's cells hold none)."""
        return wib(self.signed_at).replace(tzinfo=None)


def _signature_rows(view: CommitmentView) -> list[SignatureRow]:
    return [
        SignatureRow(
            s.index,
            s.person.nip if is_nip(s.person.nip) else "",
            s.person.name,
            s.person.title,
            s.person.unit,
            as_utc(s.signed_at),
            s.key,
        )
        for s in view.signed
    ]


def cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def spreadsheet_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A CSV for spreadsheets (see above): UTF-8 with a BOM, commas, CRLF; text cells made
    safe with `cell` by the caller."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()


def signatures_csv_bytes(rows: list[SignatureRow], t: Translator) -> bytes:
    """The CSV of `rows`, headed in the language of `t` (see above)."""

    def line(r: SignatureRow) -> list[Any]:
        nip = f'="{r.nip}"' if r.nip else ""  # 18 digits, checked: the only formula written
        when = r.wib.strftime(WIB_SPELLING)
        return [r.index, nip, *(cell(v) for v in (r.name, r.title, r.unit)), when, _utc(r.signed_at), r.key]

    return spreadsheet_csv([t(key) for key in COLUMNS], map(line, rows))


def signatures_xlsx_bytes(rows: list[SignatureRow], t: Translator) -> bytes:
    """The XLSX workbook of `rows`: one sheet, a bold frozen header in the language of `t`,
    NIPs as text, WIB times as dates; no cell is a formula."""
    from openpyxl import Workbook  # only this download needs it
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = t("csv.sheet")[:31]
    sheet.append([t(key) for key in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for r in rows:
        sheet.append([r.index, r.nip or None, r.name, r.title, r.unit, r.wib, _utc(r.signed_at), r.key])
        cells = sheet[sheet.max_row]
        for cell in cells[1:5] + cells[6:]:
            if cell.value is not None:
                cell.data_type = "s"  # text, even when it starts with "=" (a name never runs)
        cells[1].number_format = "@"
        cells[5].number_format = "yyyy-mm-dd hh:mm:ss"
    for letter, width in zip("ABCDEFGH", (10, 22, 32, 40, 32, 21, 22, 30), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _download(
    p: Page, slug: str, lang: str | None, suffix: str
) -> tuple[list[SignatureRow], Translator, dict[str, str]]:
    view = commitment_view(p.ledger, slug)
    chosen = lang if lang in LANGS else p.lang
    name = f"{view.commitment.slug}-signatures.{suffix}"
    return _signature_rows(view), Translator(chosen), {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get(
    "/api/v1/commitments/{slug}/signatures.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, **errors(404, 422, 503)},
    summary='The signatures as CSV for spreadsheets (UTF-8 with BOM, NIP as ="…", WIB and UTC)',
)
@cached
def signatures_csv(p: AnyPage, slug: Slug, lang: Lang = None) -> Response:
    rows, t, headers = _download(p, slug, lang, "csv")
    return Response(signatures_csv_bytes(rows, t), media_type="text/csv; charset=utf-8", headers=headers)


@router.get(
    "/api/v1/commitments/{slug}/signatures.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}, **errors(404, 422, 503)},
    summary="The signatures as an Excel workbook (NIP as text, WIB and UTC)",
)
@cached
def signatures_xlsx(p: AnyPage, slug: Slug, lang: Lang = None) -> Response:
    rows, t, headers = _download(p, slug, lang, "xlsx")
    return Response(signatures_xlsx_bytes(rows, t), media_type=XLSX, headers=headers)


@router.get("/healthz", response_class=PlainTextResponse, include_in_schema=False)
def healthz(request: Request) -> PlainTextResponse:
    """For the proxy and the monitoring: 200 "ok" while the database answers and nothing
    diverges; 503 naming what diverged (the last self-audit's finding)."""
    health = request.app.state.health
    try:
        size = ledger_of(request).size()
    except LedgerError:
        raise
    except Exception as e:  # the database does not answer
        return PlainTextResponse(f"database unreachable: {type(e).__name__}\n", status_code=503)
    lines = [f"size {size}"]
    if health.checked_at is not None:
        lines.append(f"self-audit {format_time(health.checked_at)} size {health.checked_size}")
    if health.problem is not None:
        return PlainTextResponse("\n".join(["diverged: " + health.problem, *lines]) + "\n", status_code=503)
    return PlainTextResponse("\n".join(["ok", *lines]) + "\n")
