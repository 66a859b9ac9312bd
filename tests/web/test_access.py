"""The access-control matrix: anonymous, an official, another official and an admin against
every route of the app — and, for the verification of applications (rules version 5), a PD
operator, the operator of another PD, the Kepala PD, a Diskominfo reviewer and the Kepala
Dinas Kominfo, each holding their role by a `role.assigned` entry. Each may do exactly what
its role allows, and a refused request changes nothing: not the ledger, not the register
(drafts and attachments included), not the logins."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import col, func, select

from ledger.models import Account, AppAttachment, AppDraft, EnrolmentToken, Official
from signing import actions, apps
from tests.factories import nip, passphrase, tables
from web import accounts
from web.app import ROUTERS

from .conftest import ADMIN, Site, csrf_of, password
from .test_apps_work import CHECKLIST, OFFICE, PD_A, PD_B, REQUEST, pdf

ROLES = {
    "anonymous": None,
    "official": 1,
    "other official": 4,
    "admin": ADMIN,
    "operator": 5,  # pd-operator of PD_A
    "other operator": 6,  # pd-operator of PD_B
    "head": 7,  # pd-head of PD_A
    "reviewer": 8,
    "kominfo head": 10,
}
APP_ROLES = ("operator", "other operator", "head", "reviewer", "kominfo head")
OK, LOGIN, DENIED, ABSENT = "ok", "login", "denied", "absent"
PDF, PUBLIC_PDF = pdf(), pdf(2)  # the attachments of every request here: internal, public
SHA, PUBLIC_SHA = hashlib.sha256(PDF).hexdigest(), hashlib.sha256(PUBLIC_PDF).hexdigest()


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    expect: dict[str, str]  # role -> OK, LOGIN (redirect to the login form) or DENIED (403)
    data: Mapping[str, object] | None = None
    writes: bool = False  # an allowed request changes state


def everyone() -> dict[str, str]:
    return {role: OK for role in ROLES}


def members(official: str = OK, other: str = OK, admin: str = OK) -> dict[str, str]:
    """The officials' own pages and the admin's: the holders of an application role are
    officials like `other` (none of them is asked to sign `smart-city`)."""
    return {"anonymous": LOGIN, "official": official, "other official": other, "admin": admin} | {
        role: other for role in APP_ROLES
    }


def work(*allowed: str) -> dict[str, str]:
    """A work page of applications: the roles named may, anonymous is sent to log in, every
    other official (the admin included: an admin holds no application role) is refused."""
    return members(DENIED, DENIED, DENIED) | dict.fromkeys(allowed, OK)


ADMIN_ONLY = members(DENIED, DENIED, OK)
NEW_OFFICIAL = {
    "nip": "198001012005011002",
    "name": "Pejabat Baru",
    "title": "Kepala Bagian",
    "unit": "Sekretariat Daerah Kota Kediri",
    "role": "official",
}
OWN = passphrase(ADMIN)  # the admin's own signing passphrase: invitations and revocations are signed with it
MUTASI = {  # a mutasi of official 4 (before the revocation below), attested with the admin's own key
    "name": "Pejabat 4",
    "title": "Kepala Dinas Baru",
    "unit": "Dinas 4",
    "reason": "mutasi",
    "passphrase": OWN,
}
NOBODY = hashlib.sha256(b"[]").hexdigest()
PUBLISH = {
    "title": "Komitmen Kedua",
    "slug": "kedua",
    "text": "Teks kedua.\n",
    "mode": "role:official",
    "step": "preview",
}

CASES = [
    # public pages and API
    *[
        Case("GET", p, everyone())
        for p in (
            "/",
            "/commitments/smart-city",
            "/ledger",
            "/ledger/0",
            "/docs",
            "/openapi.json",
            "/healthz",
            "/checkpoint",
            "/vkey",
            "/api/v1/entries",
            "/api/v1/entries/0",
            "/api/v1/proof/0",
            "/api/v1/consistency?old=1&new=2",
            "/api/v1/commitments",
            "/api/v1/commitments/smart-city/signatures",
            "/api/v1/commitments/smart-city/signatures.csv",
            "/lang/en?next=/",
            "/verify/upload",
            "/commitments/smart-city/certificate.pdf",
            "/verifier/ikrar_verify.py",
            "/live/smart-city",
            "/live/smart-city/state",
            "/api/v1/commitments/smart-city/signatures.xlsx",
            "/commitments/smart-city/naskah.pdf",
        )
    ],
    # the live stream of a commitment that does not exist ends at once (streams: test_live*.py)
    Case("GET", "/live/no-such-commitment/events", {role: ABSENT for role in ROLES}),
    # entry 6 publishes the commitment: a signature's certificate is asked of a non-signature
    *[Case("GET", p, {role: ABSENT for role in ROLES}) for p in ("/certificates/6.pdf", "/v/6", "/api/v1/verify/6")],
    Case("GET", "/metrics", {role: ABSENT for role in ROLES}),  # off without IKRAR_METRICS_TOKEN: test_metrics.py
    Case("GET", "/login", {"anonymous": OK} | {role: "redirect" for role in ROLES if role != "anonymous"}),
    # an official's own pages
    Case("GET", "/me", members()),
    Case("GET", "/sign/smart-city", members(OK, DENIED, DENIED)),
    # management
    Case("GET", "/admin", ADMIN_ONLY),
    Case("GET", "/admin/officials/new", ADMIN_ONLY),
    Case("GET", "/admin/commitments/new", ADMIN_ONLY),
    Case("GET", f"/admin/officials/{nip(4)}/revoke", ADMIN_ONLY),
    Case("GET", "/admin/invite", ADMIN_ONLY),
    Case("GET", f"/admin/officials/{nip(4)}/approve", members(DENIED, DENIED, ABSENT)),  # no invitation waits
    Case("POST", "/admin/officials/new", ADMIN_ONLY, NEW_OFFICIAL, writes=True),
    Case("POST", f"/admin/officials/{nip(3)}/invite", ADMIN_ONLY, {}, writes=True),
    Case("POST", "/admin/invite", ADMIN_ONLY, {"nip": NEW_OFFICIAL["nip"], "passphrase": OWN}, writes=True),
    Case("POST", f"/admin/officials/{nip(4)}/approve", members(DENIED, DENIED, ABSENT), {"passphrase": OWN}),
    Case("POST", "/admin/commitments/new", ADMIN_ONLY, PUBLISH),
    Case("GET", "/admin/commitments/smart-city", ADMIN_ONLY),
    Case("GET", "/admin/commitments/smart-city?q=Pejabat&state=not_signed", ADMIN_ONLY),
    Case("GET", "/admin/commitments/smart-city/remind", ADMIN_ONLY),
    # official 4 is no signatory of smart-city: nobody to remind (the fingerprint of no one), nothing sent
    Case("POST", "/admin/commitments/smart-city/remind", ADMIN_ONLY, {"nip": nip(4), "fingerprint": NOBODY}),
    Case("GET", f"/admin/officials/{nip(4)}/update", ADMIN_ONLY),
    Case("POST", f"/admin/officials/{nip(4)}/update", ADMIN_ONLY, MUTASI, writes=True),
    Case("GET", "/admin/locks", ADMIN_ONLY),
    Case("POST", "/admin/locks/lift", ADMIN_ONLY, {"scope": "login", "nip": nip(1), "address": "127.0.0.2"}),
    Case("GET", "/admin/confirm?next=/admin", ADMIN_ONLY),
    Case("POST", "/admin/confirm", ADMIN_ONLY, {"password": password(ADMIN), "next": "/admin"}),
    Case(
        "POST",
        f"/admin/officials/{nip(4)}/revoke",
        ADMIN_ONLY,
        {"reason": "pindah tugas", "passphrase": OWN},
        writes=True,
    ),
    # signing: only a required signatory, and only as themself
    Case("POST", "/sign/smart-city", members(OK, DENIED, DENIED), {"read": "yes"}, writes=True),
    # declining (rules 4): `tolak` asks official 1 alone (published by the test, so that
    # declining, which is final, leaves `smart-city` to be signed)
    Case("POST", "/sign/tolak/decline", members(OK, DENIED, DENIED), {"reason": "berhalangan"}, writes=True),
    # the verification of applications (rules version 5): {x} reviewed, waiting for a decision;
    # {z} waiting for a review; {y} returned to PD_A; {w} recommended; drafts {d1} (to sign) and
    # {d2} (to delete). The public register (routes_apps.py) shows no internal attachment.
    *[
        Case("GET", p, everyone())
        for p in (
            "/aplikasi",
            "/aplikasi/{x}",
            "/aplikasi/{x}/lampiran/" + PUBLIC_SHA,
            "/aplikasi/{w}/rekomendasi.pdf",
            "/api/v1/apps",
            "/api/v1/apps.csv",
            "/api/v1/apps/{x}",
        )
    ],
    Case("GET", "/aplikasi/{x}/lampiran/" + SHA, {role: ABSENT for role in ROLES}),
    Case("GET", "/kerja/aplikasi", work(*APP_ROLES)),
    Case("GET", "/kerja/aplikasi/baru", work("operator", "other operator")),
    Case("GET", "/kerja/aplikasi/baru?unit=Dinas+Kesehatan", work("operator")),
    Case("GET", "/kerja/aplikasi/draf/{d1}", work("operator", "head")),
    Case("GET", "/kerja/aplikasi/draf/{d1}/lampiran/" + SHA, work("operator", "head")),
    Case("GET", "/kerja/aplikasi/draf/{d1}/tandatangan", work("head")),
    Case("GET", "/kerja/aplikasi/{y}/revisi", work("operator", "head")),
    Case("GET", "/kerja/aplikasi/{x}/lampiran/" + SHA, work("operator", "head", "reviewer", "kominfo head")),
    Case("GET", "/kerja/aplikasi/{z}/telaah", work("reviewer", "kominfo head")),
    Case("GET", "/kerja/aplikasi/{x}/putusan", work("kominfo head")),
    Case("POST", "/kerja/aplikasi/simpan?unit=Dinas+Kesehatan", work("operator"), REQUEST, writes=True),
    Case("POST", "/kerja/aplikasi/simpan?revisi={y}", work("operator", "head"), REQUEST, writes=True),
    Case("POST", "/kerja/aplikasi/draf/{d2}/hapus", work("operator", "head"), {}, writes=True),
    Case("POST", "/kerja/aplikasi/draf/{d1}/tandatangan", work("head"), {"sha256": "{d1_sha256}"}, writes=True),
    Case(
        "POST",
        "/kerja/aplikasi/{z}/telaah",
        work("reviewer", "kominfo head"),
        {"revision": "1", **CHECKLIST},
        writes=True,
    ),
    Case(
        "POST",
        "/kerja/aplikasi/{z}/kembalikan",
        work("reviewer", "kominfo head"),
        {"revision": "1", "reasons": "Lengkapi KAK."},
        writes=True,
    ),
    Case(
        "POST",
        "/kerja/aplikasi/{x}/putusan",
        work("kominfo head"),
        {"revision": "1", "decision": "recommended", "notes": ""},
        writes=True,
    ),
    Case("GET", "/admin/roles", ADMIN_ONLY),
    Case(
        "POST",
        "/admin/roles",
        ADMIN_ONLY,
        {
            "nip": nip(2),
            "role": "pd-operator",
            "unit": "Dinas Sosial",
            "grant": "yes",
            "reason": "SK",
            "passphrase": OWN,
        },
        writes=True,
    ),
    Case("POST", "/logout", everyone(), {}, writes=True),
]
SIGNED_WITH_OWN_KEY = ("/sign", "/tandatangan", "/putusan")  # a form that takes the official's own passphrase


def _applications(site: Site) -> dict[str, str]:
    """The roles of `APP_ROLES`, given by the admin's key, and the applications and drafts the
    cases name: their ids by the cases' placeholders."""
    world, ctx, admin = site.world, site.world.ctx, nip(ADMIN)
    for n in (5, 6, 7, 8, 10):
        world.official(n)
        accounts.set_password(site.ledger, nip(n), password(n), site.clock())
    for n, role, unit in (
        (5, "pd-operator", PD_A),
        (6, "pd-operator", PD_B),
        (7, "pd-head", PD_A),
        (8, "reviewer", OFFICE),
        (10, "kominfo-head", "Dinas Komunikasi dan Informatika"),
    ):
        apps.assign_role(ctx, nip(n), role, unit, True, "SK Wali Kota", admin, passphrase(ADMIN), world.now())
    kept = [
        apps.keep_attachment(site.ledger, "KAK", "kak.pdf", PDF, world.now(), internal=True),
        apps.keep_attachment(site.ledger, "RAB", "rab.pdf", PUBLIC_PDF, world.now()),
    ]
    request = apps.request_from_form(REQUEST, kept, PD_A, nip(5))
    checklist = {p: {"finding": "fits", "note": ""} for p in ("architecture", "duplication", "hosting")}
    checklist |= {p: {"finding": "fits", "note": ""} for p in ("integration", "security", "personal_data")}

    def submitted() -> str:
        draft = apps.save_draft(ctx, PD_A, request, nip(5), world.now())
        return str(apps.submit_app(ctx, draft, None, nip(7), passphrase(7), world.now()).entry.fields["app"])

    ids = {"x": submitted(), "z": submitted(), "y": submitted(), "w": submitted()}
    for reviewed in (ids["x"], ids["w"]):
        apps.review_app(ctx, reviewed, nip(8), checklist, world.now())
    apps.decide_app(ctx, ids["w"], "recommended", [], nip(10), passphrase(10), world.now())
    apps.return_app(ctx, ids["y"], nip(8), ["Lengkapi rencana anggaran."], world.now())
    d1 = apps.save_draft(ctx, PD_A, request, nip(5), world.now())
    d2 = apps.save_draft(ctx, PD_A, request, nip(5), world.now())
    drafted = site.ledger.register.draft(d1)
    assert drafted is not None
    sha = hashlib.sha256(drafted.request_json.encode()).hexdigest()
    return ids | {"d1": str(d1), "d2": str(d2), "d1_sha256": sha}


