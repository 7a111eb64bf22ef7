"""subscribers, deliveries, reminders, rate limits

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import notices.core.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_hits",
        sa.Column("bucket", sa.String(length=200), nullable=False),
        sa.Column("window_start", notices.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "window_start"),
    )
    op.create_table(
        "subscribers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("locations", sa.JSON(), nullable=False),
        sa.Column("min_severity", sa.String(length=16), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("created_at", notices.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", notices.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", notices.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("unsubscribed_at", notices.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("suppressed_at", notices.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("suppression_reason", sa.Text(), nullable=False),
        sa.Column("token_generation", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.create_index("ix_subscribers_state_frequency", ["state", "frequency"], unique=False)

    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("dedup_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", notices.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", notices.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", notices.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("smtp_reply", sa.Text(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", notices.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", notices.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscriber_id", "dedup_key", name="uq_deliveries_dedup"),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deliveries_due",
            ["next_attempt_at"],
            unique=False,
            sqlite_where=sa.text("status IN ('pending', 'sending')"),
            postgresql_where=sa.text("status IN ('pending', 'sending')"),
        )
        batch_op.create_index("ix_deliveries_status", ["status"], unique=False)

    op.create_table(
        "notice_reminders",
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("lead_minutes", sa.Integer(), nullable=False),
        sa.Column("enqueued_at", notices.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("notice_id", "version", "lead_minutes"),
    )
    with op.batch_alter_table("notice_events", schema=None) as batch_op:
        # Events recorded before email existed are not alerted about after an upgrade.
        batch_op.add_column(sa.Column("alerts_enqueued", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.create_index(
            "ix_notice_events_alerts_pending",
            ["id"],
            unique=False,
            sqlite_where=sa.text("alerts_enqueued = 0"),
            postgresql_where=sa.text("alerts_enqueued = false"),
        )


def downgrade() -> None:
    with op.batch_alter_table("notice_events", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_notice_events_alerts_pending",
            sqlite_where=sa.text("alerts_enqueued = 0"),
            postgresql_where=sa.text("alerts_enqueued = false"),
        )
        batch_op.drop_column("alerts_enqueued")

    op.drop_table("notice_reminders")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_status")
        batch_op.drop_index(
            "ix_deliveries_due",
            sqlite_where=sa.text("status IN ('pending', 'sending')"),
            postgresql_where=sa.text("status IN ('pending', 'sending')"),
        )

    op.drop_table("deliveries")
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.drop_index("ix_subscribers_state_frequency")

    op.drop_table("subscribers")
    op.drop_table("rate_limit_hits")
