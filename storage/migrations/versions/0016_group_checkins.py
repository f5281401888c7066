"""kind check-ins a coach sent to quiet group members; members' display names

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-28

``group_checkins``: one row per (group, member, group week) a coach sent a kind check-in in,
so a member gets at most one a week from a group; claimed before the DM goes out and removed
again if it could not be delivered. Deleting the group, the member or the coach removes it.
``group_members.display_name``: the name the member's platform showed when they joined (Slack
profile / Teams ``from.name``), so the coach's view can say who is who without an API call.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "group_checkins",
        sa.Column("id", _ID, nullable=False),
        sa.Column("group_id", _ID, nullable=False),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("coach_id", _ID, nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_group_checkins_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["users.id"],
            name=op.f("fk_group_checkins_member_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["coach_id"],
            ["users.id"],
            name=op.f("fk_group_checkins_coach_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_checkins")),
        sa.UniqueConstraint("group_id", "member_id", "week_start", name="uq_group_checkins_week"),
    )
    op.create_index(op.f("ix_group_checkins_member_id"), "group_checkins", ["member_id"])
    op.create_index(op.f("ix_group_checkins_coach_id"), "group_checkins", ["coach_id"])
    with op.batch_alter_table("group_members") as batch:
        batch.add_column(
            sa.Column("display_name", sa.String(80), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("group_members") as batch:
        batch.drop_column("display_name")
    op.drop_table("group_checkins")
