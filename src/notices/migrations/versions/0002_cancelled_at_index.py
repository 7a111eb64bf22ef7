"""index notices.cancelled_at for the calendar's recently cancelled notices

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_notices_cancelled_at", "notices", ["cancelled_at"])


def downgrade() -> None:
    op.drop_index("ix_notices_cancelled_at", table_name="notices")
