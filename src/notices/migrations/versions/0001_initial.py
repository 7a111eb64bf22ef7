"""notices, revisions, events, site state

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

import notices.core.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("locations", sa.JSON(), nullable=False),
        sa.Column("location_detail", sa.Text(), nullable=False),
        sa.Column("geometry", sa.JSON(), nullable=True),
        sa.Column("publish_at", notices.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("starts_at", notices.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", notices.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expected_end", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("cancelled_at", notices.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=False),
        sa.Column("created_at", notices.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", notices.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("announced_phase", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid"),
    )
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notices_live_ends_at",
            ["ends_at"],
            unique=False,
            sqlite_where=sa.text("cancelled_at IS NULL AND ends_at IS NOT NULL"),
            postgresql_where=sa.text("cancelled_at IS NULL AND ends_at IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_notices_open_ended",
            ["starts_at"],
            unique=False,
            sqlite_where=sa.text("cancelled_at IS NULL AND ends_at IS NULL"),
            postgresql_where=sa.text("cancelled_at IS NULL AND ends_at IS NULL"),
        )
        batch_op.create_index("ix_notices_publish_at", ["publish_at"], unique=False)
        batch_op.create_index("ix_notices_starts_at", ["starts_at"], unique=False)
        batch_op.create_index(
            "ix_notices_unannounced",
            ["publish_at"],
            unique=False,
            sqlite_where=sa.text("cancelled_at IS NULL AND announced_phase <> 'ended'"),
            postgresql_where=sa.text("cancelled_at IS NULL AND announced_phase <> 'ended'"),
        )
        batch_op.create_index("ix_notices_updated_at", ["updated_at"], unique=False)

    op.create_table(
        "site_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("data_version", sa.Integer(), nullable=False),
        sa.Column("changed_at", notices.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "notice_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("occurred_at", notices.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", notices.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("notice_id", "kind", "version", name="uq_notice_events_once"),
    )
    with op.batch_alter_table("notice_events", schema=None) as batch_op:
        batch_op.create_index("ix_notice_events_occurred_at", ["occurred_at"], unique=False)

    op.create_table(
        "notice_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", notices.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=200), nullable=False),
        sa.Column("change_note", sa.Text(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("notice_id", "version", name="uq_notice_revisions_version"),
    )
    # The single row whose counter every write bumps (see models.SiteState).
    op.execute("INSERT INTO site_state (id, data_version) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_table("notice_revisions")
    with op.batch_alter_table("notice_events", schema=None) as batch_op:
        batch_op.drop_index("ix_notice_events_occurred_at")

    op.drop_table("notice_events")
    op.drop_table("site_state")
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index("ix_notices_updated_at")
        batch_op.drop_index("ix_notices_unannounced")
        batch_op.drop_index("ix_notices_starts_at")
        batch_op.drop_index("ix_notices_publish_at")
        batch_op.drop_index(
            "ix_notices_open_ended",
            sqlite_where=sa.text("cancelled_at IS NULL AND ends_at IS NULL"),
            postgresql_where=sa.text("cancelled_at IS NULL AND ends_at IS NULL"),
        )
        batch_op.drop_index(
            "ix_notices_live_ends_at",
            sqlite_where=sa.text("cancelled_at IS NULL AND ends_at IS NOT NULL"),
            postgresql_where=sa.text("cancelled_at IS NULL AND ends_at IS NOT NULL"),
        )

    op.drop_table("notices")
