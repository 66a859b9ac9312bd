"""The work pages of application verification (issue 15, points 1-3 and 6), through the web
on SQLite and PostgreSQL: roles given on `/admin/roles`; a PD operator's request form with
its PDF attachments (too large, not a PDF: refused with the message, the rest of the form
kept); the Kepala PD signing; a reviewer returning it; the operator revising it from its last
revision; the Kepala signing revision 2; the review; the Kepala Dinas Kominfo's decision and
its letter. Each refusal says why in the page's language and appends nothing.

A draft is saved half filled ("Simpan draf" keeps what is typed): it reopens as typed with
what it lacks listed, the work home marks it "Belum lengkap", and signing it is a 409 that
opens no key, until it is completed."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfWriter

from ledger.application import MAX_ATTACHMENT
from ledger.application import REQUEST as FIELDS
from signing import actions
from signing.apps import AttachmentIn
from signing.keystore import KeyStore
from tests.factories import nip, passphrase
from web import accounts
from web.routes_apps_work import MAX_BODY, Work, keep_token, kept_from

from .conftest import ADMIN, Site, csrf_of, password

PD_A, PD_B = "Dinas Kesehatan", "Dinas Pendidikan"
HEAD, REVIEWER, OTHER_OPERATOR, OPERATOR, DECIDER = 1, 2, 3, 4, 5
OFFICE = "Bidang Aplikasi Informatika, Diskominfo"


def pdf(pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


REQUEST = {
    "name": "Sistem Informasi Rujukan Puskesmas",
    "description": "Rujukan pasien dari puskesmas ke rumah sakit secara daring.",
    "kind": "new",
    "developer_unit": "Bidang Pelayanan Kesehatan",
    "user_unit": "Puskesmas se-Kota Kediri",
    "contact": "Sari, 0354-111222, dinkes@kedirikota.go.id",
    "legal_basis": "Perpres 95/2018 tentang SPBE",
    "problem": "Rujukan masih dengan kertas dan telepon.",
    "need": "Rujukan dan pelacakan daring.",
    "goals": "Rujukan terkirim dalam satu jam.",
    "shared_app": "",
    "shared_why_not": "",
    "users_internal": "yes",
    "users_count": "1.500",
    "target_date": "2027-06-30",
    "budget_amount": "250.000.000",
    "budget_source": "APBD",
    "fiscal_year": "2027",
    "builder": "vendor",
    "vendor": "belum ditentukan",
    "data_processed": "Data pasien rujukan dan fasilitas kesehatan.",
    "personal_data": "yes",
    "specific_personal_data": "yes",
    "dpia_done": "yes",
    "hosting": "city_dc",
    "hosting_reason": "",
    "splp": "yes",
    "sso": "yes",
    "integration_note": "Terhubung dengan SATUSEHAT melalui SPLP.",
    "security_testing": "Uji penetrasi oleh BSSN sebelum digunakan.",
}
CHECKLIST = {
    "architecture-finding": "fits",
    "duplication-finding": "concern",
    "duplication-note": "Periksa kemiripan dengan SATUSEHAT.",
    "hosting-finding": "fits",
    "integration-finding": "fits",
    "security-finding": "fits",
    "personal_data-finding": "concern",
    "personal_data-note": "DPIA perlu diperbarui.",
}


@dataclass
class People:
    """The site's officials, each logged in (`c[n]`), the roles given by the admin on the web."""

    site: Site
    c: dict[int, TestClient]


def grant(admin: TestClient, n: int, role: str, unit: str, grant: str = "yes") -> Any:
    token = csrf_of(admin, "/admin/roles")
    data = {"csrf_token": token, "nip": nip(n), "role": role, "unit": unit, "grant": grant}
    return admin.post("/admin/roles", data={**data, "reason": "SK Wali Kota 12/2026", "passphrase": passphrase(ADMIN)})


def kinds(site: Site, since: int) -> list[str]:
    return [site.ledger.entry(i).kind for i in range(since, site.ledger.size())]


