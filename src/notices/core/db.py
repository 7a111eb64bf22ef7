"""Engine, sessions, the aware-UTC column type and schema migrations."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    DateTime,
    Delete,
    Table,
    Update,
    any_,
    bindparam,
    create_engine,
    event,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, CursorResult, Dialect, Engine, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from notices.core.resources import migrations_dir

log = logging.getLogger(__name__)
# How long a SQLite statement waits for another connection's write lock before it fails.
_SQLITE_BUSY_MS = 30_000
# How long a cache fill (fill_cache_table) waits for a lock before it gives up.
CACHE_FILL_WAIT = timedelta(milliseconds=250)
# How long fills of a cache table rest after the database refused one (fill_cache_table).
CACHE_FILL_REST = timedelta(minutes=5)
# Values bound one parameter each in one statement at most (one_of): within every database's limit.
VALUES_PER_QUERY = 500


class UTCDateTime(TypeDecorator[datetime]):
    """An instant stored as UTC that comes back aware on every database.

    PostgreSQL keeps `timestamptz`; SQLite has no time zones and hands back
    naive values, so UTC is re-attached on the way out. Naive input is refused:
    a naive value is a bug (whose wall clock was it?), not something to guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"naive or non-datetime value {value!r} for a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # Stored as text; one fixed format keeps string comparison == time order.
            return value.replace(tzinfo=None)
        return value

    # SQL rendered with its values inlined (EXPLAIN in tests, SQL dumps) needs no
    # process_literal_param: TypeDecorator passes process_bind_param's value to
    # the DateTime type's own literal renderer.

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value if value.tzinfo is UTC else value.astimezone(UTC)  # (psycopg's for a session in UTC)


def make_engine(database_url: str) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        # A file's folder is made; a URI ("file:...?mode=ro&uri=true") names an existing one.
        if url.database and url.database != ":memory:" and not url.query.get("uri"):
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True)


def one_of(session: Session, column: Any, values: Sequence[Any]) -> list[ColumnElement[bool]]:
    """`column IN values` as the conditions of as few statements as the database takes (none for
    no values): on PostgreSQL one, with the values as one array parameter (`= ANY`), which
    SQLAlchemy binds in half the time of 500 parameters (a cold feed render looks up thousands of
    ids and keys); elsewhere one per VALUES_PER_QUERY values."""
    if not values:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return [column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))]
    return [column.in_(values[start : start + VALUES_PER_QUERY]) for start in range(0, len(values), VALUES_PER_QUERY)]


