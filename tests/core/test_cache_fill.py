"""A cache fill (core.db.fill_cache_table: stored bodies and feed pieces, written by a feed request)
waits only briefly for a lock another writer holds, gives up with the error, writes nothing, and
leaves the connection it used as the rest of the code expects it."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime

import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from notices.core.db import Database, fill_cache_table
from notices.core.models import RenderedBody, table_of

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
        error = fill_cache_table(db, table_of(RenderedBody), [ROW])
        waited = time.monotonic() - started
    finally:
        other.rollback()
        other.close()
    assert error is not None
    assert waited < 10  # CACHE_FILL_WAIT (250 ms), not the 30 s other writes wait on SQLite
    with ctx.db.session() as session:
        assert session.scalar(select(func.count()).select_from(RenderedBody)) == 0
    with db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":  # other writes wait as long as they always did
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        else:  # SET LOCAL ended with the transaction
            assert connection.exec_driver_sql("SHOW lock_timeout").scalar() == "0"
    assert fill_cache_table(db, table_of(RenderedBody), [ROW]) is None  # and the next fill goes through
    db.dispose()
