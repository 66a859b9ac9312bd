"""The public JSON, CSV and text routes of DESIGN.md: entries, proofs, checkpoints, commitments.

All are read-only and need no login. Indexes and sizes are bounded before they reach the
database, so no number, however large, becomes a server error.
"""

from __future__ import annotations

import base64
import csv
import io
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel

from ledger.db import MAX_SIZE
from ledger.errors import InvalidInput, LedgerError
from ledger.times import as_utc, format_time

from .cache import cached
from .pages import ledger_of
from .views import commitment_summaries, commitment_view, entry_json

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


class PendingOut(BaseModel):
    nip: str
    name: str
    title: str
    unit: str


class SignaturesOut(BaseModel):
    commitment: CommitmentOut
    text: str
    signatures: list[SignatureOut]
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
    summary="Who signed the commitment (in ledger order) and who has not yet",
)
@cached
def signatures(request: Request, slug: Slug) -> dict[str, Any]:
    view = commitment_view(ledger_of(request), slug)
    return {
        "commitment": _commitment_out(view.summary),
        "text": view.commitment.text,
        "signatures": [
            {
                "index": s.index,
                "nip": s.person.nip,
                "name": s.person.name,
                "title": s.person.title,
                "unit": s.person.unit,
                "signed_at": _utc(s.signed_at),
                "key": s.key,
            }
            for s in view.signed
        ],
        "pending": [{"nip": p.nip, "name": p.name, "title": p.title, "unit": p.unit} for p in view.pending],
    }


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@router.get(
    "/api/v1/commitments/{slug}/signatures.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, **errors(404, 422, 503)},
    summary="The signatures as CSV",
)
@cached
def signatures_csv(request: Request, slug: Slug) -> Response:
    view = commitment_view(ledger_of(request), slug)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["index", "nip", "name", "title", "unit", "signed_at_utc", "key"])
    for s in view.signed:
        writer.writerow(
            [
                _cell(v)
                for v in (s.index, s.person.nip, s.person.name, s.person.title, s.person.unit, _utc(s.signed_at), s.key)
            ]
        )
    headers = {"Content-Disposition": f'attachment; filename="{view.commitment.slug}-signatures.csv"'}
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


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
