"""The FastAPI application: `create_app` (uvicorn runs it with ``factory=True``).

Server-rendered pages in Bahasa Indonesia and English, every asset served from
`web/static` (no CDN, no inline script), the JSON/text API of DESIGN.md, and one handler
that turns every error of the web, ledger and signing families into a status and a
message in the page's language: an HTML page for pages, ``{"detail": ...}`` for the API.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger.db import DriverError, database_error
from ledger.errors import LedgerError
from signing.errors import SigningError

from . import metrics, reauth, routes_account, routes_admin, routes_api, routes_locks, routes_public, routes_verify
from .cache import install as install_response_cache
from .demo import DEMO_ORG
from .errors import LoginRequired, WebError, message_of, status_of
from .health import Health, SelfAuditor, note_error
from .i18n import Translator, language_of
from .mail import MailSender
from .pages import HERE, FormLimits, Page, page
from .routes_apps import router as apps_router
from .routes_apps_work import ROUTERS as APPS_WORK_ROUTERS
from .routes_documents import router as documents_router
from .routes_live import router as live_router
from .routes_roles import router as roles_router
from .runtime import Runtime, configure_logging

logger = logging.getLogger(__name__)

# Every router of the app; one more line here is all a new group of routes needs.
ROUTERS: tuple[APIRouter, ...] = (
    routes_public.router,
    routes_account.router,
    routes_admin.router,
    routes_api.router,
    routes_verify.router,
    metrics.router,
    routes_locks.router,
    reauth.router,
    live_router,
    documents_router,
    apps_router,
    *APPS_WORK_ROUTERS,
    roles_router,
)

API_DESCRIPTION = """The public, read-only interface of an Ikrar ledger: entries with their exact
leaf bytes, C2SP checkpoints and tlog-proofs, consistency proofs, commitments and who signed
them. Everything here can be checked offline against the ledger's verifier key (`/vkey`).
Errors are JSON `{"detail": "..."}` with a 4xx status, in the language chosen on the site
(Bahasa Indonesia unless the `ikrar_lang` cookie says `en`)."""


def create_app(runtime: Runtime | None = None, clock: Callable[[], datetime] | None = None) -> FastAPI:
    """The app over `runtime` (default: from the IKRAR_* environment); `clock` gives "now"."""
    runtime = runtime or Runtime.from_env()
    configure_logging(runtime.settings.log_level, runtime.settings.log_format)
    metrics.install()  # APPENDS counts the ledger's appends (web/metrics.py)
    runtime.ledger  # noqa: B018 - brings the schema up to date (a no-op when `ikrar serve` did)
    now = clock or (lambda: datetime.now(UTC))
    health = Health()
    auditor = SelfAuditor(runtime.ledger, health, runtime.settings.self_audit_minutes, now)
    mail = MailSender(runtime.ledger, runtime.settings, now)  # sends the outbox; idle without IKRAR_SMTP_URL

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # The started application's objects (about 150,000) live as long as the worker: leave
        # them out of every garbage collection, or each full one stops the worker for tens of
        # milliseconds, the public pages' p99 (docs/PERFORMANCE.md, 6 December 2026).
        gc.collect()
        gc.freeze()
        auditor.start()
        mail.start()
        yield
        mail.stop()
        auditor.stop()
        gc.unfreeze()  # an app that stops within a longer process (a test) leaves nothing frozen

    app = IkrarApp(
        title="Ikrar API",
        version="1",
        description=API_DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.clock = now
    app.state.health = health
    app.state.org = None
    app.state.demo_org = DEMO_ORG
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    install_response_cache(app)  # public answers per tree size; app.state.cache_epoch (web/cache.py)
    app.add_middleware(FormLimits)  # every form post bounded before it is parsed (web/pages.py)
    health.on_change = lambda: setattr(app.state, "cache_epoch", app.state.cache_epoch + 1)  # the banner shows
    for router in ROUTERS:
        app.include_router(router)
    app.add_exception_handler(WebError, handle_error)
    app.add_exception_handler(LedgerError, handle_error)
    app.add_exception_handler(SigningError, handle_error)
    app.add_exception_handler(DriverError, handle_error)  # the database down or failing: 503, never a bare 500
    app.add_exception_handler(RequestValidationError, handle_error)
    app.add_exception_handler(StarletteHTTPException, handle_error)
    return app


class IkrarApp(FastAPI):
    """FastAPI with `SecurityHeaders` around everything, so that the responses made outside
    the user middleware (the 500 of an unexpected error, a body over the size limit) carry
    the headers too; and `RequestMetrics` (web/metrics.py) inside it, which so sees every
    answer's final status, counts and times it, and writes its access line."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(metrics.RequestMetrics(super().build_middleware_stack(), self.router.routes))


def is_api(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path in ("/checkpoint", "/vkey", "/openapi.json")


def _http_message(exc: StarletteHTTPException, t: Translator) -> str:
    if exc.status_code == 404:
        return t("err.page_not_found")
    if exc.status_code == 405:
        return t("err.method")
    return t("err.bad_request")


def _validation_message(exc: RequestValidationError, t: Translator) -> str:
    errors = exc.errors()
    loc = [str(part) for part in (errors[0].get("loc", ()) if errors else ()) if part not in ("query", "path", "body")]
    return t("err.bad_param", name=".".join(loc) or "?")


async def handle_error(request: Request, exc: Exception) -> Response:
    """The one place where an error becomes a status and a message in the page's language."""
    t = Translator(language_of(request))
    if isinstance(exc, DriverError):
        exc = database_error(exc)
    if isinstance(exc, StarletteHTTPException):
        status, message = exc.status_code, _http_message(exc, t)
    elif isinstance(exc, RequestValidationError):
        status, message = 422, _validation_message(exc, t)
    else:
        status, message = status_of(exc), message_of(exc, t)
        note_error(request.app.state.health, exc, request.app.state.clock())
    if status >= 500:
        logger.error("%s on %s %s: %s", type(exc).__name__, request.method, request.url.path, exc)
    headers = getattr(exc, "headers", None) if isinstance(exc, StarletteHTTPException) else None
    if is_api(request):
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    if isinstance(exc, LoginRequired):
        target = request.url.path if request.method == "GET" else "/"
        return RedirectResponse(f"/login?next={target}", status_code=303)
    try:
        current: Page = await run_in_threadpool(page, request)
    except Exception:
        logger.exception("cannot load the session for the error page")
        current = Page(request, t.lang, t, None, None)
        request.state.page = current
    try:
        return current.render("error.html", status=status, message=message, status_code=status)
    except Exception:
        logger.exception("cannot render the error page")
        return Response(message, status_code=status, media_type="text/plain; charset=utf-8", headers=headers)


class SecurityHeaders:
    """Headers every response carries: a content security policy that allows only this
    site's own scripts, styles and images (no inline script or style, no framing, forms
    post only here), no MIME sniffing, and no referrer (enrolment links carry their token
    in the path)."""

    CSP = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
    HEADERS = [
        (b"content-security-policy", CSP.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
    ]

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + self.HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)
