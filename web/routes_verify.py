"""Verifying signatures and certificates on the web, and downloading certificates.

    GET  /v/{index}?h=…                    the page a certificate's QR code opens
    GET  /api/v1/verify/{index}?h=…        its JSON twin
    GET  /verify/upload, POST /verify/upload   check an uploaded certificate PDF (page)
    POST /api/v1/verify                    the same for programs (multipart, field `file`)
    GET  /certificates/{index}.pdf         the certificate of a signature
    GET  /commitments/{slug}/certificate.pdf   the summary certificate of a commitment
    GET  /verifier/ikrar_verify.py         the standalone verifier, to download

A thin shell over `signing.verify_entry`, `signing.verify_cert` and `signing.certificate`.
The upload form changes nothing, so it carries no CSRF token (and starts no session).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool

from ledger.entries import format_time
from ledger.store import Ledger
from signing.certificate import certificate_pdf
from signing.checks import Check
from signing.errors import CertificateInvalid
from signing.facts import SignatureFacts
from signing.sandbox import Busy as SandboxBusy
from signing.sandbox import Sandbox
from signing.summary import render_summary
from signing.verify_cert import CertificateReport, examine_file, examine_in_ledger
from signing.verify_entry import EntryReport, Revocation, examine_entry

from . import key_history
from .cache import cached
from .errors import Busy, TooLarge, UploadMissing, message_of
from .i18n import LANGS, Translator, language_of
from .metrics import count_refused_upload
from .pages import HERE, AnyPage, Page, ledger_of
from .routes_api import Index, errors

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

logger = logging.getLogger(__name__)

router = APIRouter()

MAX_UPLOAD = 5 * 1024 * 1024  # a certificate is some 20 kB
# The `verifier` package beside `web`: the repository's verifier/ in a checkout (or an
# editable install), site-packages/verifier/ in an installed one. Found by path, not import:
# the verifier shares no code with the server, and the server does not import it either.
STANDALONE = HERE.parent / "verifier" / "ikrar_verify.py"
H = Annotated[
    str | None,
    Query(
        max_length=64,
        description="The first hex digits of the entry's leaf hash, as printed in the certificate's QR code.",
    ),
]
Lang = Annotated[str | None, Query(pattern="^(id|en)$", description="id (Bahasa Indonesia) or en.")]


# -- JSON shapes ------------------------------------------------------------------------


def _checks(checks: tuple[Check, ...]) -> list[dict[str, Any]]:
    return [
        {
            "name": c.name,
            "outcome": c.outcome.value,
            "detail": c.detail,
            **({"reason": c.reason.value} if c.reason else {}),
        }
        for c in checks
    ]


def _facts(f: SignatureFacts | None) -> dict[str, Any] | None:
    if f is None:
        return None
    return {
        "index": f.index,
        "leaf_hash": f.leaf_hash,
        "time": format_time(f.time),
        "signer": {
            "name": f.name,
            "position": f.position,
            "agency": f.agency,
            "nip": f.nip,
            "key": f.key,
            "key_fingerprint": f.key_fingerprint,
        },
        "commitment": {
            "slug": f.slug,
            "title": f.commitment_title,
            "sha256": f.commitment_sha256,
            "index": f.commitment_index,
        },
        "ledger": {"org": f.org, "origin": f.origin},
        "checkpoint": {"size": f.checkpoint_size, "root": f.checkpoint_root},
    }


def _revocation(r: Revocation | None) -> dict[str, Any] | None:
    return None if r is None else {"index": r.index, "time": format_time(r.time), "reason": r.reason}


def verify_json(report: EntryReport) -> dict[str, Any]:
    printed = next((c for c in report.checks if c.name == "printed"), None)
    return {
        "index": report.index,
        "verdict": report.verdict.value,
        "printed_matches": None if printed is None or not (printed.passed or printed.failed) else printed.passed,
        "revoked": _revocation(report.revocation),
        **(_facts(report.facts) or {}),
        "latest_checkpoint": {"size": report.latest.size, "note": report.latest.note},
        "checks": _checks(report.checks),
        "certificate": f"/certificates/{report.index}.pdf",
    }


def upload_json(report: CertificateReport) -> dict[str, Any]:
    return {
        "valid": report.valid,
        "intact": report.intact,
        "reason": report.reason.value if report.reason else None,
        "index": report.index,
        "revoked": _revocation(report.revocation),
        "facts": _facts(report.facts),
        "checks": _checks(report.checks),
    }


# -- online verification of an entry -------------------------------------------------------


@router.get("/v/{index}", response_class=HTMLResponse, include_in_schema=False)
@cached
def verify_page(p: AnyPage, index: Index, h: H = None) -> HTMLResponse:
    report = examine_entry(p.ledger, index, h)
    enrolment = key_history.enrolment(p, report.facts)  # when the key was enrolled, and who vouched for it
    return p.render("verify.html", report=report, facts=report.facts, h=h, enrolment=enrolment)


@router.get(
    "/api/v1/verify/{index}",
    responses=errors(404, 422, 503),
    summary="Verify signature entry `index` (what the QR code's page shows)",
)
@cached
def verify_api(request: Request, index: Index, h: H = None) -> dict[str, Any]:
    """VALID, INVALID or KEY_REVOKED, with each check: the official's signature, the key,
    inclusion in the checkpoint signed when the entry was appended, that checkpoint's
    consistency with the latest one, the hash chain link, and whether `h` matches."""
    return verify_json(examine_entry(ledger_of(request), index, h))


# -- uploads --------------------------------------------------------------------------------


FORM_OVERHEAD = 64 * 1024  # the form's own bytes around the file
SANDBOX = Sandbox()  # the PDF work of every upload: in a worker, under limits, a few at a time


class _FilePart:
    """The field `file` of a multipart body, collected as the body streams in, refusing as
    soon as it passes MAX_UPLOAD; every other field is skipped unread."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.filename: str | None = None
        self._header = b""
        self._value = b""
        self._in_file = False

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._begin,
            "on_header_field": lambda d, a, b: self._add("_header", d[a:b]),
            "on_header_value": lambda d, a, b: self._add("_value", d[a:b]),
            "on_header_end": self._header_end,
            "on_part_data": self._part_data,
        }

    def _add(self, name: str, data: bytes) -> None:
        value = getattr(self, name) + data
        if len(value) > 4096:
            raise UploadMissing("err.upload_missing")
        setattr(self, name, value)

    def _begin(self) -> None:
        self._in_file = False

    def _header_end(self) -> None:
        if self._header.lower() == b"content-disposition":
            _, options = parse_options_header(self._value)
            if options.get(b"name") == b"file" and self.filename is None:
                self._in_file = True
                self.filename = options.get(b"filename", b"").decode("utf-8", "replace")
        self._header = self._value = b""

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            if len(self.data) + end - start > MAX_UPLOAD:
                raise TooLarge("err.upload_too_large", mb=MAX_UPLOAD // (1024 * 1024))
            self.data += data[start:end]


async def _read_upload(request: Request) -> bytes:
    """The uploaded file's bytes, read from the body as it streams in: refused when the
    declared length is over the limit, and as soon as more than the limit has arrived
    (nothing is spooled to disk). Raises TooLarge or UploadMissing."""
    too_large = TooLarge("err.upload_too_large", mb=MAX_UPLOAD // (1024 * 1024))
    length = request.headers.get("content-length", "")
    max_body = MAX_UPLOAD + FORM_OVERHEAD
    if length.isdigit() and int(length) > max_body:
        raise too_large
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary or len(boundary) > 200:
        raise UploadMissing("err.upload_missing")
    part = _FilePart()
    parser = MultipartParser(boundary, part.callbacks())
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_body:
                raise too_large
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as e:
        raise UploadMissing("err.upload_missing") from e
    if not part.filename or not part.data:
        raise UploadMissing("err.upload_missing")
    return bytes(part.data)


def _examine(ledger: Ledger, data: bytes) -> CertificateReport:
    """The PDF work in a worker process (`signing.sandbox`), then the ledger's steps here."""
    try:
        found = SANDBOX.run(examine_file, data, ledger.verifier)
    except SandboxBusy as e:
        raise Busy("err.upload_busy", e.retry_after) from e
    return examine_in_ledger(ledger, found)


async def _examine_upload(request: Request, ledger: Ledger) -> CertificateReport:
    """The uploaded certificate, read and examined; a refusal is counted (`/metrics`) and raised:
    CertificateInvalid, TooLarge, UploadMissing or Busy."""
    try:
        data = await _read_upload(request)
        return await run_in_threadpool(_examine, ledger, data)
    except (CertificateInvalid, TooLarge, UploadMissing, Busy) as e:
        count_refused_upload(e)
        raise


def _upload_page(p: Page) -> dict[str, Any]:
    return {"max_mb": MAX_UPLOAD // (1024 * 1024), "vkey": str(p.ledger.verifier), "report": None}


@router.get("/verify/upload", response_class=HTMLResponse, include_in_schema=False)
def upload_page(p: AnyPage) -> HTMLResponse:
    return p.render("verify_upload.html", **_upload_page(p))


@router.post("/verify/upload", response_class=HTMLResponse, include_in_schema=False)
async def upload_form(request: Request, p: AnyPage) -> HTMLResponse:
    context = await run_in_threadpool(_upload_page, p)
    try:
        report = await _examine_upload(request, p.ledger)
    except (CertificateInvalid, TooLarge, UploadMissing, Busy) as e:
        return p.form_error("verify_upload.html", e, **context)
    return p.render("verify_upload.html", **{**context, "report": report, "facts": report.facts})


@router.post(
    "/api/v1/verify",
    responses=errors(400, 413, 415, 422, 503),
    summary="Check an uploaded certificate PDF against this ledger",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {
                                "type": "string",
                                "format": "binary",
                                "description": "The certificate PDF, at most 5 MB.",
                            }
                        },
                    }
                }
            },
        }
    },
)
async def verify_upload_api(request: Request) -> Any:
    """Multipart form with the PDF in the field `file` (at most 5 MB). Answers 200 with
    `valid`, `reason` (`edited`, `foreign`; null when valid) and each check; 4xx when the
    upload is not a certificate at all (not a PDF, damaged, no Ikrar evidence), too large, or
    too costly to read; 503 with Retry-After while the server checks as many files as it can."""
    try:
        return upload_json(await _examine_upload(request, ledger_of(request)))
    except Busy as e:
        message = message_of(e, Translator(language_of(request)))
        return JSONResponse({"detail": message}, status_code=e.status, headers=e.headers)


