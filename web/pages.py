"""What every server-rendered page shares: the request's language, session and user, the
templates, the CSRF token of its forms, and the cookies.

Routes take a `Page` (dependency `page`), or a logged-in `User`/`Admin`. Routers of pages
with forms depend on `csrf_protect`, which refuses every POST whose `csrf_token` field is
not the token of the session that rendered the form (the synchronizer-token pattern), or,
for a visitor without a session (the login and enrolment forms), a token signed for the
random nonce in the visitor's `ikrar_form` cookie (a signed double submit: a visitor costs
no database row).

A page whose route is marked `comes_back` (on a router whose `route_class` is
`SessionRoute`: the signing page) answers a refused CSRF check or login not with an error
page but by sending the official to log in and back to it, or to it again when only the
form was stale; the form's request is still refused.

`FormLimits`, an ASGI middleware, bounds every form post before anything parses it: the
body is read from the stream up to a size limit, then counted (fields) and measured (each
field) before the route, its CSRF check included, sees it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote, urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from python_multipart.multipart import parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, Headers
from starlette.formparsers import FormParser, MultiPartException, MultiPartParser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger.errors import NotFound
from ledger.nip import is_nip
from ledger.reader import OfficialRecord
from ledger.store import Ledger
from signing.actions import Context, get_official

from . import accounts
from .errors import CsrfRejected, Forbidden, LoginRequired, TooLarge, detail_of, message_of, status_of
from .health import note_error
from .i18n import LANG_COOKIE, Translator, language_of
from .runtime import Runtime
from .views import ledger_org

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
SESSION_COOKIE = "ikrar_session"
FORM_COOKIE = "ikrar_form"  # the nonce that the CSRF token of an anonymous form is signed for
templates = Jinja2Templates(directory=HERE / "templates")


def _static_version() -> str:
    digest = hashlib.sha256()
    for path in sorted((HERE / "static").rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:10]


STATIC_VERSION = _static_version()


def static_url(path: str) -> str:
    return f"/static/{path}?v={STATIC_VERSION}"


templates.env.globals["static"] = static_url
templates.env.globals["detail_of"] = detail_of  # a failed check's detail, in the page's language
templates.env.globals["is_nip"] = is_nip  # "NIP ..." only for a NIP, never for an identifier given without one


def sentence(text: str) -> str:
    """`text` ended with a full stop, unless it ends with one already ("..., M.T.")."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?", "…")) else text + "."


templates.env.filters["sentence"] = sentence


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def ledger_of(request: Request) -> Ledger:
    return runtime_of(request).ledger


def now_of(request: Request) -> datetime:
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


def is_https(request: Request) -> bool:
    return request.url.scheme == "https" or runtime_of(request).settings.base_url.startswith("https://")


