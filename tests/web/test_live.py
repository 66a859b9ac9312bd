"""The live screen (`web/routes_live.py`): the page, the polling fallback, and the event
stream over real HTTP (uvicorn in a thread of the test, and `ikrar serve` with two workers),
on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from signing import actions, vouching
from tests.factories import ADMIN_NIP, ADMIN_PASSPHRASE, nip, passphrase
from web import routes_live
from web.routes_live import StreamHub

from .conftest import Site
from .live import Server, free_port, login_over_http, server_env, serving, set_up, sign_over_http

# -- reading a stream -----------------------------------------------------------------------


@dataclass(frozen=True)
class Sse:
    """One block of a text/event-stream: its fields, or a comment."""

    fields: dict[str, str]
    comment: str | None = None

    @property
    def data(self) -> dict[str, Any]:
        return json.loads(self.fields["data"])


class StreamReader:
    """The blocks of an open event stream, read as they come, with a deadline each."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.iter_lines()

    def next(self) -> Sse:
        fields: dict[str, str] = {}
        comment = None
        for line in self.lines:
            if line == "":
                if fields or comment is not None:
                    return Sse(fields, comment)
                continue
            if line.startswith(":"):
                comment = line[1:].strip()
                continue
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        raise EOFError("the stream ended")

    def event(self) -> Sse:
        """The next block that is an event (keep-alive comments and `retry:` skipped)."""
        while True:
            block = self.next()
            if "data" in block.fields:
                return block

    def rest(self) -> list[Sse]:
        """Every block until the stream ends."""
        out = []
        try:
            while True:
                out.append(self.next())
        except EOFError:
            return out


@contextmanager
def stream(base: str, path: str, headers: dict[str, str] | None = None, timeout: float = 10) -> Iterator[StreamReader]:
    with httpx.Client(base_url=base, timeout=httpx.Timeout(timeout)) as c, c.stream("GET", path, headers=headers) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["cache-control"] == "no-store"
        yield StreamReader(r)


# -- uvicorn in a thread, over the `site` app ------------------------------------------------


class ThreadServer:
    """uvicorn serving `site.app` on 127.0.0.1 from a thread of the test process (so the test
    can reach the app's hub); stopped at the end of the test."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(site.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.loop: asyncio.AbstractEventLoop | None = None

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        return self

    def hub(self) -> StreamHub:
        return self.site.app.state.live_hub

    def __exit__(self, *exc: object) -> None:
        hub = getattr(self.site.app.state, "live_hub", None)
        if hub is not None:
            hub.close_soon()  # uvicorn waits for open streams before it stops
        self.server.should_exit = True
        self.thread.join(30)


@pytest.fixture()
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep-alives every 0.3 s, so that streams notice the end of a test at once."""
    monkeypatch.setattr(routes_live, "KEEPALIVE_SECONDS", 0.3)


