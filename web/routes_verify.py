"""Verifying signatures and certificates on the web, and downloading certificates.

    GET  /v/{index}?h=…                    the page a certificate's QR code opens
    GET  /api/v1/verify/{index}?h=…        its JSON twin
    GET  /verify/upload, POST /verify/upload   check an uploaded certificate or naskah PDF (page)
    POST /api/v1/verify                    the same for programs (multipart, field `file`)
    GET  /certificates/{index}.pdf         the certificate of a signature (presentation 2)
    GET  /commitments/{slug}/certificate.pdf   the summary of a commitment
    GET  /verifier/ikrar_verify.py         the standalone verifier, to download

A thin shell over `signing.verify_entry`, `signing.verify_app`, `signing.verify_cert` and
`signing.certificate`. The verify page of an entry of the application process (rules version
5: `app.*`, `role.assigned`) is `signing.verify_app`'s: a Surat Rekomendasi's QR code opens its
decision's.
The upload form changes nothing, so it carries no CSRF token (and starts no session).

Every answer to a QR code is a verdict in one form (`VerdictView`): SAH or TIDAK SAH as the
headline, the line that says why under it, and notes (the key revoked later, what changed in
an edited certificate); an index that holds no signature is a TIDAK SAH verdict that says
what stands there. Failed checks are listed first; a check's technical detail is shown only
in the page's language (the JSON answers keep the English detail of every check). An
uploaded naskah lists its blocks, one per signatory, each with its own check; an uploaded
letter says, under its verdict, which application and decision it is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool

from ledger.entries import format_time
from ledger.errors import LedgerError, NotFound
from ledger.nip import is_nip
from ledger.store import Ledger
from signing.app_letter import LetterFacts, letter_number
from signing.cert_words import format_nip
from signing.certificate import certificate_pdf
from signing.checks import Check
from signing.errors import CertificateInvalid, NoCertificate
from signing.facts import Difference, Revocation, SignatureFacts, line_difference
from signing.naskah import DECLINE, PENDING, SIGNED
from signing.sandbox import Busy as SandboxBusy
from signing.sandbox import Sandbox
from signing.summary import render_summary
from signing.verify_app import APP_ENTRY_KINDS, AppEntryReport, examine_app_entry
from signing.verify_cert import (
    BlockVerdict,
    CertificateReport,
    examine_file,
    examine_in_ledger,
)
from signing.verify_entry import EntryReport, NoSignature, Verdict, examine_entry, what_is_at

from . import key_history
from .cache import cached
from .errors import Busy, TooLarge, UploadMissing, message_key, message_of
from .i18n import LANGS, Translator, catalogue, language_of
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


def _revocation(r: Revocation | None, signature: int | None) -> dict[str, Any] | None:
    """The revocation of the signer's key; `after_signature` says whether it came after the
    signature (which then stays valid) or before it (which makes it invalid)."""
    if r is None:
        return None
    after = None if signature is None else r.after(signature)
    return {"index": r.index, "time": format_time(r.time), "reason": r.reason, "after_signature": after}


def verify_json(report: EntryReport) -> dict[str, Any]:
    printed = next((c for c in report.checks if c.name == "printed"), None)
    return {
        "index": report.index,
        "verdict": report.verdict.value,
        "printed_matches": None if printed is None or not (printed.passed or printed.failed) else printed.passed,
        "revoked": _revocation(report.revocation, report.index),
        **(_facts(report.facts) or {}),
        "latest_checkpoint": {"size": report.latest.size, "note": report.latest.note},
        "checks": _checks(report.checks),
        "certificate": f"/certificates/{report.index}.pdf",
    }


def upload_json(report: CertificateReport) -> dict[str, Any]:
    """`valid` is false, with the reason `key_revoked`, for a certificate whose signature was
    made with a key already revoked; a key revoked after the signature leaves it valid."""
    revoked_before = _revoked_before(report)
    return {
        "valid": report.valid and revoked_before is None,
        "intact": report.intact,
        "reason": report.reason.value if report.reason else "key_revoked" if revoked_before else None,
        "index": report.index,
        "revoked": _revocation(report.revocation, report.facts.index if report.facts else None),
        "facts": _facts(report.facts),
        "checks": _checks(report.checks),
        "difference": _difference_json(difference_of(report)),
        "kind": report.kind,
        **({} if report.blocks is None else {"blocks": [_block_json(b) for b in report.blocks]}),
        **({"letter": _letter_json(report.letter, report)} if report.is_letter else {}),
    }


def _letter_json(f: LetterFacts | None, report: CertificateReport) -> dict[str, Any] | None:
    """An uploaded letter: its application, decision and signer, as its entries say (null when
    they were not proven to belong together); `number` as the letter printed it."""
    if f is None:
        return None
    letterhead = report.presentation.letterhead
    return {
        "app": f.app,
        "revision": f.revision,
        "name": f.name,
        "agency": f.agency,
        "decision": f.decision,
        "notes": list(f.notes),
        "index": f.decided_index,
        "time": format_time(f.decided_time),
        "number": letter_number(f, letterhead) if letterhead is not None else None,
        "signer": {"name": f.signer_name, "capacity": f.signer_capacity, "nip": f.signer_nip},
    }


def _block_json(v: BlockVerdict) -> dict[str, Any]:
    """A naskah's block: who, signed or not, and its own check (`outcome` null for a block not signed)."""
    b = v.block
    return {
        "nip": b.nip,
        "status": b.status,
        "name": b.name,
        "capacity": b.capacity,
        "unit": b.unit,
        "index": b.index,
        **({"reason": b.reason} if b.reason is not None else {}),
        "outcome": v.outcome.value if v.outcome else None,
        "checks": _checks(v.checks),
    }


