"""rendered_bodies: notice bodies rendered from Markdown, kept for the next process that needs them

Starts empty: bodies are stored as feeds render them.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

import notices.core.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rendered_bodies",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("created_at", notices.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_rendered_bodies_created_at", "rendered_bodies", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_rendered_bodies_created_at", table_name="rendered_bodies")
    op.drop_table("rendered_bodies")
