"""The pages where each role works on the applications a Perangkat Daerah (PD) asks Dinas
Kominfo to verify (rules version 5), under `/kerja/aplikasi`:

    GET  /kerja/aplikasi                          what waits for each of the official's roles
    GET  /kerja/aplikasi/baru?unit=PD             the request form (a PD operator)
    GET  /kerja/aplikasi/draf/{id}                a draft in the form again (its PD's operator or Kepala),
                                                  with what it still lacks
    GET  /kerja/aplikasi/{app}/revisi             a returned request in the form, from its last revision
    POST /kerja/aplikasi/simpan?unit=|draf=|revisi=   save the form as a draft (multipart, with PDFs)
    POST /kerja/aplikasi/draf/{id}/hapus          delete a draft
    GET  /kerja/aplikasi/draf/{id}/tandatangan    the Kepala PD reads the whole draft and signs it
    POST /kerja/aplikasi/draf/{id}/tandatangan    (`signing.apps.submit_app`); 409 while it is incomplete
    GET  /kerja/aplikasi/{app}/telaah             a reviewer's checklist, or the return with reasons
    POST /kerja/aplikasi/{app}/telaah             (`signing.apps.review_app`)
    POST /kerja/aplikasi/{app}/kembalikan         (`signing.apps.return_app`)
    GET  /kerja/aplikasi/{app}/putusan            the Kepala Dinas Kominfo's decision, signed
    POST /kerja/aplikasi/{app}/putusan            (`signing.apps.decide_app`)
    GET  /kerja/aplikasi/draf/{id}/lampiran/{sha256}, /kerja/aplikasi/{app}/lampiran/{sha256}
                                                  an attachment, internal ones included

Who may do what is read from the ledger, never from the register or a form field: the roles
in force that `role.assigned` entries gave the logged-in official (`Reader.roles`). The
dependencies `pd_operator`, `pd_head`, `reviewer` and `kominfo_head` refuse (Forbidden, in
the page's language) an official holding no such role; `Work.prepares` and `Work.heads` refuse
one whose role is for another PD. Every action is the signing helper's (`signing.apps`), which
asks the rules again under the ledger's lock; a signature is made with the official's own
passphrase, counted by the "sign" throttle of their NIP as a commitment's signature is.

The request form is the one multipart form of these pages: its PDFs are read from the
stream (`RequestForm`), never whole into memory nor spooled to disk — at most one attachment
(`MAX_ATTACHMENT`) at a time, each stored (`signing.apps.keep_attachment`) as soon as it has
arrived and passed its check — once the form's CSRF token, its first field, has matched and
the official's role for the PD has been checked. Its path is one of `pages.UPLOADS`, which
`FormLimits` leaves to it. A file over the limit is refused next to
its field with a 413, the rest of the form kept; a body over `MAX_BODY` is refused at once.
An attachment that was stored stays in the form when something else is wrong (a hidden
token, `keep_token`, vouches that it was uploaded for this PD), so a correction never asks
for the files again.

"Simpan draf" saves the draft as it is (`signing.apps.save_draft`): a field left blank is
left out, so an operator on a phone may stop halfway and come back. A field filled in but
wrong in itself (a date not YYYY-MM-DD, a budget that is no number, a text over its limit,
a choice not offered) is refused next to it and nothing is stored, since it cannot be
stored as typed. A draft is complete once `ledger.application.check_request` accepts it
(`signing.apps.DraftView.complete`); an incomplete one is saved all the same and opens again
in the form with a notice listing what it lacks (each field a link to it). The work home
marks each draft "Belum lengkap" or "Siap ditandatangani"; the Kepala is offered the
signature only for a complete one, and the signing page and its POST answer an incomplete
one with a 409 that names what is missing and links to the form — before any key is opened.
Nothing of a draft, saved or refused, reaches the ledger.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool

from ledger.application import (
    CHECKLIST,
    DECIDER,
    DECISIONS,
    FINDINGS,
    MAX_ATTACHMENT,
    MAX_ATTACHMENTS,
    MAX_ITEMS,
    MAX_NOTE,
    PD_HEAD,
    PD_OPERATOR,
    REQUEST,
    REVIEWERS,
    Field,
    check_notes,
    parse_request,
)
from ledger.errors import InvalidInput, LedgerError, NotFound
from ledger.note import VerifierKey
from ledger.reader import ApplicationRecord, RoleRecord
from ledger.register import DraftRecord
from ledger.state import APPS_RULES
from ledger.statements import AppRequest
from signing import apps
from signing.apps import ApplicationView, AttachmentIn
from signing.errors import NotAllowed, SigningError, WrongPassphrase

from . import accounts
from .errors import CsrfRejected, Forbidden, FormInvalid, TooLarge, WebError, message_of
from .pages import Page, UserPage, csrf_protect
from .routes_admin import OpenedOnce  # the official's key, opened once for a request
from .views import Person

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

logger = logging.getLogger(__name__)

PREFIX = "/kerja/aplikasi"
SAVE = f"{PREFIX}/simpan"  # the request form's one path: in `pages.UPLOADS`, read by `RequestForm`
pages = APIRouter(prefix=PREFIX, include_in_schema=False, dependencies=[Depends(csrf_protect)])
uploads = APIRouter(prefix=PREFIX, include_in_schema=False)  # its CSRF token is checked on the stream
ROUTERS = (pages, uploads)  # what `web.app.ROUTERS` takes of this module

Text = Annotated[str, Form()]
AppId = Annotated[str, Path(pattern=r"^[0-9]{4}-[0-9]{4}$")]
DraftId = Annotated[int, Path(ge=1, le=2**62)]
Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]
Given = Annotated[str, Query(max_length=300)]
RECOVERABLE = (WebError, LedgerError, SigningError)
SIGN = "sign"  # the throttle scope of wrong signing passphrases (`accounts`), as for a commitment

KB, MB = 1024, 1024 * 1024
NEW_SLOTS = 3  # files one save may add (the form keeps those saved before)
MAX_FIELD = 64 * KB  # a text field's bytes
MAX_FIELDS = 200  # the request's fields, the attachments' titles and flags, the kept ones' tokens
MAX_BODY = NEW_SLOTS * (MAX_ATTACHMENT + 4 * KB) + MAX_FIELDS * 2 * KB + 256 * KB  # over it: refused at once
MAX_HEADER = 4 * KB


# -- who the official is here: their roles ------------------------------------------------


@dataclass(frozen=True)
class Work:
    """The logged-in official's page and the roles in force the ledger gives them
    (`role.assigned`), each for its unit."""

    page: Page
    roles: tuple[RoleRecord, ...]

    @property
    def nip(self) -> str:
        assert self.page.user is not None
        return self.page.user.nip

    def units(self, role: str) -> list[str]:
        """The units `role` is held for, in order, each once."""
        return list(dict.fromkeys(r.unit for r in self.roles if r.role == role))

    def holds(self, role: str, unit: str | None = None) -> bool:
        return any(r.role == role and unit in (None, r.unit) for r in self.roles)

    def prepares(self, agency: str) -> None:
        """Refuse (Forbidden) unless the official prepares `agency`'s requests: its operator
        or its Kepala."""
        if not (self.holds(PD_OPERATOR, agency) or self.holds(PD_HEAD, agency)):
            raise Forbidden("work.err.not_operator_of", agency=agency)

    def heads(self, agency: str) -> None:
        """Refuse (Forbidden) unless the official is `agency`'s Kepala."""
        if not self.holds(PD_HEAD, agency):
            raise Forbidden("work.err.not_head_of", agency=agency)

    def sees(self, agency: str) -> None:
        """Refuse (Forbidden) unless the official may read `agency`'s applications: its
        operator or Kepala, a reviewer, the Kepala Dinas Kominfo."""
        if not (any(self.holds(role) for role in REVIEWERS) or self.holds(PD_OPERATOR, agency)):
            self.heads(agency)


