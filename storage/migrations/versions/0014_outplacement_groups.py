"""outplacement groups, their coaches and members

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28

``groups``: one channel (Slack) or channel / group chat (Teams) per group, with its weekly
rhythm's time zone, days and times. ``group_coaches`` and ``group_members`` (with the sharing
level each member chose); ``group_posts`` (the weekly channel posts, claimed like nudges) and
``group_wins`` (wins members chose to share). Deleting a user or a group removes their rows.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "groups",
        sa.Column("id", _ID, nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("channel_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("timezone", sa.String(64), server_default="UTC", nullable=False),
        sa.Column("theme_day", sa.Integer(), server_default="0", nullable=False),
        sa.Column("theme_at", sa.Time(), server_default="09:00:00", nullable=False),
        sa.Column("recap_day", sa.Integer(), server_default="4", nullable=False),
        sa.Column("recap_at", sa.Time(), server_default="15:00:00", nullable=False),
        sa.Column("paused_until", sa.Date(), nullable=True),
        sa.Column("shoutouts", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("quiet_days", sa.Integer(), server_default="14", nullable=False),
        sa.Column("post_reference", sa.Text(), nullable=True),
        sa.Column("broken", sa.String(64), nullable=True),
        sa.Column("broken_told_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", _ID, nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_groups_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
        sa.UniqueConstraint("platform", "workspace_id", "channel_id", name="uq_groups_channel"),
    )
    for table in ("group_coaches", "group_members"):
        extra = (
            [
                sa.Column("level", sa.String(16), server_default="numbers", nullable=False),
                sa.Column("buddies", sa.Boolean(), server_default=sa.text("false"), nullable=False),
                sa.Column(
                    "joined_at",
                    sa.DateTime(timezone=True),
                    server_default=sa.func.now(),
                    nullable=False,
                ),
            ]
            if table == "group_members"
            else [
                sa.Column(
                    "added_at",
                    sa.DateTime(timezone=True),
                    server_default=sa.func.now(),
                    nullable=False,
                )
            ]
        )
        op.create_table(
            table,
            sa.Column("group_id", _ID, nullable=False),
            sa.Column("user_id", _ID, nullable=False),
            *extra,
            sa.ForeignKeyConstraint(
                ["group_id"],
                ["groups.id"],
                name=op.f(f"fk_{table}_group_id_groups"),
                ondelete="CASCADE",
            ),
            sa.ForeignKeyConstraint(
                ["user_id"],
                ["users.id"],
                name=op.f(f"fk_{table}_user_id_users"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("group_id", "user_id", name=op.f(f"pk_{table}")),
        )
        op.create_index(op.f(f"ix_{table}_user_id"), table, ["user_id"])

    op.create_table(
        "group_posts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("group_id", _ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("key", sa.String(64), server_default="", nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("worker", sa.String(128), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("content", sa.Text(), server_default="", nullable=False),
        sa.Column("message_id", sa.String(255), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(200), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_group_posts_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_posts")),
        sa.UniqueConstraint("group_id", "kind", "week_start", "key", name="uq_group_posts_week"),
    )
    op.create_index("ix_group_posts_week_status", "group_posts", ["week_start", "status"])
    op.create_table(
        "group_wins",
        sa.Column("id", _ID, nullable=False),
        sa.Column("group_id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("text", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(32), server_default="", nullable=False),
        sa.Column("message_id", sa.String(255), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_group_wins_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_group_wins_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_wins")),
    )
    op.create_index("ix_group_wins_group_week", "group_wins", ["group_id", "week_start"])
    op.create_index(op.f("ix_group_wins_user_id"), "group_wins", ["user_id"])


def downgrade() -> None:
    op.drop_table("group_wins")
    op.drop_table("group_posts")
    op.drop_table("group_members")
    op.drop_table("group_coaches")
    op.drop_table("groups")
