"""reminders to sign go through the mail outbox

A round of reminders (`mail_reminder`: the commitment, the admin who sent it, when, and the
confirmation form's once-only token) and its mails as outbox rows of event ``reminder``
that name it (`mail_outbox.reminder_id`, one per official and round). The notices of ledger
events keep their uniqueness per (event, NIP, entry); they name no round.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "mail_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", _S(length=80), nullable=False),
        sa.Column("sent_by", _S(length=18), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request", _S(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request"),
    )
    with op.batch_alter_table("mail_reminder") as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_reminder_slug"), ["slug"], unique=False)
    with op.batch_alter_table("mail_outbox") as batch_op:
        batch_op.add_column(sa.Column("reminder_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_mail_outbox_reminder_id", "mail_reminder", ["reminder_id"], ["id"])
        batch_op.create_unique_constraint("uq_mail_outbox_reminder", ["reminder_id", "nip"])


def downgrade() -> None:
    op.execute("DELETE FROM mail_outbox WHERE reminder_id IS NOT NULL")
    with op.batch_alter_table("mail_outbox") as batch_op:
        batch_op.drop_constraint("uq_mail_outbox_reminder", type_="unique")
        batch_op.drop_constraint("fk_mail_outbox_reminder_id", type_="foreignkey")
        batch_op.drop_column("reminder_id")
    op.drop_table("mail_reminder")