@pytest.fixture()
def people(site: Site) -> People:
    """Officials 1-5 with logins and keys; the admin gives them their roles on `/admin/roles`:
    1 heads PD A, 4 operates for PD A, 3 for PD B, 2 reviews, 5 is the Kepala Dinas Kominfo."""
    site.world.official(DECIDER)
    accounts.set_password(site.ledger, nip(DECIDER), password(DECIDER), site.clock())
    admin = site.login(ADMIN)
    size = site.ledger.size()
    for n, role, unit in (
        (HEAD, "pd-head", PD_A),
        (OPERATOR, "pd-operator", PD_A),
        (OTHER_OPERATOR, "pd-operator", PD_B),
        (REVIEWER, "reviewer", OFFICE),
        (DECIDER, "kominfo-head", "Dinas Komunikasi dan Informatika"),
    ):
        r = grant(admin, n, role, unit)
        assert r.status_code == 303 and r.headers["location"].startswith("/admin/roles?ok=granted"), r.text[:2000]
    assert kinds(site, size) == ["role.assigned"] * 5
    page = admin.get("/admin/roles").text
    assert "Kepala Perangkat Daerah" in page and PD_A in page and "SK Wali Kota 12/2026" in page
    c = {n: site.login(n) for n in (HEAD, REVIEWER, OTHER_OPERATOR, OPERATOR, DECIDER)}
    c[ADMIN] = admin
    return People(site, c)


def save(
    c: TestClient, query: str, fields: dict[str, str], files: Sequence[tuple[str, str, bytes]] = (), page: str = ""
) -> Any:
    """Send the request form as a browser does: the CSRF token first, the fields, the files."""
    token = csrf_of(c, page or "/kerja/aplikasi")
    data = {"csrf_token": token, **fields}
    upload = [(field, (name, data_, "application/pdf")) for field, name, data_ in files]
    return c.post(f"/kerja/aplikasi/simpan?{query}", data=data, files=upload or None)


def hidden(html: str) -> dict[str, str]:
    """The hidden fields of the form (the kept attachments' tokens and names)."""
    return {m[1]: unescape(m[2]) for m in re.finditer(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html)}


def draft_id(site: Site) -> int:
    drafts = site.ledger.register.drafts(PD_A)
    assert len(drafts) == 1
    found = drafts[0].id
    assert found is not None
    return int(found)


def test_roles_are_given_and_withdrawn_on_the_admin_page(people: People) -> None:
    site, admin = people.site, people.c[ADMIN]
    size = site.ledger.size()
    r = grant(admin, OPERATOR, "pd-head", "Dinas Tidak Ada")  # not an agency of the city's list
    assert r.status_code == 400 and "Dinas Tidak Ada" in unescape(r.text) and 'aria-invalid="true"' in r.text
    r = grant(admin, OPERATOR, "pd-operator", PD_A)  # held already: the rules say so, nothing written
    assert r.status_code in (403, 409) and site.ledger.size() == size
    token = csrf_of(admin, "/admin/roles")
    data = {"csrf_token": token, "nip": nip(OTHER_OPERATOR), "role": "pd-operator", "unit": PD_B, "grant": "no"}
    r = admin.post("/admin/roles", data={**data, "reason": "pindah tugas", "passphrase": "salah"})
    assert r.status_code == 403 and "Frasa sandi" in r.text and site.ledger.size() == size
    r = admin.post("/admin/roles", data={**data, "reason": "pindah tugas", "passphrase": passphrase(ADMIN)})
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/roles?ok=withdrawn")
    withdrawn = site.ledger.entry(site.ledger.size() - 1)
    assert withdrawn.kind == "role.assigned" and withdrawn.fields["grant"] is False
    assert withdrawn.fields["attested_by"] == nip(ADMIN)
    page = admin.get("/admin/roles").text
    assert "pindah tugas" in page and "Dicabut" in page
    r = people.c[OTHER_OPERATOR].get("/kerja/aplikasi")  # no role left: refused, in Indonesian
    assert r.status_code == 403 and "Anda belum memegang peran" in r.text
    english = site.login(OTHER_OPERATOR, lang="en").get("/kerja/aplikasi")
    assert english.status_code == 403 and "You hold none" in english.text


