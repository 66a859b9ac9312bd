"""Public responses, rendered once per tree size: the ledger is append-only, so what a
public page or API answer says at tree size N never changes.

A GET route decorated with `@cached` is answered, for a visitor who is not logged in, in
one of three ways, decided by one read of the ledger (`current_view`: the tree size and
its root, the one the checkpoint of that size signs, from one snapshot):

- **304 Not Modified**, no body, when the request's `If-None-Match` names the current ETag;
- **from the cache**, the exact bytes rendered earlier for the same URL at the same view;
- **rendered** by the route as before; `CacheLayer` (an ASGI middleware) adds the public
  headers to the 200 answer and keeps its bytes for the next request.

The key of a response is its path and query and its ETag, which names everything the
bytes depend on::

    W/"<size>-<first 16 hex of the checkpoint root>[-<lang>]-e<epoch>[-d<passed>]-<build>"

- *size, root*: the view of the ledger. The root as well as the size, so that a database
  swapped for another (a restored copy, a reset demo) never matches an old ETag.
- *lang*: the page's language (the `ikrar_lang` cookie), for routes that render a `Page`,
  and for the signatures' CSV and XLSX, whose headers are in the reader's language. The
  JSON and text API answers the same bytes in every language (only its errors are
  translated, and errors are never cached), so its ETag has no language.
- *epoch*: ``request.app.state.cache_epoch`` (an int, 0 at start). **The hook for state
  that is not in the ledger** — say a banner the pages show when the server's self-audit
  finds a divergence: whoever changes such state bumps the epoch (`invalidate(app)`), and
  every cached response and every ETag handed out before stops matching. The epoch lives in
  one process: with ``ikrar serve --workers N`` each worker must be told (each runs its own
  audit, or reads the health from the database), as each holds its own cache.
- *passed*: how many of the commitments' deadlines (rules version 4) have passed, when the
  ledger has any: a page says "open" until a deadline and "closed" after it with no new
  entry, so the ETag changes, in every worker alike, when one passes.
- *build*: a digest of the code, templates, catalogues and static files of this release,
  so that a new release never answers 304 for a page the old one rendered.

A **weak** ETag derived from the view, not a strong one of the exact bytes: it can be
computed, and a 304 answered, without rendering anything (one ledger read), by every worker
alike (each holds its own cache; a strong ETag would need each to render the page first);
and the bytes are fully determined by what the ETag names. Weak comparison is what
`If-None-Match` uses anyway.

What else the public pages show does not change either: the register's people are only
ever added (never renamed or removed), and everyone an entry names is registered before
the entry; the organisation is fixed at `ikrar init`.

**Who is never served from the cache.** A request with a live session, that is a
logged-in official (their pages show their name and a logout form): it skips the cache
entirely, gets no ETag, and keeps the ``Cache-Control: no-store`` of `Page.render`. A
visitor's other cookies (the language, the `ikrar_form` nonce of the login form) hold
nothing a public page shows but the language. A response is stored only when it is a 200 to
a GET, sets no cookie and has no ``Cache-Control`` of its own (a page that hands out a CSRF
token has ``no-store``); every other answer of a cached route (an error: a 404 may be a 200
one append later) gets ``Cache-Control: no-store`` unless it has one.

**Headers of a public answer** (the 200 and the 304 alike): the ETag;
``Cache-Control: public, max-age=2, must-revalidate``; and for pages ``Vary: Cookie`` (the
language cookie and the session cookie choose what is shown). Two seconds, not zero:
nginx's ``proxy_cache`` stores nothing whose max-age is 0, and two seconds lets it absorb a
burst (say a hall full of people scanning the same certificate) while no reader ever sees a
view older than that; after that, ``must-revalidate`` makes it ask again (with
``proxy_cache_revalidate on``, a conditional request that costs the server one ledger read).
Every page states the tree size and checkpoint it shows, so even a two-second-old copy is a
true and checkable statement about the ledger.

**Memory.** `ResponseCache` is an LRU bounded by a byte budget (32 MB by default, counting
bodies, headers and keys), per process. Only the newest views matter: it keeps the
responses of the `KEEP_VIEWS` newest (epoch, size) pairs and drops older ones as soon as a
newer one is stored, and a response larger than an eighth of the budget is never stored.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import importlib
import inspect
import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger.errors import LedgerError
from ledger.store import Ledger

from .pages import Page, ledger_of

logger = logging.getLogger(__name__)

CACHE_BUDGET = 32 * 1024 * 1024  # bytes, per process
KEEP_VIEWS = 3  # the newest (epoch, size) pairs whose responses are kept
PUBLIC = "public, max-age=2, must-revalidate"  # see the module's docstring
PRIVATE = "no-store"  # every answer of a cached route that is not the public 200
ENTRY_OVERHEAD = 256  # bytes a stored response costs beyond its body, headers and key (objects, links)
SLOT = "ikrar.cache"  # where CacheLayer leaves a request's slot in the ASGI scope
_REQUEST = "ikrar_cache_request"  # the Request parameter `cached` adds to a route

Key = tuple[str, str]  # (path?query, ETag)
Generation = tuple[int, int]  # (epoch, tree size)
F = TypeVar("F", bound=Callable[..., Any])


@functools.cache
def build_id() -> str:
    """A digest of this release's code, templates, catalogues and static files (8 hex)."""
    digest = hashlib.sha256()
    for name in ("ledger", "signing", "web"):
        package = Path(importlib.import_module(name).__file__ or "").parent
        for path in sorted(package.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(package.parent).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:8]


