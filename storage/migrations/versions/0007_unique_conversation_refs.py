"""one user per Teams personal conversation: a unique index on conversation_refs.conversation_id

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28

A personal conversation belongs to one user, and ``SqlStore.save_reference`` never rebinds one
to another; the unique index makes that hold under concurrent writers (and in any process).

Existing duplicates came from the time anyone could name another user's ``conversation.id`` in
anonymous mode: which row is the rightful one cannot be told from the data, so every
reference of a conversation named by more than one user is deleted (and those users'
``dm_channel`` cleared, as ``forget_reference`` does). No nudge can then reach the wrong chat;
each user is reachable again from their next message to the bot, which stores a fresh
reference.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DUPLICATED = (
    "SELECT conversation_id FROM conversation_refs GROUP BY conversation_id HAVING count(*) > 1"
)


def upgrade() -> None:
    op.execute(
        sa.text(
            "UPDATE users SET dm_channel = NULL WHERE id IN ("
            f"SELECT user_id FROM conversation_refs WHERE conversation_id IN ({_DUPLICATED}))"
        )
    )
    op.execute(sa.text(f"DELETE FROM conversation_refs WHERE conversation_id IN ({_DUPLICATED})"))
    op.drop_index("ix_conversation_refs_conversation_id", table_name="conversation_refs")
    op.create_index(
        "ix_conversation_refs_conversation_id",
        "conversation_refs",
        ["conversation_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ix_conversation_refs_conversation_id", table_name="conversation_refs")
    op.create_index(
        "ix_conversation_refs_conversation_id",
        "conversation_refs",
        ["conversation_id"],
        unique=False,
    )