def test_the_whole_flow(people: People) -> None:
    site, c = people.site, people.c
    start = site.ledger.size()
    op = c[OPERATOR]

    home = op.get("/kerja/aplikasi")
    assert home.status_code == 200 and "Buat permohonan baru" in home.text
    form = op.get("/kerja/aplikasi/baru")
    assert form.status_code == 200 and "Nama aplikasi" in form.text and PD_A in form.text
    assert 'enctype="multipart/form-data"' in form.text
    english = site.login(OPERATOR, lang="en").get("/kerja/aplikasi/baru")
    assert "Application name" in english.text and "Nama aplikasi" not in english.text

    query = "unit=Dinas+Kesehatan"
    # A file over the limit: 413, said next to its field; the PDF beside it is kept, and the answers.
    huge = b"%PDF-1.7\n" + b"0" * MAX_ATTACHMENT
    files = [("new-0-file", "kak.pdf", pdf()), ("new-1-file", "besar.pdf", huge)]
    r = save(op, query, {**REQUEST, "new-0-title": "Kerangka Acuan Kerja", "new-0-internal": "yes"}, files)
    assert r.status_code == 413, r.text[:3000]
    text = unescape(r.text)
    assert "«besar.pdf» lebih besar dari 10 MB" in text and 'id="new-0-file-error"' in r.text
    assert 'value="Sistem Informasi Rujukan Puskesmas"' in r.text  # the form kept
    kept = hidden(r.text)
    assert kept["keep-0-file"] == "kak.pdf" and "Kerangka Acuan Kerja" in r.text
    assert not site.ledger.register.drafts(PD_A) and site.ledger.size() == start

    # Not a PDF: refused with its reason (422); a field left blank is marked next to it.
    fields = {**REQUEST, "name": "", **{k: v for k, v in kept.items() if k.startswith("keep-")}}
    fields["keep-0-title"], fields["keep-0-internal"] = "Kerangka Acuan Kerja", "yes"
    r = save(op, query, fields, [("new-0-file", "rab.docx", b"PK\x03\x04 not a pdf")])
    assert r.status_code == 422
    assert "«rab.docx» bukan PDF" in unescape(r.text)
    # fix the name; the kept file stays kept, a second PDF comes, public this time
    fields["name"] = REQUEST["name"]
    r = save(op, query, fields)
    assert r.status_code == 303 and r.headers["location"].startswith("/kerja/aplikasi?ok=saved"), r.text[:3000]
    draft = draft_id(site)
    r = op.get(f"/kerja/aplikasi/draf/{draft}")
    assert r.status_code == 200 and "Kerangka Acuan Kerja" in r.text
    fields = {**REQUEST, **{k: v for k, v in hidden(r.text).items() if k.startswith("keep-")}}
    fields["keep-0-title"], fields["keep-0-internal"] = "Kerangka Acuan Kerja", "yes"
    r = save(op, f"draf={draft}", fields, [("new-0-file", "rab.pdf", pdf(2))], page=f"/kerja/aplikasi/draf/{draft}")
    assert r.status_code == 303
    assert draft_id(site) == draft
    request = site.ledger.register.draft(draft)
    assert request is not None and '"prepared_by":"' + nip(OPERATOR) + '"' in request.request_json
    assert site.ledger.size() == start  # drafts are not on the ledger

    # Another PD's operator cannot see, change, delete or read the attachments of PD A's draft.
    other = c[OTHER_OPERATOR]
    assert other.get(f"/kerja/aplikasi/draf/{draft}").status_code == 403
    r = save(other, f"draf={draft}", {**REQUEST, "name": "Dibajak"})
    assert r.status_code == 403 and "Dibajak" not in site.ledger.register.draft(draft).request_json
    r = other.post(f"/kerja/aplikasi/draf/{draft}/hapus", data={"csrf_token": csrf_of(other, "/kerja/aplikasi")})
    assert r.status_code == 403 and site.ledger.register.draft(draft) is not None
    sha = re.search(r'"sha256":"([0-9a-f]{64})"', request.request_json)
    assert sha is not None
    assert other.get(f"/kerja/aplikasi/draf/{draft}/lampiran/{sha[1]}").status_code == 403
    got = op.get(f"/kerja/aplikasi/draf/{draft}/lampiran/{sha[1]}")
    assert got.status_code == 200 and got.content.startswith(b"%PDF-")

    # The Kepala PD reads and signs; a wrong passphrase signs nothing.
    head = c[HEAD]
    assert "Baca dan tandatangani" in head.get("/kerja/aplikasi").text
    page = head.get(f"/kerja/aplikasi/draf/{draft}/tandatangan")
    assert page.status_code == 200
    assert "Anda menandatangani sebagai Pejabat 1, Kepala Dinas 1" in unescape(page.text)
    assert "Sistem Informasi Rujukan Puskesmas" in page.text and "Uji penetrasi oleh BSSN" in page.text
    digest = hidden(page.text)["sha256"]
    token = csrf_of(head, f"/kerja/aplikasi/draf/{draft}/tandatangan")
    sign = {"csrf_token": token, "sha256": digest}
    r = head.post(f"/kerja/aplikasi/draf/{draft}/tandatangan", data={**sign, "passphrase": "salah sekali"})
    assert r.status_code == 403 and "Frasa sandi" in r.text and site.ledger.size() == start
    r = head.post(f"/kerja/aplikasi/draf/{draft}/tandatangan", data={**sign, "passphrase": passphrase(HEAD)})
    assert r.status_code == 303, r.text[:3000]
    submitted = site.ledger.entry(site.ledger.size() - 1)
    app = submitted.fields["app"]
    assert (
        submitted.kind == "app.submitted" and submitted.fields["revision"] == 1 and submitted.fields["nip"] == nip(HEAD)
    )
    assert r.headers["location"] == f"/kerja/aplikasi?ok=submitted&app={app}#app-{app}"
    assert site.ledger.register.draft(draft) is None

    # The reviewer sees it waiting and returns it with reasons.
    rev = c[REVIEWER]
    assert app in rev.get("/kerja/aplikasi").text
    page = rev.get(f"/kerja/aplikasi/{app}/telaah")
    assert page.status_code == 200 and "Daftar periksa" in page.text
    internal = re.search(r'"sha256":"([0-9a-f]{64})"', submitted.fields["request"])
    assert internal is not None and rev.get(f"/kerja/aplikasi/{app}/lampiran/{internal[1]}").status_code == 200
    token = csrf_of(rev, f"/kerja/aplikasi/{app}/telaah")
    r = rev.post(f"/kerja/aplikasi/{app}/kembalikan", data={"csrf_token": token, "revision": "1", "reasons": ""})
    assert r.status_code == 422 and site.ledger.entry(site.ledger.size() - 1).kind == "app.submitted"
    reasons = "Lengkapi analisis biaya.\nJelaskan integrasi dengan SATUSEHAT."
    r = rev.post(f"/kerja/aplikasi/{app}/kembalikan", data={"csrf_token": token, "revision": "1", "reasons": reasons})
    assert r.status_code == 303
    returned = site.ledger.entry(site.ledger.size() - 1)
    assert returned.kind == "app.returned" and returned.fields["reasons"] == reasons.splitlines()

    # The operator revises from the last revision; the Kepala signs revision 2.
    assert f"/kerja/aplikasi/{app}/revisi" in op.get("/kerja/aplikasi").text
    page = op.get(f"/kerja/aplikasi/{app}/revisi")
    assert page.status_code == 200 and "Lengkapi analisis biaya." in page.text
    assert 'value="Sistem Informasi Rujukan Puskesmas"' in page.text and "250.000.000" in page.text
    fields = {**REQUEST, "budget_amount": "275.000.000"}
    fields |= {k: v for k, v in hidden(page.text).items() if k.startswith("keep-")}
    fields |= {"keep-0-title": "Kerangka Acuan Kerja", "keep-0-internal": "yes", "keep-1-title": "RAB"}
    r = save(op, f"revisi={app}", fields, page=f"/kerja/aplikasi/{app}/revisi")
    assert r.status_code == 303, r.text[:3000]
    draft = draft_id(site)
    assert site.ledger.register.draft(draft).app == app
    assert op.get(f"/kerja/aplikasi/{app}/revisi").headers["location"] == f"/kerja/aplikasi/draf/{draft}"
    page = head.get(f"/kerja/aplikasi/draf/{draft}/tandatangan")
    assert "Lengkapi analisis biaya." in page.text and "Rp 275.000.000" in page.text
    token = csrf_of(head, f"/kerja/aplikasi/draf/{draft}/tandatangan")
    data = {"csrf_token": token, "sha256": hidden(page.text)["sha256"], "passphrase": passphrase(HEAD)}
    r = head.post(f"/kerja/aplikasi/draf/{draft}/tandatangan", data=data)
    assert r.status_code == 303
    second = site.ledger.entry(site.ledger.size() - 1)
    assert (second.kind, second.fields["app"], second.fields["revision"]) == ("app.submitted", app, 2)

    # The reviewer reviews; a point left without its finding is marked, nothing recorded.
    token = csrf_of(rev, f"/kerja/aplikasi/{app}/telaah")
    partial = {k: v for k, v in CHECKLIST.items() if not k.startswith("security")}
    r = rev.post(f"/kerja/aplikasi/{app}/telaah", data={"csrf_token": token, "revision": "2", **partial})
    assert r.status_code == 422 and 'id="security-finding-error"' in r.text
    assert site.ledger.entry(site.ledger.size() - 1).kind == "app.submitted"
    r = rev.post(f"/kerja/aplikasi/{app}/telaah", data={"csrf_token": token, "revision": "2", **CHECKLIST})
    assert r.status_code == 303
    assert site.ledger.entry(site.ledger.size() - 1).kind == "app.reviewed"

    # A reviewer cannot decide: 403, nothing appended.
    size = site.ledger.size()
    token = csrf_of(rev, "/kerja/aplikasi")
    decision = {"csrf_token": token, "revision": "2", "decision": "recommended", "notes": ""}
    r = rev.post(f"/kerja/aplikasi/{app}/putusan", data={**decision, "passphrase": passphrase(REVIEWER)})
    assert r.status_code == 403 and site.ledger.size() == size
    assert rev.get(f"/kerja/aplikasi/{app}/putusan").status_code == 403

    # The Kepala Dinas Kominfo decides, with notes; the letter is linked.
    boss = c[DECIDER]
    home = boss.get("/kerja/aplikasi")
    assert f"/kerja/aplikasi/{app}/putusan" in home.text
    page = boss.get(f"/kerja/aplikasi/{app}/putusan")
    assert page.status_code == 200 and "Periksa kemiripan dengan SATUSEHAT." in page.text
    assert "Anda menandatangani sebagai Pejabat 5, Kepala Dinas 5" in unescape(page.text)
    token = csrf_of(boss, f"/kerja/aplikasi/{app}/putusan")
    decision = {"csrf_token": token, "revision": "2", "decision": "recommended_with_notes", "notes": ""}
    r = boss.post(f"/kerja/aplikasi/{app}/putusan", data={**decision, "passphrase": passphrase(DECIDER)})
    assert r.status_code == 422 and 'id="notes-error"' in r.text and site.ledger.size() == size
    notes = "Perbarui DPIA sebelum digunakan.\nTempatkan di pusat data Pemerintah Kota."
    r = boss.post(
        f"/kerja/aplikasi/{app}/putusan", data={**decision, "notes": notes, "passphrase": passphrase(DECIDER)}
    )
    assert r.status_code == 303 and r.headers["location"] == f"/kerja/aplikasi/{app}/putusan?done=1"
    decided = site.ledger.entry(site.ledger.size() - 1)
    assert decided.kind == "app.decided" and decided.fields["notes"] == notes.splitlines()
    assert decided.fields["nip"] == nip(DECIDER) and decided.fields["decision"] == "recommended_with_notes"
    done = boss.get(f"/kerja/aplikasi/{app}/putusan?done=1")
    assert f'href="/aplikasi/{app}/rekomendasi.pdf"' in done.text and "Keputusan ditandatangani" in done.text
    assert kinds(site, start) == [
        "app.submitted",
        "app.returned",
        "app.submitted",
        "app.reviewed",
        "app.decided",
    ]


