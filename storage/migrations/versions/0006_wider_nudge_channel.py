"""wider nudge channel and message id: Teams conversation ids are longer than 64 characters

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28

A Teams personal conversation id is typically over 100 characters (`a:1…`), so recording a sent
Teams nudge failed on PostgreSQL (``value too long for type character varying(64)``). The
columns take what the platforms send: 255, like ``users.dm_channel`` and
``conversation_refs.conversation_id``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("nudges") as batch_op:
        for column in ("channel", "message_id"):
            batch_op.alter_column(
                column, existing_type=sa.String(length=64), type_=sa.String(length=255)
            )


def downgrade() -> None:
    with op.batch_alter_table("nudges") as batch_op:
        for column in ("channel", "message_id"):
            batch_op.alter_column(
                column, existing_type=sa.String(length=255), type_=sa.String(length=64)
            )
