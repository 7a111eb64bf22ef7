"""job runs

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

import notices.core.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_scheduled_at", notices.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_finished_at", notices.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_lag_seconds", sa.Double(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("job"),
    )


def downgrade() -> None:
    op.drop_table("job_runs")