def nosig_json(found: NoSignature, t: Translator) -> dict[str, Any]:
    """A 404's body for an index that holds no signature: the error's `detail`, and the verdict."""
    return {
        "detail": _nosig_help(found, t),
        "index": found.index,
        "verdict": Verdict.INVALID.value,
        "found": found.kind,
        "size": found.size,
    }


def _difference_json(d: Difference | None) -> dict[str, Any] | None:
    return None if d is None else {"fact": d.fact, "printed": d.printed, "ledger": d.ledger, "place": d.place}


# -- what a page shows ----------------------------------------------------------------------


@dataclass(frozen=True)
class VerdictView:
    """A verdict as every verify page shows it: `verdict` (valid or invalid) gives the
    headline, `help` the line under it, `notes` what else the reader must know at once."""

    verdict: str
    help: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckView:
    """One check as a page lists it; `detail` is its technical detail in the page's
    language, None when it exists only in English and the page is not English."""

    name: str
    outcome: str
    detail: str | None


def check_views(checks: tuple[Check, ...], t: Translator) -> list[CheckView]:
    """The checks, failed ones first (otherwise in their order)."""
    ordered = sorted(checks, key=lambda c: not c.failed)
    return [CheckView(c.name, c.outcome.value, _detail(c, t)) for c in ordered]


def _detail(c: Check, t: Translator) -> str | None:
    known = message_key(c.error) if c.error is not None else None
    if known is not None:
        return t(known[0], **known[1])
    return c.detail if t.lang == "en" else None


def _revoked_later(t: Translator, r: Revocation) -> str:
    return t("verdict.revoked_later", when=r.time, index=r.index, reason=r.reason)


def entry_verdict(report: EntryReport, t: Translator) -> VerdictView:
    """SAH, with a note when the key was revoked after the signature; TIDAK SAH otherwise,
    saying so when the key was revoked before it."""
    if report.verdict is Verdict.VALID:
        later = report.revoked_later
        return VerdictView("valid", t("verify.help.valid"), (_revoked_later(t, later),) if later else ())
    before = report.revoked_before
    if before is not None and any(c.name == "active_key" and c.failed for c in report.checks):
        return VerdictView(
            "invalid", t("verdict.revoked_before", when=before.time, index=before.index, reason=before.reason)
        )
    return VerdictView("invalid", t("verify.help.invalid"))


def _nosig_help(found: NoSignature, t: Translator) -> str:
    if found.kind is None:
        return t("verdict.nosig.missing", index=found.index, size=found.size, last=max(found.size - 1, 0))
    key = f"verdict.kind.{found.kind}"
    kind = t(key) if key in catalogue(t.lang) else t("verdict.kind.other", kind=found.kind)
    return t("verdict.nosig.kind", index=found.index, kind=kind)


def nosig_verdict(found: NoSignature, t: Translator) -> VerdictView:
    return VerdictView("invalid", _nosig_help(found, t), (t("verdict.nosig.help"),))


