"""approval workflow: submissions waiting for a second person (notice_reviews)

Existing notices, users and their roles stay as they are: the table starts empty.

Revision ID: 0010
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

import notices.core.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notice_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("proposal", sa.JSON(), nullable=False),
        sa.Column("submitted_by", sa.String(length=320), nullable=False),
        sa.Column("submitted_at", notices.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=320), nullable=False),
        sa.Column("decided_at", notices.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notice_reviews_notice", "notice_reviews", ["notice_id"], unique=False)
    op.create_index(
        "uq_notice_reviews_waiting",
        "notice_reviews",
        ["notice_id"],
        unique=True,
        sqlite_where=sa.text("state = 'submitted'"),
        postgresql_where=sa.text("state = 'submitted'"),
    )


def downgrade() -> None:
    op.drop_index("uq_notice_reviews_waiting", table_name="notice_reviews")
    op.drop_index("ix_notice_reviews_notice", table_name="notice_reviews")
    op.drop_table("notice_reviews")