def _begin_sqlite(connection: Connection) -> None:
    # A deferred transaction that reads and then writes fails at once (no busy
    # wait) if another process wrote in between; writers therefore take the
    # write lock up front with BEGIN IMMEDIATE. Readers stay deferred so that
    # feed requests never queue behind each other.
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def _configure_sqlite(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # Let SQLAlchemy (not the driver) issue BEGIN; see make_engine.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL syncs the log at checkpoints, not at every commit (SQLite's own advice for
    # WAL). A commit is still durable against a killed process, which is what the outbox's promises
    # rest on (a killed sender resends at most one message: mail.outcomes); only an OS crash or a
    # power cut can lose the last commits, and then at worst messages already sent go out once more
    # (same Message-ID), claims come back after their leases, and nothing is lost. FULL paid an
    # fsync for every commit: one per message sent over one SMTP connection.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_MS}")
    cursor.close()


class Database:
    """The engine plus the two kinds of session the code base uses."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._reading = sessionmaker(engine, expire_on_commit=False)
        self._writing = sessionmaker(engine.execution_options(sqlite_begin="IMMEDIATE"), expire_on_commit=False)
        # Cache tables whose fills rest after a refusal, and until when (fill_cache_table).
        self.cache_fills_resting: dict[str, datetime] = {}

    @classmethod
    def from_url(cls, database_url: str) -> Database:
        return cls(make_engine(database_url))

    def session(self) -> Session:
        """For reads (and writes whose first statement writes)."""
        return self._reading()

    def writing(self) -> Session:
        """For a transaction that reads, then writes: takes the write lock first on SQLite."""
        return self._writing()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.engine.dispose()


def ping(session: Session) -> None:
    """A round trip to the database; raises when it does not answer (health checks)."""
    session.execute(text("SELECT 1"))


def insert_ignoring_duplicates(session: Session, table: Table, values: Mapping[str, Any]) -> bool:
    """INSERT that is a no-op when a unique key already exists; True if a row was added.

    This is what makes recording an event or enqueuing a delivery idempotent,
    also when two processes race to do it.
    """
    dialect = session.get_bind().dialect.name
    builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = builder(table).values(**values).on_conflict_do_nothing().returning(*table.primary_key.columns)
    # RETURNING, not rowcount: drivers disagree on rowcount for upserts (psycopg reports -1).
    return session.execute(statement).first() is not None


def insert_many_ignoring_duplicates(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """insert_ignoring_duplicates for many rows, each with the same keys (the first row's decide
    the columns): one statement, compiled once and run for every row by the driver (sqlite3's
    executemany, psycopg's pipeline: no round trip per row). A statement with a VALUES row per
    row, as before, took SQLAlchemy longer to compile for a thousand feed pieces (about 150 ms)
    than the database took to store them."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(builder(table).on_conflict_do_nothing(), list(rows))


def fill_cache_table(
    db: Database, table: Table, rows: Sequence[Mapping[str, Any]], *, what: str, now: datetime
) -> bool:
    """Insert `rows` into a table that only saves work (rendered bodies, feed pieces), those already
    there left alone, in a transaction of its own; True if they were stored. Never a write a reader
    waits on long or fails by: it waits at most CACHE_FILL_WAIT for a lock another writer holds (a
    feed request does the fill). A database that refuses it (read-only, locked longer) costs only
    the work the rows would have saved: the refusal is logged, naming `what` was not stored, and
    fills of that table rest for CACHE_FILL_REST. A read-only replica refuses every fill, and
    without the rest each render would pay for a failing transaction and log the same warning."""
    resting_until = db.cache_fills_resting.get(table.name)
    if resting_until is not None and now < resting_until:
        return False
    error = _fill(db, table, rows)
    if error is None:
        # A rest is not ended here: a fill that committed while another thread's was refused (a
        # lock timeout behind it) would end the rest that refusal just began. It ends by time.
        return True
    # Threads that fill side by side may each log one refusal before the rest begins; no lock for that.
    db.cache_fills_resting[table.name] = now + CACHE_FILL_REST
    minutes = int(CACHE_FILL_REST.total_seconds() // 60)
    log.warning(
        "could not store %d %s (they are rendered again next time); no more tries for %d minutes: %s",
        len(rows),
        what,
        minutes,
        error,
    )
    return False


def _fill(db: Database, table: Table, rows: Sequence[Mapping[str, Any]]) -> SQLAlchemyError | None:
    wait_ms = int(CACHE_FILL_WAIT.total_seconds() * 1000)
    try:
        with db.session() as session, session.begin():
            connection = session.connection()
            sqlite_file = connection.dialect.name == "sqlite"
            if sqlite_file:
                connection.exec_driver_sql(f"PRAGMA busy_timeout={wait_ms}")
            else:
                connection.exec_driver_sql(f"SET LOCAL lock_timeout = {wait_ms}")  # this transaction only
            try:
                insert_many_ignoring_duplicates(session, table, rows)
            finally:
                if sqlite_file:  # the connection goes back to the pool with the usual wait
                    connection.exec_driver_sql(f"PRAGMA busy_timeout={_SQLITE_BUSY_MS}")
    except SQLAlchemyError as error:
        return error
    return None


def affected_rows(session: Session, statement: Update | Delete) -> int:
    """Run an UPDATE or DELETE (without RETURNING); how many rows it changed."""
    # Session.execute answers INSERT, UPDATE and DELETE with a CursorResult, which
    # has the row count; its annotation says Result (the ORM cannot promise a
    # cursor for every statement), and SQLAlchemy's advice is this cast.
    return cast(CursorResult[Any], session.execute(statement)).rowcount


def alembic_config(engine: Engine | None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to `revision` (Alembic); safe to run on every start."""
    command.upgrade(alembic_config(engine), revision)


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(None)).get_current_head()
    if head is None:  # the package ships its migrations: without them the install is broken
        raise RuntimeError(f"no schema migrations in {migrations_dir()}")
    return head


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def isolated(session: Session, item: str, failures: list[tuple[str, str]]) -> Iterator[None]:
    """Do one item's work in a savepoint; if it fails, undo just that, note it, and go on.

    One bad row (a notice, an event) must not stop a job for all the others;
    the caller reports `failures` when it is done (see errors.PartialFailure).
    """
    try:
        with session.begin_nested():
            yield
    except Exception as error:  # noqa: BLE001 - any fault of one item is recorded, not raised
        log.exception("%s failed", item)
        failures.append((item, f"{type(error).__name__}: {error}"[:300]))