def _revoked_before(report: CertificateReport) -> Revocation | None:
    r, facts = report.revocation, report.facts
    return r if r is not None and facts is not None and not r.after(facts.index) else None


def upload_verdict(report: CertificateReport, t: Translator) -> VerdictView:
    """The verdict of an uploaded certificate, in the same words as its QR code's page; an
    edited one says what changed right under the verdict."""
    before = _revoked_before(report)
    if report.valid and before is not None:
        return VerdictView(
            "invalid", t("verdict.revoked_before", when=before.time, index=before.index, reason=before.reason)
        )
    if report.is_letter:
        return _letter_verdict(report, t)
    naskah = "naskah." if report.blocks is not None else ""
    if report.valid:
        r = report.revocation
        return VerdictView("valid", t(f"upload.{naskah}valid_help"), (_revoked_later(t, r),) if r else ())
    reason = report.reason.value if report.reason else "edited"
    d = difference_of(report)
    return VerdictView("invalid", t(f"upload.{naskah}reason.{reason}"), (difference_text(d, t),) if d else ())


def _letter_verdict(report: CertificateReport, t: Translator) -> VerdictView:
    """An uploaded letter's verdict; under it which application and decision it is (when its
    entries were proven to belong together), and what an edited copy changed."""
    f = report.letter
    said: tuple[str, ...] = ()
    if f is not None:
        letterhead = report.presentation.letterhead
        number = letter_number(f, letterhead) if letterhead is not None else f"#{f.decided_index}"
        said = (
            t(
                "letter.upload.which",
                number=number,
                name=f.name,
                app=f.app,
                decision=t(f"letter.decision.{f.decision}"),
                signer=f.signer_name,
                capacity=f.signer_capacity,
                when=f.decided_time,
            ),
        )
    if report.valid:
        return VerdictView("valid", t("letter.upload.valid_help"), said)
    reason = report.reason.value if report.reason else "edited"
    d = difference_of(report)
    changed = (difference_text(d, t, "letter."),) if d else ()
    return VerdictView("invalid", t(f"letter.upload.reason.{reason}"), said + changed)


@dataclass(frozen=True)
class BlockView:
    """A naskah's block as the upload page lists it: who, what the block says (`said`), and
    its own check (`outcome` None for a block not signed; `failed` names the check that failed)."""

    name: str
    capacity: str
    unit: str
    nip: str | None
    status: str
    said: str
    outcome: str | None
    failed: str | None


BLOCK_STATUSES = (SIGNED, PENDING, DECLINE)


def block_views(blocks: tuple[BlockVerdict, ...], t: Translator) -> list[BlockView]:
    views = []
    for v in blocks:
        b = v.block
        status = b.status if b.status in BLOCK_STATUSES else "other"  # as a forged naskah.json may state it
        said = t(f"upload.block.{status}", index=b.index, reason=b.reason or "")
        failed = next((c for c in v.checks if c.failed), None)
        views.append(
            BlockView(
                b.name,
                b.capacity,
                b.unit,
                format_nip(b.nip) if is_nip(b.nip) else None,
                status,
                said,
                v.outcome.value if v.outcome else None,
                t(f"check.{failed.name}") if failed else None,
            )
        )
    return views


def difference_text(d: Difference, t: Translator, document: str = "") -> str:
    """What changed, in the page's language: Yang berubah: waktu penandatanganan tercetak
    “09.00.00”, seharusnya “07.58.13”. A letter's facts (`document` ``letter.``) have their
    own names, and its data file its own name (letter.json)."""
    if d.printed is None:
        return t("verdict.diff.missing", ledger=d.ledger)
    if d.ledger is None:
        return t("verdict.diff.added", printed=d.printed)
    if d.fact is None:
        return t("verdict.diff.changed_line", printed=d.printed, ledger=d.ledger)
    if d.place == "data":
        what = t(f"{document or 'verdict.'}fact.{d.fact}")
        return t(f"{document or 'verdict.'}diff.changed_data", what=what, printed=d.printed, ledger=d.ledger)
    return t("verdict.diff.changed", what=t(f"verdict.fact.{d.fact}"), printed=d.printed, ledger=d.ledger)


