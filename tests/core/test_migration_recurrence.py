"""Migration 0011 (recurring notices) keeps every notice, event and hook delivery, gives the
events an occurrence in their unique key, keeps the partial indexes, and goes down again.

SQLite rebuilds notice_events to change its unique key; hook deliveries refer to those events
with ON DELETE CASCADE, so this is where a careless rebuild would silently empty the webhook
outbox. Each test builds its own database (a scratch SQLite file or PostgreSQL database).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from notices.core import db as database
from notices.core.db import Database
from tests.core.test_migration_approvals import fill_0008

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def _fill_events_and_hooks(connection) -> int:
    """Two events of the published notice, a hook endpoint and a delivery of the first event."""
    notice_id = connection.execute(text("SELECT id FROM notices WHERE publish_at IS NOT NULL")).scalar_one()
    for kind in ("published", "started"):
        connection.execute(
            text(
                "INSERT INTO notice_events (notice_id, kind, version, occurred_at, recorded_at, detail,"
                " alerts_enqueued, hooks_enqueued) VALUES (:n, :kind, 1, :now, :now, '', :done, :done)"
            ),
            {"n": notice_id, "kind": kind, "now": NOW, "done": kind == "published"},
        )
    connection.execute(
        text(
            "INSERT INTO hook_endpoints (url, kind, categories, locations, events, language, enabled, secret,"
            " created_at, created_by, updated_at, disabled_reason)"
            " VALUES ('https://hooks.example.org/x', 'webhook', '[]', '[]', '[]', 'en', :yes, 'whsec_x',"
            " :now, 'cli:root', :now, '')"
        ),
        {"now": NOW, "yes": True},
    )
    connection.execute(
        text(
            "INSERT INTO hook_deliveries (endpoint_id, event_id, webhook_id, event_type, body, content_type,"
            " status, attempts, next_attempt_at, claimed_by, created_at, response_excerpt, last_error)"
            " SELECT (SELECT id FROM hook_endpoints), id, 'msg_1', 'notice.published', '{}', 'application/json',"
            " 'pending', 0, :now, '', :now, '', '' FROM notice_events WHERE kind = 'published'"
        ),
        {"now": NOW},
    )
    return notice_id


def _insert_event(connection, notice_id: int, occurrence: str) -> None:
    connection.execute(
        text(
            "INSERT INTO notice_events (notice_id, kind, version, occurrence, occurred_at, recorded_at, detail,"
            " alerts_enqueued, hooks_enqueued) VALUES (:n, 'started', 1, :occurrence, :now, :now, '', :no, :no)"
        ),
        {"n": notice_id, "occurrence": occurrence, "now": NOW, "no": False},
    )


def test_upgrading_to_0011_keeps_events_and_hook_deliveries_and_keys_events_per_occurrence(blank_url):
    db = Database.from_url(blank_url)
    try:
        database.upgrade(db.engine, "0010")
        with db.engine.begin() as connection:
            fill_0008(connection)
            notice_id = _fill_events_and_hooks(connection)
        database.upgrade(db.engine, "0011")

        with db.engine.connect() as connection:
            events = connection.execute(
                text("SELECT kind, occurrence, alerts_enqueued FROM notice_events ORDER BY id")
            ).all()
            assert [(kind, occurrence) for kind, occurrence, _ in events] == [("published", ""), ("started", "")]
            # The webhook outbox survived the rebuild of the table it refers to.
            assert connection.execute(text("SELECT count(*) FROM hook_deliveries")).scalar_one() == 1
            series = connection.execute(
                text("SELECT recurrence, occurrence_minutes, recurrence_zone, occurrence_changes FROM notices")
            ).all()
            assert {(rule, minutes, zone) for rule, minutes, zone, _ in series} == {("", None, "")}
        indexes = {index["name"] for index in inspect(db.engine).get_indexes("notice_events")}
        assert {"ix_notice_events_alerts_pending", "ix_notice_events_hooks_pending"} <= indexes

        # Each occurrence of a series starts once; the whole notice still starts once.
        with db.engine.begin() as connection:
            _insert_event(connection, notice_id, "20261201T060000Z")
            _insert_event(connection, notice_id, "20261208T060000Z")
        for occurrence in ("", "20261201T060000Z"):
            with pytest.raises(IntegrityError), db.engine.begin() as connection:
                _insert_event(connection, notice_id, occurrence)

        database.upgrade(db.engine)  # and on to head from there
    finally:
        db.dispose()


def test_0011_goes_down_again_dropping_only_the_occurrence_events(blank_url):
    db = Database.from_url(blank_url)
    try:
        database.upgrade(db.engine, "0010")
        with db.engine.begin() as connection:
            fill_0008(connection)
            notice_id = _fill_events_and_hooks(connection)
        database.upgrade(db.engine, "0011")
        with db.engine.begin() as connection:
            _insert_event(connection, notice_id, "20261201T060000Z")
        command.downgrade(database.alembic_config(db.engine), "0010")
        with db.engine.connect() as connection:
            kinds = connection.execute(text("SELECT kind FROM notice_events ORDER BY id")).scalars().all()
            assert kinds == ["published", "started"]
            assert connection.execute(text("SELECT count(*) FROM hook_deliveries")).scalar_one() == 1
        assert "occurrence" not in {column["name"] for column in inspect(db.engine).get_columns("notice_events")}
        assert "recurrence" not in {column["name"] for column in inspect(db.engine).get_columns("notices")}
    finally:
        db.dispose()
