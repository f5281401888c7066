"""slash commands acknowledged early and not finished yet

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-28

``pending_work``: a command acknowledged with "One moment…" is recorded (committed) before
that ack goes out, and deleted in the same transaction as its work. A record left behind by a
process that died is taken over by another web process, which runs the command again (its
replay key makes a second run of committed work a no-op) and answers through the stored
response URL. Erasing the user removes their records; the clock purges any older than an hour.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "pending_work",
        sa.Column("id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("response_url", sa.String(1000), nullable=True),
        sa.Column("replay_timestamp", sa.BigInteger(), nullable=True),
        sa.Column("replay_signature", sa.String(100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(120), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_pending_work_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_work")),
    )
    op.create_index(op.f("ix_pending_work_user_id"), "pending_work", ["user_id"])


def downgrade() -> None:
    op.drop_table("pending_work")
