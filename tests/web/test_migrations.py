"""The web tables come from migration 0002, which also goes down cleanly.

(That the migrations match the models, web tables included, is checked in
tests/ledger/test_migrations.py.)"""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from ledger.db import make_engine
from ledger.schema import alembic_config, migrate

WEB_TABLES = {"account", "web_session", "enrolment_token", "throttle"}


def test_the_web_migration_goes_down_and_up_again(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    assert set(inspect(engine).get_table_names()) >= WEB_TABLES
    command.downgrade(alembic_config(engine), "0001")
    assert not WEB_TABLES & set(inspect(engine).get_table_names())
    assert "official" in inspect(engine).get_table_names(), "the ledger's tables stay"
    migrate(engine)
    assert set(inspect(engine).get_table_names()) >= WEB_TABLES
