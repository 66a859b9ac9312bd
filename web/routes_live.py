"""The live screen of a signing ceremony, for the projector in the hall and the
teleconference: no login, large type, the names as they sign.

    GET /live/{slug}                 the page (title, "37 dari 42 telah menandatangani", the
                                     names newest first, a QR code to the commitment's page,
                                     the closing state once nobody is left to sign)
    GET /live/{slug}/events          Server-Sent Events: one `signed` or `declined` event per
                                     ledger entry, `id:` its index (resumed by Last-Event-ID)
    GET /live/{slug}/state?after=N   the same events as JSON, for a screen that polls instead

Every fact comes from the ledger, read through `web.views.commitment_view` (one snapshot).

`ikrar serve` runs several worker processes and any of them may append a signature, so a
stream learns of new entries from the database: one `StreamHub` per worker reads the tree
size every `POLL_SECONDS` while a stream is open, and when it grows reads each watched
commitment once for all of its streams. A stream sends a keep-alive comment every
`KEEPALIVE_SECONDS`, ends when its client leaves and when the server shuts down (uvicorn
waits for open responses to finish: the hub hears SIGTERM/SIGINT through the handler uvicorn
installed, and ends every stream at once); a worker holds at most `MAX_STREAMS` streams and
answers 503 beyond them (the page then polls `/state`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import threading
import weakref
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from types import FrameType
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from ledger.db import DriverError
from ledger.errors import LedgerError
from ledger.nip import is_nip
from ledger.store import Ledger
from ledger.times import as_utc
from signing.cert_draw import qr_matrix
from signing.wording import format_clock_wib

from .cache import cached
from .errors import Busy, message_of, status_of
from .i18n import LANGS, Translator, language_of
from .pages import AnyPage, Page, ledger_of
from .routes_api import MAX_INDEX
from .views import Person, commitment_view

logger = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

POLL_SECONDS = 0.5  # how often a worker with open streams reads the tree size
KEEPALIVE_SECONDS = 15.0  # a comment on an idle stream, so that proxies keep it open
RETRY_MS = 2000  # how soon EventSource reconnects after a stream ends or breaks
MAX_STREAMS = 200  # open streams per worker process; beyond, 503 (the page polls instead)
BUSY_SECONDS = 30  # the Retry-After of that 503
POLL_FALLBACK_SECONDS = 3  # how often a page without a stream asks /state

Slug = Annotated[str, Path(max_length=80)]
After = Annotated[int, Query(ge=-1, le=MAX_INDEX, description="Send the events after this entry index.")]
MaybeAfter = Annotated[int | None, Query(ge=-1, le=MAX_INDEX, description="Send the events after this entry index.")]


# -- what the screen shows, from the ledger ------------------------------------------------


@dataclass(frozen=True)
class LiveEvent:
    """One `commitment.signed` or `commitment.declined` entry of the commitment, with who
    made it (name, capacity and unit as the commitment page shows them) and the counts once
    it was appended."""

    index: int
    kind: str  # "signed" or "declined"
    person: Person
    capacity: str
    time: datetime
    signed: int
    declined: int
    required: int

    def data(self) -> dict[str, Any]:
        """The event as JSON: the NIP only when the identifier is one (`ledger.nip.is_nip`)."""
        return {
            "index": self.index,
            "kind": self.kind,
            "name": self.person.name,
            "capacity": self.capacity,
            "unit": self.person.unit,
            "nip": self.person.nip if is_nip(self.person.nip) else None,
            "time": as_utc(self.time).isoformat().replace("+00:00", "Z"),
            "signed": self.signed,
            "declined": self.declined,
            "required": self.required,
        }

    def sse(self) -> str:
        """The event on the wire (text/event-stream): its index as `id`, its kind as `event`."""
        payload = json.dumps(self.data(), ensure_ascii=False, separators=(",", ":"))
        return f"id: {self.index}\nevent: {self.kind}\ndata: {payload}\n\n"


@dataclass(frozen=True)
class LiveState:
    """A commitment's signatures and declines in ledger order, as one snapshot read them."""

    slug: str
    title: str
    required: int
    events: tuple[LiveEvent, ...]

    @property
    def signed(self) -> int:
        return self.events[-1].signed if self.events else 0

    @property
    def declined(self) -> int:
        return self.events[-1].declined if self.events else 0

    @property
    def waiting(self) -> int:
        return self.required - self.signed - self.declined

    @property
    def complete(self) -> bool:
        """Nobody is left to sign (all signed, or the rest declined)."""
        return self.required > 0 and self.waiting <= 0

    @property
    def last(self) -> int:
        """The index of the newest event, -1 when there is none."""
        return self.events[-1].index if self.events else -1

    def after(self, index: int) -> tuple[LiveEvent, ...]:
        return tuple(e for e in self.events if e.index > index)

    def counts(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "title": self.title,
            "required": self.required,
            "signed": self.signed,
            "declined": self.declined,
            "complete": self.complete,
            "last": self.last,
        }