def _roles_of(p: Page) -> tuple[RoleRecord, ...]:
    assert p.user is not None
    if not p.ledger.is_initialized():
        return ()
    with p.ledger.read() as r:
        if int(r.meta().get("rules", "1")) < APPS_RULES:
            return ()
        return tuple(r.roles(nip=p.user.nip))


def work(p: UserPage) -> Work:
    """The work of a logged-in official who holds a role of applications; Forbidden for one who holds none."""
    found = Work(p, _roles_of(p))
    if not found.roles:
        raise Forbidden("work.err.no_role")
    return found


def _needs(role: str, key: str) -> Callable[[Work], Work]:
    def needed(w: Annotated[Work, Depends(work)]) -> Work:
        if not w.holds(role):
            raise Forbidden(key)
        return w

    needed.__name__ = role.replace("-", "_")
    needed.__doc__ = f"The work of an official who holds `{role}` for some unit; Forbidden for anyone else."
    return needed


pd_operator = _needs(PD_OPERATOR, "work.err.not_operator")
pd_head = _needs(PD_HEAD, "work.err.not_head")
kominfo_head = _needs(DECIDER, "work.err.not_decider")


def reviewer(w: Annotated[Work, Depends(work)]) -> Work:
    """The work of a Diskominfo reviewer — or of the Kepala Dinas Kominfo, who may review too
    (`ledger.application.REVIEWERS`); Forbidden for anyone else."""
    if not any(w.holds(role) for role in REVIEWERS):
        raise Forbidden("work.err.not_reviewer")
    return w


AnyWork = Annotated[Work, Depends(work)]
OperatorWork = Annotated[Work, Depends(pd_operator)]
HeadWork = Annotated[Work, Depends(pd_head)]
ReviewerWork = Annotated[Work, Depends(reviewer)]
DeciderWork = Annotated[Work, Depends(kominfo_head)]


# -- the request form: its questions ---------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """One field of the request form: the request object's key, its bounds there
    (`ledger.application.REQUEST`), and so how it is asked."""

    name: str
    spec: Field

    @property
    def widget(self) -> str:
        """``flag`` (a checkbox), ``number``, ``date``, ``choice`` (radio buttons), ``line`` or ``text``."""
        s = self.spec
        if s.type is bool:
            return "flag"
        if s.type is int:
            return "number"
        if s.type is date:
            return "date"
        if s.choices:
            return "choice"
        return "line" if s.one_line else "text"

    @property
    def required(self) -> bool:
        """Whether a request needs it filled in before the Kepala may sign (a draft may lack it)."""
        return apps.needs_answer(self.spec)

    @property
    def maxlength(self) -> int:
        """The most characters the field takes (a number's digits grouped, a date's ten)."""
        return {"number": 25, "date": 10}.get(self.widget, self.spec.limit or 200)

    @property
    def rows(self) -> int:
        return 6 if self.spec.limit >= 4000 else 3


GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (  # the form's fieldsets, in order
    ("app", ("name", "description", "kind")),
    ("owner", ("developer_unit", "user_unit", "contact")),
    ("background", ("legal_basis", "problem", "need", "goals")),
    ("shared", ("shared_app", "shared_why_not")),
    ("users", ("users_internal", "users_external", "users_count", "target_date")),
    ("budget", ("budget_amount", "budget_source", "fiscal_year", "builder", "vendor")),
    ("data", ("data_processed", "personal_data", "specific_personal_data", "dpia_done")),
    ("hosting", ("hosting", "hosting_reason", "splp", "sso", "integration_note")),
    ("security", ("security_testing",)),
)
GIVEN = ("agency", "attachments", "prepared_by")  # not typed: the PD, the files, who prepares it
QUESTIONS = {name: Question(name, REQUEST[name]) for _, names in GROUPS for name in names}
assert set(QUESTIONS) | set(GIVEN) == set(REQUEST), "every field of the request is asked or given"
# The words of each choice are the public register's (web/locales/*/apps.json), so the form,
# the register and the letter name a kind, a builder or a hosting alike.
CHOICE_WORDS = {"kind": "apps.kind.", "builder": "apps.value.builder.", "hosting": "apps.value.hosting."}
assert set(CHOICE_WORDS) == {q.name for q in QUESTIONS.values() if q.spec.choices}, "every choice has its words"


def choice_key(question: str, value: str) -> str:
    """The locale key of the answer `value` to the choice `question`."""
    return f"{CHOICE_WORDS[question]}{value}"


def typed(request: Mapping[str, Any]) -> dict[str, str]:
    """A request object's answers as the form shows them: texts, ``yes`` for a ticked box,
    whole numbers grouped as Indonesian writes them (``1.250.000.000``)."""
    shown: dict[str, str] = {}
    for name, q in QUESTIONS.items():
        value = request.get(name)
        if q.widget == "flag":
            shown[name] = "yes" if value is True else ""
        elif isinstance(value, int) and not isinstance(value, bool):
            shown[name] = f"{value:,}".replace(",", ".") if name == "budget_amount" else str(value)
        else:
            shown[name] = "" if value is None else str(value)
    return shown


def _problem(t: Callable[..., str], params: Mapping[str, Any]) -> str:
    """What is wrong with a field, in the page's language (`ledger.application.PROBLEMS`)."""
    problem = str(params.get("problem", ""))
    fields = {k: params[k] for k in ("limit", "minimum", "choices") if k in params}
    if problem in ("too_long", "too_many") and "limit" in fields:
        return t(f"work.problem.{problem}", limit=fields["limit"])
    if problem == "range":
        return t("work.problem.range", minimum=fields.get("minimum", 0), limit=fields.get("limit", ""))
    if problem == "too_few":
        return t("work.problem.too_few", minimum=fields.get("minimum", 1))
    known = ("blank", "line_break", "control_chars", "choice", "date", "required", "personal_data", "twice", "number")
    return t(f"work.problem.{problem}") if problem in known else t("work.problem.unreadable")


# -- attachments kept across the form's round trips ------------------------------------------


def keep_token(secret: str, agency: str, a: AttachmentIn) -> str:
    """What vouches, in a form sent back, that the file `a` was stored for `agency`'s request
    by this site: its SHA-256, size and an HMAC of them, the file's name and the agency under
    the form secret. A form cannot so name another PD's file (whose hash is public)."""
    mac = hmac.new(secret.encode(), f"ikrar-attachment-v1\n{agency}\n{a.sha256}\n{a.size}\n{a.file}".encode(), "sha256")
    return f"{a.sha256}.{a.size}.{base64.urlsafe_b64encode(mac.digest()).rstrip(b'=').decode()}"


