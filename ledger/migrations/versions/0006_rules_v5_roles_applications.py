"""rules version 5: roles given by entries, and applications verified by Diskominfo

The derived tables gain the `role.assigned` entries (`role_grant`: each grant or withdrawal,
a grant in force until `ended_index`), the applications (`application`: each one's latest
revision and status, with the register's columns of its request) and their entries
(`app_event`). The web keeps the requests being prepared (`app_draft`) and the files they
attach (`app_attachment`, by SHA-256). A ledger made before has no such entries: the new
tables start empty, which is what its entries derive.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_S = sqlmodel.sql.sqltypes.AutoString


def _utc(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "role_grant",
        sa.Column("idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("nip", _S(length=18), nullable=False),
        sa.Column("role", _S(length=16), nullable=False),
        sa.Column("unit", _S(length=200), nullable=False),
        sa.Column("grant", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("attested_by", _S(length=18), nullable=False),
        _utc("assigned_at"),
        sa.Column("ended_index", sa.Integer(), nullable=True),
        _utc("ended_at", nullable=True),
        sa.PrimaryKeyConstraint("idx"),
    )
    with op.batch_alter_table("role_grant") as batch_op:
        batch_op.create_index(batch_op.f("ix_role_grant_nip"), ["nip"], unique=False)
    op.create_table(
        "application",
        sa.Column("app", _S(length=9), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("status", _S(length=24), nullable=False),
        sa.Column("agency", _S(length=200), nullable=False),
        sa.Column("name", _S(length=120), nullable=False),
        sa.Column("kind", _S(length=16), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("request_sha256", _S(length=64), nullable=False),
        sa.Column("first_index", sa.Integer(), nullable=False),
        _utc("first_time"),
        sa.Column("submitted_index", sa.Integer(), nullable=False),
        _utc("submitted_time"),
        sa.Column("decided_index", sa.Integer(), nullable=True),
        _utc("decided_time", nullable=True),
        sa.Column("decision", _S(length=24), nullable=True),
        _utc("updated_time"),
        sa.Column("reviewed_index", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("app"),
    )
    with op.batch_alter_table("application") as batch_op:
        batch_op.create_index(batch_op.f("ix_application_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_application_agency"), ["agency"], unique=False)
    op.create_table(
        "app_event",
        sa.Column("idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("app", _S(length=9), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("kind", _S(length=16), nullable=False),
        sa.Column("by", _S(length=18), nullable=False),
        _utc("time"),
        sa.Column("decision", _S(length=24), nullable=True),
        sa.PrimaryKeyConstraint("idx"),
    )
    with op.batch_alter_table("app_event") as batch_op:
        batch_op.create_index(batch_op.f("ix_app_event_app"), ["app"], unique=False)
    op.create_table(
        "app_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency", _S(length=200), nullable=False),
        sa.Column("app", _S(length=9), nullable=True),
        sa.Column("request_json", sa.Text(), nullable=False),
        sa.Column("prepared_by", _S(length=18), nullable=False),
        _utc("updated_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("app_draft") as batch_op:
        batch_op.create_index(batch_op.f("ix_app_draft_agency"), ["agency"], unique=False)
    op.create_table(
        "app_attachment",
        sa.Column("sha256", _S(length=64), nullable=False),
        sa.Column("file_name", _S(length=200), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        _utc("stored_at"),
        sa.PrimaryKeyConstraint("sha256"),
    )


def downgrade() -> None:
    op.drop_table("app_attachment")
    op.drop_table("app_draft")
    op.drop_table("app_event")
    op.drop_table("application")
    op.drop_table("role_grant")