def test_a_body_over_the_limit_is_refused_unread(people: People) -> None:
    op = people.c[OPERATOR]
    token = csrf_of(op, "/kerja/aplikasi")
    headers = {"content-type": "multipart/form-data; boundary=xyz", "content-length": str(MAX_BODY + 1)}
    r = op.post("/kerja/aplikasi/simpan?unit=Dinas+Kesehatan", content=b"--xyz--\r\n", headers=headers)
    assert r.status_code == 413 and "Kiriman terlalu besar" in r.text
    assert token and not people.site.ledger.register.drafts()


def test_a_file_before_the_csrf_token_is_refused_and_not_kept(people: People) -> None:
    op, site = people.c[OPERATOR], people.site
    data = pdf()
    r = op.post(
        "/kerja/aplikasi/simpan?unit=Dinas+Kesehatan",
        files=[("new-0-file", ("kak.pdf", data, "application/pdf"))],
        data={"csrf_token": csrf_of(op, "/kerja/aplikasi")},
    )  # httpx sends the fields first: this one is well formed
    assert r.status_code == 303  # saved as it is: a draft of nothing but the file, to complete
    saved = site.ledger.register.drafts(PD_A)
    assert len(saved) == 1 and r.headers["location"] == f"/kerja/aplikasi/draf/{saved[0].id}?ok=saved#draft-state"
    assert hashlib.sha256(data).hexdigest() in saved[0].request_json
    boundary = "b0undary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="new-0-file"; filename="x.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + pdf(3)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {"content-type": f"multipart/form-data; boundary={boundary}"}
    r = op.post("/kerja/aplikasi/simpan?unit=Dinas+Kesehatan", content=body, headers=headers)
    assert r.status_code == 403
    assert site.ledger.register.attachment(hashlib.sha256(pdf(3)).hexdigest()) is None


