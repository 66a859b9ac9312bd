"""Signatures appended per second through `Ledger.append`, with statements signed beforehand.

A fresh ledger is set up through the Python API (the benchmark officials enrolled, a
few commitments published); then every `commitment.signed` entry is appended exactly as
`signing.actions.sign` appends it — the ledger re-checks the rules and the official's
signature under its append lock, writes the entry, its Merkle nodes and a signed
checkpoint, and commits durably. Only the appends are timed: the officials' passphrases
and key derivation are not part of the ledger's throughput.
"""

from __future__ import annotations

import math
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ledger.db import make_engine, normalize_url
from ledger.schema import migrate
from ledger.store import Ledger

from . import world
from .common import Config, Row, Timing, console, rate, timed

TARGET = 1000  # signatures per second on SQLite


def prepare(ledger: Ledger, signatures: int) -> list[tuple[dict[str, Any], datetime]]:
    """Create the ledger, enrol the officials, publish enough commitments; return pre-signed appends."""
    signer = world.ledger_signer()
    ledger.create(world.ORG, world.ORIGIN, signer, world.time_of(0))
    people = [world.Official(n) for n in range(1, world.OFFICIALS + 1)]
    index = 1
    for o in people:
        ledger.append("key.enrolled", o.enrolled(), signer, world.time_of(index))
        index += 1
    commitments = []
    for c in range(math.ceil(signatures / len(people))):
        fields = world.published(c, people)
        appended = ledger.append("commitment.published", fields, signer, world.time_of(index))
        commitments.append(world.Published(fields["slug"], appended.entry.index, fields["text_sha256"]))
        index += 1
    todo = []
    for n in range(signatures):
        when = world.time_of(index + n)
        todo.append((world.signed(people[n % len(people)], commitments[n // len(people)], when), when))
    return todo


def measure(url: str, signatures: int) -> Timing:
    """Time to append `signatures` pre-signed signatures to a fresh ledger at `url`."""
    engine = make_engine(url)
    try:
        migrate(engine)
        ledger = Ledger(engine)
        todo = prepare(ledger, signatures)
        signer = world.ledger_signer()

        def go() -> None:
            for fields, when in todo:
                ledger.append("commitment.signed", fields, signer, when)

        return timed(go)
    finally:
        engine.dispose()


@contextmanager
def pg_schema(url: str) -> Iterator[str]:
    """A fresh PostgreSQL schema, as a URL whose search_path points at it; dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_url(url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in url else "?"
        try:
            yield f"{url}{sep}options=-csearch_path%3D{schema}"
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@contextmanager
def pg_database(url: str) -> Iterator[str]:
    """A fresh PostgreSQL database, `ikrar_bench_<pid>`, on the server of `url` (made through
    the database `url` names), as a URL; dropped afterwards, with any session still on it.

    A database rather than a schema for a served ledger: nothing of it is near other data on
    the server, and PostgreSQL scopes advisory locks to a database, so the ledger's append
    lock is not shared with other ledgers on the same server (other test suites' schemas)."""
    name = f"ikrar_bench_{os.getpid()}"
    admin = create_engine(normalize_url(url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))  # a leftover of this pid's crash
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def run(cfg: Config) -> list[Row]:
    count = cfg.size(3000, 300)
    console.print(f"append: {count:,} pre-signed signatures on SQLite ...")
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = measure(f"sqlite:///{tmp}/append.db", count)
    rows = [
        Row(
            "append",
            f"SQLite (WAL, synchronous=FULL), {count:,} signatures",
            rate(count, sqlite.wall),
            f"{sqlite.wall / count * 1e3:.2f} ms each",
            target=f">= {TARGET:,}/s",
            ok=count / sqlite.wall >= TARGET,
        ),
        Row(
            "append",
            "  same, this process's CPU only (the rest waits on fsync)",
            rate(count, sqlite.cpu),
            f"{sqlite.cpu / count * 1e3:.2f} ms each",
        ),
    ]
    console.print(f"append: {count:,} pre-signed signatures on PostgreSQL ...")
    try:
        with pg_schema(cfg.pg_url) as url:
            pg = measure(url, count)
    except Exception as e:  # no server here: say so in the table, keep the other figures
        return [*rows, Row("append", "PostgreSQL", f"not measured: {type(e).__name__}")]
    return [
        *rows,
        Row(
            "append",
            f"PostgreSQL (loopback), {count:,} signatures",
            rate(count, pg.wall),
            f"SQLite {rate(count, sqlite.wall)}",
            f"{sqlite.wall / pg.wall:.2f}",
        ),
    ]
