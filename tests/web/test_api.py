"""The JSON, CSV and text routes of DESIGN.md give exactly what an outside verifier needs,
and bad input of any kind gets a 4xx with a message, never a 500."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.checkpoint import Checkpoint, TlogProof
from ledger.merkle import verify_consistency
from tests.factories import nip, passphrase

from .conftest import ADMIN, Site, csrf_of


def test_an_entry_carries_its_exact_leaf_bytes_and_hex_hashes(site: Site) -> None:
    c = site.client()
    for index in range(site.ledger.size()):
        got = c.get(f"/api/v1/entries/{index}").json()
        entry = site.ledger.entry(index)
        assert set(got) == {"index", "kind", "body", "leaf", "leaf_hash", "prev"}
        leaf = base64.b64decode(got["leaf"], validate=True)
        assert leaf == entry.leaf
        assert got["leaf_hash"] == hashlib.sha256(b"\x00" + leaf).hexdigest()
        assert got["prev"] == entry.prev.hex()
        assert got["index"] == index and got["kind"] == entry.kind == got["body"]["kind"]


def test_entries_page_through_the_ledger(site: Site) -> None:
    c = site.client()
    size = site.ledger.size()
    page = c.get("/api/v1/entries", params={"start": 2, "limit": 3}).json()
    assert page["size"] == size and page["start"] == 2
    assert [e["index"] for e in page["entries"]] == [2, 3, 4]
    assert c.get("/api/v1/entries", params={"start": size}).json()["entries"] == []
    everything = c.get("/api/v1/entries").json()["entries"]
    assert [e["index"] for e in everything] == list(range(size))


def test_the_checkpoint_and_verifier_key_are_text_and_verify(site: Site) -> None:
    c = site.client()
    vkey = c.get("/vkey")
    assert vkey.headers["content-type"] == "text/plain; charset=utf-8"
    assert vkey.text == f"{site.ledger.verifier}\n"
    checkpoint = c.get("/checkpoint")
    assert checkpoint.headers["content-type"] == "text/plain; charset=utf-8"
    opened = Checkpoint.open(checkpoint.text, site.ledger.verifier)
    assert opened.size == site.ledger.size()


def test_a_proof_proves_the_entry_against_a_signed_checkpoint(site: Site) -> None:
    c = site.client()
    size = site.ledger.size()
    for index, at in ((0, None), (3, None), (2, 3), (size - 1, size)):
        r = c.get(f"/api/v1/proof/{index}", params={} if at is None else {"size": at})
        assert r.status_code == 200 and r.headers["content-type"] == "text/plain; charset=utf-8"
        proof = TlogProof.parse(r.text)
        checkpoint = proof.verify(site.ledger.entry(index).leaf_hash, site.ledger.verifier)
        assert checkpoint.size == (at or size) and proof.index == index
    wrong = TlogProof.parse(c.get("/api/v1/proof/2").text)
    with pytest.raises(Exception, match="does not lead to the root"):
        wrong.verify(site.ledger.entry(3).leaf_hash, site.ledger.verifier)


def test_a_consistency_proof_links_two_checkpoints(site: Site) -> None:
    c = site.client()
    size = site.ledger.size()
    r = c.get("/api/v1/consistency", params={"old": 2, "new": size})
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    hashes = [base64.b64decode(line, validate=True) for line in r.text.splitlines()]
    old, new = site.ledger.checkpoint(2), site.ledger.checkpoint(size)
    verify_consistency(2, size, old.root, new.root, hashes)
    with pytest.raises(Exception, match="consistency proof"):
        verify_consistency(2, size, new.root, new.root, hashes)


def test_commitments_and_their_signatures_as_json_and_csv(site: Site) -> None:
    signed = site.world.sign(2).entry
    c = site.client()
    listed = c.get("/api/v1/commitments").json()
    assert listed == [
        {
            "slug": "smart-city",
            "title": "Komitmen Bersama",
            "text_sha256": listed[0]["text_sha256"],
            "published_index": 5,
            "published_at": listed[0]["published_at"],
            "required": 3,
            "signed": 1,
        }
    ]
    assert listed[0]["published_at"].endswith("Z")
    detail = c.get("/api/v1/commitments/smart-city/signatures").json()
    assert detail["text"] == "Kami berkomitmen.\n"
    assert hashlib.sha256(detail["text"].encode()).hexdigest() == detail["commitment"]["text_sha256"]
    assert detail["signatures"] == [
        {
            "index": signed.index,
            "nip": nip(2),
            "name": "Pejabat 2",
            "title": "Kepala Dinas 2",
            "unit": "Dinas 2",
            "signed_at": signed.time.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "key": signed.fields["key"],
            "capacity": signed.fields["capacity"],  # rules 4: the capacity the signature names
            "revoked_later": False,
        }
    ]
    assert signed.fields["capacity"] == "Kepala Dinas 2"
    assert detail["declined"] == [] and detail["deadline"] is None
    assert [p["nip"] for p in detail["pending"]] == [nip(1), nip(3)]
    r = c.get("/api/v1/commitments/smart-city/signatures.csv?lang=en")
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="smart-city-signatures.csv"' in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Entry number", "NIP", "Name"]
    assert rows[1][:3] == [str(signed.index), f'="{nip(2)}"', "Pejabat 2"]


def test_csv_cells_never_start_a_formula(site: Site) -> None:
    from signing import actions, vouching
    from tests.factories import ADMIN_NIP, ADMIN_PASSPHRASE

    actions.register_official(
        site.ledger, "198001012005011002", '=HYPERLINK("x")', "+T", "@U", "official", site.world.now()
    )
    vouching.invite(
        site.world.ctx, actions.get_official(site.ledger, "198001012005011002"), ADMIN_NIP, ADMIN_PASSPHRASE,
        site.world.now(), 1,
    )  # fmt: skip
    actions.enrol(site.world.ctx, "198001012005011002", "frasa-sandi-formula", site.world.now())
    actions.publish(site.world.ctx, "rumus", "Rumus", "Teks.", ["198001012005011002"], "admin", site.world.now())
    actions.sign(site.world.ctx, "rumus", "198001012005011002", "frasa-sandi-formula", site.world.now())
    got = site.client().get("/api/v1/commitments/rumus/signatures.csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(got)))
    assert rows[1][2:5] == ['\'=HYPERLINK("x")', "'+T", "'@U"]
    assert rows[1][1] == '="198001012005011002"', "the NIP: the one formula, made of 18 digits checked"


BAD_API = [
    ("GET", "/api/v1/entries/-1"),
    ("GET", "/api/v1/entries/abc"),
    ("GET", "/api/v1/entries/1.5"),
    ("GET", "/api/v1/entries/99999999999999999999999999999999"),
    ("GET", f"/api/v1/entries/{2**62}"),
    ("GET", f"/api/v1/entries/{2**62 + 1}"),
    ("GET", "/api/v1/entries/%00"),
    ("GET", "/api/v1/entries/0x10"),
    ("GET", "/api/v1/entries?start=-1"),
    ("GET", "/api/v1/entries?limit=0"),
    ("GET", "/api/v1/entries?limit=1001"),
    ("GET", "/api/v1/entries?start=1e9"),
    ("GET", "/api/v1/entries?start=99999999999999999999999"),
    ("GET", "/api/v1/entries?start=&limit="),
    ("GET", "/api/v1/entries?limit=NaN"),
    ("GET", "/api/v1/proof/100"),
    ("GET", "/api/v1/proof/3?size=2"),
    ("GET", "/api/v1/proof/0?size=0"),
    ("GET", "/api/v1/proof/0?size=999999"),
    ("GET", f"/api/v1/proof/{2**62}?size={2**62}"),
    ("GET", "/api/v1/proof/0?size=-3"),
    ("GET", "/api/v1/consistency?old=3&new=2"),
    ("GET", "/api/v1/consistency?old=0&new=1"),
    ("GET", "/api/v1/consistency"),
    ("GET", "/api/v1/consistency?old=x&new=2"),
    ("GET", "/api/v1/consistency?old=1&new=99999999999999999999"),
    ("GET", "/api/v1/consistency?old=1&new=999"),
    ("GET", "/api/v1/commitments/nope/signatures"),
    ("GET", "/api/v1/commitments/" + "a" * 300 + "/signatures"),
    ("GET", "/api/v1/commitments/%F0%9F%98%80/signatures.csv"),
    ("GET", "/api/v1/nothing-here"),
    ("POST", "/checkpoint"),
    ("DELETE", "/api/v1/entries/0"),
    ("PUT", "/api/v1/commitments"),
    ("PATCH", "/vkey"),
]


@pytest.mark.parametrize("lang", ["id", "en"])
def test_bad_api_requests_get_a_json_4xx_in_the_chosen_language(site: Site, lang: str) -> None:
    c = site.client(lang)
    for method, path in BAD_API:
        r = c.request(method, path)
        assert 400 <= r.status_code < 500, (method, path, r.status_code, r.text[:200])
        body = r.json()
        assert set(body) == {"detail"} and isinstance(body["detail"], str) and body["detail"], (method, path)
    missing = c.get("/api/v1/entries/999").json()["detail"]
    assert missing == {"id": "Entri 999 tidak ada.", "en": "There is no entry 999."}[lang]
    assert c.get("/api/v1/entries/999").status_code == 404
    assert c.get("/api/v1/proof/3?size=2").status_code == 400
    assert c.post("/checkpoint").status_code == 405


BAD_PAGES = [
    "/ledger?start=abc",
    "/ledger?start=-4",
    "/ledger/-5",
    "/ledger/99999999999999999999",
    "/ledger/abc",
    "/commitments/tidak-ada",
    "/commitments/" + "x" * 500,
    "/commitments/%00",
    "/enrol/%25%00",
    "/lang/zz",
    "/no/such/page",
    "/static/nothing.css",
    "/sign/" + "x" * 500,
]


@pytest.mark.parametrize("lang", ["id", "en"])
def test_bad_page_requests_get_an_error_page_in_the_pages_language(site: Site, lang: str) -> None:
    c = site.client(lang)
    for path in BAD_PAGES:
        r = c.get(path)
        assert 400 <= r.status_code < 500 or (r.status_code == 303 and path.startswith("/sign")), (path, r.status_code)
    r = c.get("/commitments/tidak-ada")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert {"id": "Permintaan tidak dapat dipenuhi", "en": "The request cannot be fulfilled"}[lang] in r.text
    wrong_method = c.put("/")
    assert (
        wrong_method.status_code == 405 and {"id": "tidak didukung", "en": "not supported"}[lang] in wrong_method.text
    )


def test_bad_input_on_logged_in_pages_is_a_4xx_too(site: Site) -> None:
    admin = site.login(ADMIN)
    for path in (
        "/admin/officials/" + "9" * 40 + "/revoke",
        "/admin/officials/nope/revoke",
        "/sign/" + "x" * 100,
        "/admin?ok=<script>",
        "/sign/smart-city?done=maybe",
    ):
        r = admin.get(path)
        assert 400 <= r.status_code < 500 or r.status_code == 200, (path, r.status_code)
        assert "<script>" not in r.text.split("<main")[1]
    token = csrf_of(admin, "/admin")
    for path in (
        "/admin/officials/" + "1" * 41 + "/invite",
        "/admin/officials/nope/invite",
        f"/admin/officials/{nip(1)}x/revoke",
    ):
        r = admin.post(path, data={"csrf_token": token, "reason": "x"})
        assert 400 <= r.status_code < 500, (path, r.status_code)
    r = admin.post("/admin/officials/new", data={"csrf_token": token, "nip": "\x00" * 10, "name": "\u202e" * 5})
    assert 400 <= r.status_code < 500
    for field in ("name", "title", "unit"):
        form = {
            "csrf_token": token,
            "nip": "198001012005011002",
            "name": "A",
            "title": "B",
            "unit": "Dinas Sosial",
            field: "x\x00y",
        }
        r = admin.post("/admin/officials/new", data=form)
        assert r.status_code == 400 and "karakter kendali" in r.text, field
    form = {"csrf_token": token, "reason": "lupa\x00", "passphrase": passphrase(ADMIN)}
    r = admin.post(f"/admin/officials/{nip(4)}/revoke", data=form)
    assert r.status_code == 400 and "karakter kendali" in r.text
    r = admin.post(
        "/admin/commitments/new", data={"csrf_token": token, "title": "T\u202e", "text": "a\x00b", "mode": "all"}
    )
    assert 400 <= r.status_code < 500
    for path in ("/admin/officials/%00/revoke", "/admin/officials/1975%00/revoke"):
        assert admin.get(path).status_code == 404
    huge = admin.post("/admin/officials/new", data={"csrf_token": token, "nip": "1" * 10_000, "name": "n" * 100_000})
    assert 400 <= huge.status_code < 500
    official = site.login(1)
    token = csrf_of(official, "/me")
    r = official.post("/sign/smart-city", data={"csrf_token": token, "read": "yes", "passphrase": "p" * 5000})
    assert r.status_code == 422
    r = official.post(
        "/sign/smart-city", data={"csrf_token": token, "read": ["yes", "no"], "passphrase": passphrase(1)}
    )
    assert r.status_code in (303, 422)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(segment=st.text(min_size=1, max_size=40), value=st.text(max_size=30))
def test_no_path_or_parameter_makes_a_server_error(site: Site, segment: str, value: str) -> None:
    c = site.clients[0] if site.clients else site.client()
    for path, params in (
        ("/api/v1/entries/{}", None),
        ("/api/v1/proof/{}", {"size": value}),
        ("/api/v1/commitments/{}/signatures", None),
        ("/ledger/{}", None),
        ("/commitments/{}", None),
        ("/enrol/{}", None),
        ("/api/v1/entries", {"start": value}),
        ("/api/v1/consistency", {"old": segment, "new": value}),
        ("/ledger", {"start": value}),
    ):
        r = c.get(path.format(quote(segment, safe="")), params=params)
        assert r.status_code < 500, (path, segment, value, r.status_code)
