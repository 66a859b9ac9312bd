"""The access-control matrix: anonymous, an official, another official and an admin against
every route of the app. Each may do exactly what its role allows, and a refused request
changes nothing: not the ledger, not the register, not the logins."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import func, select

from ledger.models import Account, EnrolmentToken, Official
from signing import actions
from tests.factories import nip, passphrase, tables
from web.app import ROUTERS

from .conftest import ADMIN, Site, csrf_of, password

ROLES = {"anonymous": None, "official": 1, "other official": 4, "admin": ADMIN}
OK, LOGIN, DENIED, ABSENT = "ok", "login", "denied", "absent"


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    expect: dict[str, str]  # role -> OK, LOGIN (redirect to the login form) or DENIED (403)
    data: dict[str, object] | None = None
    writes: bool = False  # an allowed request changes state


def everyone() -> dict[str, str]:
    return {role: OK for role in ROLES}


def members(official: str = OK, other: str = OK, admin: str = OK) -> dict[str, str]:
    return {"anonymous": LOGIN, "official": official, "other official": other, "admin": admin}


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
    Case("GET", "/login", {"anonymous": OK, "official": "redirect", "other official": "redirect", "admin": "redirect"}),
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
    Case("POST", "/logout", everyone(), {}, writes=True),
]


def _state(site: Site) -> tuple[object, ...]:
    with tables(site.ledger) as s:
        return (
            site.ledger.size(),
            s.exec(select(func.count()).select_from(Official)).one(),
            s.exec(select(func.count()).select_from(EnrolmentToken)).one(),
            tuple(s.exec(select(Account.password_hash).order_by(Account.nip))),
        )


def _send(c: TestClient, case: Case, role: str) -> object:
    data = dict(case.data or {})
    if case.path.startswith("/sign") and case.method == "POST" and ROLES[role] is not None:
        data["passphrase"] = passphrase(ROLES[role])  # their own passphrase: still refused unless asked
    if case.method == "GET":
        return c.get(case.path)
    data["csrf_token"] = csrf_of(c, "/me" if ROLES[role] is not None else "/login")
    return c.post(case.path, data=data)


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_may_do_exactly_what_it_is_allowed(site: Site, role: str) -> None:
    actions.publish(site.world.ctx, "tolak", "Untuk ditolak", "Isi.\n", [nip(1)], nip(ADMIN), site.world.now())
    failures = []
    c = site.login(ROLES[role])
    for case in sorted(CASES, key=lambda k: k.path == "/logout"):  # log out last
        before = _state(site)
        r = _send(c, case, role)
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
    covered = {(c.method, c.path.split("?")[0]) for c in CASES}
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