def wait_for(check: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# -- the page ---------------------------------------------------------------------------------


def test_the_page_shows_the_title_the_count_the_names_and_a_qr_code(site: Site) -> None:
    c = site.client()
    r = c.get("/live/smart-city")
    assert r.status_code == 200
    assert "0 dari 3 telah menandatangani" in r.text
    assert "Belum ada yang menandatangani." in r.text
    assert "Komitmen Bersama" in r.text
    assert (
        '<svg class="live-qr-code"' in r.text
        and 'aria-label="Kode QR ke http://testserver/commitments/smart-city"' in r.text
    )
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert re.findall(r"<script[^>]*>", r.text) == [
        re.search(r'<script src="/static/js/live\.js\?v=\w+" defer>', r.text).group(0)
    ]
    assert "style=" not in r.text  # the CSP allows no inline style
    assert 'data-last="-1"' in r.text

    site.world.sign(2)
    signed = site.world.sign(1)
    r = c.get("/live/smart-city")
    assert "2 dari 3 telah menandatangani" in r.text and "menunggu 1 lagi" in r.text
    names = re.findall(r'<span class="live-name">([^<]+)</span>', r.text)
    assert names == ["Pejabat 1", "Pejabat 2"]  # newest first
    assert re.search(r'class="live-item live-signed live-newest" data-index="(\d+)"', r.text).group(1) == str(
        signed.entry.index
    )
    assert '<span class="live-capacity">Kepala Dinas 1</span>' in r.text
    assert f'data-last="{signed.entry.index}"' in r.text
    assert re.search(r'id="live-done" class="live-done" role="status" hidden', r.text)
    assert "WIB</time>" in r.text


def test_all_signed_is_the_closing_state(site: Site) -> None:
    for n in (1, 2, 3):
        site.world.sign(n)
    r = site.client().get("/live/smart-city")
    assert "3 dari 3 telah menandatangani" in r.text
    assert re.search(r'id="live-done" class="live-done" role="status">Semua telah menandatangani</p>', r.text)
    assert '<body class="live live-complete">' in r.text
    assert 'id="live-waiting" hidden' in r.text
    en = site.client("en").get("/live/smart-city")
    assert "Everyone has signed" in en.text and "3 of 3 have signed" in en.text


def test_both_languages_by_the_switch_and_by_lang(site: Site) -> None:
    en = site.client("en").get("/live/smart-city")
    assert '<html lang="en">' in en.text and "0 of 3 have signed" in en.text and "Nobody has signed yet." in en.text
    assert '<a href="/lang/id?next=/live/smart-city"' in en.text  # the site's switch, back to this screen
    by_query = site.client().get("/live/smart-city?lang=en")
    assert '<html lang="en">' in by_query.text and "Scan to open this commitment" in by_query.text
    plain = site.client().get("/live/smart-city")
    assert '<html lang="id">' in plain.text and "Pindai untuk membuka komitmen ini" in plain.text
    ignored = site.client("en").get("/live/smart-city?lang=xx")
    assert '<html lang="en">' in ignored.text
    switched = site.client().get("/lang/en?next=/live/smart-city")
    assert switched.status_code == 303 and switched.headers["location"] == "/live/smart-city"


def test_an_unknown_commitment_is_a_404_in_the_page_language(site: Site) -> None:
    r = site.client().get("/live/tidak-ada")
    assert r.status_code == 404 and "Komitmen tidak-ada tidak ada." in r.text
    r = site.client("en").get("/live/tidak-ada/state")
    assert r.status_code == 404 and r.headers["content-type"] == "application/json"
    assert r.json() == {"detail": "There is no commitment tidak-ada."}
    assert site.client().get("/live/smart-city/state?after=-2").status_code == 422


def decline(site: Site, n: int, reason: str = "Sedang dinas luar kota") -> int:
    """Official `n` declines `smart-city` (rules 4: `commitment.declined`); its index."""
    done = actions.decline(site.world.ctx, "smart-city", nip(n), passphrase(n), reason, site.world.now())
    return done.entry.index


def test_a_decline_is_shown_and_nobody_left_is_the_closing_state(site: Site) -> None:
    site.world.sign(1)
    declined = decline(site, 2)
    c = site.client()
    r = c.get("/live/smart-city")
    assert "1 dari 3 telah menandatangani" in r.text and "1 menolak" in r.text and "menunggu 1 lagi" in r.text
    assert re.search(rf'class="live-item live-declined live-newest" data-index="{declined}"', r.text)
    assert '<strong class="live-mark">menolak</strong>' in r.text
    assert "Sedang dinas luar kota" not in r.text  # the reason is on the commitment's page, not the screen
    event = c.get(f"/live/smart-city/state?after={declined - 1}").json()["events"][0]
    assert (event["kind"], event["name"], event["capacity"]) == ("declined", "Pejabat 2", "Kepala Dinas 2")
    assert (event["signed"], event["declined"]) == (1, 1)
    site.world.sign(3)
    r = c.get("/live/smart-city")
    done = re.search(r'id="live-done" class="live-done" role="status">([^<]+)</p>', r.text)
    assert done and done.group(1) == "Tidak ada lagi yang ditunggu: 2 menandatangani, 1 menolak"
    state = c.get("/live/smart-city/state").json()
    assert (state["signed"], state["declined"], state["complete"]) == (2, 1, True)
    en = site.client("en").get("/live/smart-city")
    assert "Nobody is left to sign: 2 signed, 1 declined" in en.text


def test_an_official_without_a_nip_and_an_acting_one_are_named_as_they_signed(site: Site) -> None:
    w = site.world
    mayor = actions.register_official(
        w.ledger, None, "H. Abdullah Abu Bakar", "Wali Kota Kediri", "Pemerintah Kota Kediri", "official", w.now()
    )
    acting = actions.register_official(
        w.ledger,
        nip(5),
        "Budi Santoso, S.T.",
        "Kepala Dinas Perhubungan Kota Kediri",
        "Dinas Perhubungan",
        "official",
        w.now(),
        acting="Plt.",
        appointment="800.1.3.3/45/419.022/2026",
    )
    for official in (mayor, acting):
        vouching.invite(w.ctx, official, ADMIN_NIP, ADMIN_PASSPHRASE, w.now(), hours=72)
        actions.enrol(w.ctx, official.nip, f"frasa {official.nip} rahasia", w.now())
    actions.publish(w.ctx, "upacara", "Ikrar Upacara", "Kami berikrar.\n", [mayor.nip, acting.nip], "admin", w.now())
    for official in (mayor, acting):
        actions.sign(w.ctx, "upacara", official.nip, f"frasa {official.nip} rahasia", w.now())
    events = site.client().get("/live/upacara/state").json()["events"]
    assert [(e["name"], e["nip"]) for e in events] == [("H. Abdullah Abu Bakar", None), ("Budi Santoso, S.T.", nip(5))]
    assert events[0]["capacity"] == "Wali Kota Kediri"  # no NIP printed for an identifier that is not one
    assert events[1]["capacity"].startswith("Plt. Kepala Dinas Perhubungan Kota Kediri")
    page = site.client().get("/live/upacara").text
    assert mayor.nip not in page and nip(5) not in page  # the screen shows names and capacities only
    assert "Plt. Kepala Dinas Perhubungan Kota Kediri" in page


# -- the polling fallback -------------------------------------------------------------------


def test_the_state_gives_the_counts_and_the_events_after_an_index(site: Site) -> None:
    c = site.client()
    empty = c.get("/live/smart-city/state").json()
    assert empty == {
        "slug": "smart-city",
        "title": "Komitmen Bersama",
        "required": 3,
        "signed": 0,
        "declined": 0,
        "complete": False,
        "last": -1,
        "events": [],
    }
    first = site.world.sign(3).entry.index
    second = site.world.sign(1).entry.index
    state = c.get("/live/smart-city/state?after=-1").json()
    assert [e["index"] for e in state["events"]] == [first, second]
    e = state["events"][0]
    assert e["kind"] == "signed" and e["name"] == "Pejabat 3" and e["capacity"] == "Kepala Dinas 3"
    assert e["unit"] == "Dinas 3" and e["nip"] == nip(3) and e["time"].endswith("Z")
    assert (e["signed"], e["declined"], e["required"]) == (1, 0, 3)
    assert state["signed"] == 2 and state["last"] == second
    after = c.get(f"/live/smart-city/state?after={first}").json()
    assert [e["index"] for e in after["events"]] == [second] and after["events"][0]["signed"] == 2
    assert c.get(f"/live/smart-city/state?after={second}").json()["events"] == []
    cached = c.get(f"/live/smart-city/state?after={first}")
    assert cached.headers["cache-control"] == "public, max-age=2, must-revalidate"
    assert (
        c.get(f"/live/smart-city/state?after={first}", headers={"If-None-Match": cached.headers["etag"]}).status_code
        == 304
    )
    site.world.sign(2)
    done = c.get("/live/smart-city/state?after=-1").json()
    assert done["complete"] is True and done["signed"] == 3


# -- the stream, over HTTP (uvicorn in a thread) -------------------------------------------------


def test_the_stream_sends_each_signature_with_its_index_as_id(site: Site, quick: None) -> None:
    early = site.world.sign(2).entry.index
    with ThreadServer(site) as server, stream(server.base, "/live/smart-city/events") as s:
        first = s.next()
        assert first.fields == {"retry": "2000"}
        old = s.event()  # what the screen missed: everything, without an `after`
        assert old.fields["id"] == str(early) and old.fields["event"] == "signed" and old.data["name"] == "Pejabat 2"
        later = site.world.sign(1).entry.index
        new = s.event()
        assert new.fields["id"] == str(later) and new.fields["event"] == "signed"
        assert new.data == {
            "index": later,
            "kind": "signed",
            "name": "Pejabat 1",
            "capacity": "Kepala Dinas 1",
            "unit": "Dinas 1",
            "nip": nip(1),
            "time": new.data["time"],
            "signed": 2,
            "declined": 0,
            "required": 3,
        }
        assert s.next().comment == "keep-alive"  # nothing new: a comment keeps proxies from closing it


def test_the_stream_sends_a_decline_as_its_own_event(site: Site, quick: None) -> None:
    signed = site.world.sign(3).entry.index
    with ThreadServer(site) as server, stream(server.base, f"/live/smart-city/events?after={signed}") as s:
        s.next()
        declined = decline(site, 1)
        e = s.event()
        assert (e.fields["id"], e.fields["event"]) == (str(declined), "declined")
        assert (e.data["name"], e.data["kind"], e.data["signed"], e.data["declined"]) == ("Pejabat 1", "declined", 1, 1)


def test_a_stream_resumes_after_last_event_id_without_loss_or_repeat(site: Site, quick: None) -> None:
    a = site.world.sign(1).entry.index
    b = site.world.sign(2).entry.index
    with ThreadServer(site) as server:
        with stream(server.base, "/live/smart-city/events", {"Last-Event-ID": str(a)}) as s:
            assert s.event().fields["id"] == str(b)  # not a again
            c = site.world.sign(3).entry.index
            assert s.event().fields["id"] == str(c)
        # Last-Event-ID (the browser's reconnect) wins over the page's `after`.
        with stream(server.base, f"/live/smart-city/events?after={c}", {"Last-Event-ID": str(a)}) as s:
            assert [s.event().fields["id"] for _ in range(2)] == [str(b), str(c)]
        with stream(server.base, f"/live/smart-city/events?after={b}") as s:
            assert s.event().fields["id"] == str(c)
        with stream(server.base, "/live/smart-city/events", {"Last-Event-ID": "not-a-number"}) as s:
            assert s.event().fields["id"] == str(a)  # an id that is not ours: from the start


def test_one_poller_and_one_read_serve_every_stream_of_a_worker(
    site: Site, quick: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    sizes: list[int] = []
    read, size = routes_live.live_state, site.ledger.size
    monkeypatch.setattr(routes_live, "live_state", lambda ledger, slug: reads.append(slug) or read(ledger, slug))
    monkeypatch.setattr(site.ledger, "size", lambda: sizes.append(1) or size())
    with ThreadServer(site) as server:
        urls = ["/live/smart-city/events"] * 3
        with stream(server.base, urls[0]) as a, stream(server.base, urls[1]) as b, stream(server.base, urls[2]) as c:
            for s in (a, b, c):
                s.next()
            time.sleep(1.2)  # the poller's first reads are done
            reads.clear()
            polled = len(sizes)
            time.sleep(2.0)
            assert 1 <= len(sizes) - polled <= 5  # one read of the size each 0.5 s (not one per stream: 12)
            index = site.world.sign(1).entry.index
            assert [s.event().fields["id"] for s in (a, b, c)] == [str(index)] * 3
            assert reads == ["smart-city"]  # one read of the commitment for the three streams
        wait_for(lambda: server.hub().open == 0)
        polled = len(sizes)
        time.sleep(1.0)
        assert len(sizes) == polled  # no stream open: the poller stopped


def test_streams_are_bounded_and_a_closed_one_frees_its_place(site: Site, quick: None) -> None:
    site.app.state.live_hub = StreamHub(site.ledger, limit=2)
    with ThreadServer(site) as server:
        hub = server.hub()
        with stream(server.base, "/live/smart-city/events") as one, stream(server.base, "/live/smart-city/events"):
            one.next()
            assert hub.open == 2
            for lang, words in (("id", "Terlalu banyak layar langsung"), ("en", "Too many live screens")):
                r = httpx.get(f"{server.base}/live/smart-city/events", cookies={"ikrar_lang": lang}, timeout=5)
                assert r.status_code == 503 and r.headers["retry-after"] == "30"
                assert words in r.json()["detail"]
            assert (
                httpx.get(f"{server.base}/live/smart-city/state", timeout=5).status_code == 200
            )  # polling still works
        wait_for(lambda: hub.open == 0)  # the clients left: their streams ended and left the hub
        with stream(server.base, "/live/smart-city/events") as again:
            assert again.next().fields == {"retry": "2000"}
        wait_for(lambda: hub.open == 0)
        r = httpx.get(f"{server.base}/live/tidak-ada/events", timeout=5)
        assert r.status_code == 404 and hub.open == 0


def test_closing_the_hub_ends_every_stream_at_once(site: Site) -> None:
    with ThreadServer(site) as server:
        with stream(server.base, "/live/smart-city/events") as s, stream(server.base, "/live/smart-city/events") as t:
            s.next(), t.next()
            hub = server.hub()
            assert hub.open == 2
            started = time.monotonic()
            hub.close_soon()  # what SIGTERM does in `ikrar serve`
            assert s.rest() == [] and t.rest() == []  # each stream ends cleanly (a complete chunked body)
            assert time.monotonic() - started < 2  # not at the next keep-alive (15 s)
        wait_for(lambda: hub.open == 0)
        r = httpx.get(f"{server.base}/live/smart-city/events", timeout=5)
        assert r.status_code == 503


# -- the real server: two workers, signing through the form, SIGTERM -------------------------------

OFFICIALS = {
    1: ("Dr. Hendra Wijaya, M.T.", "frasa tanda tangan hendra"),
    2: ("Sri Wahyuni, S.Pd.", "frasa tanda tangan sri"),
}


@pytest.fixture()
def served(db_url: str, tmp_path: Path) -> tuple[dict[str, str], int]:
    """A ledger with two officials (with logins and keys) asked to sign `smart-city`, and
    the port its `ikrar serve` will listen on."""
    port = free_port()
    env = server_env(db_url, tmp_path, port)
    people = {nip(n): (name, "official", f"kata-sandi-{n}-masuk", phrase) for n, (name, phrase) in OFFICIALS.items()}
    set_up(env, people, "smart-city", "Kami berkomitmen.\n", [nip(n) for n in OFFICIALS])
    return env, port


def test_a_signature_on_one_worker_reaches_streams_on_every_worker(served: tuple[dict[str, str], int]) -> None:
    env, port = served
    with serving(env, port, workers=2) as base:
        with stream(base, "/live/smart-city/events") as s1, stream(base, "/live/smart-city/events") as s2:
            s1.next(), s2.next()
            with httpx.Client(base_url=base, timeout=30) as official:
                login_over_http(official, nip(1), "kata-sandi-1-masuk")
                index = sign_over_http(official, "smart-city", OFFICIALS[1][1])
            for s in (s1, s2):
                e = s.event()
                assert e.fields["id"] == str(index)
                assert e.data["name"] == "Dr. Hendra Wijaya, M.T." and e.data["capacity"] == "Kepala Dinas"
        state = httpx.get(f"{base}/live/smart-city/state", timeout=10).json()
        assert state["signed"] == 1 and state["last"] == index


def test_sigterm_ends_open_streams_and_the_server_stops_at_once(served: tuple[dict[str, str], int]) -> None:
    env, port = served
    server = Server(env, port, workers=1)
    base = server.start()
    try:
        with stream(base, "/live/smart-city/events", timeout=30) as s:
            s.next()
            started = time.monotonic()
            threading.Thread(target=server.stop, daemon=True).start()
            rest = s.rest()  # the stream ends cleanly: no error, no hang
            assert time.monotonic() - started < 10
            assert all("data" not in b.fields for b in rest)
        deadline = time.monotonic() + 20
        while server.proc is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert server.proc is None and time.monotonic() - started < 15, "the server waited for the stream"
        assert "timeout graceful shutdown exceeded" not in server.log()
    finally:
        server.kill()
