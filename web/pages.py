"""What every server-rendered page shares: the request's language, session and user, the
templates, the CSRF token of its forms, and the cookies.

Routes take a `Page` (dependency `page`), or a logged-in `User`/`Admin`. Routers of pages
with forms depend on `csrf_protect`, which refuses every POST whose `csrf_token` field is
not the token of the session that rendered the form (the synchronizer-token pattern).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from ledger.errors import NotFound
from ledger.reader import OfficialRecord
from ledger.store import Ledger
from signing.actions import Context, get_official

from . import accounts
from .errors import CsrfRejected, Forbidden, LoginRequired, detail_of, message_of, status_of
from .i18n import LANG_COOKIE, Translator, language_of
from .runtime import Runtime
from .views import ledger_org

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
SESSION_COOKIE = "ikrar_session"
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


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


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
        """The CSRF token of this session; a visitor gets an anonymous session for it."""
        if self.session is None:
            hours = self.runtime.settings.session_hours
            self.new_cookie, self.session = accounts.new_session(self.ledger, None, self.now(), hours)
        return self.session.csrf_token

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
            **context,
        }
        response = templates.TemplateResponse(self.request, template, values, status_code=status)
        self.keep_session(response)
        if self.session is not None:
            response.headers["Cache-Control"] = "no-store"
        return response

    def keep_session(self, response: Response) -> None:
        """Send the cookie of a session started while handling this request."""
        if self.new_cookie is not None and self.session is not None:
            max_age = int((self.session.expires_at - self.now()).total_seconds()) if self.session.nip else None
            set_cookie(self.request, response, SESSION_COOKIE, self.new_cookie, max_age)

    def form_error(self, template: str, exc: Exception, **context: Any) -> HTMLResponse:
        """The form again, with the error's message in the page's language and its status."""
        return self.render(template, status=status_of(exc), error=message_of(exc, self.t), **context)

    def redirect(self, url: str) -> RedirectResponse:
        response = RedirectResponse(url, status_code=303)
        self.keep_session(response)
        return response


def page(request: Request) -> Page:
    """The `Page` of this request (also kept on `request.state` for the error handler)."""
    if getattr(request.state, "page", None) is not None:
        return request.state.page
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
    form = await request.form()
    token = form.get("csrf_token")
    if not isinstance(token, str) or current.session is None or not current.session.csrf_matches(token):
        logger.warning("CSRF token missing or wrong path=%s", request.url.path)
        raise CsrfRejected()


AnyPage = Annotated[Page, Depends(page)]
UserPage = Annotated[Page, Depends(logged_in)]
AdminPage = Annotated[Page, Depends(admin)]


def set_language(request: Request, response: Response, lang: str) -> None:
    set_cookie(request, response, LANG_COOKIE, lang, max_age=365 * 24 * 3600, httponly=False)
