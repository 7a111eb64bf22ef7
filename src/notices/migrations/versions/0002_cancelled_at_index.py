"""index notices.cancelled_at for the calendar's recently cancelled notices

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    predicate = sa.text("cancelled_at IS NOT NULL")
    op.create_index(
        "ix_notices_cancelled_at", "notices", ["cancelled_at"], sqlite_where=predicate, postgresql_where=predicate
    )


def downgrade() -> None:
    op.drop_index("ix_notices_cancelled_at", table_name="notices")