def _state(site: Site) -> tuple[object, ...]:
    with tables(site.ledger) as s:
        return (
            site.ledger.size(),
            s.exec(select(func.count()).select_from(Official)).one(),
            s.exec(select(func.count()).select_from(EnrolmentToken)).one(),
            tuple(s.exec(select(Account.password_hash).order_by(Account.nip))),
            tuple(s.exec(select(AppDraft.id, AppDraft.request_json).order_by(col(AppDraft.id)))),
            s.exec(select(func.count()).select_from(AppAttachment)).one(),
        )


def _send(c: TestClient, case: Case, role: str, ids: dict[str, str]) -> Response:
    path, n = case.path.format_map(ids), ROLES[role]
    data = {k: v.format_map(ids) if isinstance(v, str) else v for k, v in (case.data or {}).items()}
    signs = any(part in case.path for part in SIGNED_WITH_OWN_KEY)
    if signs and case.method == "POST" and n is not None:
        data["passphrase"] = passphrase(n)  # their own passphrase: still refused unless asked
    if case.method == "GET":
        got: Response = c.get(path)
        return got
    data["csrf_token"] = csrf_of(c, "/me" if n is not None else "/login")
    sent: Response = c.post(path, data=data)
    return sent


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_may_do_exactly_what_it_is_allowed(site: Site, role: str) -> None:
    actions.publish(site.world.ctx, "tolak", "Untuk ditolak", "Isi.\n", [nip(1)], nip(ADMIN), site.world.now())
    ids = _applications(site)
    failures = []
    c = site.login(ROLES[role])
    for case in sorted(CASES, key=lambda k: k.path == "/logout"):  # log out last
        before = _state(site)
        r = _send(c, case, role, ids)
        want = case.expect[role]
        got = r.status_code
        if want == OK:
            good = got in (200, 303) and not (got == 303 and r.headers["location"].startswith("/login"))
        elif want == "redirect":
            good = got == 303 and not r.headers["location"].startswith("/login")
        elif want == ABSENT:
            good = got == 404
        elif want == LOGIN:
            good = got == 303 and r.headers["location"].startswith("/login")
        else:
            good = got == 403
        if not good:
            failures.append(f"{role}: {case.method} {case.path} answered {got}, expected {want}")
        if (want != OK or not case.writes) and _state(site) != before:
            failures.append(f"{role}: {case.method} {case.path} changed the state although {want}")
    assert not failures, "\n".join(failures)


