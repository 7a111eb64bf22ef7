"""Writes are heard at once by other processes on PostgreSQL (LISTEN/NOTIFY); SQLite polls.

The listener runs against the suite's database, and the writes come through a second engine, as
from another replica. Waiting is for the listener's thread (an event with a timeout), never for
the clock.
"""

from __future__ import annotations

import dataclasses
import queue
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from notices.core import change_signal, site_state
from notices.core.context import AppContext
from notices.core.db import Database
from notices.web import create_app
from tests.factories import add_notice

HEARD_WITHIN = 10  # seconds: generous for a loaded machine; a NOTIFY takes milliseconds


def _is_postgres(ctx: AppContext) -> bool:
    return ctx.db.dialect == "postgresql"


def _write_elsewhere(ctx: AppContext) -> int:
    """A notice added through a separate engine, as another replica would; the new data version."""
    other = Database.from_url(ctx.settings.database_url)
    try:
        add_notice(dataclasses.replace(ctx, db=other))
        with other.session() as session:
            return site_state.data_version(session)
    finally:
        other.dispose()


def _started(listener: change_signal.ChangeListener) -> change_signal.ChangeListener:
    listener.start()
    assert listener.listening.wait(HEARD_WITHIN), "the listener did not connect"
    return listener


def test_a_committed_write_is_heard_with_its_version(ctx):
    listener = change_signal.listener_for(ctx.settings.database_url)
    if not _is_postgres(ctx):
        assert listener is None  # SQLite has no NOTIFY: the once-a-second poll is the path there
        return
    assert listener is not None
    heard: queue.Queue[int | None] = queue.Queue()
    listener.subscribe(heard.put)
    _started(listener)
    try:
        assert heard.get(timeout=HEARD_WITHIN) is None  # the first "look for yourself" on connecting
        version = _write_elsewhere(ctx)
        assert heard.get(timeout=HEARD_WITHIN) == version
    finally:
        listener.stop(wait=5)


def test_the_feed_changes_on_another_replicas_write_without_waiting_for_the_poll(ctx):
    # A poll interval of an hour: only the notification can make the feed change in this test.
    settings = dataclasses.replace(ctx.settings, feed_change_check_seconds=3600)
    app = create_app(settings, ctx=dataclasses.replace(ctx, settings=settings))
    add_notice(ctx, title="First closure")
    with TestClient(app) as client:
        listener = app.state.change_listener
        before = client.get("/feeds/notices.atom")
        assert "First closure" in before.text
        if not _is_postgres(ctx):
            assert listener is None
            return
        assert listener.listening.wait(HEARD_WITHIN)
        heard = threading.Event()
        listener.subscribe(lambda version: version is not None and heard.set())
        _write_elsewhere(ctx)
        assert heard.wait(HEARD_WITHIN), "the write was not heard"
        after = client.get("/feeds/notices.atom")
        assert after.headers["etag"] != before.headers["etag"]
        assert after.text.count("<entry>") == before.text.count("<entry>") + 1


def test_the_listener_reconnects_after_its_connection_is_killed(ctx):
    listener = change_signal.listener_for(ctx.settings.database_url)
    if not _is_postgres(ctx):
        assert listener is None
        return
    assert listener is not None
    heard: queue.Queue[int | None] = queue.Queue()
    listener.subscribe(heard.put)
    _started(listener)
    try:
        assert heard.get(timeout=HEARD_WITHIN) is None
        with ctx.db.engine.connect() as connection:
            killed = connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"),
                {"name": change_signal.APPLICATION_NAME},
            ).all()
        assert killed and all(ok for (ok,) in killed)
        # After reconnecting it says "look for yourself" (writes in the gap were not heard) ...
        assert heard.get(timeout=HEARD_WITHIN) is None
        assert listener.reconnects >= 1
        # ... and hears the next write again.
        version = _write_elsewhere(ctx)
        assert heard.get(timeout=HEARD_WITHIN) == version
    finally:
        listener.stop(wait=5)


@pytest.mark.parametrize("payload", ["", "not a number"])
def test_a_foreign_notification_on_the_channel_only_makes_owners_look(ctx, payload):
    listener = change_signal.listener_for(ctx.settings.database_url)
    if not _is_postgres(ctx):
        assert listener is None
        return
    assert listener is not None
    heard: queue.Queue[int | None] = queue.Queue()
    listener.subscribe(heard.put)
    _started(listener)
    try:
        assert heard.get(timeout=HEARD_WITHIN) is None
        with ctx.db.engine.begin() as connection:
            connection.execute(text("SELECT pg_notify(:c, :p)"), {"c": change_signal.CHANNEL, "p": payload})
        assert heard.get(timeout=HEARD_WITHIN) is None
    finally:
        listener.stop(wait=5)
