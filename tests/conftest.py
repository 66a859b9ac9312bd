"""Shared fixtures: a ledger on SQLite (and on PostgreSQL when IKRAR_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from ledger.db import make_engine, normalize_url
from ledger.schema import migrate
from ledger.store import Ledger
from signing.actions import Context
from signing.keystore import KeyStore

from .factories import FAST_KDF, LedgerFactory

PG_URL = os.environ.get("IKRAR_TEST_DATABASE_URL")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("CI") and not PG_URL:
        raise pytest.UsageError("CI must set IKRAR_TEST_DATABASE_URL so the PostgreSQL tests run")


@pytest.fixture()
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ikrar.db'}"


@pytest.fixture()
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema for one test, as a URL whose search_path points at it."""
    if not PG_URL:
        pytest.skip("IKRAR_TEST_DATABASE_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """Each test that takes it runs on SQLite and on PostgreSQL."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture()
def ledger_factory(db_url: str, tmp_path: Path) -> LedgerFactory:
    engine = make_engine(db_url)
    migrate(engine)
    return LedgerFactory(Ledger(engine), KeyStore(tmp_path / "keys", FAST_KDF))


@pytest.fixture()
def world(ledger_factory: LedgerFactory) -> LedgerFactory:
    """A created ledger with a commitment and three enrolled signatories."""
    return ledger_factory.created().with_commitment(officials=3)


@pytest.fixture()
def ctx(world: LedgerFactory) -> Context:
    return world.ctx
