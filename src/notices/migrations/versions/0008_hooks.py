"""outbound hooks: endpoints, their outbox, and which events were handed to it

Revision ID: 0008
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

import notices.core.db

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hook_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("locations", sa.JSON(), nullable=False),
        sa.Column("min_severity", sa.String(length=16), nullable=True),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("previous_secret", sa.String(length=100), nullable=True),
        sa.Column("previous_secret_until", notices.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", notices.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("updated_at", notices.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("failing_since", notices.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", notices.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("disabled_at", notices.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("disabled_reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "hook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("webhook_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", notices.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", notices.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=32), nullable=False),
        sa.Column("expires_at", notices.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", notices.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", notices.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", notices.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("response_code", sa.Integer(), nullable=True),
        sa.Column("response_excerpt", sa.Text(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["endpoint_id"], ["hook_endpoints.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["event_id"], ["notice_events.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("endpoint_id", "event_id", name="uq_hook_deliveries_once"),
    )
    op.create_index(
        "ix_hook_deliveries_due",
        "hook_deliveries",
        ["next_attempt_at"],
        unique=False,
        sqlite_where=sa.text("status IN ('pending', 'sending')"),
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    )
    op.create_index("ix_hook_deliveries_endpoint", "hook_deliveries", ["endpoint_id", "id"], unique=False)

    # Events recorded before hooks existed are history: no endpoint was there to want them.
    with op.batch_alter_table("notice_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hooks_enqueued", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("notice_events", schema=None) as batch_op:
        batch_op.alter_column("hooks_enqueued", server_default=None)
    op.create_index(
        "ix_notice_events_hooks_pending",
        "notice_events",
        ["id"],
        unique=False,
        sqlite_where=sa.text("hooks_enqueued = 0"),
        postgresql_where=sa.text("hooks_enqueued = false"),
    )


def downgrade() -> None:
    op.drop_index("ix_notice_events_hooks_pending", table_name="notice_events")
    with op.batch_alter_table("notice_events", schema=None) as batch_op:
        batch_op.drop_column("hooks_enqueued")
    op.drop_index("ix_hook_deliveries_endpoint", table_name="hook_deliveries")
    op.drop_index("ix_hook_deliveries_due", table_name="hook_deliveries")
    op.drop_table("hook_deliveries")
    op.drop_table("hook_endpoints")
