"""rules version 4: identities, the capacity signed, declines and deadlines

The register and invitations keep an official's rank and acting appointment; the derived
tables gain what a rules-4 signature names (`signature.name`, `capacity`, `unit`), the
commitment's deadline, and the `official.updated` and `commitment.declined` entries
(`official_update`, `decline`). A ledger made before has no such entries: the new columns
and tables start empty, which is what its entries derive.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 11:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_S = sqlmodel.sql.sqltypes.AutoString


def _identity_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("rank", _S(length=200), nullable=True),
        sa.Column("acting", _S(length=8), nullable=True),
        sa.Column("appointment", _S(length=200), nullable=True),
    ]


def upgrade() -> None:
    for table in ("official", "invitation"):
        with op.batch_alter_table(table) as batch_op:
            for column in _identity_columns():
                batch_op.add_column(column)
    with op.batch_alter_table("signature") as batch_op:
        batch_op.add_column(sa.Column("name", _S(length=200), nullable=True))
        batch_op.add_column(sa.Column("capacity", _S(length=420), nullable=True))
        batch_op.add_column(sa.Column("unit", _S(length=200), nullable=True))
    with op.batch_alter_table("commitment") as batch_op:
        batch_op.add_column(sa.Column("deadline", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "official_update",
        sa.Column("idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("nip", _S(length=18), nullable=False),
        sa.Column("name", _S(length=200), nullable=False),
        sa.Column("title", _S(length=200), nullable=False),
        sa.Column("unit", _S(length=200), nullable=False),
        *_identity_columns(),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("attested_by", _S(length=18), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("idx"),
    )
    with op.batch_alter_table("official_update") as batch_op:
        batch_op.create_index(batch_op.f("ix_official_update_nip"), ["nip"], unique=False)
    op.create_table(
        "decline",
        sa.Column("idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("slug", _S(length=80), nullable=False),
        sa.Column("nip", _S(length=18), nullable=False),
        sa.Column("key", _S(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("declined_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("idx"),
        sa.UniqueConstraint("slug", "nip", name="uq_decline_slug_nip"),
    )
    with op.batch_alter_table("decline") as batch_op:
        batch_op.create_index(batch_op.f("ix_decline_slug"), ["slug"], unique=False)


def downgrade() -> None:
    op.drop_table("decline")
    op.drop_table("official_update")
    with op.batch_alter_table("commitment") as batch_op:
        batch_op.drop_column("deadline")
    with op.batch_alter_table("signature") as batch_op:
        for column in ("unit", "capacity", "name"):
            batch_op.drop_column(column)
    for table in ("invitation", "official"):
        with op.batch_alter_table(table) as batch_op:
            for column in ("appointment", "acting", "rank"):
                batch_op.drop_column(column)
