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
from typing import Annotated, Any

from fastapi import APIRouter, File, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from ledger.entries import format_time
from signing.certificate import certificate_pdf
from signing.checks import Check
from signing.errors import CertificateInvalid
from signing.facts import SignatureFacts
from signing.summary import render_summary
from signing.verify_cert import CertificateReport, examine_upload
from signing.verify_entry import EntryReport, Revocation, examine_entry

from .errors import TooLarge, UploadMissing
from .i18n import LANGS
from .pages import HERE, AnyPage, Page, ledger_of
from .routes_api import Index, errors

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
def verify_page(p: AnyPage, index: Index, h: H = None) -> HTMLResponse:
    report = examine_entry(p.ledger, index, h)
    return p.render("verify.html", report=report, facts=report.facts, h=h)


@router.get(
    "/api/v1/verify/{index}",
    responses=errors(404, 422, 503),
    summary="Verify signature entry `index` (what the QR code's page shows)",
)
def verify_api(request: Request, index: Index, h: H = None) -> dict[str, Any]:
    """VALID, INVALID or KEY_REVOKED, with each check: the official's signature, the key,
    inclusion in the checkpoint signed when the entry was appended, that checkpoint's
    consistency with the latest one, the hash chain link, and whether `h` matches."""
    return verify_json(examine_entry(ledger_of(request), index, h))


# -- uploads --------------------------------------------------------------------------------


async def _read_upload(request: Request, file: UploadFile | None) -> bytes:
    """The uploaded bytes, refusing anything larger than MAX_UPLOAD before reading it whole."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_UPLOAD + 64 * 1024:
        raise TooLarge("err.upload_too_large", mb=MAX_UPLOAD // (1024 * 1024))
    if file is None or not file.filename:
        raise UploadMissing("err.upload_missing")
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise TooLarge("err.upload_too_large", mb=MAX_UPLOAD // (1024 * 1024))
    if not data:
        raise UploadMissing("err.upload_missing")
    return data


def _upload_page(p: Page) -> dict[str, Any]:
    return {"max_mb": MAX_UPLOAD // (1024 * 1024), "vkey": str(p.ledger.verifier), "report": None}


@router.get("/verify/upload", response_class=HTMLResponse, include_in_schema=False)
def upload_page(p: AnyPage) -> HTMLResponse:
    return p.render("verify_upload.html", **_upload_page(p))


@router.post("/verify/upload", response_class=HTMLResponse, include_in_schema=False)
async def upload_form(request: Request, p: AnyPage, file: Annotated[UploadFile | None, File()] = None) -> HTMLResponse:
    context = await run_in_threadpool(_upload_page, p)
    try:
        data = await _read_upload(request, file)
        report = await run_in_threadpool(examine_upload, p.ledger, data)
    except (CertificateInvalid, TooLarge, UploadMissing) as e:
        return p.form_error("verify_upload.html", e, **context)
    return p.render("verify_upload.html", **{**context, "report": report, "facts": report.facts})


@router.post(
    "/api/v1/verify",
    responses=errors(400, 413, 415, 422, 503),
    summary="Check an uploaded certificate PDF against this ledger",
)
async def verify_upload_api(
    request: Request, file: Annotated[UploadFile, File(description="The certificate PDF, at most 5 MB.")]
) -> dict[str, Any]:
    """Multipart form with the PDF in the field `file` (at most 5 MB). Answers 200 with
    `valid`, `reason` (`edited`, `foreign`; null when valid) and each check; 4xx when the
    upload is not a certificate at all (not a PDF, damaged, no Ikrar evidence) or too large."""
    data = await _read_upload(request, file)
    return upload_json(await run_in_threadpool(examine_upload, ledger_of(request), data))


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
