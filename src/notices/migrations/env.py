"""Alembic environment: the engine comes from notices.core.db.upgrade, never from a .ini."""

from alembic import context

from notices.core.models import Base

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode copies a table and drops the old one. With foreign keys on, SQLite's DROP
        # TABLE first deletes every row, and ON DELETE CASCADE would empty the tables that refer
        # to it (hook deliveries, for notice_events). The pragma only takes effect outside a
        # transaction, so it goes straight to the driver before Alembic's BEGIN (Alembic's
        # advice for batch mode with foreign keys); the check after the commit proves nothing
        # was left dangling, and the pragma is back on before the connection returns to the pool.
        raw = connection.connection.dbapi_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys=OFF")
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            # SQLite cannot ALTER most things in place; batch mode copies the table.
            render_as_batch=sqlite,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    finally:
        if sqlite:
            dangling = raw.execute("PRAGMA foreign_key_check").fetchall()
            raw.execute("PRAGMA foreign_keys=ON")
    if sqlite and dangling:
        raise RuntimeError(f"the migration left rows pointing at nothing: {dangling[:5]}")