@pytest.mark.parametrize("token", ["missing", "wrong", "another session's"])
def test_the_form_without_this_sessions_token_stores_nothing(people: People, token: str) -> None:
    """The CSRF token is read from the stream before any file: without this session's, the
    answer is the expired-form page and neither a file nor a draft is kept."""
    op, site = people.c[OPERATOR], people.site
    tokens = {"missing": None, "wrong": "x" * 43, "another session's": csrf_of(people.c[HEAD], "/kerja/aplikasi")}
    data = {**({"csrf_token": tokens[token]} if tokens[token] else {}), **REQUEST}
    upload = [("new-0-file", ("kak.pdf", pdf(4), "application/pdf"))]
    r = op.post("/kerja/aplikasi/simpan?unit=Dinas+Kesehatan", data=data, files=upload)
    assert r.status_code == 403 and "Formulir ini kedaluwarsa" in r.text
    assert site.ledger.register.attachment(hashlib.sha256(pdf(4)).hexdigest()) is None
    assert not site.ledger.register.drafts()


def test_a_kept_attachment_cannot_name_another_pds_file(people: People) -> None:
    """The token of a kept file binds it to the PD it was uploaded for: a form naming a file
    of PD B's (whose hash is public) by a forged or foreign token is refused."""
    secret = people.site.app.state.runtime.form_secret
    theirs = AttachmentIn("RAB", "rab.pdf", "a" * 64, 1000, True)
    token = keep_token(secret, PD_B, theirs)
    assert kept_from(secret, PD_B, token, "rab.pdf", "RAB", True) == theirs
    assert kept_from(secret, PD_A, token, "rab.pdf", "RAB", True) is None
    assert kept_from(secret, PD_B, token, "lain.pdf", "RAB", True) is None
    op = people.c[OPERATOR]
    fields = {**REQUEST, "keep-0": token, "keep-0-file": "rab.pdf", "keep-0-title": "RAB"}
    r = save(op, "unit=Dinas+Kesehatan", fields)
    assert r.status_code == 422 and "tidak dapat dibaca" in r.text
    assert not people.site.ledger.register.drafts()


