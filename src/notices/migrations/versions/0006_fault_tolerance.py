"""stored secret key, claim owners, reminders per start, digest runs

Revision ID: 0006
Revises: 0005
"""

import secrets

import sqlalchemy as sa
from alembic import op

import notices.core.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("site_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("secret_key", sa.String(length=100), nullable=True))
    # One key for every process that shares this database, kept across restarts
    # (NOTICES_SECRET_KEY, when set, still takes precedence).
    op.get_bind().execute(
        sa.text("UPDATE site_state SET secret_key = :key WHERE id = 1 AND secret_key IS NULL"),
        {"key": secrets.token_urlsafe(32)},
    )

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=32), nullable=False, server_default=""))

    # Reminders were keyed by notice version, so every text edit reminded
    # everyone again; now they are keyed by the start they remind of.
    op.create_table(
        "notice_reminders_by_start",
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", notices.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lead_minutes", sa.Integer(), nullable=False),
        sa.Column("enqueued_at", notices.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("notice_id", "starts_at", "lead_minutes"),
    )
    # The old rows do not say which start they were for; the notice's current
    # start is the best guess and errs on the side of not reminding twice.
    op.execute(
        "INSERT INTO notice_reminders_by_start (notice_id, starts_at, lead_minutes, enqueued_at) "
        "SELECT r.notice_id, n.starts_at, r.lead_minutes, MIN(r.enqueued_at) "
        "FROM notice_reminders r JOIN notices n ON n.id = r.notice_id "
        "GROUP BY r.notice_id, n.starts_at, r.lead_minutes"
    )
    op.drop_table("notice_reminders")
    op.rename_table("notice_reminders_by_start", "notice_reminders")

    op.create_table(
        "digest_runs",
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("enqueued_at", notices.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("enqueued", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("frequency", "period"),
    )


def downgrade() -> None:
    op.drop_table("digest_runs")
    op.create_table(
        "notice_reminders_by_version",
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("lead_minutes", sa.Integer(), nullable=False),
        sa.Column("enqueued_at", notices.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("notice_id", "version", "lead_minutes"),
    )
    op.execute(
        "INSERT INTO notice_reminders_by_version (notice_id, version, lead_minutes, enqueued_at) "
        "SELECT r.notice_id, n.version, r.lead_minutes, MIN(r.enqueued_at) "
        "FROM notice_reminders r JOIN notices n ON n.id = r.notice_id "
        "GROUP BY r.notice_id, n.version, r.lead_minutes"
    )
    op.drop_table("notice_reminders")
    op.rename_table("notice_reminders_by_version", "notice_reminders")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("claimed_by")
    with op.batch_alter_table("site_state", schema=None) as batch_op:
        batch_op.drop_column("secret_key")
