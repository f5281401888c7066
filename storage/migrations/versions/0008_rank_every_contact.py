"""rank every contact: relationship, last in touch, news/wins, fair rotation columns

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28

Issue 10. ``relationship`` and ``last_in_touch`` describe the tie (dormant ties are worth the
most); ``win``/``win_on`` keep their latest news; ``suggested_on``/``suggested_before_on`` are
the last two mornings a nudge suggested the contact (never more than twice a week);
``value_points`` and ``rotation_key`` are maintained from those by the application
(``bot.core.ranking``) so the morning pass orders every eligible contact in SQL, off the new
``(owner_id, rotation_key, next_due_on)`` index. Existing rows get the points SQL can work out
(never contacted, something noted); the next save of a contact recomputes them exactly.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WIN = sa.text("win_on IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("relationship", sa.String(length=16), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("last_in_touch", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("win", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("win_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("suggested_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("suggested_before_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("value_points", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("rotation_key", sa.Integer(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE contacts SET value_points = "
        "(CASE WHEN last_contacted_on IS NULL THEN 1 ELSE 0 END) + "
        "(CASE WHEN notes <> '' OR how_known <> '' THEN 1 ELSE 0 END)"
    )
    op.execute("UPDATE contacts SET rotation_key = -value_points")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contacts_owner_rotation", ["owner_id", "rotation_key", "next_due_on", "id"]
        )
        batch_op.create_index(
            "ix_contacts_owner_win",
            ["owner_id", "win_on"],
            postgresql_where=_WIN,
            sqlite_where=_WIN,
        )


def downgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_contacts_owner_win")
        batch_op.drop_index("ix_contacts_owner_rotation")
        for column in (
            "rotation_key",
            "value_points",
            "suggested_before_on",
            "suggested_on",
            "win_on",
            "win",
            "last_in_touch",
            "relationship",
        ):
            batch_op.drop_column(column)