def difference_of(report: CertificateReport) -> Difference | None:
    """How an edited certificate differs from the ledger, as its first failed check that knows
    says: a line of the page (named by the fact it shows, narrowed to the words that differ)
    or a fact certificate.json states; None when none knows."""
    facts = report.facts
    for c in report.failures:
        d = c.difference
        if d is None:
            continue
        if d.place == "page" and facts is not None:  # a naskah has no one signature's facts
            return line_difference(facts, d.printed, d.ledger)
        return d
    return None


def nip_shown(facts: SignatureFacts | None) -> str | None:
    """The signer's NIP as printed ("19750314 200104 1 001"); None for an identifier that is no NIP."""
    return format_nip(facts.nip) if facts is not None and is_nip(facts.nip) else None


def trusted_host(p: Page) -> str:
    """The address a reader must see in their browser: the host of IKRAR_BASE_URL."""
    base = p.runtime.settings.base_url
    return urlsplit(base).netloc or base


# -- online verification of an entry -------------------------------------------------------


def _examine_or_find(ledger: Ledger, index: int, h: str | None) -> EntryReport | NoSignature:
    """The report of signature `index`, or what stands there when it is no signature.
    Raises the refusal itself when the index holds a signature after all (a damaged ledger)."""
    try:
        return examine_entry(ledger, index, h)
    except (NotFound, NoCertificate) as e:
        try:
            return what_is_at(ledger, index)
        except ValueError:
            raise e from None


def _app_entry(ledger: Ledger, found: EntryReport | NoSignature, h: str | None) -> AppEntryReport | None:
    """The report of an entry of the application process (a letter's QR code opens its
    decision's); None for any other entry."""
    if isinstance(found, NoSignature) and found.kind in APP_ENTRY_KINDS:
        return examine_app_entry(ledger, found.index, h)
    return None


def app_verdict(report: AppEntryReport, t: Translator) -> VerdictView:
    """SAH when every check passed, with what the entry is; TIDAK SAH otherwise."""
    what = (t(f"letter.what.{report.kind}"),)
    if report.verdict is Verdict.VALID:
        return VerdictView("valid", t(f"letter.verify.valid.{report.kind}"), what)
    return VerdictView("invalid", t("letter.verify.invalid"), what)


def app_entry_json(report: AppEntryReport) -> dict[str, Any]:
    """An entry of the application process as its verify page's JSON twin says it: its kind,
    the verdict, its fields (a request's text left out: `request_sha256` names it), the role
    grant by which its actor held their role, and each check."""
    entry = report.entry
    printed = next((c for c in report.checks if c.name == "printed"), None)
    fields = {k: v for k, v in entry.fields.items() if k not in ("request", "checklist")}
    app = entry.fields.get("app")
    return {
        "index": report.index,
        "kind": entry.kind,
        "verdict": report.verdict.value,
        "printed_matches": None if printed is None or not (printed.passed or printed.failed) else printed.passed,
        "time": format_time(entry.time),
        "leaf_hash": entry.leaf_hash.hex(),
        "fields": fields,
        "role_grant": report.grant,
        "latest_checkpoint": {"size": report.latest.size, "note": report.latest.note},
        "checks": _checks(report.checks),
        **({"application": f"/aplikasi/{app}"} if app else {}),
        **({"letter": f"/aplikasi/{app}/rekomendasi.pdf"} if report.decides else {}),
    }


@router.get("/v/{index}", response_class=HTMLResponse, include_in_schema=False)
@cached
def verify_page(p: AnyPage, index: Index, h: H = None) -> HTMLResponse:
    found = _examine_or_find(p.ledger, index, h)
    host = trusted_host(p)
    app_report = _app_entry(p.ledger, found, h)
    if app_report is not None:
        return p.render(
            "verify.html",
            index=index,
            report=None,
            app_report=app_report,
            entry=app_report.entry,
            view=app_verdict(app_report, p.t),
            checks=check_views(app_report.checks, p.t),
            h=h,
            host=host,
        )
    if isinstance(found, NoSignature):
        view = nosig_verdict(found, p.t)
        return p.render("verify.html", status=404, index=index, found=found, view=view, host=host, report=None)
    report = found
    try:
        enrolment = key_history.enrolment(p, report.facts)  # when the key was enrolled, and who vouched for it
    except LedgerError:
        if report.verdict is Verdict.VALID:
            raise
        logger.warning("verify page of entry %d: key history unreadable beside an INVALID verdict", index)
        enrolment = None  # the checks already say what is wrong; the verdict still shows
    return p.render(
        "verify.html",
        index=index,
        report=report,
        view=entry_verdict(report, p.t),
        checks=check_views(report.checks, p.t),
        facts=report.facts,
        h=h,
        enrolment=enrolment,
        host=host,
        nip=nip_shown(report.facts),
    )


