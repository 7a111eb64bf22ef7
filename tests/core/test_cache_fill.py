"""A cache fill (core.db.fill_cache_table: stored bodies and feed pieces, written by a feed request)
waits only briefly for a lock another writer holds, gives up, writes nothing, and leaves the
connection it used as the rest of the code expects it; after a refusal, fills of that table rest
for a while (a read-only replica refuses every one)."""

from __future__ import annotations

import logging
import sqlite3
import time
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

from notices.core.clock import FixedClock
from notices.core.context import AppContext
from notices.core.db import CACHE_FILL_REST, Database, fill_cache_table
from notices.core.models import RenderedBody, RenderedPiece, table_of
from notices.feeds.fragments import Fragments
from tests.factories import add_notice
from tests.feeds.test_rendered_bodies import BODY, read_only, render

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
ROW = {"key": "k" * 64, "html": "<p>x</p>", "created_at": NOW}


def hold_the_write_lock(url: str) -> sqlite3.Connection | psycopg.Connection:
    """Another process's transaction that holds what the fill needs: on SQLite the database's write
    lock, on PostgreSQL an uncommitted row with the same key."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database is not None
        lite = sqlite3.connect(parsed.database, isolation_level=None)
        lite.execute("BEGIN IMMEDIATE")
        return lite
    other = psycopg.connect(parsed.set(drivername="postgresql").render_as_string(hide_password=False))
    other.execute("INSERT INTO rendered_bodies (key, html, created_at) VALUES (%s, %s, %s)", (ROW["key"], "other", NOW))
    return other


def test_a_fill_behind_another_writer_gives_up_soon_and_writes_nothing(ctx, database_url):
    db = Database.from_url(database_url)  # a pool of its own: the connection checked after is the one used
    other = hold_the_write_lock(database_url)
    try:
        started = time.monotonic()
        stored = fill_cache_table(db, table_of(RenderedBody), [ROW], what="rendered notice bodies", now=NOW)
        waited = time.monotonic() - started
    finally:
        other.rollback()
        other.close()
    assert not stored
    assert waited < 10  # CACHE_FILL_WAIT (250 ms), not the 30 s other writes wait on SQLite
    with ctx.db.session() as session:
        assert session.scalar(select(func.count()).select_from(RenderedBody)) == 0
    with db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":  # other writes wait as long as they always did
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        else:  # SET LOCAL ended with the transaction
            assert connection.exec_driver_sql("SHOW lock_timeout").scalar() == "0"
    # The lock is free again, but fills of the table rest; the first after the rest goes through.
    assert not fill_cache_table(db, table_of(RenderedBody), [ROW], what="bodies", now=NOW + CACHE_FILL_REST / 2)
    assert count(ctx, RenderedBody) == 0
    assert fill_cache_table(db, table_of(RenderedBody), [ROW], what="bodies", now=NOW + CACHE_FILL_REST)
    assert count(ctx, RenderedBody) == 1
    db.dispose()


def count(ctx: AppContext, model: type) -> int:
    with ctx.db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_read_only_replica_is_told_once_per_rest_not_at_every_render(ctx, database_url, caplog):
    add_notice(ctx, title="Timed works", body=BODY)
    expected = render(ctx, "/feeds/notices.atom", None)
    replica_db = Database.from_url(read_only(database_url))
    inserts: list[str] = []

    @event.listens_for(replica_db.engine, "before_cursor_execute")
    def note_insert(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001 - SQLAlchemy's hook
        if statement.lstrip().upper().startswith("INSERT"):
            inserts.append(statement)

    def render_on_replica(at: datetime) -> bytes:
        # A new process each time (nothing kept in memory): every render has bodies and pieces to store.
        replica = AppContext(settings=ctx.settings, db=replica_db, clock=FixedClock(at))
        return render(replica, "/feeds/notices.atom", Fragments())

    try:
        with caplog.at_level(logging.WARNING, logger="notices.core.db"):
            for minute in range(3):
                assert render_on_replica(ctx.clock.now() + timedelta(minutes=minute)) == expected
            warnings = [record.getMessage() for record in caplog.records if "could not store" in record.getMessage()]
            assert len(warnings) == 2  # one for the bodies, one for the pieces
            assert any("rendered notice bodies" in text for text in warnings)
            assert any("rendered feed pieces" in text for text in warnings)
            assert all("no more tries for 5 minutes" in text for text in warnings)
            assert len(inserts) == 2  # the later renders did not try
            caplog.clear()
            assert render_on_replica(ctx.clock.now() + CACHE_FILL_REST) == expected
        assert len(inserts) == 4  # tried again once the rest was over, and told again
        assert sum("could not store" in record.getMessage() for record in caplog.records) == 2
    finally:
        replica_db.dispose()
    assert count(ctx, RenderedBody) == count(ctx, RenderedPiece) == 0
