"""indexes for the morning pass: recent contacts, pending follow-ups, latest conversation

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PENDING = sa.text("follow_up_on IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index("ix_contacts_owner_created", ["owner_id", "created_on"])
        batch_op.create_index(
            "ix_contacts_owner_follow_up",
            ["owner_id", "follow_up_on"],
            postgresql_where=_PENDING,
            sqlite_where=_PENDING,
        )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index("ix_conversations_owner_occurred", ["owner_id", "occurred_on", "id"])


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_owner_occurred")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_contacts_owner_follow_up")
        batch_op.drop_index("ix_contacts_owner_created")