def live_state(ledger: Ledger, slug: str) -> LiveState:
    """The commitment `slug` as the live screen shows it. Raises NotFound."""
    view = commitment_view(ledger, slug)
    made: list[tuple[int, str, Person, str, datetime]] = [
        (s.index, "signed", s.person, s.signed_as, s.signed_at) for s in view.signed
    ]
    made += [(d.index, "declined", d.person, d.person.capacity, d.declined_at) for d in view.declined]
    required = len(view.commitment.signers)
    events, signed, declined = [], 0, 0
    for index, kind, person, capacity, time in sorted(made, key=lambda m: m[0]):
        signed += kind == "signed"
        declined += kind == "declined"
        events.append(LiveEvent(index, kind, person, capacity, time, signed, declined, required))
    return LiveState(view.commitment.slug, view.commitment.title, required, tuple(events))


def qr_svg(data: str, label: str) -> Markup:
    """The QR code of `data` as an inline SVG (one path, four modules of quiet zone): no
    image request, no style attribute (the CSP allows none)."""
    matrix = qr_matrix(data)
    n = len(matrix) + 8
    dark = "".join(f"M{x + 4} {y + 4}h1v1h-1z" for y, row in enumerate(matrix) for x, on in enumerate(row) if on)
    return Markup(
        '<svg class="live-qr-code" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" role="img" '
        'aria-label="{label}" shape-rendering="crispEdges"><rect width="{n}" height="{n}" fill="#fff"/>'
        '<path fill="#000" d="{d}"/></svg>'
    ).format(n=n, label=label, d=dark)


# -- the streams of one worker ---------------------------------------------------------------


class StreamHub:
    """The open event streams of one worker process, and the one poller that serves them:
    while a stream is open it reads the tree size every `poll` seconds and, when it grew,
    wakes every stream; each watched commitment is then read once for all its streams.
    At most `limit` streams; `close()` (the server shutting down) ends them all."""

    def __init__(self, ledger: Ledger, limit: int = MAX_STREAMS, poll: float = POLL_SECONDS) -> None:
        self.ledger = ledger
        self.limit = limit
        self.poll = poll
        self.open = 0
        self.size = -1  # the tree size last read; -1 before the first read
        self.closing = False
        self._changed = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None
        self._reads: dict[str, tuple[int, asyncio.Future[LiveState]]] = {}
        self.loop: asyncio.AbstractEventLoop | None = None  # the event loop of its streams

    def close_soon(self) -> None:
        """`close()` from any thread (a signal handler, a test)."""
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.close)

    @property
    def changed(self) -> asyncio.Event:
        """Set once the tree has grown (or the hub closes) after this event was taken."""
        return self._changed

    def enter(self) -> bool:
        """Count one more open stream; False when the hub is full or closing."""
        if self.closing or self.open >= self.limit:
            return False
        self.open += 1
        if self._poller is None or self._poller.done():
            self._reads.clear()  # nobody watched the tree: what was read may be old
            self.loop = asyncio.get_running_loop()
            self._poller = self.loop.create_task(self._poll())
            _hear_shutdown(self)
        return True

    def leave(self) -> None:
        self.open -= 1

    def close(self) -> None:
        """End every stream and refuse new ones (the server is shutting down)."""
        if not self.closing:
            logger.info("live streams closing: %d open", self.open)
        self.closing = True
        self._wake()

    def _wake(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def _poll(self) -> None:
        while self.open > 0 and not self.closing:
            try:
                size = await run_in_threadpool(self.ledger.size)
            except Exception as e:  # the database away for a moment: the streams wait, and say nothing
                logger.warning("live streams cannot read the tree size: %s", e)
                size = self.size
            if size != self.size:
                self.size = size
                self._wake()
            await asyncio.sleep(self.poll)

    async def state(self, slug: str) -> LiveState:
        """The commitment as read at the hub's tree size or later: one read shared by every
        stream that asks at that size. Raises NotFound (and the ledger's errors)."""
        held = self._reads.get(slug)
        if held is None or held[0] < self.size or (held[1].done() and _failed(held[1])):
            read = asyncio.ensure_future(run_in_threadpool(live_state, self.ledger, slug))
            held = self._reads[slug] = (self.size, read)
        return await asyncio.shield(held[1])


def _failed(future: asyncio.Future[LiveState]) -> bool:
    return future.cancelled() or future.exception() is not None


_HUBS: weakref.WeakSet[StreamHub] = weakref.WeakSet()
_HEARD: set[int] = set()  # the signals whose handler already tells the hubs


def _hear_shutdown(hub: StreamHub) -> None:
    """Close `hub` when the process is told to stop. uvicorn waits for every open response
    before it shuts the application down, and an event stream never ends by itself: so
    the handler uvicorn installed for SIGTERM and SIGINT is wrapped (on the event loop's
    thread, the main one, where uvicorn runs) to close the hubs first, then do as before."""
    _HUBS.add(hub)
    if threading.current_thread() is not threading.main_thread():
        return  # a server in a thread (tests): it ends its streams by closing the hub itself
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)
        if sig not in _HEARD and callable(previous):
            signal.signal(sig, _closing_then(previous))
            _HEARD.add(sig)