def safe_next(target: str | None, default: str = "/me") -> str:
    """A local path to go to after a form, never another site (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target or len(target) > 500:
        return default
    return target


def set_cookie(
    request: Request, response: Response, name: str, value: str, max_age: int | None, httponly: bool = True
) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", httponly=httponly, samesite="lax", secure=is_https(request)
    )


@dataclass
class Page:
    """One request to a page: language, session (if any), logged-in official (if any)."""

    request: Request
    lang: str
    t: Translator
    session: accounts.SessionInfo | None
    user: OfficialRecord | None
    new_cookie: str | None = field(default=None, repr=False)
    new_form_nonce: str | None = field(default=None, repr=False)
    has_form: bool = False  # a CSRF token was handed out: the answer must not be stored by caches

    @property
    def runtime(self) -> Runtime:
        return runtime_of(self.request)

    @property
    def ledger(self) -> Ledger:
        return self.runtime.ledger

    def context(self) -> Context:
        """The ledger, key store and unlocked ledger signer, for appends (raises NotInitialized)."""
        return self.runtime.context()

    def now(self) -> datetime:
        return now_of(self.request)

    def csrf_token(self) -> str:
        """The CSRF token of this session; for a visitor, one signed for the nonce of their
        `ikrar_form` cookie (a new nonce, and cookie, when they have none). Writes nothing."""
        self.has_form = True
        if self.session is not None:
            return self.session.csrf_token
        nonce = self.form_nonce()
        if nonce is None:
            nonce = self.new_form_nonce = accounts.new_form_nonce()
        return accounts.anonymous_csrf_token(self.runtime.form_secret, nonce, self.now())

    def form_nonce(self) -> str | None:
        nonce = self.new_form_nonce or self.request.cookies.get(FORM_COOKIE)
        return nonce if nonce and len(nonce) <= 100 else None

    def csrf_matches(self, token: str) -> bool:
        """Whether `token` is the CSRF token of this session, or for a visitor, one signed for
        their nonce within `accounts.ANONYMOUS_HOURS`."""
        if self.session is not None:
            return self.session.csrf_matches(token)
        return accounts.anonymous_csrf_matches(self.runtime.form_secret, self.form_nonce(), token, self.now())

    def csrf_field(self) -> Markup:
        return Markup('<input type="hidden" name="csrf_token" value="{}">').format(escape(self.csrf_token()))

    def lang_next(self) -> str:
        """Where the language switch returns to: this page, or home after a form's POST."""
        if self.request.method != "GET":
            return "/"
        query = self.request.url.query
        return self.request.url.path + (f"?{query}" if query else "")

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        state = self.request.app.state
        if state.org is None:
            state.org = ledger_org(self.ledger)
        values = {
            "t": self.t,
            "lang": self.lang,
            "user": self.user,
            "csrf_field": self.csrf_field,
            "lang_next": quote(self.lang_next(), safe="/"),
            "org": state.org,
            "demo": state.org == state.demo_org,
            "diverged": state.health.problem is not None,
            **context,
        }
        response = templates.TemplateResponse(self.request, template, values, status_code=status)
        self.keep_session(response)
        if self.session is not None or self.has_form:
            response.headers["Cache-Control"] = "no-store"
        return response

    def keep_session(self, response: Response) -> None:
        """Send the cookie of a session started, or of a form nonce made, while handling this request."""
        if self.new_cookie is not None and self.session is not None:
            max_age = int((self.session.expires_at - self.now()).total_seconds())
            set_cookie(self.request, response, SESSION_COOKIE, self.new_cookie, max_age)
        if self.new_form_nonce is not None and self.session is None:
            set_cookie(self.request, response, FORM_COOKIE, self.new_form_nonce, None)

    def form_error(self, template: str, exc: Exception, **context: Any) -> HTMLResponse:
        """The form again, with the error's message in the page's language and its status
        (and its headers: the Retry-After of a Busy)."""
        note_error(self.request.app.state.health, exc, self.now())
        response = self.render(template, status=status_of(exc), error=message_of(exc, self.t), **context)
        headers: Mapping[str, str] = getattr(exc, "headers", None) or {}
        response.headers.update(headers)
        return response

    def redirect(self, url: str) -> RedirectResponse:
        response = RedirectResponse(url, status_code=303)
        self.keep_session(response)
        return response


def page(request: Request) -> Page:
    """The `Page` of this request (also kept on `request.state` for the error handler)."""
    kept: Page | None = getattr(request.state, "page", None)
    if kept is not None:
        return kept
    runtime = runtime_of(request)
    lang = language_of(request)
    now = now_of(request)
    session = accounts.load_session(runtime.ledger, request.cookies.get(SESSION_COOKIE), now)
    user = None
    if session is not None and session.nip:
        try:
            user = get_official(runtime.ledger, session.nip)
        except NotFound:  # pragma: no cover - sessions reference the register
            user = None
    current = Page(request, lang, Translator(lang), session, user)
    request.state.page = current
    return current


def logged_in(current: Annotated[Page, Depends(page)]) -> Page:
    """The page of a logged-in official; raises LoginRequired (pages redirect to the login form)."""
    if current.user is None:
        raise LoginRequired()
    return current


def admin(current: Annotated[Page, Depends(logged_in)]) -> Page:
    """The page of a logged-in admin; raises Forbidden for anyone else."""
    assert current.user is not None
    if current.user.role != "admin":
        raise Forbidden("err.admin_only")
    return current