def test_the_matrix_covers_every_route_of_the_app() -> None:
    routes = {
        (method, route.path)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    covered = {(c.method, c.path.split("?")[0].replace(SHA, "{sha256}").replace(PUBLIC_SHA, "{sha256}")) for c in CASES}
    covered |= {("POST", "/login"), ("GET", "/enrol/{token}"), ("POST", "/enrol/{token}")}  # test_security.py
    covered |= {("POST", "/verify/upload"), ("POST", "/api/v1/verify")}  # uploads: test_security.py, test_verify_web.py
    templated = {
        "/commitments/smart-city": "/commitments/{slug}",
        "/ledger/0": "/ledger/{index}",
        "/api/v1/entries/0": "/api/v1/entries/{index}",
        "/api/v1/proof/0": "/api/v1/proof/{index}",
        "/api/v1/commitments/smart-city/signatures": "/api/v1/commitments/{slug}/signatures",
        "/api/v1/commitments/smart-city/signatures.csv": "/api/v1/commitments/{slug}/signatures.csv",
        "/lang/en": "/lang/{lang}",
        "/v/6": "/v/{index}",
        "/api/v1/verify/6": "/api/v1/verify/{index}",
        "/certificates/6.pdf": "/certificates/{index}.pdf",
        "/commitments/smart-city/certificate.pdf": "/commitments/{slug}/certificate.pdf",
        "/sign/smart-city": "/sign/{slug}",
        "/sign/tolak/decline": "/sign/{slug}/decline",
        f"/admin/officials/{nip(4)}/revoke": "/admin/officials/{nip}/revoke",
        f"/admin/officials/{nip(3)}/invite": "/admin/officials/{nip}/invite",
        f"/admin/officials/{nip(4)}/approve": "/admin/officials/{nip}/approve",
        f"/admin/officials/{nip(4)}/update": "/admin/officials/{nip}/update",
        "/admin/commitments/smart-city": "/admin/commitments/{slug}",
        "/live/smart-city": "/live/{slug}",
        "/api/v1/commitments/smart-city/signatures.xlsx": "/api/v1/commitments/{slug}/signatures.xlsx",
        "/commitments/smart-city/naskah.pdf": "/commitments/{slug}/naskah.pdf",
        "/live/smart-city/state": "/live/{slug}/state",
        "/live/no-such-commitment/events": "/live/{slug}/events",
        "/admin/commitments/smart-city/remind": "/admin/commitments/{slug}/remind",
        "/kerja/aplikasi/draf/{d1}": "/kerja/aplikasi/draf/{draft_id}",
        "/kerja/aplikasi/draf/{d1}/lampiran/{sha256}": "/kerja/aplikasi/draf/{draft_id}/lampiran/{sha256}",
        "/kerja/aplikasi/draf/{d1}/tandatangan": "/kerja/aplikasi/draf/{draft_id}/tandatangan",
        "/kerja/aplikasi/draf/{d2}/hapus": "/kerja/aplikasi/draf/{draft_id}/hapus",
        "/kerja/aplikasi/{y}/revisi": "/kerja/aplikasi/{app}/revisi",
        "/kerja/aplikasi/{x}/lampiran/{sha256}": "/kerja/aplikasi/{app}/lampiran/{sha256}",
        "/kerja/aplikasi/{z}/telaah": "/kerja/aplikasi/{app}/telaah",
        "/kerja/aplikasi/{z}/kembalikan": "/kerja/aplikasi/{app}/kembalikan",
        "/kerja/aplikasi/{x}/putusan": "/kerja/aplikasi/{app}/putusan",
        "/aplikasi/{x}": "/aplikasi/{app}",
        "/aplikasi/{x}/lampiran/{sha256}": "/aplikasi/{app}/lampiran/{sha256}",
        "/aplikasi/{w}/rekomendasi.pdf": "/aplikasi/{app}/rekomendasi.pdf",
        "/api/v1/apps/{x}": "/api/v1/apps/{app}",
    }
    covered = {(m, templated.get(p, p)) for m, p in covered}
    missing = sorted(routes - covered - {("HEAD", p) for _, p in routes})
    assert not missing, f"routes missing from the access matrix: {missing}"


def test_an_official_signs_only_as_themself(site: Site) -> None:
    """A form field naming someone else is ignored; another's passphrase does not open one's key."""
    c = site.login(1)
    size = site.ledger.size()
    token = csrf_of(c, "/sign/smart-city")
    r = c.post(
        "/sign/smart-city", data={"csrf_token": token, "read": "yes", "passphrase": passphrase(2), "nip": nip(2)}
    )
    assert r.status_code == 403 and "Frasa sandi salah" in r.text
    assert site.ledger.size() == size  # nothing appended
    r = c.post(
        "/sign/smart-city", data={"csrf_token": token, "read": "yes", "passphrase": passphrase(1), "nip": nip(2)}
    )
    assert r.status_code == 303
    signed = site.ledger.entry(site.ledger.size() - 1)
    assert signed.kind == "commitment.signed" and signed.fields["nip"] == nip(1)


def test_an_admin_cannot_sign_for_an_official(site: Site) -> None:
    c = site.login(ADMIN)
    size = site.ledger.size()
    token = csrf_of(c, "/admin")
    r = c.post(
        "/sign/smart-city", data={"csrf_token": token, "read": "yes", "passphrase": passphrase(1), "nip": nip(1)}
    )
    assert r.status_code == 403
    assert site.ledger.size() == size
