"""notice text per language: the existing columns stay the default language's text

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing notices keep their text where it is, as the default language's;
    # they have no other language yet (an empty object, never NULL).
    op.add_column("notices", sa.Column("translations", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    # The other languages' text is lost on the way down: the old schema has nowhere to keep it.
    # A plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not a batch copy of the table,
    # so the partial indexes on notices stay exactly as they are.
    op.drop_column("notices", "translations")
