"""attachments: stored files named by their SHA-256 (blobs) and the notices they belong to

Existing notices have none: both tables start empty.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

import notices.core.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("thumbnail_sha256", sa.String(length=64), nullable=True),
        sa.Column("created_at", notices.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["thumbnail_sha256"], ["blobs.sha256"]),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_table(
        "notice_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("blob_sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("added_at", notices.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(["blob_sha256"], ["blobs.sha256"]),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("notice_id", "blob_sha256", name="uq_notice_attachments_blob"),
    )
    op.create_index("ix_notice_attachments_blob", "notice_attachments", ["blob_sha256"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_notice_attachments_blob", table_name="notice_attachments")
    op.drop_table("notice_attachments")
    op.drop_table("blobs")
