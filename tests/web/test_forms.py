"""Form posts are bounded before anything parses them (`web.pages.FormLimits`): the body's
size on the stream, the number of fields and each field's size; the refusal comes before
the CSRF check, in the page's language."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.factories import nip
from web import pages

from .conftest import ADMIN, Site, csrf_of, password


def _many_fields(n: int, size: int = 10) -> dict[str, str]:
    return {f"f{i}": "x" * size for i in range(n)}


def test_too_many_fields_are_refused_before_the_csrf_check(site: Site) -> None:
    c = site.client()
    r = c.post("/login", data={"csrf_token": csrf_of(c, "/login"), **_many_fields(pages.MAX_FIELDS)})
    assert r.status_code == 413, "51 fields"
    assert "Formulir ini terlalu besar" in r.text and "50 isian" in r.text
    r = site.client("en").post("/login", data=_many_fields(pages.MAX_FIELDS + 1))
    assert r.status_code == 413 and "This form is too large: at most 50 fields" in r.text, "no token: still 413"
    ok = c.post("/login", data={"csrf_token": csrf_of(c, "/login"), **_many_fields(pages.MAX_FIELDS - 4)})
    assert ok.status_code == 422, "49 fields pass the limit and reach the form"


def test_a_field_over_64_kb_is_refused(site: Site) -> None:
    c = site.client()
    token = csrf_of(c, "/login")
    r = c.post("/login", data={"csrf_token": token, "nip": nip(1), "password": "x" * (pages.MAX_FIELD + 1)})
    assert r.status_code == 413 and "64 KB" in r.text
    r = c.post("/login", data={"csrf_token": token, "nip": nip(1), "password": "x" * pages.MAX_FIELD})
    assert r.status_code == 422, "64 KB exactly reaches the form (and is refused as a login)"
    wide = "é" * (pages.MAX_FIELD // 2 + 1)  # 2 bytes a character: over 64 KB once decoded
    assert c.post("/login", data={"csrf_token": token, "password": wide}).status_code == 413


def test_a_body_over_the_limit_is_refused_from_its_content_length_without_being_read(site: Site) -> None:
    c = site.client("en")
    body = urlencode({"a": "x" * (pages.FORM_LIMIT.body + 1)})
    r = c.post("/login", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413 and "This form is too large" in r.text
    assert r.headers["connection"] == "close"
    assert r.headers["x-frame-options"] == "DENY", "the security headers too"

    def chunks():  # no Content-Length: counted as it comes
        for _ in range(pages.FORM_LIMIT.body // 1024 + 2):
            yield b"a=" + b"x" * 1022

    r = c.post("/login", content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413


def test_files_and_multipart_fields_are_bounded_too(site: Site) -> None:
    c = site.client()
    token = csrf_of(c, "/login")
    r = c.post("/login", data={"csrf_token": token}, files={"f": ("a.txt", b"x" * 10, "text/plain")})
    assert r.status_code == 413, "a form of this site takes no file"
    r = c.post("/login", data={"csrf_token": token, "password": "x" * (pages.MAX_FIELD + 1)}, files={})
    assert r.status_code == 413
    many = {"csrf_token": token, **_many_fields(pages.MAX_FIELDS)}
    r = c.post("/login", files={k: (None, v) for k, v in many.items()})
    assert r.status_code == 413


def test_the_uploads_keep_their_own_limit(site: Site) -> None:
    r = site.client().post(
        "/verify/upload", files={"file": ("a.pdf", b"%PDF-1.7\n" + b"x" * 300_000, "application/pdf")}
    )
    assert r.status_code != 413, "a 300 kB PDF: under the upload's 5 MB, and not a form of FormLimits"


@pytest.mark.parametrize("size", [pages.MAX_TEXT, pages.MAX_TEXT + 1])
def test_the_commitment_text_may_be_up_to_100_kb(site: Site, size: int) -> None:
    admin = site.login(ADMIN)
    token = csrf_of(admin, "/admin/commitments/new")
    text = ("Kami berkomitmen, 100% & <sepenuh hati>. " * (size // 40 + 1))[:size]
    signers = [nip(n) for n in (1, 2, 3)]
    form = {"csrf_token": token, "title": "T", "slug": "teks-panjang", "text": text, "mode": "pick", "step": "preview"}
    r = admin.post("/admin/commitments/new", data={**form, "signer": signers})
    if size <= pages.MAX_TEXT:
        assert r.status_code == 200 and "teks-panjang" in r.text
    else:
        assert r.status_code == 413 and "teks komitmen maks. 100 KB" in r.text


def test_the_publish_form_takes_a_checkbox_per_official(site: Site) -> None:
    admin = site.login(ADMIN)
    token = csrf_of(admin, "/admin/commitments/new")
    ticked = [nip(n) for n in (1, 2, 3)] * 300  # 900 ticks: more than 50 fields, each small
    form = {"csrf_token": token, "title": "T", "slug": "banyak", "text": "X", "mode": "pick", "step": "preview"}
    assert admin.post("/admin/commitments/new", data={**form, "signer": ticked}).status_code == 200
    r = admin.post("/admin/commitments/new", data={**form, **_many_fields(60)})
    assert r.status_code == 422 and "Formulir ini terlalu besar" not in r.text, "60 fields: the form's own checks"
    r = admin.post("/admin/commitments/new", data={**form, "signer": ["1" * 18] * (pages.MAX_SIGNER_BOXES + 51)})
    assert r.status_code == 413


def test_forms_within_their_limits_work_as_before(site: Site) -> None:
    c = site.client()
    r = c.post("/login", data={"csrf_token": csrf_of(c, "/login"), "nip": nip(1), "password": password(1)})
    assert r.status_code == 303
