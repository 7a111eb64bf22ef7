"""rendered_pieces: notices' feed entries and calendar events as bytes, kept for the next process

Starts empty: pieces are stored as feeds render them.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

import notices.core.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rendered_pieces",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("meta", sa.Text(), nullable=False),
        sa.Column("created_at", notices.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_rendered_pieces_created_at", "rendered_pieces", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_rendered_pieces_created_at", table_name="rendered_pieces")
    op.drop_table("rendered_pieces")
