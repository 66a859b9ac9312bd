"""The verification of applications (rules version 5), as ledger appends: roles given by
an admin, a Perangkat Daerah's request signed by its Kepala, Diskominfo's reviews and
returns, and the decision the Kepala Dinas Kominfo signs; and what a page or a letter
shows of one application, read from its entries.

These are the one implementation behind the web's work pages and the command line, like
`signing.actions`: each takes the time as `now`; before opening a key each asks the
ledger's own rules (`Ledger.precheck`, with a stand-in signature) whether its entry could
be appended, so that a refusal is quick and clear and no key is opened for nothing; the
statement is then signed inside the append, at the entry's own time. Who holds which
role is asked first, with the codes a person understands (``app.not_head``,
``app.not_reviewer``, ``app.not_decider``); the ledger asks again under its lock.

A request is prepared as a draft (`save_draft`, kept in the register, not on the ledger)
from the web form (`request_from_form`), with its PDF attachments checked
(`check_attachment`) and stored (`keep_attachment`). A draft keeps whatever was filled in,
each field right in itself; it is complete (`DraftView.complete`, `missing_of`) once
`ledger.application.check_request` accepts it, and only then may the Kepala PD sign it
(`submit_app`), which gives the application its id (``2026-0001``: the year in WIB and
the next free number) or, for a returned one, its next revision.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from pypdf import PdfReader, apply_configuration, get_configuration

from ledger.application import (
    ATTACHMENT,
    DECIDER,
    MAX_ATTACHMENT,
    PD_HEAD,
    PD_OPERATOR,
    REQUEST,
    REVIEWERS,
    ROLES,
    Field,
    canonical_checklist,
    canonical_request,
    check_notes,
    check_reasons,
    check_request,
    check_text,
    parse_checklist,
    parse_request,
    request_sha256,
)
from ledger.canonical import canonical_json
from ledger.entries import Entry
from ledger.errors import Conflict, InvalidInput, NotFound
from ledger.identity import Identity
from ledger.note import VerifierKey
from ledger.reader import ApplicationRecord, Reader
from ledger.register import DraftRecord
from ledger.statements import AppDecision, AppRequest, Role, encode_signature
from ledger.store import Appended, Ledger

from . import vouching
from .actions import Context, _clean, get_official
from .agencies import check_unit
from .errors import CertificateInvalid, NotAllowed
from .sandbox import Sandbox
from .verify_cert import PYPDF_LIMITS
from .wording import WIB

__all__ = [
    "FORM_PROBLEMS",
    "SANDBOX",
    "ApplicationView",
    "AttachmentIn",
    "Decided",
    "DraftView",
    "Event",
    "Returned",
    "Reviewed",
    "Submitted",
    "application_view",
    "assign_role",
    "check_attachment",
    "clean_file_name",
    "decide_app",
    "draft_view",
    "keep_attachment",
    "missing_of",
    "needs_answer",
    "request_from_form",
    "return_app",
    "review_app",
    "save_draft",
    "submit_app",
]

logger = logging.getLogger(__name__)

_NO_SIGNATURE = encode_signature(bytes(64))  # what `precheck` sees before a key has signed
SANDBOX = Sandbox(slots=2)  # the PDF work of uploaded attachments: in a worker, under limits
MAX_FILE_NAME = 200  # characters of an attachment's file name (`ledger.application.ATTACHMENT`)

# What `request_from_form` may say of a field besides `ledger.application.PROBLEMS`: a
# number not written as a whole number, a checkbox sent with a value no checkbox sends.
FORM_PROBLEMS = ("number", "checkbox")


def _refuse(field: str, problem: str, message: str, **params: Any) -> InvalidInput:
    """The error of one field of the request form (``app.field``), as `ledger.application` words it."""
    return InvalidInput(f"the request's {field} {message}", code="app.field", field=field, problem=problem, **params)


# -- attachments ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachmentIn:
    """An attachment of a request: its title, the file's name, SHA-256 and size in bytes,
    and whether it is internal (the public register then shows its hash, not the file)."""

    title: str
    file: str
    sha256: str
    size: int
    internal: bool = False

    def to_json(self) -> dict[str, Any]:
        """The attachment as the request object holds it."""
        return {
            "title": self.title,
            "file": self.file,
            "sha256": self.sha256,
            "bytes": self.size,
            "internal": self.internal,
        }


def clean_file_name(file_name: str) -> str:
    """An uploaded file's name as a request records it: its last path part, spaces tidied.
    Raises InvalidInput (``app.attachment_name``) for a blank, overlong or unprintable one."""
    name = " ".join(re.split(r"[/\\]", file_name or "")[-1].split())
    if not name or len(name) > MAX_FILE_NAME or not name.isprintable():
        raise InvalidInput(
            f"the file name {name[:80]!r} is blank, longer than {MAX_FILE_NAME} characters or unprintable",
            code="app.attachment_name",
            file=name[:80],
            limit=MAX_FILE_NAME,
        )
    return name


def _pdf_problem(data: bytes) -> str | None:
    """Why pypdf cannot read `data` as a PDF (in English), or None when it reads: its pages
    are counted, and an encrypted one must open without a password. Runs in a worker
    (`signing.sandbox`), bounded as an uploaded certificate is (`verify_cert.PYPDF_LIMITS`)."""
    try:
        with apply_configuration(get_configuration().with_overwrites(**PYPDF_LIMITS)):
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                return "it is encrypted with a password"
            if len(reader.pages) < 1:
                return "it has no page"
    except Exception as e:  # pypdf raises many kinds of errors on damaged input; each means the same here
        return f"it is damaged ({type(e).__name__})"
    return None


def check_attachment(file_name: str, data: bytes, sandbox: Sandbox | None = None) -> None:
    """Raise InvalidInput unless `data` can be attached to a request: at most
    `MAX_ATTACHMENT` bytes (``app.attachment_size``), a PDF — it starts with ``%PDF-``
    (``app.attachment_not_pdf``) and pypdf reads its pages, in a worker of `sandbox`
    (default `SANDBOX`) under its limits of time and memory (``app.attachment_damaged``:
    damaged, encrypted with a password, or too costly to read). Each has the params `file`
    and `limit` (bytes). Raises sandbox.Busy when every worker is busy (try again)."""
    name = (file_name or "").strip()[:80]
    if not data:
        raise InvalidInput(f"the file {name} is empty", code="app.attachment_not_pdf", file=name, limit=MAX_ATTACHMENT)
    if len(data) > MAX_ATTACHMENT:
        raise InvalidInput(
            f"the file {name} is larger than {MAX_ATTACHMENT // (1024 * 1024)} MB",
            code="app.attachment_size",
            file=name,
            limit=MAX_ATTACHMENT,
            mb=MAX_ATTACHMENT // (1024 * 1024),
        )
    if bytes(data[:5]) != b"%PDF-":
        raise InvalidInput(
            f"the file {name} is not a PDF (it does not start with %PDF-)",
            code="app.attachment_not_pdf",
            file=name,
            limit=MAX_ATTACHMENT,
        )
    try:
        problem = (sandbox or SANDBOX).run(_pdf_problem, bytes(data))
    except CertificateInvalid as e:  # the sandbox's own limits: too slow or too costly to read
        problem = f"it is too costly to read ({e.detail})"
    if problem is not None:
        logger.info("attachment refused file=%s bytes=%d: %s", name, len(data), problem)
        raise InvalidInput(
            f"the file {name} cannot be read as a PDF: {problem}",
            code="app.attachment_damaged",
            file=name,
            limit=MAX_ATTACHMENT,
        )


def keep_attachment(
    ledger: Ledger,
    title: str,
    file_name: str,
    data: bytes,
    now: datetime,
    internal: bool = False,
    sandbox: Sandbox | None = None,
) -> AttachmentIn:
    """Check an uploaded attachment (`check_attachment`), store the file in the register by
    its SHA-256 (the same file twice is kept once) and return what the request records of
    it; a blank `title` becomes the file's name. Raises InvalidInput (``app.attachment_*``,
    ``app.field`` for the title), sandbox.Busy."""
    file = clean_file_name(file_name)
    check_attachment(file, data, sandbox)
    title = _tidy(title, one_line=True) or file
    check_text(title, ATTACHMENT["title"], _refuse, "attachments")
    digest = hashlib.sha256(data).hexdigest()
    ledger.register.put_attachment(digest, file, bytes(data), now)
    logger.info("attachment kept sha256=%s bytes=%d", digest, len(data))
    return AttachmentIn(title, file, digest, len(data), internal)


# -- the request form ----------------------------------------------------------------------

_TRUE = frozenset({"on", "true", "1", "yes", "ya"})
_FALSE = frozenset({"", "off", "false", "0", "no", "tidak"})
# 1.250.000.000 or 1250000000, with an optional "Rp" before and ",00" after (Indonesian
# writing: the dot groups thousands, the comma starts the cents)
_WHOLE = re.compile(r"(?:rp\.?)?([0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+)(?:,0{1,2})?", re.ASCII | re.IGNORECASE)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def _tidy(value: str | None, one_line: bool) -> str:
    """A text as typed, tidied: one line with single spaces, or lines without trailing
    spaces, tabs made spaces, LF line ends, no blank lines around it."""
    text = value or ""
    if one_line:
        return " ".join(text.split())
    lines = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n").strip()


def _whole_number(field: str, written: str) -> int:
    match = _WHOLE.fullmatch(written)
    if match is None:
        raise _refuse(field, "number", "is not a whole number (write it like 1.250.000.000)")
    return int(match.group(1).replace(".", ""))


def _flag(field: str, value: str | None) -> bool:
    said = (value or "").strip().lower()
    if said in _TRUE:
        return True
    if said in _FALSE:
        return False
    raise _refuse(field, "checkbox", "is not a checkbox's value")


def _form_value(field: str, value: str | None, spec: Field) -> Any:
    """The value of one field of the form as the request object holds it, checked against
    the field's bounds in `ledger.application`'s words; None for a field left blank (a
    checkbox is always answered: left out, it is not ticked). Raises InvalidInput
    (``app.field``) for a field filled in but wrong in itself."""
    if spec.type is bool:
        return _flag(field, value)
    text = _tidy(value, spec.one_line or spec.type is not str)
    if not text:
        return None
    if spec.type is int:
        number = _whole_number(field, "".join(text.split()))
        if not spec.minimum <= number <= spec.limit:
            raise _refuse(
                field, "range", f"is not within {spec.minimum}..{spec.limit}", minimum=spec.minimum, limit=spec.limit
            )
        return number
    if spec.choices and text not in spec.choices:
        choices = ", ".join(spec.choices)
        raise _refuse(field, "choice", f"is not one of {choices}", choices=choices)
    if spec.type is date:
        try:
            if _DATE.fullmatch(text) is None:
                raise ValueError(text)
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise _refuse(field, "date", "is not a date written YYYY-MM-DD") from None
    check_text(text, spec, _refuse, field)
    return text


def request_from_form(
    form: Mapping[str, str], attachments: Sequence[AttachmentIn], agency: str, prepared_by: str
) -> dict[str, Any]:
    """The request object (`ledger.application.REQUEST`) of the web form's fields as far as
    they are filled in, named as the object's keys: texts (spaces tidied; one-line fields
    made one line), choices, whole numbers as people write them (``1.250.000.000``,
    ``Rp 1.250.000.000,00``), checkboxes (ticked: ``on``; left out or blank: not ticked) and
    dates (``YYYY-MM-DD``); `agency` is the owning PD, `prepared_by` the operator preparing
    it ("" for the head). A complete form gives the whole request (`check_request` accepts
    it; a text that may be blank is ""); an incomplete one — a field the request needs left
    blank, or an answer another asks for — gives only the fields filled in (a checkbox is
    always there), which `missing_of` names the rest of and `save_draft` keeps as a draft.

    Raises InvalidInput with code ``app.field`` and params `field`, `problem` (a word of
    `ledger.application.PROBLEMS` or `FORM_PROBLEMS`, with `limit`, `minimum` or `choices`
    where it has one) and `problems` (a tuple of the params of every wrong field, in the
    form's order; `field` and `problem` are the first's) for each field filled in but wrong
    in itself: a date not YYYY-MM-DD, a number that is none or out of range, a text over its
    limit, a choice not offered. The attachments (too many, one twice) are checked once
    every field is right."""
    found: dict[str, Any] = {}
    problems: list[InvalidInput] = []
    owner = _tidy(agency, one_line=True)
    given: dict[str, Any] = {
        "agency": owner,
        "attachments": [a.to_json() for a in attachments],
        "prepared_by": (prepared_by or "").strip(),
    }
    for field, spec in REQUEST.items():
        try:
            value = given[field] if field in given else _form_value(field, form.get(field), spec)
            if field == "agency":
                check_text(owner, spec, _refuse, field)
        except InvalidInput as e:
            problems.append(e)
            continue
        if value is not None:
            found[field] = value
    if not problems:
        try:
            whole, lacking = _completed(found)
        except InvalidInput as e:
            problems.append(InvalidInput(str(e), code="app.field", **e.params))
    if problems:
        first = problems[0]
        raise InvalidInput(str(first), code="app.field", **first.params, problems=tuple(e.params for e in problems))
    return found if lacking else whole


# -- drafts: as far as filled in, complete or not ------------------------------------------

# The problems of `check_request` that say what one answer asks of another: a draft is
# incomplete with them, not wrong.
_ASKED_BY_ANOTHER = ("required", "personal_data")


def needs_answer(spec: Field) -> bool:
    """Whether a request needs the field `spec` filled in: a text that may not be blank, a
    choice, a number, a date. A checkbox is answered by being left unticked; a text that may
    be blank is answered by its blank ("")."""
    return spec.type in (int, date) or bool(spec.choices) or (spec.type is str and spec.minimum > 0)


def _stand_in(spec: Field) -> Any:
    """What stands in for a field a draft has not got, to check the rest: its blank answer
    (unticked, "", no attachments) or, for a field the request needs, the least value it
    takes — for a choice its first, which asks nothing of another answer."""
    if spec.type is bool:
        return False
    if spec.type is list:
        return []
    if spec.type is int:
        return spec.minimum
    if spec.type is date:
        return "2000-01-01"
    if spec.choices:
        return spec.choices[0]
    return "x" if needs_answer(spec) else ""


def _completed(request: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The request with each field it lacks stood in for (`_stand_in`), and what it lacks:
    the params (`field`, `problem`) of each field it needs and has not got (``blank``), and
    of each answer another asks for (``required``, ``personal_data``), by field. Raises
    InvalidInput (``app.request``) for a field it holds that is wrong in itself, a field
    that is none of a request's, or wrong attachments."""
    probe = dict(request)
    lacking: dict[str, dict[str, Any]] = {}
    for field, spec in REQUEST.items():
        if field not in probe:
            if needs_answer(spec):
                lacking[field] = {"field": field, "problem": "blank"}
            probe[field] = _stand_in(spec)
    while True:
        try:
            check_request(probe)
        except InvalidInput as e:
            field = str(e.params.get("field", ""))
            if e.params.get("problem") not in _ASKED_BY_ANOTHER or field not in REQUEST or field in lacking:
                raise
            lacking[field] = dict(e.params)
            probe[field] = _stand_in(REQUEST[field]) if REQUEST[field].type is bool else "x"
            continue
        return probe, lacking


