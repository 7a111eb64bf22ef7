"""indexes for paged lists, and when each delivery's last outcome was recorded (the dashboard chart)

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

from notices.core.db import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Keyset pages walk (starts_at, id) and (at, id): on PostgreSQL an index on the first column
    # alone leaves ties unordered, so every page would sort them. The wider index serves every
    # query the narrow one did, so it replaces it (one index less to write).
    op.create_index("ix_notices_starts_at_id", "notices", ["starts_at", "id"])
    op.drop_index("ix_notices_starts_at", table_name="notices")
    op.create_index("ix_audit_log_at_id", "audit_log", ["at", "id"])
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.add_column("deliveries", sa.Column("outcome_at", UTCDateTime(timezone=True), nullable=True))
    # Sent rows already say when; failures before this revision have no time to chart.
    op.execute("UPDATE deliveries SET outcome_at = sent_at WHERE sent_at IS NOT NULL")
    op.create_index("ix_deliveries_outcome_at", "deliveries", ["outcome_at"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_outcome_at", table_name="deliveries")
    # A plain DROP COLUMN (SQLite 3.35+), not a batch copy that would rebuild the partial indexes.
    op.drop_column("deliveries", "outcome_at")
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.drop_index("ix_audit_log_at_id", table_name="audit_log")
    op.create_index("ix_notices_starts_at", "notices", ["starts_at"])
    op.drop_index("ix_notices_starts_at_id", table_name="notices")