async def csrf_protect(request: Request, current: Annotated[Page, Depends(page)]) -> None:
    """Refuse a POST whose form does not carry this session's CSRF token."""
    if request.method != "POST":
        return
    form = await request.form()  # bounded by `FormLimits` before it was read
    token = form.get("csrf_token")
    if not isinstance(token, str) or len(token) > 200 or not current.csrf_matches(token):
        logger.warning("CSRF token missing or wrong path=%s", request.url.path)
        raise CsrfRejected()


# -- a page whose session ends while its form is open -------------------------------------

E = TypeVar("E", bound=Callable[..., Any])
COMES_BACK = "ikrar_comes_back"  # the attribute `comes_back` sets on a route's endpoint: (reason, page)
ENDED = "ended"  # the login form's query field that says why the official logs in again
AGAIN = "again"  # the page's query field that says its form came back stale


def comes_back(reason: str, page: str | None = None) -> Callable[[E], E]:
    """Mark the route of a page that needs a login (on a router whose `route_class` is
    `SessionRoute`) so that an ended session or a stale form sends the official back to its
    page: the route's own path (as a GET), or `page` with the path's parameters filled in
    (``"/sign/{slug}"`` for a form posted to ``/sign/{slug}/decline``):

    - without a live session (it expired, or the post came from elsewhere without the
      cookie), to the login form, then back to this page (its path, as a GET), the login
      form saying why (`?ended=<reason>`) when a session or a form was open;
    - with a live session but a form token that is not its own (the form was rendered
      before the official logged in again, or comes from another site), to this page again
      with `?again=1`.

    Either way the form's request is not carried out: this is an answer to a refused CSRF
    check or login, never a way around them."""

    def mark(endpoint: E) -> E:
        setattr(endpoint, COMES_BACK, (reason, page))
        return endpoint

    return mark


def come_back(request: Request, reason: str, page: str | None = None) -> RedirectResponse:
    """Where `comes_back` sends an official whose session or form ended (see there)."""
    current: Page | None = getattr(request.state, "page", None)
    here = quote(page.format_map(request.path_params) if page else request.url.path, safe="/")
    if current is not None and current.session is not None:
        return RedirectResponse(f"{here}?{AGAIN}=1", status_code=303)
    ended = request.method == "POST" or SESSION_COOKIE in request.cookies
    why = f"&{urlencode({ENDED: reason})}" if ended else ""
    return RedirectResponse(f"/login?next={here}{why}", status_code=303)


class SessionRoute(APIRoute):
    """A route whose endpoint `comes_back` answers LoginRequired and CsrfRejected with
    `come_back`'s redirect instead of the error page; other routes are left as they are."""

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()
        marked: tuple[str, str | None] | None = getattr(self.endpoint, COMES_BACK, None)
        if marked is None:
            return handler
        reason, page = marked

        async def handle(request: Request) -> Response:
            try:
                response: Response = await handler(request)
            except (LoginRequired, CsrfRejected):
                return come_back(request, reason, page)
            return response

        return handle


AnyPage = Annotated[Page, Depends(page)]
UserPage = Annotated[Page, Depends(logged_in)]
AdminPage = Annotated[Page, Depends(admin)]


def set_language(request: Request, response: Response, lang: str) -> None:
    set_cookie(request, response, LANG_COOKIE, lang, max_age=365 * 24 * 3600, httponly=False)


# -- limits of every form post -------------------------------------------------------------

KB = 1024
MAX_FIELDS = 50
MAX_FIELD = 64 * KB  # a field's bytes once decoded
MAX_TEXT = 100 * KB  # the commitment text of the publish form
MAX_SIGNER_BOXES = 2000  # the publish form has a checkbox per official
FORM_TYPES = (b"application/x-www-form-urlencoded", b"multipart/form-data")
# The multipart forms that carry files, each read and bounded on the stream by its own route:
# a certificate (routes_verify, 5 MB), and an application request's PDF attachments
# (routes_apps_work.RequestForm: one attachment in memory at a time, the body capped).
UPLOADS = frozenset({"/verify/upload", "/api/v1/verify", "/kerja/aplikasi/simpan"})