# -- the view of the ledger and the ETag -------------------------------------------------


@dataclass(frozen=True)
class View:
    """What a public response at this moment is a function of: the tree, the epoch, and how
    many of the commitments' deadlines have passed (None: the ledger has none)."""

    size: int
    root: bytes
    epoch: int
    passed: int | None = None

    def etag(self, lang: str | None) -> str:
        parts = [str(self.size), self.root.hex()[:16], *([lang] if lang else []), f"e{self.epoch}"]
        if self.passed is not None:
            parts.append(f"d{self.passed}")
        return f'W/"{"-".join([*parts, build_id()])}"'


# The deadlines of the ledger at a tree size (they change only with an entry): read once a
# size and a worker, so that a request counts those passed without a query.
_deadlines: weakref.WeakKeyDictionary[Ledger, tuple[int, tuple[datetime, ...]]] = weakref.WeakKeyDictionary()


def current_view(ledger: Ledger, epoch: int, now: datetime | None = None) -> View | None:
    """The ledger's size and root, read in one snapshot; None when there is no ledger yet
    (such answers are not cached).

    The root is the Merkle tree's, from the stored subtree hashes (a handful of rows): it is
    the root the checkpoint of that size signs (`ikrar audit` checks it), read without
    verifying the checkpoint's signature on every request (that costs three times more).

    A page that shows a deadline says "open" until it passes and "closed" after, with no new
    entry: the view counts the deadlines passed at `now` (default: the wall clock), so that
    a response stored, and an ETag handed out, while one was ahead stops matching once it
    has passed — in every worker alike, each counting from the same ledger."""
    if not ledger.is_initialized():
        return None
    try:
        with ledger.read() as r:
            size = r.size()
            root = r.root(size) if size else None
            known = _deadlines.get(ledger)
            if known is None or known[0] != size:
                known = _deadlines[ledger] = (size, tuple(r.deadlines()))
    except LedgerError as e:
        logger.warning("no cache for this request, the ledger's view cannot be read: %s", e)
        return None
    if root is None:
        return None
    deadlines = known[1]
    passed = bisect.bisect_right(deadlines, now or datetime.now(UTC)) if deadlines else None
    return View(size, bytes(root), epoch, passed)


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names `etag` (weak comparison, RFC 9110 §13.1.2).
    ``*`` is not honoured: it would need the route to run to know that the page exists."""
    if not if_none_match:
        return False
    opaque = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == opaque for tag in if_none_match.split(","))


# -- the store ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """A rendered 200: its headers (without the security headers, which are added on the way
    out) and its exact body."""

    headers: tuple[tuple[str, str], ...]
    body: bytes

    def cost(self, key: Key) -> int:
        headers = sum(len(name) + len(value) for name, value in self.headers)
        return len(self.body) + headers + len(key[0]) + len(key[1]) + ENTRY_OVERHEAD

    def response(self) -> Response:
        return Response(self.body, headers=dict(self.headers))


class ResponseCache:
    """An LRU of rendered responses bounded by `budget` bytes, keeping only the responses of
    the `keep` newest views. Safe to share between threads."""

    def __init__(self, budget: int = CACHE_BUDGET, keep: int = KEEP_VIEWS) -> None:
        if budget <= 0 or keep <= 0:
            raise ValueError("a response cache needs a positive budget and keeps at least one view")
        self.budget = budget
        self.keep = keep
        self._entries: OrderedDict[Key, tuple[Generation, Stored, int]] = OrderedDict()
        self._generations: dict[Generation, set[Key]] = {}
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        """The bytes the stored responses cost, as counted against the budget."""
        return self._bytes

    def keys_by_age(self) -> list[Key]:
        """The keys held, least recently used first."""
        with self._lock:
            return list(self._entries)

    def get(self, key: Key) -> Stored | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found[1]

    def put(self, key: Key, generation: Generation, stored: Stored) -> bool:
        """Keep `stored` under `key`; False when it is too large to keep (over an eighth of
        the budget) or belongs to a view older than the `keep` newest."""
        cost = stored.cost(key)
        if cost > self.budget // 8:
            return False
        with self._lock:
            self._remove(key)
            self._generations.setdefault(generation, set()).add(key)
            self._entries[key] = (generation, stored, cost)
            self._bytes += cost
            while len(self._generations) > self.keep:
                self._drop_generation(min(self._generations))
            while self._bytes > self.budget:
                self._remove(next(iter(self._entries)))
            return key in self._entries

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generations.clear()
            self._bytes = 0

    def _remove(self, key: Key) -> None:
        found = self._entries.pop(key, None)
        if found is None:
            return
        generation, _, cost = found
        self._bytes -= cost
        keys = self._generations[generation]
        keys.discard(key)
        if not keys:
            del self._generations[generation]

    def _drop_generation(self, generation: Generation) -> None:
        for key in list(self._generations.get(generation, ())):
            self._remove(key)


# -- the wiring: a decorator for routes, a middleware that stores -----------------------------


@dataclass(frozen=True)
class Plan:
    """How one request's answer is cached: under which key, with which public headers."""

    key: Key
    generation: Generation
    headers: dict[str, str]


