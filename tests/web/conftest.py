"""Web fixtures: the app over the `world` ledger (SQLite and PostgreSQL), a clock the test
moves, logins for two officials and an admin, and clients that fill in CSRF tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from signing import actions, vouching
from tests.factories import ORIGIN, LedgerFactory, nip, passphrase
from web import accounts
from web.app import create_app
from web.runtime import Runtime
from web.settings import Settings

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ADMIN = 9  # factory number of the admin; officials 1-3 sign `smart-city`, 4 is registered but not asked


def password(n: int) -> str:
    return f"kata-sandi-{n}-masuk"


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with the smallest parameters: the tests log in hundreds of times."""
    monkeypatch.setattr(accounts, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    monkeypatch.setattr(accounts, "_DUMMY_HASH", [])


def web_settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=db_url,
        keys_dir=tmp_path / "keys",
        origin=ORIGIN,
        base_url="http://testserver",
        ledger_passphrase=None,
        ledger_passphrase_file=tmp_path / "lp",
        kdf_iterations=1000,
        log_level="WARNING",
    )


class Clock:
    """The app's "now": starts after the world's last entry and moves only when told."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Site:
    world: LedgerFactory
    app: FastAPI
    clock: Clock
    clients: list[TestClient] = field(default_factory=list)

    @property
    def ledger(self):
        return self.world.ledger

    def client(self, lang: str | None = None) -> TestClient:
        c = TestClient(self.app, follow_redirects=False)
        if lang:
            c.cookies.set("ikrar_lang", lang)
        self.clients.append(c)
        return c

    def login(self, n: int | None, lang: str | None = None) -> TestClient:
        """A client logged in as official `n` (None: anonymous)."""
        c = self.client(lang)
        if n is not None:
            r = post(c, "/login", {"nip": nip(n), "password": password(n)}, form_page="/login")
            assert r.status_code == 303, r.text
        return c

    def invite(self, n: int, hours: int = 72) -> str:
        """A one-time enrolment link for `n`: a password link when they have an active key,
        else an invitation attested by the site's admin (`ADMIN`, with their own key)."""
        if actions.active_key(self.ledger, nip(n)) is not None:
            token, _ = accounts.issue_enrolment(self.ledger, nip(n), "test", self.clock(), hours)
            return f"/enrol/{token}"
        official = actions.get_official(self.ledger, nip(n))
        invited = vouching.invite(self.world.ctx, official, nip(ADMIN), passphrase(ADMIN), self.clock(), hours)
        return f"/enrol/{invited.token}"


def csrf_of(c: TestClient, page: str) -> str:
    r = c.get(page)
    assert r.status_code == 200, (page, r.status_code, r.text[:500])
    m = CSRF.search(r.text)
    assert m, f"no CSRF token on {page}"
    return m.group(1)


def post(c: TestClient, path: str, data: dict[str, Any], form_page: str | None = None) -> Response:
    """POST a form as a browser would: with the CSRF token of the page that shows the form."""
    token = csrf_of(c, form_page or path)
    return c.post(path, data={**data, "csrf_token": token})


def build_site(world: LedgerFactory, db_url: str, tmp_path: Path) -> Site:
    world.official(4)
    actions.register_official(
        world.ledger, nip(ADMIN), "Operator Kominfo", "Pranata Komputer", "Diskominfo", "admin", world.now()
    )
    world.invite(ADMIN)  # the site's admin: invited by the factory's founding admin, approved with the ledger's key
    vouching.approve(world.ctx, actions.get_official(world.ledger, nip(ADMIN)), vouching.LEDGER, None, world.now())
    actions.enrol(world.ctx, nip(ADMIN), passphrase(ADMIN), world.now())
    clock = Clock(world.now() + timedelta(hours=1))
    for n in (1, 2, 3, 4, ADMIN):
        accounts.set_password(world.ledger, nip(n), password(n), clock())
    app = create_app(Runtime.with_context(web_settings(db_url, tmp_path), world.ctx), clock=clock)
    return Site(world, app, clock)


@pytest.fixture()
def site(world: LedgerFactory, db_url: str, tmp_path: Path) -> Iterator[Site]:
    """The app over `world`: officials 1-3 asked to sign `smart-city`, 4 registered, 9 the admin;
    each has a login (`password(n)`) and an active key (`passphrase(n)`)."""
    built = build_site(world, db_url, tmp_path)
    yield built
    for c in built.clients:
        c.close()
