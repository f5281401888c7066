"""users.uninstalled_at: when the app was removed from a user's personal scope (Teams)

Revision ID: 0013
Revises: 0006
Create Date: 2026-11-28

Uninstalling the Teams app stops the morning nudges at once; the user's data is deleted 30
days later unless they install the app again (jobs/purge.py). The column says since when.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("uninstalled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("uninstalled_at")