Handler = Callable[[int, FrameType | None], Any]


def _closing_then(previous: Handler) -> Handler:
    def handler(number: int, frame: FrameType | None) -> None:
        for hub in list(_HUBS):
            hub.close_soon()
        previous(number, frame)

    return handler


def hub_of(request: Request) -> StreamHub:
    """The worker's hub (one per application; made at the first stream)."""
    state = request.app.state
    hub: StreamHub | None = getattr(state, "live_hub", None)
    if hub is None:
        hub = state.live_hub = StreamHub(ledger_of(request))
    return hub


class EventStream(StreamingResponse):
    """A `text/event-stream` answer that leaves the hub when it ends, however it ends (done,
    the client gone, the server stopping)."""

    media_type = "text/event-stream"

    def __init__(self, content: AsyncIterator[str], hub: StreamHub) -> None:
        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}  # nginx: pass each event on at once
        super().__init__(content, headers=headers)
        self.hub = hub
        self.content = content

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.hub.leave()
            aclose = getattr(self.content, "aclose", None)
            if aclose is not None:
                await aclose()


async def _events(hub: StreamHub, slug: str, last: int, first: LiveState, changed: asyncio.Event) -> AsyncIterator[str]:
    """The stream: the events after `last`, then each new one as the ledger grows."""
    yield f"retry: {RETRY_MS}\n\n"
    state = first
    while not hub.closing:
        for event in state.after(last):
            yield event.sse()
            last = event.index
        try:
            await asyncio.wait_for(changed.wait(), KEEPALIVE_SECONDS)
        except TimeoutError:
            yield ": keep-alive\n\n"
            continue
        changed = hub.changed  # taken before the read: a growth during it wakes the next wait
        if hub.closing:
            return
        try:
            state = await hub.state(slug)
        except (LedgerError, DriverError) as e:  # the database away a moment: the next growth reads again
            logger.warning("live stream of %s cannot read the ledger: %s", slug, e)


def _resume_from(last_event_id: str | None, after: int | None) -> int:
    """The index after which to send: the Last-Event-ID of a reconnecting EventSource, else
    `after` (the newest entry the page already shows), else -1 (everything)."""
    if last_event_id is not None and last_event_id.strip().isdigit() and len(last_event_id) <= 12:
        return min(int(last_event_id), MAX_INDEX)
    return -1 if after is None else after


def _error(request: Request, exc: Exception, headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON `{"detail": ...}` in the visitor's language (the streams are read by scripts)."""
    t = Translator(language_of(request))
    return JSONResponse({"detail": message_of(exc, t)}, status_code=status_of(exc), headers=headers)


# -- the routes ------------------------------------------------------------------------------


@router.get("/live/{slug}", response_class=HTMLResponse)
@cached
def live_page(p: AnyPage, slug: Slug, lang: Annotated[str | None, Query(max_length=5)] = None) -> HTMLResponse:
    """The live screen, in the language of the switch (cookie) or of `?lang=`."""
    if lang in LANGS and lang != p.lang:
        p = Page(p.request, lang, Translator(lang), p.session, p.user)
    state = live_state(p.ledger, slug)
    public_url = f"{p.runtime.settings.base_url}/commitments/{state.slug}"
    newest = state.events[::-1]
    return p.render(
        "live.html",
        state=state,
        newest=newest,
        public_url=public_url,
        qr=qr_svg(public_url, p.t("live.qr_label", url=public_url)),
        clock=lambda moment: format_clock_wib(moment, p.lang),
        poll_seconds=POLL_FALLBACK_SECONDS,
    )


@router.get("/live/{slug}/state")
@cached
def live_state_json(request: Request, slug: Slug, after: After = -1) -> Response:
    """The counts and the events after entry `after`: what a screen without a stream polls."""
    try:
        state = live_state(ledger_of(request), slug)
    except LedgerError as e:
        return _error(request, e)
    return JSONResponse({**state.counts(), "events": [e.data() for e in state.after(after)]})


@router.get("/live/{slug}/events")
async def live_events(request: Request, slug: Slug, after: MaybeAfter = None) -> Response:
    """Server-Sent Events: each signature and decline of the commitment, `id:` its index."""
    hub = hub_of(request)
    if not hub.enter():
        return _error(request, Busy("live.busy", BUSY_SECONDS), headers={"Retry-After": str(BUSY_SECONDS)})
    try:
        changed = hub.changed
        first = await hub.state(slug)
    except BaseException as e:
        hub.leave()
        if isinstance(e, LedgerError):
            return _error(request, e)
        raise  # the database's errors: the app's handler answers 503
    last = _resume_from(request.headers.get("last-event-id"), after)
    return EventStream(_events(hub, slug, last, first, changed), hub)