def test_an_operator_works_only_for_their_own_pd(people: People) -> None:
    other = people.c[OTHER_OPERATOR]
    assert other.get("/kerja/aplikasi/baru?unit=Dinas+Kesehatan").status_code == 403
    r = save(other, "unit=Dinas+Kesehatan", REQUEST)
    assert r.status_code == 403 and "bukan operator atau Kepala Dinas Kesehatan" in r.text
    assert not people.site.ledger.register.drafts()
    assert people.c[REVIEWER].get("/kerja/aplikasi/baru").status_code == 403
    assert people.c[HEAD].get("/kerja/aplikasi/baru").status_code == 403  # the Kepala signs; operators prepare


def test_work_knows_the_roles_in_force(people: People) -> None:
    site = people.site
    with site.ledger.read() as r:
        roles = tuple(r.roles(nip=nip(HEAD)))
    w = Work(None, roles)  # type: ignore[arg-type]
    assert w.holds("pd-head", PD_A) and not w.holds("pd-head", PD_B) and w.units("pd-head") == [PD_A]
    assert actions.get_official(site.ledger, nip(HEAD)).unit == "Dinas 1"  # the register's unit is not the role's


# -- drafts saved half filled -------------------------------------------------------------------

HALF = {"name": "Aplikasi Antrean Puskesmas", "budget_amount": "75.000.000", "builder": "vendor", "sso": "yes"}


def _half_draft(people: People) -> tuple[int, str]:
    """The operator saves a half-filled form with a PDF: the draft's id and the form it lands on."""
    op, site = people.c[OPERATOR], people.site
    r = save(op, "unit=Dinas+Kesehatan", HALF, [("new-0-file", "kak.pdf", pdf())])
    assert r.status_code == 303, r.text[:3000]
    draft = draft_id(site)
    assert r.headers["location"] == f"/kerja/aplikasi/draf/{draft}?ok=saved#draft-state"
    return draft, r.headers["location"].split("#")[0]


