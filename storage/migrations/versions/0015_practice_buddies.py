"""practice buddies: who met whom, week by week

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28

``buddy_matches``: one row per member per week of a group's practice buddies; the members of
a week with the same ``pair_no`` were introduced to each other. The weekly claim itself is a
``group_posts`` row of kind "buddies".
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "buddy_matches",
        sa.Column("group_id", _ID, nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("pair_no", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_buddy_matches_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_buddy_matches_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "week_start", "user_id", name=op.f("pk_buddy_matches")),
    )
    op.create_index(op.f("ix_buddy_matches_user_id"), "buddy_matches", ["user_id"])


def downgrade() -> None:
    op.drop_table("buddy_matches")
