"""Prometheus metrics of the server: `GET /metrics`, behind the bearer token
IKRAR_METRICS_TOKEN (without it the route answers 404, as for any unknown path).

The counters other modules move are the module-level objects below (`LOGIN_FAILURES`,
`LOCKS`, `UPLOADS_REFUSED`, `APPENDS`). `RequestMetrics` counts and times every request
by its route's template (``/commitments/{slug}``, never the path: one series per route,
however many paths are asked for) and writes its access line (`web.logs.log_request`).
`AppendCounter` counts the appends the ledger announces in its log. The tree size and
the mail outbox's length are read from the database at each scrape.

Several worker processes (`ikrar serve --workers N`) each count what they answer; a
scrape reaches one of them. `shared_between` gives them prometheus-client's multiprocess
mode, so that every scrape, whichever worker answers it, gives the sum over all of them.
"""

from __future__ import annotations

import hmac
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from fastapi.routing import iter_route_contexts
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger import outbox
from ledger.db import DriverError
from ledger.errors import LedgerError
from ledger.store import Ledger
from signing.errors import CertificateInvalid

from .errors import Busy, TooLarge, UploadMissing
from .logs import log_request

logger = logging.getLogger(__name__)

# The folder of prometheus-client's multiprocess mode. It is read once, when
# prometheus_client is imported: set before the worker processes start (`shared_between`).
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
MULTIPROCESS = bool(os.environ.get(MULTIPROC_ENV))

LOGIN_FAILURES = Counter("ikrar_login_failures", "Logins refused for a wrong NIP or password.")
LOCKS = Counter("ikrar_locks", "Locks earned by repeated failures, by scope (login, sign).", ["scope"])
UPLOADS_REFUSED = Counter(
    "ikrar_uploads_refused", "Certificate uploads refused without a verdict, by reason.", ["reason"]
)
APPENDS = Counter("ikrar_appends", "Entries this server appended to the ledger, by kind.", ["kind"])

REQUESTS = Counter(
    "ikrar_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "ikrar_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
)

UNMATCHED = "unmatched"  # the route label of a request no route answers (every unknown path)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})  # any other: "OTHER"

router = APIRouter()


# -- what the rest of the server calls ---------------------------------------------------------


def count_refused_upload(error: Exception) -> None:
    """Count an upload refused with `error` (too large, without a file, the checker busy,
    not a certificate at all) in `UPLOADS_REFUSED`, under a reason of a fixed few."""
    reasons: tuple[tuple[type[Exception], str], ...] = (
        (TooLarge, "too_large"),
        (UploadMissing, "missing"),
        (Busy, "busy"),
        (CertificateInvalid, "not_certificate"),
    )
    UPLOADS_REFUSED.labels(reason=next((name for kind, name in reasons if isinstance(error, kind)), "other")).inc()


class AppendCounter(logging.Handler):
    """Counts in `APPENDS` each append the ledger announces: the record of ``ledger.store``
    whose `event` is ``ledger.appended`` and whose `kind` names the entry's kind. The ledger
    knows nothing of the web; the web listens to what it says anyway."""

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "event", None) == "ledger.appended":
            APPENDS.labels(kind=str(getattr(record, "kind", "?"))).inc()


def install(store_logger: str = "ledger.store") -> None:
    """Attach `AppendCounter` to the ledger's logger (once a process). That logger is made to
    announce at INFO whatever the log level: the handler of `configure_logging` still
    writes only what IKRAR_LOG_LEVEL lets through."""
    announcer = logging.getLogger(store_logger)
    if not any(isinstance(h, AppendCounter) for h in announcer.handlers):
        announcer.addHandler(AppendCounter())
    if not announcer.isEnabledFor(logging.INFO):
        announcer.setLevel(logging.INFO)


@contextmanager
def shared_between(workers: int) -> Iterator[None]:
    """For a server of several worker processes: a new, empty folder named by
    PROMETHEUS_MULTIPROC_DIR while the block runs (the workers must start inside it), where
    each worker keeps its counts in files of its own; every scrape sums them all. Counts of
    a worker that died and was replaced are kept. The folder is removed when the block
    ends, and folders left by servers that were killed are removed at the next start. A
    folder the operator names in PROMETHEUS_MULTIPROC_DIR is used as it is, and left:
    they must empty it before each start."""
    if workers < 2 or os.environ.get(MULTIPROC_ENV):
        yield
        return
    _remove_stale_folders()
    folder = tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-")
    os.environ[MULTIPROC_ENV] = folder
    try:
        yield
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(folder, ignore_errors=True)


