"""predictions, outcomes and next steps: the "fears vs facts" evidence

Revision ID: 0011
Revises: 0006
Create Date: 2026-11-28

``outreach`` records every "Reached out" with what the user expected and what happened;
conversations gain the response (same scale) and outcome tags; ``next_steps`` holds what was
promised, with a date. Rows go with their contact (ON DELETE CASCADE) and their owner.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "outreach",
        sa.Column("id", _ID, nullable=False),
        sa.Column("owner_id", _ID, nullable=False),
        sa.Column("contact_id", _ID, nullable=False),
        sa.Column("reached_on", sa.Date(), nullable=False),
        sa.Column("expected", sa.String(length=16), nullable=True),
        sa.Column("actual", sa.String(length=16), nullable=True),
        sa.Column("replied_on", sa.Date(), nullable=True),
        sa.Column("previous_contact_on", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_outreach_owner_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_outreach_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach")),
    )
    with op.batch_alter_table("outreach") as batch_op:
        batch_op.create_index("ix_outreach_owner_reached", ["owner_id", "reached_on"])
        batch_op.create_index("ix_outreach_owner_contact", ["owner_id", "contact_id"])

    op.create_table(
        "next_steps",
        sa.Column("id", _ID, nullable=False),
        sa.Column("owner_id", _ID, nullable=False),
        sa.Column("contact_id", _ID, nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=8), server_default="open", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_next_steps_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_next_steps_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_next_steps")),
    )
    with op.batch_alter_table("next_steps") as batch_op:
        batch_op.create_index("ix_next_steps_owner_status_due", ["owner_id", "status", "due_on"])
        batch_op.create_index("ix_next_steps_owner_contact", ["owner_id", "contact_id"])

    with op.batch_alter_table("conversations") as batch_op:
        batch_op.add_column(sa.Column("response", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("outcomes", sa.String(length=120), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.drop_column("outcomes")
        batch_op.drop_column("response")
    op.drop_table("next_steps")
    op.drop_table("outreach")