# -- downloads -------------------------------------------------------------------------------


def _pdf(data: bytes, filename: str) -> Response:
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "no-cache",  # proven against the latest checkpoint at each download
        },
    )


def _lang(p: Page, lang: str | None) -> str:
    return lang if lang in LANGS else p.lang


@router.get(
    "/certificates/{index}.pdf",
    response_class=Response,
    summary="The certificate PDF of a signature entry",
    responses={200: {"content": {"application/pdf": {}}}, **errors(404, 422, 503, html=True)},
)
def certificate(p: AnyPage, index: Index, lang: Lang = None) -> Response:
    """A4, in the site's language (or `lang`), with the entry's leaf, its tlog-proof and the
    ledger's verifier key attached, so that it can be verified offline."""
    lang = _lang(p, lang)
    data = certificate_pdf(p.ledger, index, lang=lang, base_url=p.runtime.settings.base_url, now=p.now())
    return _pdf(data, f"sertifikat-ikrar-{index}.pdf" if lang == "id" else f"ikrar-certificate-{index}.pdf")


@router.get(
    "/commitments/{slug}/certificate.pdf",
    response_class=Response,
    summary="The summary certificate of a commitment: every signatory with a verify link",
    responses={200: {"content": {"application/pdf": {}}}, **errors(404, 422, 503, html=True)},
)
def summary_certificate(p: AnyPage, slug: Annotated[str, Path(max_length=80)], lang: Lang = None) -> Response:
    lang = _lang(p, lang)
    data = render_summary(p.ledger, slug, lang=lang, base_url=p.runtime.settings.base_url, now=p.now())
    return _pdf(data, f"{slug}-ringkasan.pdf" if lang == "id" else f"{slug}-summary.pdf")


@router.get("/verifier/ikrar_verify.py", response_class=FileResponse, include_in_schema=False)
def standalone_verifier() -> FileResponse:
    return FileResponse(STANDALONE, media_type="text/x-python; charset=utf-8", filename="ikrar_verify.py")