def test_a_half_filled_form_is_saved_and_reopens_as_typed(people: People) -> None:
    site, op = people.site, people.c[OPERATOR]
    size = site.ledger.size()
    draft, landing = _half_draft(people)
    assert site.ledger.size() == size  # a draft is not on the ledger
    page = op.get(landing)
    assert page.status_code == 200
    text = unescape(page.text)
    assert 'value="Aplikasi Antrean Puskesmas"' in text and 'value="75.000.000"' in text
    assert re.search(r'id="builder-vendor" name="builder" value="vendor" checked', page.text)
    assert re.search(r'id="sso" name="sso" value="yes" checked', page.text)
    assert not re.search(r'id="splp" name="splp" value="yes" checked', page.text)
    assert (
        'id="description" name="description" rows="3" maxlength="2000" required aria-describedby="description-help">'
        in text
    )  # blank
    assert hidden(page.text)["keep-0-file"] == "kak.pdf"  # the attachment stored as before
    notice = text[text.index('id="draft-state"') : text.index("</nav>", text.index('id="draft-state"'))]
    assert "Draf tersimpan. Belum lengkap:" in notice and 'role="status"' in notice
    assert '<a href="#field-description">Deskripsi singkat</a>: Wajib diisi.' in notice
    assert '<a href="#field-vendor">Nama penyedia</a>: Wajib diisi untuk jawaban yang Anda pilih.' in notice
    assert "#field-name" not in notice and "#field-sso" not in notice  # what is filled in is not listed
    links = re.findall(r'<a href="#field-([a-z_]+)">', notice)
    assert links == [
        *("description", "contact", "legal_basis", "problem", "need", "kind", "goals", "users_count"),
        *("target_date", "budget_source", "fiscal_year", "vendor", "data_processed", "hosting", "security_testing"),
    ]
    assert links == sorted(links, key=list(FIELDS).index)  # in the form's order
    for name in links:
        assert f'id="field-{name}"' in page.text  # each link has its field
    # reopened later: the same answers, the list without "saved"
    later = unescape(op.get(f"/kerja/aplikasi/draf/{draft}").text)
    assert "Draf ini belum lengkap:" in later and "Draf tersimpan" not in later
    assert 'value="Aplikasi Antrean Puskesmas"' in later
    # the work home: its name and "Belum lengkap"; the Kepala is offered no signature
    home = unescape(op.get("/kerja/aplikasi").text)
    row = home[home.index(f'id="draft-{draft}"') : home.index("</tr>", home.index(f'id="draft-{draft}"'))]
    assert "Aplikasi Antrean Puskesmas" in row and "Belum lengkap" in row and "Siap ditandatangani" not in row
    head_home = unescape(people.c[HEAD].get("/kerja/aplikasi").text)
    assert f"/kerja/aplikasi/draf/{draft}/tandatangan" not in head_home and "Belum lengkap" in head_home
    # in English
    english = site.login(OPERATOR, lang="en")
    page = unescape(english.get(landing).text)
    assert "Draft saved. Not complete yet:" in page and '<a href="#field-description">Short description</a>' in page
    assert "Not complete" in unescape(english.get("/kerja/aplikasi").text)


def test_a_draft_without_a_name_is_listed_with_a_dash(people: People) -> None:
    op, site = people.c[OPERATOR], people.site
    r = save(op, "unit=Dinas+Kesehatan", {"budget_source": "APBD"})
    assert r.status_code == 303
    draft = draft_id(site)
    home = op.get("/kerja/aplikasi").text
    row = home[home.index(f'id="draft-{draft}"') : home.index("</tr>", home.index(f'id="draft-{draft}"'))]
    assert "<strong>—</strong>" in row and "Belum lengkap" in row


@pytest.mark.parametrize(
    ("wrong", "field", "message"),
    [
        ({"target_date": "30/06/2027"}, "target_date", "Tulis tanggal sebagai TTTT-BB-HH"),
        ({"budget_amount": "banyak"}, "budget_amount", "Tulis bilangan bulat"),
        ({"name": "x" * 121}, "name", "paling banyak 120 karakter"),
        ({"kind": "hibah"}, "kind", "Pilih salah satu."),
    ],
)
def test_a_field_typed_wrong_is_refused_and_nothing_stored(
    people: People, wrong: dict[str, str], field: str, message: str
) -> None:
    op, site = people.c[OPERATOR], people.site
    r = save(op, "unit=Dinas+Kesehatan", {**HALF, **wrong})
    assert r.status_code == 422
    text = unescape(r.text)
    error = re.search(rf'<p class="alert alert-error field-error" id="{field}-error">([^<]*)</p>', text)
    assert error is not None and message in error[1]
    assert f'<a href="#field-{field}">' in text  # in the list of what to correct
    kept = {
        "name": 'name="name" type="text" value="Aplikasi Antrean Puskesmas"',
        "budget_amount": 'name="budget_amount" type="text" value="75.000.000"',
        "builder": 'name="builder" value="vendor" checked',
        "sso": 'name="sso" value="yes" checked',
    }
    assert all(shown in text for name, shown in kept.items() if name != field)  # the rest kept as typed
    assert "Belum lengkap" not in text  # nothing was saved, so nothing is said of a draft
    assert not site.ledger.register.drafts()