@router.get(
    "/api/v1/verify/{index}",
    responses=errors(404, 422, 503),
    summary="Verify signature entry `index` (what the QR code's page shows)",
)
@cached
def verify_api(request: Request, index: Index, h: H = None) -> Any:
    """`valid` or `invalid`, with each check: the official's signature, the key (active when
    it signed), inclusion in the checkpoint signed when the entry was appended, that
    checkpoint's consistency with the latest one, the hash chain link, and whether `h`
    matches. A key revoked after the signature leaves it valid: `revoked` then says when
    and why, with `after_signature` true. An entry of the application process (`app.*`,
    `role.assigned`; a Surat Rekomendasi's QR code opens its decision's) answers with its
    `kind`, `fields`, `role_grant` (the `role.assigned` entry by which its actor held the role
    it takes) and its own checks: `signatures`, `role`, `active_key`, `inclusion`,
    `consistency`, `chain`, `printed`. Any other index that holds no signature answers 404
    with `detail`, the verdict `invalid`, `found` (the entry's kind, null when there is no
    entry) and the ledger's `size`."""
    ledger = ledger_of(request)
    found = _examine_or_find(ledger, index, h)
    app_report = _app_entry(ledger, found, h)
    if app_report is not None:
        return app_entry_json(app_report)
    if isinstance(found, NoSignature):
        body = nosig_json(found, Translator(language_of(request)))
        return JSONResponse(body, status_code=404)
    return verify_json(found)


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
    CertificateInvalid (`SummaryNotCertificate` for a summary PDF, which is checked row by row,
    by its QR codes), TooLarge, UploadMissing or Busy."""
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
    shown = {
        "report": report,
        "facts": report.facts,
        "view": upload_verdict(report, p.t),
        "checks": check_views(report.checks, p.t),
        "host": trusted_host(p),
        "nip": nip_shown(report.facts),
        "blocks": block_views(report.blocks, p.t) if report.blocks is not None else None,
    }
    return p.render("verify_upload.html", **{**context, **shown})


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
    """Multipart form with the PDF in the field `file` (at most 5 MB): a certificate or a naskah
    komitmen bersama. Answers 200 with `valid`, `reason` (`edited`, `foreign`; null when
    valid), each check, `difference` (what an edited copy changed, when known) and `kind`
    (`certificate` or `naskah`; a naskah's `blocks`, in its published order, each with its
    status, who, and its own `outcome` and checks); 4xx when the
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
    """The government document (presentation 2: the city's letterhead, two A4 pages), in the
    site's language (or `lang`), with the four entries behind the signature, their
    tlog-proofs and the ledger's verifier key attached, so that it can be verified offline."""
    lang = _lang(p, lang)
    settings = p.runtime.settings
    data = certificate_pdf(
        p.ledger, index, lang=lang, base_url=settings.base_url, now=p.now(), letterhead=settings.letterhead()
    )
    return _pdf(data, f"bukti-ikrar-{index}.pdf" if lang == "id" else f"ikrar-proof-{index}.pdf")


@router.get(
    "/commitments/{slug}/certificate.pdf",
    response_class=Response,
    summary="The summary certificate of a commitment: every signatory with a verify link",
    responses={200: {"content": {"application/pdf": {}}}, **errors(404, 422, 503, html=True)},
)
def summary_certificate(p: AnyPage, slug: Annotated[str, Path(max_length=80)], lang: Lang = None) -> Response:
    lang = _lang(p, lang)
    settings = p.runtime.settings
    data = render_summary(
        p.ledger, slug, lang=lang, base_url=settings.base_url, now=p.now(), letterhead=settings.letterhead()
    )
    return _pdf(data, f"{slug}-ringkasan.pdf" if lang == "id" else f"{slug}-summary.pdf")


@router.get("/verifier/ikrar_verify.py", response_class=FileResponse, include_in_schema=False)
def standalone_verifier() -> FileResponse:
    return FileResponse(STANDALONE, media_type="text/x-python; charset=utf-8", filename="ikrar_verify.py")
