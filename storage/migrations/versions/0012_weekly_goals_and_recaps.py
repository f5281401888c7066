"""weekly goals and recap settings

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28

``weekly_goals``: a user's outreach goal from a week on (history kept, so each week is judged
by the goal in force then). ``recap_settings``: the day, time and off switch of the weekly
recap (no row means the defaults). The recap itself is a row of ``nudges`` with kind "recap".
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "weekly_goals",
        sa.Column("owner_id", _ID, nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("goal", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_weekly_goals_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("owner_id", "week_start", name="pk_weekly_goals"),
    )
    op.create_table(
        "recap_settings",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("day", sa.Integer(), server_default="4", nullable=False),
        sa.Column("at", sa.Time(), server_default="16:00:00", nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_recap_settings_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_recap_settings")),
    )


def downgrade() -> None:
    op.drop_table("recap_settings")
    op.drop_table("weekly_goals")