def kept_from(secret: str, agency: str, token: str, file: str, title: str, internal: bool) -> AttachmentIn | None:
    """The attachment a kept row of the form names, when its token vouches for it (None otherwise)."""
    sha256, _, rest = token.partition(".")
    size, _, _mac = rest.partition(".")
    if len(sha256) != 64 or not size.isdigit() or len(size) > 9 or len(file) > 300:
        return None
    shown = AttachmentIn(title, file, sha256, int(size), internal)
    return shown if hmac.compare_digest(keep_token(secret, agency, shown).encode(), token.encode()) else None


@dataclass(frozen=True)
class Slot:
    """An attachment row of the form: a kept file (with its token) or a new one to upload,
    what was typed for it, and its own error."""

    index: int
    attachment: AttachmentIn | None = None
    token: str = ""
    title: str = ""
    internal: bool = False
    error: str | None = None

    @property
    def name(self) -> str:
        return f"keep-{self.index}" if self.attachment is not None else f"new-{self.index}"


# -- the multipart request form, read from the stream ----------------------------------------


@dataclass
class _Part:
    name: str = ""
    file_name: str | None = None
    data: bytearray = field(default_factory=bytearray)
    over: bool = False  # a file larger than MAX_ATTACHMENT: the rest of it is skipped unread


@dataclass(frozen=True)
class Arrived:
    """A file of the form, whole: its field, name and bytes, or `over` (too large: no bytes)."""

    name: str
    file_name: str
    data: bytes
    over: bool