@dataclass(frozen=True)
class FormLimit:
    """What a form post may send: its body's bytes as sent, its number of fields, and each
    field's bytes once decoded (`large`: the fields allowed more)."""

    body: int
    fields: int = MAX_FIELDS
    per_field: int = MAX_FIELD
    large: tuple[tuple[str, int], ...] = ()

    def allows(self, name: str, value: str) -> bool:
        return len(value.encode()) <= dict(self.large).get(name, self.per_field)


FORM_LIMIT = FormLimit(body=256 * KB)
FORM_LIMITS = {  # the forms that may send more than FORM_LIMIT (percent-encoding may take 9 bytes a character)
    "/admin/commitments/new": FormLimit(
        body=1024 * KB, fields=MAX_FIELDS + MAX_SIGNER_BOXES, large=(("text", MAX_TEXT),)
    ),
}


class FormRefused(Exception):
    """A form post over its `FormLimit` (said in the log; the visitor gets a 413 page)."""


async def _read_body(scope: Scope, receive: Receive, limit: FormLimit) -> bytes | None:
    """The request's body, read from the stream; FormRefused as soon as it is over
    `limit.body` (at once when its Content-Length says so), None when the client left."""
    length = Headers(scope=scope).get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit.body):
        raise FormRefused(f"Content-Length {length[:20]} over {limit.body} bytes")
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        if len(body) > limit.body:
            raise FormRefused(f"body over {limit.body} bytes")
        if not message.get("more_body", False):
            return bytes(body)


async def _check_fields(headers: Headers, body: bytes, content_type: bytes, limit: FormLimit) -> None:
    """Raise FormRefused when the form has too many fields, a file, or a field too large."""

    async def stream() -> AsyncGenerator[bytes, None]:
        yield body

    try:
        if content_type == b"multipart/form-data":
            largest = max([limit.per_field, *dict(limit.large).values()])
            parser = MultiPartParser(headers, stream(), max_files=0, max_fields=limit.fields, max_part_size=largest)
            form: FormData = await parser.parse()
        else:
            form = await FormParser(headers, stream(), max_fields=limit.fields, max_part_size=len(body) + 1).parse()
    except MultiPartException as e:
        raise FormRefused(e.message) from e
    try:
        for name, value in form.multi_items():
            if not isinstance(value, str) or not limit.allows(name, value):
                raise FormRefused(f"field {name[:40]!r} over its limit")
    finally:
        await form.close()


class FormLimits:
    """Bounds every form post (urlencoded or multipart; not the file uploads of `UPLOADS`)
    before FastAPI, the route or its CSRF check reads it: at most `FormLimit.body` bytes are
    read from the stream (none when the Content-Length is already too large), then at most
    `MAX_FIELDS` fields of `MAX_FIELD` bytes each (the publish form: its signer checkboxes
    and a `MAX_TEXT` commitment text). Anything over is answered 413 with a page in the
    visitor's language; a form that passes reaches the app as sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] in UPLOADS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        content_type, _ = parse_options_header(headers.get("content-type", ""))
        if content_type not in FORM_TYPES:  # FastAPI reads no form from any other body
            await self.app(scope, receive, send)
            return
        limit = FORM_LIMITS.get(scope["path"], FORM_LIMIT)
        try:
            body = await _read_body(scope, receive, limit)
            if body is None:
                return
            await _check_fields(headers, body, content_type, limit)
        except FormRefused as e:
            logger.warning("form refused path=%s: %s", scope["path"], e)
            await self._refuse(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        lang = language_of(request)
        t = Translator(lang)
        exc = TooLarge("err.form_too_large", fields=MAX_FIELDS, kb=MAX_FIELD // KB, text_kb=MAX_TEXT // KB)
        current = Page(request, lang, t, None, None)
        response = await run_in_threadpool(
            current.render, "error.html", status=exc.status, message=message_of(exc, t), status_code=exc.status
        )
        response.headers["Connection"] = "close"  # the rest of the body is not read
        await response(scope, receive, send)
