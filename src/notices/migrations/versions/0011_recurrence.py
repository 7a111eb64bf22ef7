"""recurring notices: the rule on the notice, and events per occurrence

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The partial indexes on notice_events, which SQLite's batch copy would not carry over
# (reflection does not give their WHERE clauses back): dropped before, made again after.
_PARTIAL_INDEXES = (
    ("ix_notice_events_alerts_pending", "alerts_enqueued = 0", "alerts_enqueued = false"),
    ("ix_notice_events_hooks_pending", "hooks_enqueued = 0", "hooks_enqueued = false"),
)


def upgrade() -> None:
    # Existing notices are single notices: no rule, no exceptions.
    op.add_column("notices", sa.Column("recurrence", sa.Text(), nullable=False, server_default=""))
    op.add_column("notices", sa.Column("occurrence_minutes", sa.Integer(), nullable=True))
    op.add_column("notices", sa.Column("recurrence_zone", sa.String(length=64), nullable=False, server_default=""))
    op.add_column("notices", sa.Column("occurrence_changes", sa.JSON(), nullable=False, server_default="{}"))
    # Existing events are about whole notices (an empty occurrence); the unique key grows the
    # occurrence, so each occurrence of a series starts and ends once.
    _rebuild_events_key(("notice_id", "kind", "version", "occurrence"), add_occurrence=True)


def downgrade() -> None:
    # Occurrence events are lost on the way down (the old key cannot hold two starts of one
    # version), and the series become single notices spanning their first to last occurrence.
    op.execute("DELETE FROM notice_events WHERE occurrence <> ''")
    _rebuild_events_key(("notice_id", "kind", "version"), add_occurrence=False)
    for column in ("occurrence_changes", "recurrence_zone", "occurrence_minutes", "recurrence"):
        op.drop_column("notices", column)


def _rebuild_events_key(columns: tuple[str, ...], *, add_occurrence: bool) -> None:
    for name, _sqlite_where, _postgresql_where in _PARTIAL_INDEXES:
        op.drop_index(name, table_name="notice_events")
    with op.batch_alter_table("notice_events", schema=None) as batch_op:
        if add_occurrence:
            batch_op.add_column(sa.Column("occurrence", sa.String(length=20), nullable=False, server_default=""))
        batch_op.drop_constraint("uq_notice_events_once", type_="unique")
        batch_op.create_unique_constraint("uq_notice_events_once", list(columns))
        if not add_occurrence:
            batch_op.drop_column("occurrence")
    for name, sqlite_where, postgresql_where in _PARTIAL_INDEXES:
        op.create_index(
            name,
            "notice_events",
            ["id"],
            unique=False,
            sqlite_where=sa.text(sqlite_where),
            postgresql_where=sa.text(postgresql_where),
        )