def missing_of(request: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
    """What keeps a draft's `request` (a request object as far as filled in) from being
    complete, in the form's order: the params (`field`, `problem`) of each field the request
    needs and has not got (problem ``blank``) and of each answer another asks for and has
    not got (``required``: the vendor when a vendor builds it, ...; ``personal_data``);
    () when it is complete, `check_request` accepting it once its blank answers are added.
    Raises InvalidInput (``app.request``) for a field it holds that is wrong in itself."""
    lacking = _completed(request)[1]
    return tuple(lacking[field] for field in REQUEST if field in lacking)


@dataclass(frozen=True)
class DraftView:
    """A draft as the pages show it: its record, its request as far as filled in, and what
    it lacks (`missing_of`)."""

    draft: DraftRecord
    request: Mapping[str, Any]
    missing: tuple[Mapping[str, Any], ...]

    @property
    def complete(self) -> bool:
        """Whether the Kepala PD may sign it: `check_request` accepts it."""
        return not self.missing

    @property
    def name(self) -> str:
        """The application's name it gives ("" while still blank)."""
        return str(self.request.get("name", ""))


def draft_view(draft: DraftRecord) -> DraftView:
    """The draft's request (its JSON object, as far as filled in) and what it lacks. A draft
    saved whole, by this version or an earlier one, is complete. Raises InvalidInput
    (``app.request``) for a request that is not a JSON object or holds a wrong field."""
    try:
        request = json.loads(draft.request_json)
    except (ValueError, RecursionError) as e:
        raise InvalidInput(
            f"draft {draft.id}'s request is not JSON: {e}", code="app.request", field="request", problem="json"
        ) from e
    if not isinstance(request, dict):
        raise InvalidInput(
            f"draft {draft.id}'s request is not a JSON object", code="app.request", field="request", problem="json"
        )
    return DraftView(draft, MappingProxyType(request), missing_of(request))


# -- roles ---------------------------------------------------------------------------------


def _precheck(ctx: Context, kind: str, fields: Mapping[str, Any], now: datetime | Callable[[], datetime]) -> None:
    """Ask the rules before a key is opened; a refusal is NotAllowed with the rule's code."""
    try:
        ctx.ledger.precheck(kind, fields, now() if callable(now) else now)
    except Conflict as e:
        raise NotAllowed(str(e), code=e.code, **e.params) from e


def assign_role(
    ctx: Context,
    nip: str,
    role: str,
    unit: str,
    grant: bool,
    reason: str,
    by: str,
    passphrase: str | None,
    now: datetime | Callable[[], datetime],
    *,
    agencies: Sequence[str] | None = None,
) -> Appended:
    """The admin `by` grants (or, with `grant` false, withdraws) the official `nip` a role
    of `ledger.application.ROLES` for `unit` — for ``pd-head`` and ``pd-operator`` the PD's
    exact name, one of `agencies` when they are given — with a `reason`: a `role.assigned`
    entry attested by the admin's own key (``ikrar/role/v1``, opened with `passphrase`).
    A grant of ``pd-head`` or ``kominfo-head`` ends the previous holder's.

    Raises NotFound (official), InvalidInput (role, unit, reason), NotAllowed (the rules
    refuse: no identity or no active key, holds it already or not at all, `by` is no admin
    or the official), WrongPassphrase."""
    nip = get_official(ctx.ledger, nip).nip
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", code="role.role", role=role)
    unit = _clean(unit, "unit")
    if agencies is not None and role in (PD_HEAD, PD_OPERATOR):
        unit = check_unit(unit, agencies)
    fields: dict[str, Any] = {
        "nip": nip,
        "role": role,
        "unit": unit,
        "grant": grant,
        "reason": _clean(reason, "reason"),
    }
    key = vouching.admin_key(ctx, by)
    _precheck(ctx, "role.assigned", {**fields, "attested_by": by, "attester": key, "attestation": _NO_SIGNATURE}, now)
    acting = vouching.voucher(ctx, by, passphrase)

    def attested_at(moment: datetime) -> dict[str, Any]:
        statement = Role(ctx.ledger.origin, nip, role, unit, grant, fields["reason"], moment)
        signature = encode_signature(acting.sign(statement.text().encode()))
        return {**fields, "attested_by": by, "attester": key, "attestation": signature}

    appended = ctx.ledger.append("role.assigned", attested_at, ctx.signer, now)
    logger.info(
        "role %s nip=%s role=%s by=%s index=%d",
        "granted" if grant else "withdrawn",
        nip,
        role,
        by,
        appended.entry.index,
    )
    return appended


# -- drafts and requests -------------------------------------------------------------------


def save_draft(
    ctx: Context,
    agency: str,
    request: Mapping[str, Any],
    prepared_by: str,
    now: datetime,
    app: str | None = None,
    draft_id: int | None = None,
) -> int:
    """Keep `request` as a draft of `agency` for its Kepala to sign, as far as it is filled
    in (`request_from_form`: a field left blank is left out): whole, in its canonical JSON
    (`canonical_request`, its blank answers added) once it is complete (`missing_of`), else
    the canonical JSON of the fields it has. `app`, when revising that returned application;
    `draft_id`, to replace that draft. `prepared_by` is who saves it: an operator of the PD
    (the request then names them in `prepared_by`) or its Kepala (the request keeps the
    operator of the draft it replaces, or names none). Returns the draft's id. Drafts are
    not on the ledger.

    Raises InvalidInput (``app.request``: a field wrong in itself, or attachments too many
    or twice; ``app.agency``: its agency not `agency`), NotAllowed (``app.not_operator``:
    `prepared_by` holds neither role for the PD; ``app.state``: `app` is not returned),
    NotFound (``app.not_found``, ``app.draft_not_found``)."""
    preparer = get_official(ctx.ledger, prepared_by).nip
    previous = ctx.ledger.register.draft(draft_id) if draft_id is not None else None
    if draft_id is not None and (previous is None or previous.agency != agency):
        raise NotFound(f"there is no draft {draft_id} of {agency}", code="app.draft_not_found", draft=draft_id)
    if previous is not None:
        app = app or previous.app
    with ctx.ledger.read() as r:
        head = r.holds_role(preparer, PD_HEAD, agency)
        operator = r.holds_role(preparer, PD_OPERATOR, agency)
        record = r.application(app) if app is not None else None
    if not head and not operator:
        raise NotAllowed(
            f"{preparer} is neither the Kepala nor an operator of {agency}, so cannot prepare its requests",
            code="app.not_operator",
            nip=preparer,
            agency=agency,
        )
    if app is not None:
        _revisable(record, app, agency)
    named = preparer if operator and not head else _operator_of(previous)
    request = {**request, "prepared_by": named}
    whole, lacking = _completed(request)
    if request.get("agency") != agency:
        raise InvalidInput(
            f"the request names {request.get('agency')!r}, not {agency!r}",
            code="app.agency",
            app=app or "",
            agency=str(request.get("agency", "")),
        )
    text = canonical_json(request).decode("utf-8") if lacking else canonical_request(whole)
    draft = DraftRecord(draft_id, agency, app, text, preparer, now)
    saved = ctx.ledger.register.save_draft(draft)
    logger.info("draft saved id=%d agency=%s app=%s by=%s complete=%s", saved, agency, app, preparer, not lacking)
    return saved


def _operator_of(draft: DraftRecord | None) -> str:
    """The operator a draft's request names as its preparer ("" for none, or no draft)."""
    if draft is None:
        return ""
    try:
        return str(draft_view(draft).request.get("prepared_by", ""))
    except InvalidInput:  # a draft that cannot be read: it names nobody
        return ""


def _revisable(record: ApplicationRecord | None, app: str, agency: str) -> ApplicationRecord:
    """The application `app` that `agency` may revise now: it was returned. Raises NotFound,
    NotAllowed (``app.state``; ``app.agency``: another PD's)."""
    if record is None:
        raise NotFound(f"there is no application {app}", code="app.not_found", app=app)
    _expect(record, "returned")
    if record.agency != agency:
        raise NotAllowed(
            f"application {app} is {record.agency}'s, not {agency}'s", code="app.agency", app=app, agency=record.agency
        )
    return record


def _expect(record: ApplicationRecord, wanted: str, seen: int | None = None) -> None:
    """Raise NotAllowed unless the application's status is `wanted` (``app.state``) and,
    when `seen` is given, its revision is still the one the person saw (``app.revision``)."""
    app = record.app
    if record.status != wanted:
        raise NotAllowed(
            f"application {app} is {record.status}, not {wanted}", code="app.state", app=app, status=record.status
        )
    if seen is not None and seen != record.revision:
        raise NotAllowed(
            f"application {app} is at revision {record.revision} now, not {seen}: look at it again",
            code="app.revision",
            app=app,
            revision=seen,
            current=record.revision,
        )


class _YearTurned(Exception):
    """The entry's time fell in another year (WIB) than the id chosen for it: choose again."""


_ID_TAKEN = "app.exists"  # the rules' code for an id in use
_ATTEMPTS = 5


def submit_app(
    ctx: Context,
    draft_id: int | None,
    request: Mapping[str, Any] | None,
    nip: str,
    passphrase: str,
    now: datetime | Callable[[], datetime],
    app: str | None = None,
) -> Appended:
    """The Kepala PD `nip` signs a request (``ikrar/app-request/v1``) and it is appended as
    `app.submitted`: the draft `draft_id`, or `request` given whole (the command line). A
    new request gets the next free id of the entry's year in WIB (`Reader.next_app_id`,
    chosen again should another take it first); the revision of a returned application
    `app` (or the draft's) is its last plus one. The draft is deleted once appended.

    Raises InvalidInput (no or both sources, the request), Conflict (``app.request``: the
    draft is not complete yet, `missing_of`; params `field` and `problem` of the first
    field it lacks, `missing` every one's name; the key is never opened), NotFound (draft,
    application, official), NotAllowed (``app.not_head``: not the Kepala of the request's
    PD, checked before the key is opened; ``app.state``: not returned; ``sign.no_key``; the
    rules' codes), WrongPassphrase."""
    if (draft_id is None) == (request is None):
        raise InvalidInput("give either a draft or a request to submit", code="app.source")
    if draft_id is not None:
        draft = ctx.ledger.register.draft(draft_id)
        if draft is None:
            raise NotFound(f"there is no draft {draft_id}", code="app.draft_not_found", draft=draft_id)
        if draft.app is not None and app not in (None, draft.app):
            raise InvalidInput(f"draft {draft_id} revises application {draft.app}, not {app}", code="app.source")
        missing = draft_view(draft).missing
        if missing:
            lacking = tuple(str(m["field"]) for m in missing)
            raise Conflict(
                f"draft {draft_id} is not complete yet ({', '.join(lacking)}): complete it before it is signed",
                code="app.request",
                field=lacking[0],
                problem=missing[0]["problem"],
                draft=draft_id,
                missing=lacking,
            )
        request = parse_request(draft.request_json)
        app = app or draft.app
    assert request is not None
    text = canonical_request(dict(request))  # checks it (`check_request`)
    digest = request_sha256(text)
    agency = str(request["agency"])
    nip = get_official(ctx.ledger, nip).nip
    with ctx.ledger.read() as r:
        head = r.holds_role(nip, PD_HEAD, agency)
        key = r.active_key(nip)
        identity = r.identities([nip]).get(nip)
        record = r.application(app) if app is not None else None
    if not head:
        raise NotAllowed(
            f"{nip} is not the Kepala of {agency}, so cannot sign its requests",
            code="app.not_head",
            nip=nip,
            agency=agency,
        )
    if key is None or identity is None:
        raise NotAllowed(f"official {nip} has no active key: enrol first", code="sign.no_key", nip=nip)
    revision = 1
    if app is not None:
        revision = _revisable(record, app, agency).revision + 1
    vkey = VerifierKey.parse(key.key)
    fields: dict[str, Any] = {
        "revision": revision,
        "request": text,
        "request_sha256": digest,
        "agency": agency,
        "nip": nip,
        "key": key.key,
        "name": identity.name,
        "capacity": identity.capacity,
    }
    first_moment = now() if callable(now) else now
    _precheck(
        ctx, "app.submitted", {**fields, "app": app or _next_id(ctx, first_moment), "signature": _NO_SIGNATURE}, now
    )
    sign_with_key = ctx.keys.signer(vkey, passphrase)
    moment_hint = first_moment
    for attempt in range(1, _ATTEMPTS + 1):
        app_id = app or _next_id(ctx, moment_hint)

        def signed_at(moment: datetime, app_id: str = app_id) -> dict[str, Any]:
            if app is None and app_id[:4] != str(moment.astimezone(WIB).year):
                raise _YearTurned(moment)
            statement = AppRequest(
                ctx.ledger.origin, app_id, revision, digest, agency, nip, identity.name, identity.capacity, vkey, moment
            )
            signature = sign_with_key(statement.text().encode())
            statement.verify(signature)
            return {**fields, "app": app_id, "signature": encode_signature(signature)}

        try:
            appended = ctx.ledger.append("app.submitted", signed_at, ctx.signer, now)
        except _YearTurned as e:
            moment_hint = e.args[0]
            continue
        except Conflict as e:
            if app is None and e.code == _ID_TAKEN and attempt < _ATTEMPTS:
                logger.info("application id %s was taken meanwhile; choosing again", app_id)
                continue
            raise
        break
    else:
        raise Conflict("no free application id was found; try again", code="app.busy")
    if draft_id is not None:
        ctx.ledger.register.delete_draft(draft_id)
    logger.info(
        "application submitted app=%s revision=%d agency=%s by=%s index=%d",
        appended.entry.fields["app"],
        revision,
        agency,
        nip,
        appended.entry.index,
    )
    return appended


def _next_id(ctx: Context, moment: datetime) -> str:
    """The next free application id of `moment`'s year in WIB."""
    with ctx.ledger.read() as r:
        return r.next_app_id(moment.astimezone(WIB).year)


# -- review, return, decision --------------------------------------------------------------


def _reviewable(ctx: Context, app: str, by: str, revision: int | None) -> tuple[str, int]:
    """`by` (in its one spelling) and the application's revision, when `by` may review or
    return it now. Raises NotFound, NotAllowed (``app.not_reviewer``, ``app.state``,
    ``app.revision``)."""
    by = get_official(ctx.ledger, by).nip
    with ctx.ledger.read() as r:
        allowed = any(r.holds_role(by, role) for role in REVIEWERS)
        record = r.application(app)
    if not allowed:
        raise NotAllowed(
            f"{by} is no Diskominfo reviewer, so cannot review applications", code="app.not_reviewer", nip=by
        )
    if record is None:
        raise NotFound(f"there is no application {app}", code="app.not_found", app=app)
    _expect(record, "submitted", revision)
    return by, record.revision


def review_app(
    ctx: Context,
    app: str,
    by: str,
    checklist: Mapping[str, Any],
    now: datetime | Callable[[], datetime],
    *,
    revision: int | None = None,
) -> Appended:
    """The reviewer `by` records their checklist (`ledger.application.CHECKLIST`, each point
    a finding and a note) of the application's current revision: an `app.reviewed` entry,
    signed by the checkpoint. `revision`, when given, is the one the reviewer read: a newer
    one is not reviewed in its stead.

    Raises InvalidInput (``app.checklist``), NotFound, NotAllowed (``app.not_reviewer``;
    ``app.state``: not waiting for a review; ``app.revision``: another revision waits now),
    Conflict (the rules)."""
    text = canonical_checklist(dict(checklist))
    by, current = _reviewable(ctx, app, by, revision)
    fields = {"app": app, "revision": current, "by": by, "checklist": text}
    appended = ctx.ledger.append("app.reviewed", fields, ctx.signer, now)
    logger.info("application reviewed app=%s revision=%d by=%s index=%d", app, current, by, appended.entry.index)
    return appended


def _items(items: Sequence[str], *, one_line: bool) -> list[str]:
    """The items of a list as typed, tidied, without the blank ones."""
    return [text for item in items if (text := _tidy(item, one_line))]


def return_app(
    ctx: Context,
    app: str,
    by: str,
    reasons: Sequence[str],
    now: datetime | Callable[[], datetime],
    *,
    revision: int | None = None,
) -> Appended:
    """The reviewer `by` returns the application's current revision to its PD for a
    revision, with `reasons` (blank ones are left out; 1 to 20, each at most 2000
    characters): an `app.returned` entry. `revision` as for `review_app`.

    Raises InvalidInput (``app.reasons``, `ledger.application.check_reasons`), NotFound,
    NotAllowed (``app.not_reviewer``, ``app.state``, ``app.revision``), Conflict (the rules)."""
    cleaned = _items(reasons, one_line=False)
    check_reasons(cleaned)
    by, current = _reviewable(ctx, app, by, revision)
    fields = {"app": app, "revision": current, "by": by, "reasons": cleaned}
    appended = ctx.ledger.append("app.returned", fields, ctx.signer, now)
    logger.info("application returned app=%s revision=%d by=%s index=%d", app, current, by, appended.entry.index)
    return appended


def decide_app(
    ctx: Context,
    app: str,
    decision: str,
    notes: Sequence[str],
    nip: str,
    passphrase: str,
    now: datetime | Callable[[], datetime],
    *,
    revision: int | None = None,
) -> Appended:
    """The Kepala Dinas Kominfo `nip` signs the decision on the application's current
    revision (``ikrar/app-decision/v1``), appended as `app.decided`: `decision` one of
    `DECISIONS`, with `notes` (blank ones left out, each made one line): none for
    ``recommended``, 1 to 20 otherwise. `revision` as for `review_app`.

    Raises InvalidInput (``app.notes``: the decision or its notes,
    `ledger.application.check_notes`), NotFound, NotAllowed (``app.not_decider``: not the
    Kepala Dinas Kominfo, checked before the key is opened; ``app.state``;
    ``app.revision``; ``sign.no_key``; the rules' codes, e.g. ``app.unreviewed``: no review
    of this revision yet), WrongPassphrase."""
    cleaned = _items(notes, one_line=True)
    check_notes(decision, cleaned)
    nip = get_official(ctx.ledger, nip).nip
    with ctx.ledger.read() as r:
        decider = r.holds_role(nip, DECIDER)
        record = r.application(app)
        key = r.active_key(nip)
        identity = r.identities([nip]).get(nip)
    if not decider:
        raise NotAllowed(
            f"{nip} is not the Kepala Dinas Kominfo, so cannot decide on applications",
            code="app.not_decider",
            nip=nip,
        )
    if record is None:
        raise NotFound(f"there is no application {app}", code="app.not_found", app=app)
    _expect(record, "submitted", revision)
    if key is None or identity is None:
        raise NotAllowed(f"official {nip} has no active key: enrol first", code="sign.no_key", nip=nip)
    vkey = VerifierKey.parse(key.key)
    current, digest = record.revision, record.request_sha256
    fields: dict[str, Any] = {
        "app": app,
        "revision": current,
        "request_sha256": digest,
        "decision": decision,
        "notes": cleaned,
        "nip": nip,
        "key": key.key,
        "name": identity.name,
        "capacity": identity.capacity,
    }
    _precheck(ctx, "app.decided", {**fields, "signature": _NO_SIGNATURE}, now)
    sign_with_key = ctx.keys.signer(vkey, passphrase)

    def signed_at(moment: datetime) -> dict[str, Any]:
        statement = AppDecision(
            ctx.ledger.origin,
            app,
            current,
            digest,
            decision,
            tuple(cleaned),
            nip,
            identity.name,
            identity.capacity,
            vkey,
            moment,
        )
        signature = sign_with_key(statement.text().encode())
        statement.verify(signature)
        return {**fields, "signature": encode_signature(signature)}

    appended = ctx.ledger.append("app.decided", signed_at, ctx.signer, now)
    logger.info(
        "application decided app=%s revision=%d decision=%s by=%s index=%d",
        app,
        current,
        decision,
        nip,
        appended.entry.index,
    )
    return appended


# -- what a page shows ---------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    """A revision of the request, as its `app.submitted` entry records it."""

    revision: int
    index: int
    time: datetime
    request: Mapping[str, Any]
    request_sha256: str
    agency: str
    nip: str  # the Kepala PD who signed it
    name: str
    capacity: str
    key: str
    signature: str


@dataclass(frozen=True)
class Reviewed:
    """A reviewer's checklist of a revision (`app.reviewed`); `identity`: the reviewer's at the time."""

    revision: int
    index: int
    time: datetime
    by: str
    checklist: Mapping[str, Mapping[str, str]]
    identity: Identity | None


@dataclass(frozen=True)
class Returned:
    """A revision returned to the PD with its reasons (`app.returned`)."""

    revision: int
    index: int
    time: datetime
    by: str
    reasons: tuple[str, ...]
    identity: Identity | None


@dataclass(frozen=True)
class Decided:
    """The decision the Kepala Dinas Kominfo signed (`app.decided`)."""

    revision: int
    index: int
    time: datetime
    request_sha256: str
    decision: str
    notes: tuple[str, ...]
    nip: str
    name: str
    capacity: str
    key: str
    signature: str


Event = Submitted | Reviewed | Returned | Decided


@dataclass(frozen=True)
class ApplicationView:
    """Everything a page or a letter shows of one application, each fact read from its
    entries (never from a draft or a derived table): its `history` in ledger order."""

    app: str
    history: tuple[Event, ...]

    @property
    def revisions(self) -> tuple[Submitted, ...]:
        return tuple(e for e in self.history if isinstance(e, Submitted))

    @property
    def reviews(self) -> tuple[Reviewed, ...]:
        return tuple(e for e in self.history if isinstance(e, Reviewed))

    @property
    def returns(self) -> tuple[Returned, ...]:
        return tuple(e for e in self.history if isinstance(e, Returned))

    @property
    def decision(self) -> Decided | None:
        return next((e for e in self.history if isinstance(e, Decided)), None)

    @property
    def first(self) -> Submitted:
        """The first submission: its time is the application's date, its year the id's."""
        return self.revisions[0]

    @property
    def latest(self) -> Submitted:
        """The latest revision (the one reviewed, returned or decided last)."""
        return self.revisions[-1]

    @property
    def revision(self) -> int:
        return self.latest.revision

    @property
    def request(self) -> Mapping[str, Any]:
        return self.latest.request

    @property
    def agency(self) -> str:
        return self.latest.agency

    @property
    def status(self) -> str:
        """``submitted``, ``returned``, or the decision (`ledger.application.STATUSES`)."""
        last = next(e for e in reversed(self.history) if not isinstance(e, Reviewed))
        if isinstance(last, Decided):
            return last.decision
        return "returned" if isinstance(last, Returned) else "submitted"

    @property
    def updated_time(self) -> datetime:
        return self.history[-1].time

    def reviews_of(self, revision: int) -> tuple[Reviewed, ...]:
        return tuple(e for e in self.reviews if e.revision == revision)

    def returned_of(self, revision: int) -> Returned | None:
        return next((e for e in self.returns if e.revision == revision), None)


def application_view(reader: Reader, app: str) -> ApplicationView:
    """The application `app` as its entries in `reader`'s snapshot record it. Raises
    NotFound (``app.not_found``) when no entry names it."""
    entries = reader.application_entries(app)
    people = reader.identities_at((e.fields["by"], e.index) for e in entries if "by" in e.fields)
    history = tuple(_EVENTS[e.kind](e, people.get((e.fields.get("by", ""), e.index))) for e in entries)
    if not history or not isinstance(history[0], Submitted):
        raise NotFound(f"there is no application {app}", code="app.not_found", app=app)
    return ApplicationView(app, history)


def _submitted(entry: Entry, _by: Identity | None) -> Submitted:
    f = entry.fields
    return Submitted(
        f["revision"],
        entry.index,
        entry.time,
        MappingProxyType(parse_request(f["request"])),
        f["request_sha256"],
        f["agency"],
        f["nip"],
        f["name"],
        f["capacity"],
        f["key"],
        f["signature"],
    )


def _reviewed(entry: Entry, by: Identity | None) -> Reviewed:
    f = entry.fields
    checklist = MappingProxyType(parse_checklist(f["checklist"]))
    return Reviewed(f["revision"], entry.index, entry.time, f["by"], checklist, by)


def _returned(entry: Entry, by: Identity | None) -> Returned:
    f = entry.fields
    return Returned(f["revision"], entry.index, entry.time, f["by"], tuple(f["reasons"]), by)


def _decided(entry: Entry, _by: Identity | None) -> Decided:
    f = entry.fields
    return Decided(
        f["revision"],
        entry.index,
        entry.time,
        f["request_sha256"],
        f["decision"],
        tuple(f["notes"]),
        f["nip"],
        f["name"],
        f["capacity"],
        f["key"],
        f["signature"],
    )


# What each kind of an application's entries shows (`by`: the reviewer's identity then).
_EVENTS: Mapping[str, Callable[[Entry, Identity | None], Event]] = MappingProxyType(
    {"app.submitted": _submitted, "app.reviewed": _reviewed, "app.returned": _returned, "app.decided": _decided}
)