def test_an_incomplete_draft_is_not_signed_until_completed(people: People, monkeypatch: pytest.MonkeyPatch) -> None:
    site, head = people.site, people.c[HEAD]
    draft, _ = _half_draft(people)
    size, stored = site.ledger.size(), site.ledger.register.draft(draft)
    assert stored is not None

    def never(*args: object) -> None:
        raise AssertionError("a key was opened")

    with monkeypatch.context() as m:
        m.setattr(KeyStore, "signer", never)
        page = head.get(f"/kerja/aplikasi/draf/{draft}/tandatangan")
        assert page.status_code == 409
        text = unescape(page.text)
        assert "Draf ini belum dapat ditandatangani karena belum lengkap:" in text
        assert f'<a href="/kerja/aplikasi/draf/{draft}#field-description">Deskripsi singkat</a>: Wajib diisi.' in text
        assert f'href="/kerja/aplikasi/draf/{draft}">Lengkapi draf</a>' in text
        assert 'name="passphrase"' not in text
        token = csrf_of(head, "/kerja/aplikasi")
        digest = hashlib.sha256(stored.request_json.encode()).hexdigest()
        sign = {"csrf_token": token, "sha256": digest, "passphrase": passphrase(HEAD)}
        r = head.post(f"/kerja/aplikasi/draf/{draft}/tandatangan", data=sign)
        assert r.status_code == 409 and "Nama penyedia" in unescape(r.text)
        english = site.login(HEAD, lang="en").get(f"/kerja/aplikasi/draf/{draft}/tandatangan")
        assert english.status_code == 409 and "This draft cannot be signed yet" in unescape(english.text)
        r = head.post(f"/kerja/aplikasi/draf/{draft}/tandatangan", data={**sign, "csrf_token": "x" * 43})
        assert r.status_code == 403 and "Formulir ini kedaluwarsa" in r.text  # CSRF first
    assert site.ledger.size() == size and site.ledger.register.draft(draft) is not None
    assert accounts.throttle_state(site.ledger, "sign", nip(HEAD), site.clock()) is None  # no attempt counted

    # The Kepala may open it and complete it too; it is then ready to sign.
    page = head.get(f"/kerja/aplikasi/draf/{draft}")
    assert page.status_code == 200 and 'value="Aplikasi Antrean Puskesmas"' in page.text
    fields = {**REQUEST, "name": HALF["name"], **{k: v for k, v in hidden(page.text).items() if k.startswith("keep-")}}
    fields["keep-0-title"] = "Kerangka Acuan Kerja"
    r = save(head, f"draf={draft}", fields, page=f"/kerja/aplikasi/draf/{draft}")
    assert r.status_code == 303 and r.headers["location"] == f"/kerja/aplikasi?ok=saved#draft-{draft}"
    home = unescape(head.get("/kerja/aplikasi").text)
    row = home[home.index(f'id="draft-{draft}"') : home.index("</tr>", home.index(f'id="draft-{draft}"'))]
    assert "Siap ditandatangani" in row and f"/kerja/aplikasi/draf/{draft}/tandatangan" in row
    assert "Draf ini lengkap dan siap ditandatangani" in head.get(f"/kerja/aplikasi/draf/{draft}").text
    assert "Ready to sign" in site.login(OPERATOR, lang="en").get("/kerja/aplikasi").text
    page = head.get(f"/kerja/aplikasi/draf/{draft}/tandatangan")
    assert page.status_code == 200 and HALF["name"] in page.text
    data = {
        "csrf_token": csrf_of(head, f"/kerja/aplikasi/draf/{draft}/tandatangan"),
        "sha256": hidden(page.text)["sha256"],
    }
    r = head.post(f"/kerja/aplikasi/draf/{draft}/tandatangan", data={**data, "passphrase": passphrase(HEAD)})
    assert r.status_code == 303, r.text[:2000]
    entry = site.ledger.entry(site.ledger.size() - 1)
    assert entry.kind == "app.submitted" and HALF["name"] in entry.fields["request"]
    assert f'"prepared_by":"{nip(OPERATOR)}"' in entry.fields["request"]  # the operator prepared it still
    assert site.ledger.register.draft(draft) is None
