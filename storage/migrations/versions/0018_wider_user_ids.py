"""wider user ids: a Teams user without an Entra object id is known by its channel account id

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-28

``users.external_id`` holds a Slack user id (``U…``, short), a Teams user's Entra object id (a
GUID, 36 characters) or, when an activity carries no object id (the Bot Framework Emulator,
some channels), the channel account id — ``29:1…`` on Teams, often 80 characters or more.
Those were refused as too long for ``VARCHAR(64)``; the column now takes 255, like every
other id column that holds what the platforms send.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.alter_column(
            "external_id", existing_type=sa.String(length=64), type_=sa.String(length=255)
        )


def downgrade() -> None:
    # Refuses (on PostgreSQL) if a longer id has been stored meanwhile: nothing is cut short.
    with op.batch_alter_table("users") as batch_op:
        batch_op.alter_column(
            "external_id", existing_type=sa.String(length=255), type_=sa.String(length=64)
        )