@dataclass
class Slot:
    """Left by `CacheLayer` in the scope of every GET/HEAD; `cached` fills in the plan
    when it lets the route render an answer that may be stored."""

    cache: ResponseCache
    plan: Plan | None = field(default=None)


def _plan(request: Request) -> Plan | None:
    """The plan of a request to a cached route, or None when it must skip the cache."""
    current: Page | None = getattr(request.state, "page", None)  # set by the `page` dependency
    if current is not None and (current.session is not None or current.user is not None):
        return None  # a logged-in official's page: theirs alone
    clock = getattr(request.app.state, "clock", None)
    view = current_view(ledger_of(request), getattr(request.app.state, "cache_epoch", 0), clock() if clock else None)
    if view is None:
        return None
    etag = view.etag(current.lang if current is not None else None)
    headers = {"ETag": etag, "Cache-Control": PUBLIC}
    if current is not None:
        headers["Vary"] = "Cookie"  # the language and the session come in cookies
    query = request.url.query
    return Plan((request.url.path + (f"?{query}" if query else ""), etag), (view.epoch, view.size), headers)


def cached(endpoint: F) -> F:
    """Serve a public GET route per view of the ledger: 304, cached bytes, or a render that
    `CacheLayer` stores. Put it under the ``@router.get(...)`` line. The route must be
    synchronous (FastAPI runs it, and this, in its thread pool) and its answer a function
    of the ledger's view, the URL and (for a `Page`) the language only."""
    if inspect.iscoroutinefunction(endpoint):
        raise TypeError(f"{endpoint.__name__}: @cached takes a synchronous route")

    # FastAPI passes the Request to one parameter only: the route's own, if it has one.
    signature = inspect.signature(endpoint)
    own = next((p.name for p in signature.parameters.values() if p.annotation in (Request, "Request")), None)
    name = own or _REQUEST

    @functools.wraps(endpoint)
    def route(*args: Any, **kwargs: Any) -> Any:
        request: Request = kwargs[name] if own else kwargs.pop(name)
        slot: Slot | None = request.scope.get(SLOT)
        plan = _plan(request) if slot is not None else None
        if slot is None or plan is None:
            return endpoint(*args, **kwargs)
        if matches(request.headers.get("if-none-match"), plan.key[1]):
            return Response(status_code=304, headers=plan.headers)
        stored = slot.cache.get(plan.key)
        if stored is not None:
            return stored.response()
        slot.plan = plan
        return endpoint(*args, **kwargs)

    # FastAPI reads the route's parameters from this signature (string annotations are
    # resolved in the route's own module, through __wrapped__), plus the Request we need.
    if own is None:
        extra = inspect.Parameter(_REQUEST, inspect.Parameter.KEYWORD_ONLY, annotation=Request)
        route.__signature__ = signature.replace(parameters=[*signature.parameters.values(), extra])  # type: ignore[attr-defined]
    return route  # type: ignore[return-value]