FOLDER_PREFIX = "ikrar-metrics-"  # then the server's pid, a dash and a random part


def _remove_stale_folders() -> None:
    """Remove the metrics folders of servers that are gone (killed before they could)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{FOLDER_PREFIX}*-*"):
        pid = folder.name.removeprefix(FOLDER_PREFIX).partition("-")[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except OSError:  # alive, another user's
            continue


# -- the request counter, latency histogram and access line ------------------------------------


def route_of(scope: Scope, routes: Sequence[BaseRoute]) -> str:
    """The template of the route that answers `scope` (``/v/{index}``, ``/static/{path}``),
    or `UNMATCHED`. The router leaves the route in the scope; a request answered before the
    router saw it (a form over its size limit) is matched here as the router would: the
    first route whose path and method fit, else the first whose path does (a 405)."""
    template = getattr(scope.get("route"), "path_format", None)
    if isinstance(template, str):
        return template
    partial = None
    for route in iter_route_contexts(routes):  # every route, inside included routers too
        regex, template = getattr(route, "path_regex", None), route.path_format
        if regex is None or template is None or not regex.match(scope["path"]):
            continue
        if not route.methods or scope["method"] in route.methods:
            return str(template)
        partial = partial or str(template)
    return partial or UNMATCHED


class RequestMetrics:
    """ASGI middleware around the whole app: for every HTTP request, once it is answered,
    counts it in `REQUESTS` (method, route template, status), times it in `LATENCY`, and
    writes its access line. A request that fails before any answer counts as a 500."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            seconds = time.perf_counter() - start
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            route = route_of(scope, self.routes)
            REQUESTS.labels(method=method, route=route, status=str(status)).inc()
            LATENCY.labels(method=method, route=route).observe(seconds)
            client = scope.get("client")
            log_request(method, route, status, seconds, client[0] if client else None)


# -- GET /metrics --------------------------------------------------------------------------------


class _Scrape:
    """A collector of the counters (this process's, or every worker's in multiprocess
    mode) and of the gauges read for this scrape."""

    def __init__(self, gauges: list[Metric]) -> None:
        self.gauges = gauges
        if MULTIPROCESS:
            self.counters: Collector = CollectorRegistry()
            MultiProcessCollector(self.counters)  # type: ignore[no-untyped-call]
        else:
            self.counters = REGISTRY

    def collect(self) -> Iterable[Metric]:
        yield from self.counters.collect()
        yield from self.gauges


def _gauges(request: Request) -> list[Metric]:
    """The gauges read from the database now: when it does not answer, only
    ``ikrar_database_up 0`` (the counters are still worth scraping)."""
    ledger: Ledger = request.app.state.runtime.ledger
    try:
        size = ledger.size()
        pending = outbox.pending_count(ledger.engine)
    except (DriverError, LedgerError) as e:
        logger.warning("metrics: the database did not answer: %s", type(e).__name__)
        return [GaugeMetricFamily("ikrar_database_up", "Whether the database answered this scrape.", value=0)]
    return [
        GaugeMetricFamily("ikrar_database_up", "Whether the database answered this scrape.", value=1),
        GaugeMetricFamily("ikrar_tree_size", "Entries in the ledger (its Merkle tree's size).", value=size),
        GaugeMetricFamily("ikrar_mail_outbox", "Notices in the mail outbox not sent yet.", value=pending),
    ]


def _authorized(header: str | None, token: str) -> bool:
    """Whether `header` is ``Bearer <token>`` (compared in constant time)."""
    scheme, _, presented = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode())


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """The metrics in Prometheus' text format, to a request that carries the bearer token
    IKRAR_METRICS_TOKEN; 401 to any other; 404 when no token is set."""
    token: str | None = request.app.state.runtime.settings.metrics_token
    if token is None:
        raise StarletteHTTPException(404)
    if not _authorized(request.headers.get("authorization"), token):
        return PlainTextResponse(
            "401: /metrics needs the bearer token IKRAR_METRICS_TOKEN\n",
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="ikrar-metrics"', "Cache-Control": "no-store"},
        )
    body = generate_latest(_Scrape(_gauges(request)))
    return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4, headers={"Cache-Control": "no-store"})
