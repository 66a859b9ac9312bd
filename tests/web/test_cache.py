"""Public answers are rendered once per tree size and revalidated by ETag (web/cache.py):
a second visit at the same size is served from the cache, an append or a bumped epoch
changes the ETag, a matching If-None-Match is a 304 with no body, the language is part of
the key, a logged-in official's page is never cached nor public, and the cache holds its
byte budget. Renders are counted, never timed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from web import cache, pages, routes_api
from web.app import SecurityHeaders
from web.cache import PUBLIC, ResponseCache, Stored, matches

from .conftest import Site

PAGE = "/commitments/smart-city"
SIGN_BUTTON = 'href="/sign/smart-city"'  # only on the page of an official still asked to sign


@pytest.fixture()
def renders(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The templates rendered, in order (one per page the server really renders)."""
    seen: list[str] = []
    original = pages.templates.TemplateResponse

    def counting(request: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(name)
        return original(request, name, *args, **kwargs)

    monkeypatch.setattr(pages.templates, "TemplateResponse", counting)
    yield seen


def etag(r: httpx.Response) -> str:
    assert r.status_code == 200, (r.request.url, r.status_code, r.text[:300])
    tag = r.headers.get("etag")
    assert tag, f"{r.request.url} has no ETag"
    return tag


def size_in(tag: str) -> int:
    return int(tag.removeprefix('W/"').split("-")[0])


def the_cache(site: Site) -> ResponseCache:
    found: ResponseCache = site.app.state.response_cache
    return found


# -- served once per size --------------------------------------------------------------------


def test_a_second_visit_at_the_same_size_is_served_from_the_cache(site: Site, renders: list[str]) -> None:
    c = site.client()
    first, second = c.get(PAGE), c.get(PAGE)
    assert renders == ["commitment.html"]
    assert second.content == first.content and etag(second) == etag(first)
    assert size_in(etag(first)) == site.ledger.size()
    assert first.headers["cache-control"] == PUBLIC and first.headers["vary"] == "Cookie"
    assert site.client().get(PAGE).content == first.content  # another visitor, the same bytes
    assert renders == ["commitment.html"]
    # the twin: another URL (a query is part of the key) is rendered on its own
    c.get("/ledger")
    c.get("/ledger?start=0")
    assert renders == ["commitment.html", "ledger.html", "ledger.html"]


def test_an_append_changes_the_etag_and_the_page(site: Site, renders: list[str]) -> None:
    c = site.client()
    before = c.get(PAGE)
    assert "Pejabat 1" in before.text and c.get(PAGE).content == before.content
    site.world.sign(1)
    after = c.get(PAGE)
    assert size_in(etag(after)) == size_in(etag(before)) + 1
    assert after.content != before.content
    assert after.text.count('href="/v/') == before.text.count('href="/v/') + 1  # the new signature's link
    assert renders == ["commitment.html", "commitment.html"]
    stale = c.get(PAGE, headers={"If-None-Match": etag(before)})
    assert stale.status_code == 200 and stale.content == after.content


def test_a_matching_if_none_match_is_a_304_without_a_body(site: Site, renders: list[str]) -> None:
    c = site.client()
    tag = etag(c.get(PAGE))
    for header in (tag, tag.removeprefix("W/"), f'W/"1-00-id-e0-x", {tag}'):
        r = c.get(PAGE, headers={"If-None-Match": header})
        assert r.status_code == 304, header
        assert r.content == b"" and r.headers.get("content-length", "0") == "0"
        assert r.headers["etag"] == tag and r.headers["cache-control"] == PUBLIC and r.headers["vary"] == "Cookie"
        assert r.headers.get_list("content-security-policy") == [SecurityHeaders.CSP]
    assert renders == ["commitment.html"]
    # the twin: an ETag of another size, another language or nothing at all gets the page
    for header in (tag.replace('W/"', 'W/"9'), tag.replace("-id-", "-en-"), "*", ""):
        r = c.get(PAGE, headers={"If-None-Match": header})
        assert r.status_code == 200 and r.content and r.headers["etag"] == tag, header


def test_every_public_route_answers_with_an_etag_and_304(site: Site) -> None:
    index = site.world.sign(1).entry.index
    routes = [
        "/",
        PAGE,
        "/ledger",
        "/ledger?start=2",
        "/ledger/1",
        f"/v/{index}",
        "/checkpoint",
        "/api/v1/commitments",
        "/api/v1/commitments/smart-city/signatures",
        "/api/v1/commitments/smart-city/signatures.csv",
        "/api/v1/entries?start=1&limit=2",
        "/api/v1/entries/1",
        "/api/v1/proof/1",
        "/api/v1/proof/1?size=3",
        "/api/v1/consistency?old=2&new=4",
        f"/api/v1/verify/{index}",
    ]
    c = site.client()
    for path in routes:
        first = c.get(path)
        tag = etag(first)
        hit = c.get(path)
        assert hit.content == first.content and hit.headers["content-type"] == first.headers["content-type"], path
        assert c.get(path, headers={"If-None-Match": tag}).status_code == 304, path
    assert len(the_cache(site)) == len(routes)
    # the twin: what is not a public view of the ledger has no ETag
    for path in ("/login", "/docs", "/verify/upload", "/vkey", "/healthz"):
        r = site.client().get(path)
        assert r.status_code == 200 and "etag" not in r.headers, path


def test_the_api_is_one_answer_in_every_language(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = routes_api.commitment_summaries

    def counting(ledger: Any) -> Any:
        calls.append(1)
        return original(ledger)

    monkeypatch.setattr(routes_api, "commitment_summaries", counting)
    id_, en = site.client("id").get("/api/v1/commitments"), site.client("en").get("/api/v1/commitments")
    assert etag(id_) == etag(en) and id_.content == en.content and len(calls) == 1
    assert "vary" not in id_.headers and "-id-" not in etag(id_)  # no language in it
    site.world.sign(2)
    assert site.client().get("/api/v1/commitments").json()[0]["signed"] == 1 and len(calls) == 2


# -- who and what is never cached --------------------------------------------------------------


def test_a_logged_in_officials_page_is_never_cached_nor_public(site: Site, renders: list[str]) -> None:
    public = site.client().get(PAGE)
    tag = etag(public)
    assert SIGN_BUTTON not in public.text
    official = site.login(1)
    renders.clear()
    for _ in range(2):
        r = official.get(PAGE, headers={"If-None-Match": tag})
        assert r.status_code == 200 and SIGN_BUTTON in r.text and "Pejabat 1" in r.text
        assert "etag" not in r.headers and r.headers["cache-control"] == "no-store"
    assert renders == ["commitment.html", "commitment.html"]  # rendered for them every time
    again = site.client().get(PAGE)  # and nothing of theirs reached the cache
    assert again.content == public.content and SIGN_BUTTON not in again.text
    assert all("masuk sebagai" not in stored.body.decode() for stored in _stored(site))


def test_a_render_that_hands_out_a_form_token_is_not_stored(
    site: Site, renders: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    render = pages.Page.render

    def with_a_form(self: pages.Page, template: str, *args: Any, **kwargs: Any) -> Any:
        self.csrf_token()  # what a page with a form does: a nonce cookie, and no-store
        return render(self, template, *args, **kwargs)

    monkeypatch.setattr(pages.Page, "render", with_a_form)
    for _ in range(2):
        r = site.client().get(PAGE)
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store" and "etag" not in r.headers
        assert pages.FORM_COOKIE in r.headers["set-cookie"]
    assert len(the_cache(site)) == 0 and renders == ["commitment.html"] * 2
    # the twin: the same page without a form is stored, and served to a visitor whatever
    # other cookies they carry (the login form's nonce is no session)
    monkeypatch.setattr(pages.Page, "render", render)
    public = site.client().get(PAGE)
    assert len(the_cache(site)) == 1 and "set-cookie" not in public.headers
    visitor = site.client()
    visitor.get("/login")
    assert visitor.cookies.get(pages.FORM_COOKIE) and not visitor.cookies.get(pages.SESSION_COOKIE)
    served = visitor.get(PAGE)
    assert served.content == public.content and served.headers["etag"] == public.headers["etag"]
    assert renders == ["commitment.html"] * 3 + ["login.html"]


def test_errors_are_never_stored_nor_public(site: Site, renders: list[str]) -> None:
    c = site.client()
    for path in ("/ledger/999", "/api/v1/entries/999", "/commitments/no-such", "/api/v1/proof/1?size=999"):
        for _ in range(2):
            r = c.get(path)
            assert r.status_code in (400, 404), (path, r.status_code)
            assert "etag" not in r.headers and r.headers["cache-control"] == "no-store", path
    assert renders.count("error.html") == 4  # each HTML error rendered both times
    assert len(the_cache(site)) == 0
    assert etag(c.get("/ledger/1"))  # the twin: an entry that exists is public


# -- the key: language and epoch ----------------------------------------------------------------


def test_the_language_is_part_of_the_key(site: Site, renders: list[str]) -> None:
    id_, en = site.client("id"), site.client("en")
    page_id, page_en = id_.get(PAGE), en.get(PAGE)
    assert '<html lang="id">' in page_id.text and '<html lang="en">' in page_en.text
    assert etag(page_id) != etag(page_en) and "-id-" in etag(page_id) and "-en-" in etag(page_en)
    assert renders == ["commitment.html", "commitment.html"]
    assert en.get(PAGE, headers={"If-None-Match": etag(page_id)}).status_code == 200
    # the twin: the same language is one render, whoever asks
    assert site.client("id").get(PAGE).content == page_id.content
    assert site.client().get(PAGE).content == page_id.content  # Indonesian unless chosen
    assert en.get(PAGE).content == page_en.content
    assert renders == ["commitment.html", "commitment.html"]


def test_bumping_the_epoch_invalidates_everything(site: Site, renders: list[str]) -> None:
    c = site.client()
    first = etag(c.get(PAGE))
    assert c.get(PAGE, headers={"If-None-Match": first}).status_code == 304  # the twin: no bump, no change
    assert site.app.state.cache_epoch == 0 and "-e0-" in first
    cache.invalidate(site.app)
    r = c.get(PAGE, headers={"If-None-Match": first})
    assert r.status_code == 200 and "-e1-" in etag(r) and etag(r) != first
    assert renders == ["commitment.html", "commitment.html"]
    site.app.state.cache_epoch += 1  # the hook itself: any code may bump it
    assert "-e2-" in etag(c.get("/checkpoint")) and "-e2-" in etag(c.get(PAGE))
    assert renders == ["commitment.html"] * 3


# -- memory ----------------------------------------------------------------------------------------


def _stored(site: Site) -> list[Stored]:
    c = the_cache(site)
    return [s for s in (c.get(k) for k in c.keys_by_age()) if s is not None]


def _response(n: int, size: int = 1000) -> Stored:
    return Stored((("content-type", "text/plain"),), bytes([n % 256]) * size)


def test_the_cache_holds_its_byte_budget() -> None:
    small = ResponseCache(budget=64_000)
    for n in range(500):
        small.put((f"/x/{n}", 'W/"1"'), (0, 1), _response(n))
    assert small.nbytes <= 64_000 and 40 < len(small) < 64
    keys = small.keys_by_age()
    assert keys[-1] == ("/x/499", 'W/"1"') and ("/x/0", 'W/"1"') not in keys  # the least recently used went
    assert small.nbytes == sum(s.cost(k) for k in keys for s in [small.get(k)] if s is not None)
    assert not small.put(("/big", 'W/"1"'), (0, 1), _response(0, 64_000 // 8))  # over an eighth: never kept
    # the twin: with room for all, all are kept
    roomy = ResponseCache(budget=10_000_000)
    for n in range(500):
        roomy.put((f"/x/{n}", 'W/"1"'), (0, 1), _response(n))
    assert len(roomy) == 500 and roomy.nbytes > 500_000


def test_a_read_moves_a_response_to_the_fresh_end() -> None:
    c = ResponseCache(budget=3_100)  # room for 8 of these
    for n in range(8):
        assert c.put((f"/x/{n}", "e"), (0, 1), _response(n, 100))
    assert len(c) == 8 and c.get(("/x/0", "e")) is not None  # used: now the freshest
    c.put(("/x/8", "e"), (0, 1), _response(8, 100))
    assert ("/x/0", "e") in c.keys_by_age() and ("/x/1", "e") not in c.keys_by_age()


def test_only_the_newest_views_are_kept() -> None:
    c = ResponseCache(keep=2)
    for size in (5, 6, 7):
        c.put(("/", f"W/{size}"), (0, size), _response(size))
    assert [key[1] for key in c.keys_by_age()] == ["W/6", "W/7"]
    c.put(("/", "W/e1"), (1, 7), _response(8))  # a bumped epoch is newer than any size before it
    assert [key[1] for key in c.keys_by_age()] == ["W/7", "W/e1"]
    assert not c.put(("/", "W/4"), (0, 4), _response(4))  # a late render of an old view is not kept
    with pytest.raises(ValueError, match="positive budget"):
        ResponseCache(budget=0)


def test_the_server_cache_stays_within_its_budget(site: Site) -> None:
    store = the_cache(site)
    store.budget = 48_000  # an entry page is some 4-6 kB, an entry's JSON 1.3-2.5 kB: not room for all
    c = site.client()
    size = site.ledger.size()
    first = ("/ledger/0", etag(c.get("/ledger/0")))
    assert first in store.keys_by_age()
    for n in range(size):
        assert c.get(f"/ledger/{n}").status_code == 200
        assert c.get(f"/api/v1/entries/{n}").status_code == 200
    assert 24_000 < store.nbytes <= 48_000 and 5 < len(store) < 2 * size
    assert first not in store.keys_by_age()  # the least recently used went first


def test_matches_reads_an_if_none_match_list() -> None:
    tag = 'W/"7-abcd-id-e0-1234"'
    assert matches(tag, tag) and matches('"7-abcd-id-e0-1234"', tag) and matches(f'"x", {tag} ,"y"', tag)
    assert not matches(None, tag) and not matches("*", tag) and not matches('W/"7-abcd-en-e0-1234"', tag)
