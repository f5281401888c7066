"""contact preferred name: what the user's contact likes to be called

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28

Openers and replies greet people by a name worked out from the full name ("Dana" for "Dana
Whitfield", "Dr. Okafor" for "Dr. Amara Okafor", "Li" for "WANG Li"). Where that is not what the
person goes by, the user types a preferred name; empty means "work it out from the name", so
existing contacts need no backfill.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.add_column(
            sa.Column("preferred_name", sa.String(length=80), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.drop_column("preferred_name")