class CacheLayer:
    """ASGI middleware: gives every GET/HEAD a `Slot`, and when a `cached` route has
    rendered, adds the public headers to its 200 and stores the bytes (GET only), or marks
    any other answer of that route ``no-store``."""

    def __init__(self, app: ASGIApp, cache: ResponseCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        slot = Slot(self.cache)
        scope[SLOT] = slot
        keep: list[tuple[str, str]] | None = None
        body: list[bytes] = []

        async def store(message: Message) -> None:
            nonlocal keep
            plan = slot.plan
            if plan is None:
                await send(message)
                return
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if message["status"] == 200 and "set-cookie" not in headers and "cache-control" not in headers:
                    headers.update(plan.headers)
                    if scope["method"] == "GET":
                        keep = list(headers.items())
                elif "cache-control" not in headers:
                    headers["Cache-Control"] = PRIVATE
            elif message["type"] == "http.response.body" and keep is not None:
                body.append(message.get("body", b""))
                if not message.get("more_body", False):
                    self.cache.put(plan.key, plan.generation, Stored(tuple(keep), b"".join(body)))
            await send(message)

        await self.app(scope, receive, store)


def install(app: FastAPI, budget: int = CACHE_BUDGET) -> ResponseCache:
    """Give `app` a response cache (``app.state.response_cache``), its epoch
    (``app.state.cache_epoch = 0``) and the `CacheLayer` middleware."""
    cache = ResponseCache(budget)
    app.state.response_cache = cache
    app.state.cache_epoch = 0
    app.add_middleware(CacheLayer, cache=cache)
    return cache


def invalidate(app: FastAPI) -> None:
    """Bump the epoch: no response cached and no ETag handed out before matches any more
    (in this process). Call it when something a public page shows changes outside the ledger."""
    app.state.cache_epoch = getattr(app.state, "cache_epoch", 0) + 1
