"""The schema is made by Alembic migrations, step by step, and they match the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import SQLModel

import ledger.models  # noqa: F401 - registers the tables
from ledger.db import make_engine
from ledger.schema import alembic_config, migrate


def test_migrations_build_the_schema_and_match_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    script = ScriptDirectory.from_config(alembic_config(engine))
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    assert revisions[0] == "0001"
    for revision in revisions:  # one step at a time, as an upgrade in the field would
        migrate(engine, revision)
    with engine.connect() as c:
        assert MigrationContext.configure(c).get_current_revision() == script.get_current_head()
        diff = compare_metadata(MigrationContext.configure(c), SQLModel.metadata)
    assert diff == [], f"the models and the migrations differ: {diff}"
    assert {"entry", "checkpoint", "merkle_node", "official", "signature"} <= set(inspect(engine).get_table_names())
    migrate(engine)  # running it again changes nothing
