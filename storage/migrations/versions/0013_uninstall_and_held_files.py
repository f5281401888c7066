"""users.uninstalled_at (Teams uninstall), held_files (Teams file-consent uploads)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28

Uninstalling the Teams app stops the morning nudges at once; the user's data is deleted 30
days later unless they install the app again (jobs/purge.py). The column says since when.

On Teams a file (an export) is offered with a file-consent card and uploaded only when the
user accepts; ``held_files`` keeps it until then, so whichever process receives the accept
can upload it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("uninstalled_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "held_files",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_held_files_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_held_files")),
    )
    with op.batch_alter_table("held_files") as batch_op:
        batch_op.create_index(batch_op.f("ix_held_files_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_table("held_files")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("uninstalled_at")