class RequestForm:
    """The request form's multipart body, parsed as it streams in (python-multipart's
    parser): its text fields (at most `MAX_FIELDS`, each at most `MAX_FIELD` bytes) and the
    files of its `new-N-file` fields (at most `NEW_SLOTS`), each collected up to
    `MAX_ATTACHMENT` bytes and handed over (`arrived`) as soon as it ends; past that it is
    skipped and handed over as too large. The CSRF token (`csrf_token`, the form's first
    field) must have come, and matched, before any file: CsrfRejected otherwise.

    Raises TooLarge (the body or a text over its limit), FormInvalid (a malformed body, or a
    file in a field that takes none) and CsrfRejected from `feed`."""

    def __init__(self, boundary: bytes, csrf_matches: Callable[[str], bool]) -> None:
        self.fields: dict[str, str] = {}
        self.arrived: list[Arrived] = []
        self.csrf_ok = False
        self._csrf_matches = csrf_matches
        self._part = _Part()
        self._header = b""
        self._value = b""
        self._files = 0
        self._parser = MultipartParser(boundary, self._callbacks())

    def _field(self, name: str, value: str) -> None:
        if name == "csrf_token" and not self.csrf_ok:
            if len(value) > 200 or not self._csrf_matches(value):
                raise CsrfRejected()
            self.csrf_ok = True
        self.fields.setdefault(name, value)

    def _callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._begin,
            "on_header_field": lambda d, a, b: self._add_header("_header", d[a:b]),
            "on_header_value": lambda d, a, b: self._add_header("_value", d[a:b]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._data,
            "on_part_end": self._end,
        }

    @classmethod
    def of_fields(cls, pairs: Iterable[tuple[str, str]], csrf_matches: Callable[[str], bool]) -> RequestForm:
        """The form of an urlencoded body (no file), its CSRF token checked. Raises CsrfRejected, TooLarge."""
        form = cls(b"-", csrf_matches)
        for name, value in pairs:
            if len(value.encode()) > MAX_FIELD:
                raise TooLarge("work.err.form_too_large", fields=MAX_FIELDS, kb=MAX_FIELD // KB)
            form._field(name, value)
        if not form.csrf_ok:
            raise CsrfRejected()
        return form

    def feed(self, chunk: bytes) -> None:
        try:
            self._parser.write(chunk)
        except MultipartParseError as e:
            raise FormInvalid("work.err.form_broken") from e

    def finish(self) -> None:
        try:
            self._parser.finalize()
        except MultipartParseError as e:
            raise FormInvalid("work.err.form_broken") from e
        if not self.csrf_ok:
            raise CsrfRejected()

    def _add_header(self, name: str, data: bytes) -> None:
        value = getattr(self, name) + data
        if len(value) > MAX_HEADER:
            raise FormInvalid("work.err.form_broken")
        setattr(self, name, value)

    def _begin(self) -> None:
        self._part = _Part()

    def _header_end(self) -> None:
        if self._header.lower() == b"content-disposition":
            _, options = parse_options_header(self._value)
            self._part.name = options.get(b"name", b"").decode("utf-8", "replace")
            given = options.get(b"filename")
            self._part.file_name = None if given is None else given.decode("utf-8", "replace")
        self._header = self._value = b""

    def _headers_finished(self) -> None:
        part = self._part
        if part.file_name is None:
            if len(self.fields) >= MAX_FIELDS:
                raise TooLarge("work.err.form_too_large", fields=MAX_FIELDS, kb=MAX_FIELD // KB)
            return
        if not self.csrf_ok:
            raise CsrfRejected()
        if not _new_file_field(part.name):
            raise FormInvalid("work.err.form_broken")

    def _data(self, data: bytes, start: int, end: int) -> None:
        part = self._part
        if part.over:
            return
        limit = MAX_FIELD if part.file_name is None else MAX_ATTACHMENT
        if len(part.data) + end - start > limit:
            if part.file_name is None:
                raise TooLarge("work.err.form_too_large", fields=MAX_FIELDS, kb=MAX_FIELD // KB)
            part.over, part.data = True, bytearray()  # the rest is skipped: memory stays bounded
            return
        part.data += data[start:end]

    def _end(self) -> None:
        part, self._part = self._part, _Part()
        if part.file_name is None:
            try:
                value = part.data.decode("utf-8")
            except UnicodeDecodeError as e:
                raise FormInvalid("work.err.form_broken") from e
            self._field(part.name, value)
            return
        if not part.file_name and not part.data:
            return  # a file field left empty
        self._files += 1
        if self._files > NEW_SLOTS:
            raise FormInvalid("work.err.form_broken")
        self.arrived.append(Arrived(part.name, part.file_name, bytes(part.data), part.over))


def _new_file_field(name: str) -> bool:
    return name in {f"new-{n}-file" for n in range(NEW_SLOTS)}


# -- what the pages show -----------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """A request's answers as a page reads them out: per fieldset, (label, text, long)."""

    groups: tuple[tuple[str, tuple[tuple[str, str, bool], ...]], ...]
    agency: str
    attachments: tuple[AttachmentIn, ...]
    prepared_by: str


def shown_request(t: Callable[..., str], lang: str, request: Mapping[str, Any]) -> Shown:
    def text(q: Question, value: Any) -> str:
        if q.widget == "flag":
            return t("apps.value.yes") if value else t("apps.value.no")
        if value is None:  # not filled in yet (a draft)
            return "—"
        if q.widget == "choice":
            return t(choice_key(q.name, value))
        if q.widget == "number":
            grouped = f"{value:,}".replace(",", "." if lang == "id" else ",")
            return f"Rp {grouped}" if q.name == "budget_amount" else grouped
        return str(value) if str(value).strip() else "—"

    groups = tuple(
        (
            t(f"work.group.{key}"),
            tuple((t(f"work.f.{n}"), text(QUESTIONS[n], request.get(n)), QUESTIONS[n].widget == "text") for n in names),
        )
        for key, names in GROUPS
    )
    attachments = tuple(
        AttachmentIn(a["title"], a["file"], a["sha256"], a["bytes"], a["internal"])
        for a in request.get("attachments", [])
    )
    return Shown(groups, str(request.get("agency", "")), attachments, str(request.get("prepared_by", "")))


def _size(t: Callable[..., str], size: int) -> str:
    return t("work.size.mb", n=f"{size / MB:.1f}") if size >= 100 * KB else t("work.size.kb", n=max(1, size // KB))


@dataclass(frozen=True)
class Queued:
    """An application as a work list shows it: its record, and for the Kepala Dinas Kominfo
    whether its current revision was reviewed."""

    record: ApplicationRecord
    reviewed: bool = False


def _drafts(p: Page, agencies: Iterable[str]) -> list[DraftRecord]:
    found: list[DraftRecord] = []
    for agency in dict.fromkeys(agencies):
        found += p.ledger.register.drafts(agency)
    return sorted(found, key=lambda d: d.updated_at, reverse=True)


@dataclass(frozen=True)
class DraftRow:
    """A draft as the work home lists it: its record, the application's name ("—" while
    blank) and whether it is complete (`signing.apps.DraftView.complete`)."""

    draft: DraftRecord
    name: str
    complete: bool


def _draft_row(draft: DraftRecord) -> DraftRow:
    try:
        view = apps.draft_view(draft)
    except InvalidInput:  # a draft that cannot be read is listed, incomplete, to open or delete
        return DraftRow(draft, "—", False)
    return DraftRow(draft, view.name or "—", view.complete)


def _people(p: Page, nips: Iterable[str]) -> dict[str, str]:
    wanted = {n for n in nips if n}
    if not wanted:
        return {}
    with p.ledger.read() as r:
        return {o.nip: o.name for o in r.officials(wanted)}


def _reviewed_now(p: Page, records: Sequence[ApplicationRecord]) -> list[Queued]:
    """`records` (waiting for a decision or a review), each marked when its current revision
    was reviewed (the derived row names the latest review of the revision in force)."""
    return [Queued(a, a.reviewed_index is not None) for a in records]


FLASHES = {
    "saved": "work.flash.saved",
    "deleted": "work.flash.deleted",
    "submitted": "work.flash.submitted",
    "reviewed": "work.flash.reviewed",
    "returned": "work.flash.returned",
}


@pages.get("", response_class=HTMLResponse)
def home(w: AnyWork, ok: Given = "", app: Given = "") -> HTMLResponse:
    """What waits for each role the official holds: a PD's drafts and requests (its operators
    and Kepala), the requests waiting for a review (reviewers), those reviewed and waiting for
    a decision (the Kepala Dinas Kominfo)."""
    p = w.page
    operated, headed = w.units(PD_OPERATOR), w.units(PD_HEAD)
    own = list(dict.fromkeys(operated + headed))
    with p.ledger.read() as r:
        requests = {agency: r.applications(agency=agency) for agency in own}
        waiting = r.applications(status="submitted") if any(w.holds(x) for x in REVIEWERS) else []
        decided = [a for a in r.applications() if a.decision is not None][:20] if w.holds(DECIDER) else []
    queue = _reviewed_now(p, waiting) if w.holds(DECIDER) else [Queued(a) for a in waiting]
    drafts = _drafts(p, own)
    flash = p.t(FLASHES[ok], app=app[:9]) if ok in FLASHES else None
    return p.render(
        "apps/work_home.html",
        w=w,
        operated=operated,
        headed=headed,
        drafts=drafts,
        requests=requests,
        queue=queue,
        decided=decided,
        flash=flash,
        names=_people(p, [d.prepared_by for d in drafts]),
        rows={d.id: _draft_row(d) for d in drafts},
        reviewer=any(w.holds(x) for x in REVIEWERS),
        decider=w.holds(DECIDER),
    )


# -- the request form ------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What a request form saves: a new request of `agency`, its draft `draft`, or a new
    revision of the returned application `app` (its draft, when one is kept)."""

    agency: str
    draft: DraftRecord | None = None
    app: str | None = None

    def action(self) -> str:
        if self.draft is not None:
            return f"{SAVE}?{urlencode({'draf': self.draft.id})}"
        if self.app is not None:
            return f"{SAVE}?{urlencode({'revisi': self.app})}"
        return f"{SAVE}?{urlencode({'unit': self.agency})}"


def _draft(p: Page, draft_id: int) -> DraftRecord:
    found = p.ledger.register.draft(draft_id)
    if found is None:
        raise NotFound(f"there is no draft {draft_id}", code="app.draft_not_found", draft=draft_id)
    return found


def _application(p: Page, app: str) -> ApplicationView:
    with p.ledger.read() as r:
        return apps.application_view(r, app)


def _returned(p: Page, w: Work, app: str) -> tuple[ApplicationView, DraftRecord | None]:
    """A returned application the official may revise, and the draft of its revision if
    one is kept. Raises NotFound, Forbidden, NotAllowed (``app.state``: not returned)."""
    view = _application(p, app)
    w.prepares(view.agency)
    if view.status != "returned":
        raise NotAllowed(f"application {app} is {view.status}", code="app.state", app=app, status=view.status)
    draft = next((d for d in p.ledger.register.drafts(view.agency) if d.app == app), None)
    return view, draft


def _target(w: Work, unit: str, draft_id: int | None, app: str) -> Target:
    """The form's target, from the form's query (known before its body is read): exactly
    one of a PD (`unit`), a draft, a returned application. Raises FormInvalid, NotFound,
    Forbidden."""
    p = w.page
    if sum((bool(unit), draft_id is not None, bool(app))) != 1:
        raise FormInvalid("work.err.target")
    if draft_id is not None:
        saved = _draft(p, draft_id)
        w.prepares(saved.agency)
        return Target(saved.agency, saved, saved.app)
    if app:
        view, kept = _returned(p, w, app)
        return Target(view.agency, kept, app)
    if not w.holds(PD_OPERATOR, unit):
        raise Forbidden("work.err.not_operator_of", agency=unit)
    return Target(unit)


@dataclass
class Filled:
    """A request form as the page shows it: what was typed, the attachment rows, and the
    errors by field (`form` for the whole form)."""

    values: dict[str, str]
    slots: list[Slot]
    errors: dict[str, str] = field(default_factory=dict)


def _empty(agency: str) -> Filled:
    return Filled({name: "" for name in QUESTIONS}, _new_slots([]))


def _new_slots(kept: list[Slot]) -> list[Slot]:
    free = max(0, min(NEW_SLOTS, MAX_ATTACHMENTS - len(kept)))
    return kept + [Slot(n) for n in range(free)]


def _filled_from(p: Page, agency: str, request: Mapping[str, Any]) -> Filled:
    """The form filled in from a request (a draft, or a returned application's last revision)."""
    secret = p.runtime.form_secret
    kept = [
        Slot(i, a, keep_token(secret, agency, a), a.title, a.internal)
        for i, a in enumerate(shown_request(p.t, p.lang, request).attachments)
    ]
    return Filled(typed(request), _new_slots(kept))


def _error_links(p: Page, filled: Filled) -> list[tuple[str, str, str]]:
    """The fields a form came back with errors in, in the form's order: the id of the part
    to jump to, its label, its message (the list above a long form)."""
    order = {name: n for n, name in enumerate(QUESTIONS)}
    rows = {s.name: n for n, s in enumerate(filled.slots)}
    found: list[tuple[int, str, str, str]] = []
    for name, message in filled.errors.items():
        if name in QUESTIONS:
            found.append((order[name], f"field-{name}", p.t(f"work.f.{name}"), message))
            continue
        row = "-".join(name.split("-")[:2])
        if row in rows:
            slot = filled.slots[rows[row]]
            label = p.t("work.attachment.kept", n=rows[row] + 1, file=slot.attachment.file) if slot.attachment else ""
            label = label or p.t("work.attachment.new", n=rows[row] + 1)
            found.append((len(order) + rows[row], row, label, message))
        elif name == "attachments":
            found.append((len(order), "group-attachments", p.t("work.group.attachments"), message))
    return [(anchor, label, message) for _, anchor, label, message in sorted(found)]


def _form_page(w: Work, target: Target, filled: Filled, **context: Any) -> dict[str, Any]:
    p = w.page
    returned = None
    if target.app is not None:
        view = _application(p, target.app)
        returned = view.returned_of(view.revision)
    return {
        "target": target,
        "filled": filled,
        "errors": filled.errors,
        "error_links": _error_links(p, filled),
        "groups": GROUPS,
        "questions": QUESTIONS,
        "options": {q.name: [(c, p.t(choice_key(q.name, c))) for c in q.spec.choices] for q in QUESTIONS.values()},
        "returned": returned,
        "draft": None,
        "lacking": [],
        "saved": False,
        "max_mb": MAX_ATTACHMENT // MB,
        "max_attachments": MAX_ATTACHMENTS,
        "new_slots": NEW_SLOTS,
        **context,
    }


@pages.get("/baru", response_class=HTMLResponse)
def new_form(w: OperatorWork, unit: Given = "") -> Response:
    """An empty request form for a PD the official operates for (`unit`: which, when they
    operate for more than one; they are asked to choose otherwise)."""
    p = w.page
    units = w.units(PD_OPERATOR)
    chosen = unit or (units[0] if len(units) == 1 else "")
    if not chosen:
        return p.render("apps/work_choose.html", units=units)
    if not w.holds(PD_OPERATOR, chosen):
        raise Forbidden("work.err.not_operator_of", agency=chosen)
    target = Target(chosen)
    return p.render("apps/work_form.html", **_form_page(w, target, _empty(chosen)))


@pages.get("/draf/{draft_id}", response_class=HTMLResponse)
def draft_form(w: AnyWork, draft_id: DraftId, ok: Given = "") -> HTMLResponse:
    """A draft in the form, to complete or correct and save again (its PD's operator or
    Kepala), with what it still lacks listed above the form (`ok=saved`: just saved so)."""
    p = w.page
    target = _target(w, "", draft_id, "")
    assert target.draft is not None
    view = apps.draft_view(target.draft)
    filled = _filled_from(p, target.agency, view.request)
    lacking = _lacking_links(p, view, "")
    return p.render(
        "apps/work_form.html", **_form_page(w, target, filled, draft=view, lacking=lacking, saved=ok == "saved")
    )


def _lacking_links(p: Page, view: apps.DraftView, form: str) -> list[tuple[str, str, str]]:
    """What a draft lacks, in the form's order: the link to each field (in the form at
    `form`; "" for this page), its label and what it needs, in the page's language."""
    links: list[tuple[str, str, str]] = []
    for params in view.missing:
        name = str(params.get("field", ""))
        anchor = f"field-{name}" if name in QUESTIONS else "agency"
        links.append((f"{form}#{anchor}", p.t(f"work.f.{name}") if name in REQUEST else name, _problem(p.t, params)))
    return links


@pages.get("/{app}/revisi", response_class=HTMLResponse)
def revision_form(w: AnyWork, app: AppId) -> Response:
    """A returned application in the form, filled in from its last revision (or the draft of
    its next one, when one is kept), with the reviewer's reasons above it."""
    p = w.page
    view, draft = _returned(p, w, app)
    if draft is not None:
        return p.redirect(f"{PREFIX}/draf/{draft.id}")
    target = Target(view.agency, None, app)
    return p.render("apps/work_form.html", **_form_page(w, target, _filled_from(p, view.agency, view.request)))


async def _read_form(
    request: Request, p: Page, check: Callable[[], Target]
) -> tuple[RequestForm, Target, list[tuple[Arrived, Any]]]:
    """The form's body, read from the stream. Once its CSRF token (the first field) has
    matched, `check` says what it saves and whether the official may (raising Forbidden,
    NotFound...): the same order as every other form's (`pages.csrf_protect` first), and
    before any file is stored; at most one chunk of the body was read past the token then.
    Each file is then stored as soon as it has arrived (or refused): the pairs of the file
    and its `AttachmentIn` or its error."""
    too_large = TooLarge("work.err.body_too_large", mb=MAX_BODY // MB, each=MAX_ATTACHMENT // MB, n=NEW_SLOTS)
    length = request.headers.get("content-length", "")
    if length and (not length.isdigit() or int(length) > MAX_BODY):
        raise too_large
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    if kind == b"application/x-www-form-urlencoded":  # a client that sends no file may send this
        plain = await _read_plain(request, p)
        return plain, await run_in_threadpool(check), []
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary or len(boundary) > 200:
        raise FormInvalid("work.err.form_broken")
    form = RequestForm(boundary, p.csrf_matches)
    target: Target | None = None
    stored: list[tuple[Arrived, Any]] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > MAX_BODY:
            raise too_large
        form.feed(chunk)
        if form.csrf_ok and target is None:
            target = await run_in_threadpool(check)
        while form.arrived and target is not None:
            stored.append(await run_in_threadpool(_store, p, form.arrived.pop(0)))
    form.finish()  # raises CsrfRejected when no token came
    checked = target if target is not None else await run_in_threadpool(check)
    while form.arrived:
        stored.append(await run_in_threadpool(_store, p, form.arrived.pop(0)))
    return form, checked, stored


MAX_PLAIN = 512 * KB  # an urlencoded form's body (it carries no file)


async def _read_plain(request: Request, p: Page) -> RequestForm:
    """The form sent urlencoded (no file), read up to `MAX_PLAIN` bytes, its CSRF token checked."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_PLAIN:
            raise TooLarge("work.err.form_too_large", fields=MAX_FIELDS, kb=MAX_FIELD // KB)
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except UnicodeDecodeError as e:
        raise FormInvalid("work.err.form_broken") from e
    except ValueError as e:  # more fields than `MAX_FIELDS`
        raise TooLarge("work.err.form_too_large", fields=MAX_FIELDS, kb=MAX_FIELD // KB) from e
    return RequestForm.of_fields(pairs, p.csrf_matches)


def _store(p: Page, arrived: Arrived) -> tuple[Arrived, Any]:
    """A file of the form checked and stored (`signing.apps.keep_attachment`), or the error
    that refused it: too large, not a PDF, damaged, or the checker busy."""
    if arrived.over:
        too_large = InvalidInput(
            f"the file {arrived.file_name[:80]} is larger than {MAX_ATTACHMENT // MB} MB",
            code="app.attachment_size",
            file=arrived.file_name[:80],
            limit=MAX_ATTACHMENT,
            mb=MAX_ATTACHMENT // MB,
        )
        return arrived, too_large
    try:
        return arrived, apps.keep_attachment(p.ledger, "", arrived.file_name, arrived.data, p.now())
    except (LedgerError, SigningError) as e:
        return arrived, e


def _slots_of(p: Page, target: Target, form: RequestForm, stored: list[tuple[Arrived, Any]]) -> tuple[list[Slot], bool]:
    """The attachment rows of a form sent: the kept ones its tokens vouch for (unless
    removed) and the files stored now, then the files refused now (each with its error) and
    empty rows for more; and whether a file was too large (the answer is then a 413)."""
    f, secret = form.fields, p.runtime.form_secret
    kept: list[AttachmentIn] = []
    for n in range(MAX_ATTACHMENTS):
        token = f.get(f"keep-{n}", "")
        if not token or f.get(f"keep-{n}-remove") == "yes":
            continue
        title, internal = f.get(f"keep-{n}-title", ""), f.get(f"keep-{n}-internal") == "yes"
        found = kept_from(secret, target.agency, token, f.get(f"keep-{n}-file", ""), " ".join(title.split()), internal)
        if found is None:
            raise FormInvalid("work.err.form_broken")
        kept.append(found)
    refused: list[Slot] = []
    too_large = False
    for arrived, outcome in stored:
        row = arrived.name.removesuffix("-file")  # new-N
        title, internal = f.get(f"{row}-title", ""), f.get(f"{row}-internal") == "yes"
        if isinstance(outcome, AttachmentIn):
            kept.append(replace(outcome, title=" ".join(title.split()) or outcome.title, internal=internal))
            continue
        too_large = too_large or getattr(outcome, "code", "") == "app.attachment_size"
        refused.append(Slot(len(refused), None, "", title[:300], internal, _refusal(p, arrived, outcome)))
    rows = [Slot(i, a, keep_token(secret, target.agency, a), a.title, a.internal) for i, a in enumerate(kept)]
    empty = max(0, min(NEW_SLOTS, MAX_ATTACHMENTS - len(kept)) - len(refused))
    return rows + refused + [Slot(len(refused) + n) for n in range(empty)], too_large


ATTACHMENT_ERRORS = {  # why a file was refused, by the code of its error: catalogue keys
    "app.attachment_size": "work.err.attachment_size",
    "app.attachment_not_pdf": "work.err.attachment_not_pdf",
    "app.attachment_damaged": "work.err.attachment_damaged",
    "app.attachment_name": "work.err.attachment_name",
}


def _refusal(p: Page, arrived: Arrived, e: Exception) -> str:
    """Why the file `arrived` was refused, in the page's language, naming it."""
    key = ATTACHMENT_ERRORS.get(getattr(e, "code", ""))
    if key is None:
        return message_of(e, p.t)
    return p.t(key, file=arrived.file_name[:80] or "?", mb=MAX_ATTACHMENT // MB)


def _errors_of(p: Page, e: InvalidInput, slots: Sequence[Slot]) -> dict[str, str]:
    """The form's fields that `request_from_form`'s error names, each with its problem."""
    found: dict[str, str] = {}
    for params in e.params.get("problems") or (e.params,):
        name = str(params.get("field", ""))
        if name.startswith("attachments"):
            parts = name.split(".")
            index = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
            slot = next((s for s in slots if s.attachment is not None and s.index == index), None)
            name = f"{slot.name}-title" if slot is not None else "attachments"
        known = name in QUESTIONS or name == "attachments" or name.startswith("keep-")
        found.setdefault(name if known else "form", _problem(p.t, params))
    return found


@uploads.post("/simpan", response_class=HTMLResponse)
async def save(
    request: Request,
    p: UserPage,
    unit: Given = "",
    draf: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    revisi: Annotated[str, Query(pattern=r"^([0-9]{4}-[0-9]{4})?$")] = "",
) -> Response:
    """Save the request form as a draft for the PD's Kepala to sign: a new one (`unit`), the
    draft `draf` again, or a new revision of the returned application `revisi`. The form's
    CSRF token is checked first, then the official's role for that PD, before any file is
    stored; the files as they arrive (kept in the form when something else is wrong). Each
    field filled in is checked (`signing.apps.request_from_form`); a wrong one is marked next
    to it, the form kept, nothing stored. Blank fields are left out: an incomplete draft is
    saved and its form opens again listing what it lacks; a complete one goes to the work
    home, ready for the Kepala to sign."""
    found: list[Work] = []

    def check() -> Target:
        found.append(work(p))
        return _target(found[0], unit.strip(), draf, revisi)

    form, target, stored = await _read_form(request, p, check)
    return await run_in_threadpool(_save, found[0], target, form, stored)


def _save(w: Work, target: Target, form: RequestForm, stored: list[tuple[Arrived, Any]]) -> Response:
    p = w.page
    slots, too_large = _slots_of(p, target, form, stored)
    values = {name: form.fields.get(name, "")[: QUESTIONS[name].maxlength * 4] for name in QUESTIONS}
    filled = Filled(values, slots)
    for s in slots:
        if s.error is not None:
            filled.errors[f"new-{s.index}-file"] = s.error
    attachments = [s.attachment for s in slots if s.attachment is not None]
    try:
        if filled.errors:
            raise (TooLarge if too_large else FormInvalid)("work.err.attachments")
        built = apps.request_from_form(values, attachments, target.agency, w.nip)
        assert p.user is not None
        saved = apps.save_draft(
            p.context(),
            target.agency,
            built,
            p.user.nip,
            p.now(),
            app=target.app,
            draft_id=target.draft.id if target.draft is not None else None,
        )
    except InvalidInput as e:
        if e.code == "app.field":
            filled.errors.update(_errors_of(p, e, slots))
            return p.form_error("apps/work_form.html", FormInvalid("work.err.fields"), **_form_page(w, target, filled))
        return p.form_error("apps/work_form.html", e, **_form_page(w, target, filled))
    except RECOVERABLE as e:
        return p.form_error("apps/work_form.html", e, **_form_page(w, target, filled))
    if apps.missing_of(built):  # (`save_draft` logged it)
        return p.redirect(f"{PREFIX}/draf/{saved}?ok=saved#draft-state")
    return p.redirect(f"{PREFIX}?ok=saved#draft-{saved}")


@pages.post("/draf/{draft_id}/hapus", response_class=HTMLResponse)
def delete_draft(w: AnyWork, draft_id: DraftId) -> Response:
    """Delete a draft (its PD's operator or Kepala); nothing of it was on the ledger."""
    draft = _draft(w.page, draft_id)
    w.prepares(draft.agency)
    w.page.ledger.register.delete_draft(draft_id)
    logger.info("draft deleted id=%d agency=%s by=%s", draft_id, draft.agency, w.nip)
    return w.page.redirect(f"{PREFIX}?ok=deleted")


# -- signing with one's own key ----------------------------------------------------------------


def _with_own_key(p: Page, passphrase: str) -> Any:
    """The context to sign in with the official's own key, once `passphrase` has opened it,
    under the "sign" throttle of their NIP: refused while it holds; a wrong passphrase is
    counted (Throttled when it locks) and raised; a right one clears the count before
    anything is signed. Raises FormInvalid (no passphrase, too long), NotAllowed
    (``sign.no_key``), Throttled, WrongPassphrase."""
    assert p.user is not None
    if not passphrase:
        raise FormInvalid("err.passphrase_missing")
    if len(passphrase) > accounts.MAX_SECRET:
        raise FormInvalid("err.too_long")
    nip, now = p.user.nip, p.now()
    with p.ledger.read() as r:
        key = r.active_key(nip)
    if key is None:
        raise NotAllowed(f"official {nip} has no active key: enrol first", code="sign.no_key", nip=nip)
    accounts.check_throttle(p.ledger, SIGN, nip, now)
    context = p.context()
    ctx = replace(context, keys=OpenedOnce(context.keys))
    try:
        ctx.keys.signer(VerifierKey.parse(key.key), passphrase)
    except WrongPassphrase:
        accounts.settle_attempt(p.ledger, SIGN, nip, now, False)  # raises Throttled when this failure locks
        raise
    accounts.settle_attempt(p.ledger, SIGN, nip, now, True)  # raises Throttled (nothing signed) while withheld
    return ctx


def _signer(p: Page) -> Person:
    """Who the official signs as: their name and the capacity of the identity in force."""
    assert p.user is not None
    with p.ledger.read() as r:
        identity = r.identities([p.user.nip]).get(p.user.nip)
    return Person.holding(p.user.nip, identity) if identity is not None else Person.of(p.user, p.user.nip)


def _passphrase_field(e: Exception) -> str | None:
    if isinstance(e, WrongPassphrase) or (isinstance(e, FormInvalid) and e.key.startswith("err.")):
        return "passphrase"
    return None


# -- the Kepala PD signs a draft ---------------------------------------------------------------


def _statement(p: Page, person: Person, draft: DraftRecord, revision: int) -> tuple[str, str]:
    """The request's SHA-256, and the statement the Kepala's key will sign (its id and time
    left open when the id is given at the append)."""
    digest = hashlib.sha256(draft.request_json.encode()).hexdigest()
    with p.ledger.read() as r:
        key = r.active_key(person.nip)
    if key is None:
        return digest, ""
    text = AppRequest(
        p.ledger.origin,
        draft.app or "…",
        revision,
        digest,
        draft.agency,
        person.nip,
        person.name,
        person.capacity,
        VerifierKey.parse(key.key),
        p.now(),
    ).text()
    return digest, text.rsplit("time ", 1)[0] + "time …"


def _signing_page(w: Work, draft: DraftRecord, **context: Any) -> dict[str, Any]:
    p = w.page
    request = parse_request(draft.request_json)
    revision, returned = 1, None
    if draft.app is not None:
        view = _application(p, draft.app)
        revision, returned = view.revision + 1, view.returned_of(view.revision)
    person = _signer(p)
    digest, statement = _statement(p, person, draft, revision)
    assert p.user is not None
    return {
        "draft": draft,
        "shown": shown_request(p.t, p.lang, request),
        "revision": revision,
        "returned": returned,
        "person": person,
        "digest": digest,
        "statement": statement,
        "preparer": _people(p, [draft.prepared_by]).get(draft.prepared_by, draft.prepared_by),
        "throttled": accounts.throttle_state(p.ledger, SIGN, p.user.nip, p.now()),
        "size": lambda n: _size(p.t, n),
        "errors": {},
        **context,
    }


def _incomplete(w: Work, view: apps.DraftView) -> HTMLResponse:
    """The answer (409) to signing a draft that is not complete: what it lacks, each a link
    to its field in the draft's form. No key is opened, nothing is appended."""
    p = w.page
    form = f"{PREFIX}/draf/{view.draft.id}"
    logger.info("draft %s not signed: incomplete (%d fields)", view.draft.id, len(view.missing))
    return p.render(
        "apps/work_incomplete.html", status=409, draft=view.draft, form=form, lacking=_lacking_links(p, view, form)
    )


@pages.get("/draf/{draft_id}/tandatangan", response_class=HTMLResponse)
def sign_form(w: HeadWork, draft_id: DraftId) -> HTMLResponse:
    """The whole draft as the Kepala PD signs it, its attachments to open, who they sign as;
    a 409 naming what it lacks while it is incomplete."""
    draft = _draft(w.page, draft_id)
    w.heads(draft.agency)
    view = apps.draft_view(draft)
    if not view.complete:
        return _incomplete(w, view)
    return w.page.render("apps/work_sign.html", **_signing_page(w, draft))


@pages.post("/draf/{draft_id}/tandatangan", response_class=HTMLResponse)
def sign(w: HeadWork, draft_id: DraftId, sha256: Text = "", passphrase: Text = "") -> Response:
    """The Kepala PD signs the draft they read (`sha256`: a draft changed meanwhile is shown
    again instead): `app.submitted`; the draft is then gone, the application has its id. An
    incomplete draft is answered with a 409 before the passphrase opens anything."""
    p = w.page
    draft = _draft(p, draft_id)
    w.heads(draft.agency)
    view = apps.draft_view(draft)
    if not view.complete:
        return _incomplete(w, view)
    try:
        if not hmac.compare_digest(sha256.encode(), hashlib.sha256(draft.request_json.encode()).hexdigest().encode()):
            raise FormInvalid("work.err.draft_changed")
        ctx = _with_own_key(p, passphrase)
        assert p.user is not None
        appended = apps.submit_app(ctx, draft.id, None, p.user.nip, passphrase, p.now, app=draft.app)
    except RECOVERABLE as e:
        errors = {"passphrase": message_of(e, p.t)} if _passphrase_field(e) else {}
        return p.form_error("apps/work_sign.html", e, **_signing_page(w, draft, errors=errors))
    app = str(appended.entry.fields["app"])
    return p.redirect(f"{PREFIX}?{urlencode({'ok': 'submitted', 'app': app})}#app-{app}")


# -- the reviewer ------------------------------------------------------------------------------


def _reading(p: Page, view: ApplicationView) -> dict[str, Any]:
    """What every page of an application shows: its request (current revision) and history."""
    return {
        "view": view,
        "shown": shown_request(p.t, p.lang, view.request),
        "names": _people(p, [getattr(e, "by", "") for e in view.history]),
        "size": lambda n: _size(p.t, n),
        "kind": event_kind,
        "points": CHECKLIST,
    }


def event_kind(event: Any) -> str:
    """``submitted``, ``reviewed``, ``returned`` or ``decided``: what an event of an application's history is."""
    kinds = {apps.Submitted: "submitted", apps.Reviewed: "reviewed", apps.Returned: "returned"}
    return kinds.get(type(event), "decided")


def _checklist_of(fields: Mapping[str, str]) -> dict[str, dict[str, str]]:
    return {
        point: {"finding": fields.get(f"{point}-finding", ""), "note": fields.get(f"{point}-note", "")}
        for point in CHECKLIST
    }


def _review_page(w: Work, view: ApplicationView, **context: Any) -> dict[str, Any]:
    return {
        **_reading(w.page, view),
        "checklist": CHECKLIST,
        "finding_options": [(f, w.page.t(f"apps.finding.{f}")) for f in FINDINGS],
        "max_note": MAX_NOTE,
        "max_items": MAX_ITEMS,
        "typed": _checklist_of({}),
        "reasons": "",
        "errors": {},
        **context,
    }


@pages.get("/{app}/telaah", response_class=HTMLResponse)
def review_form(w: ReviewerWork, app: AppId) -> HTMLResponse:
    """The request's current revision, its history, the checklist and the return form."""
    return w.page.render("apps/work_review.html", **_review_page(w, _application(w.page, app)))


def _checklist_errors(p: Page, e: InvalidInput) -> dict[str, str]:
    """`app.checklist`'s field (``security.note``) as the form's (``security-note``)."""
    name = str(e.params.get("field", "")).replace(".", "-")
    point = name.split("-")[0]
    if point in CHECKLIST and "-" not in name:
        name = f"{point}-finding"
    return {name if point in CHECKLIST else "form": _problem(p.t, e.params)}


@pages.post("/{app}/telaah", response_class=HTMLResponse)
async def review(request: Request, w: ReviewerWork, app: AppId) -> Response:
    """Record the checklist of the revision the reviewer read (`revision`): `app.reviewed`."""
    fields = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    return await run_in_threadpool(_review, w, app, fields)


def _review(w: Work, app: str, fields: Mapping[str, str]) -> Response:
    p = w.page
    view = _application(p, app)
    typed = _checklist_of(fields)
    errors = _unanswered(p, typed)
    try:
        if errors:
            raise FormInvalid("work.err.fields")
        apps.review_app(p.context(), app, w.nip, typed, p.now, revision=_revision(fields))
    except InvalidInput as e:
        errors = _checklist_errors(p, e) if e.code == "app.checklist" else {}
        shown = FormInvalid("work.err.fields") if errors and "form" not in errors else e
        return p.form_error("apps/work_review.html", shown, **_review_page(w, view, typed=typed, errors=errors))
    except FormInvalid as e:
        return p.form_error("apps/work_review.html", e, **_review_page(w, view, typed=typed, errors=errors))
    except RECOVERABLE as e:
        return p.form_error("apps/work_review.html", e, **_review_page(w, view, typed=typed))
    return p.redirect(f"{PREFIX}?{urlencode({'ok': 'reviewed', 'app': app})}")


def _unanswered(p: Page, typed: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """Each point of the checklist without a finding, or without the note its finding asks for."""
    errors: dict[str, str] = {}
    for point, answer in typed.items():
        if answer["finding"] not in FINDINGS:
            errors[f"{point}-finding"] = p.t("work.problem.choice")
        elif answer["finding"] != "fits" and not answer["note"].strip():
            errors[f"{point}-note"] = p.t("work.problem.note_needed")
    return errors


def _revision(fields: Mapping[str, str]) -> int:
    seen = fields.get("revision", "")
    if not seen.isdigit() or len(seen) > 6:
        raise FormInvalid("work.err.form_broken")
    return int(seen)


@pages.post("/{app}/kembalikan", response_class=HTMLResponse)
def return_to_pd(w: ReviewerWork, app: AppId, reasons: Text = "", revision: Text = "") -> Response:
    """Return the revision the reviewer read to its PD with reasons (one a line): `app.returned`."""
    p = w.page
    view = _application(p, app)
    try:
        apps.return_app(
            p.context(), app, w.nip, reasons.splitlines(), p.now, revision=_revision({"revision": revision})
        )
    except RECOVERABLE as e:
        errors = {"reasons": _problem(p.t, e.params)} if getattr(e, "code", "") == "app.reasons" else {}
        page = _review_page(w, view, reasons=reasons[: MAX_ITEMS * 2100], errors=errors, failed="return")
        return p.form_error("apps/work_review.html", FormInvalid("work.err.fields") if errors else e, **page)
    return p.redirect(f"{PREFIX}?{urlencode({'ok': 'returned', 'app': app})}")


# -- the Kepala Dinas Kominfo decides ----------------------------------------------------------


def _decision_page(w: Work, view: ApplicationView, **context: Any) -> dict[str, Any]:
    p = w.page
    assert p.user is not None
    return {
        **_reading(p, view),
        "decision_options": [(d, p.t(f"apps.status.{d}")) for d in DECISIONS],
        "person": _signer(p),
        "reviews": view.reviews_of(view.revision),
        "decision": "",
        "notes": "",
        "errors": {},
        "max_items": MAX_ITEMS,
        "throttled": accounts.throttle_state(p.ledger, SIGN, p.user.nip, p.now()),
        **context,
    }


@pages.get("/{app}/putusan", response_class=HTMLResponse)
def decision_form(w: DeciderWork, app: AppId, done: bool = False) -> HTMLResponse:
    """The request, its reviews of this revision, the decision form — or, once decided, the
    decision and its letter."""
    return w.page.render("apps/work_decide.html", **_decision_page(w, _application(w.page, app), done=done))


@pages.post("/{app}/putusan", response_class=HTMLResponse)
def decide(
    w: DeciderWork, app: AppId, decision: Text = "", notes: Text = "", revision: Text = "", passphrase: Text = ""
) -> Response:
    """Sign the decision on the revision read (`revision`), with its notes (one a line): `app.decided`."""
    p = w.page
    view = _application(p, app)
    try:
        seen = _revision({"revision": revision})
        check_notes(decision, [line for line in (" ".join(n.split()) for n in notes.splitlines()) if line])
        ctx = _with_own_key(p, passphrase)  # the notes are right: only now is the key opened
        apps.decide_app(ctx, app, decision, notes.splitlines(), w.nip, passphrase, p.now, revision=seen)
    except RECOVERABLE as e:
        errors: dict[str, str] = {}
        if isinstance(e, InvalidInput) and e.code == "app.notes":
            where = "decision" if e.params.get("field") == "decision" else "notes"
            errors[where] = _problem(p.t, e.params)
        elif _passphrase_field(e):
            errors["passphrase"] = message_of(e, p.t)
        typed = {"decision": decision[:40], "notes": notes[: MAX_ITEMS * 2100], "errors": errors}
        shown = FormInvalid("work.err.fields") if "decision" in errors or "notes" in errors else e
        return p.form_error("apps/work_decide.html", shown, **_decision_page(w, view, **typed))
    return p.redirect(f"{PREFIX}/{app}/putusan?done=1")


# -- attachments, internal ones included -------------------------------------------------------


def _attachment(p: Page, request: Mapping[str, Any], sha256: str) -> Response:
    """The file of one of `request`'s attachments (NotFound for any other)."""
    listed = next((a for a in request.get("attachments", []) if a["sha256"] == sha256), None)
    found = p.ledger.register.attachment(sha256) if listed is not None else None
    if listed is None or found is None:
        raise NotFound(f"no attachment {sha256}", code="app.attachment_not_found", sha256=sha256)
    name = quote(str(listed["file"]))
    headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{name}", "Cache-Control": "no-store"}
    return Response(found.data, media_type="application/pdf", headers=headers)


@pages.get("/draf/{draft_id}/lampiran/{sha256}")
def draft_attachment(w: AnyWork, draft_id: DraftId, sha256: Sha256) -> Response:
    """An attachment of a draft, for its PD's operator and Kepala."""
    draft = _draft(w.page, draft_id)
    w.prepares(draft.agency)
    return _attachment(w.page, apps.draft_view(draft).request, sha256)


@pages.get("/{app}/lampiran/{sha256}")
def app_attachment(w: AnyWork, app: AppId, sha256: Sha256) -> Response:
    """An attachment of any revision of an application, internal ones included: for its PD's
    operator and Kepala, the reviewers and the Kepala Dinas Kominfo."""
    view = _application(w.page, app)
    w.sees(view.agency)
    listed = [a for s in view.revisions for a in s.request.get("attachments", [])]
    return _attachment(w.page, {"attachments": listed}, sha256)
