"""vouching, mail outbox, login throttle per address

Invitations (an admin's signed attestation and a second admin's approval, issue 10), the
mail outbox, failed logins counted per NIP and client address with the locks admins lift,
the official's e-mail address, an account's last login and a session's last password.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 08:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("official") as batch_op:
        batch_op.add_column(sa.Column("email", _S(length=254), nullable=True))
    with op.batch_alter_table("account") as batch_op:
        batch_op.add_column(sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("web_session") as batch_op:
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "invitation",
        sa.Column("id", _S(length=32), nullable=False),
        sa.Column("token_hash", _S(length=64), nullable=False),
        sa.Column("nip", _S(length=18), nullable=False),
        sa.Column("name", _S(length=200), nullable=False),
        sa.Column("title", _S(length=200), nullable=False),
        sa.Column("unit", _S(length=200), nullable=False),
        sa.Column("role", _S(length=16), nullable=False),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attested_by", _S(length=18), nullable=False),
        sa.Column("attester", _S(length=200), nullable=False),
        sa.Column("attestation", _S(length=100), nullable=False),
        sa.Column("replacement", sa.Boolean(), nullable=False),
        sa.Column("approved_by", _S(length=18), nullable=True),
        sa.Column("approver", _S(length=200), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approval", _S(length=100), nullable=True),
        sa.ForeignKeyConstraint(["nip"], ["official.nip"]),
        sa.ForeignKeyConstraint(["token_hash"], ["enrolment_token.token_hash"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("invitation") as batch_op:
        batch_op.create_index(batch_op.f("ix_invitation_nip"), ["nip"], unique=False)
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event", _S(length=32), nullable=False),
        sa.Column("nip", _S(length=18), nullable=False),
        sa.Column("entry_index", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", _S(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event", "nip", "entry_index", name="uq_mail_outbox_event"),
    )
    with op.batch_alter_table("mail_outbox") as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_outbox_next_attempt_at"), ["next_attempt_at"], unique=False)
    op.create_table(
        "login_throttle",
        sa.Column("nip", _S(length=18), nullable=False),
        sa.Column("address", _S(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("nip", "address"),
    )
    op.create_table(
        "lock_lift",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", _S(length=16), nullable=False),
        sa.Column("nip", _S(length=18), nullable=False),
        sa.Column("address", _S(length=64), nullable=True),
        sa.Column("lifted_by", _S(length=18), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("lock_lift") as batch_op:
        batch_op.create_index(batch_op.f("ix_lock_lift_nip"), ["nip"], unique=False)


def downgrade() -> None:
    op.drop_table("lock_lift")
    op.drop_table("login_throttle")
    op.drop_table("mail_outbox")
    op.drop_table("invitation")
    with op.batch_alter_table("web_session") as batch_op:
        batch_op.drop_column("confirmed_at")
    with op.batch_alter_table("account") as batch_op:
        batch_op.drop_column("last_login_at")
    with op.batch_alter_table("official") as batch_op:
        batch_op.drop_column("email")
