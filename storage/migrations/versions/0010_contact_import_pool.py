"""contacts: e-mail, LinkedIn URL, connected-on date and the pool flag (imports)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28

Imported people (LinkedIn, Google Contacts, vCard) land in a *pool*: contacts with no cadence
that are never due until the user picks them for their circle. ``email`` and ``linkedin_url``
are what an import deduplicates on (with the name key); ``connected_on`` is LinkedIn's
"Connected On", which the triage uses to find dormant ties.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.add_column(
            sa.Column("email", sa.String(length=254), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("linkedin_url", sa.String(length=500), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("connected_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("in_pool", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # The weekly pool offer reads each owner's oldest tie in the pool.
    op.create_index(
        "ix_contacts_owner_pool",
        "contacts",
        ["owner_id", "connected_on"],
        postgresql_where=sa.text("in_pool"),
        sqlite_where=sa.text("in_pool"),
    )


def downgrade() -> None:
    op.drop_index("ix_contacts_owner_pool", table_name="contacts")
    with op.batch_alter_table("contacts") as batch_op:
        for column in ("in_pool", "connected_on", "linkedin_url", "email"):
            batch_op.drop_column(column)
