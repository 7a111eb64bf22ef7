"""Shared fixtures: one database per run (SQLite by default, PostgreSQL when
NOTICES_TEST_DATABASE_URL says so), migrated once, emptied after each test,
and a fixed clock."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text

from notices.core import db as database
from notices.core.clock import FixedClock
from notices.core.config import load_settings
from notices.core.context import AppContext
from notices.core.db import Database
from notices.core.models import Base

# Fixtures shared by several test modules, registered once here.
pytest_plugins = ["tests.mail_samples"]

# Property tests: the same examples on every run in CI (a failure there is
# reproducible); `HYPOTHESIS_PROFILE=deep make test-sqlite` searches much further.
hypothesis_settings.register_profile("ci", max_examples=30, deadline=None, derandomize=True)
hypothesis_settings.register_profile("deep", max_examples=600, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Saturday 28 November 2026, 10:00 in Amsterdam (UTC+1).
DEFAULT_NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("NOTICES_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'notices-test.db'}"


@pytest.fixture(scope="session")
def migrated_database(database_url) -> Iterator[Database]:
    db = Database.from_url(database_url)
    # Start from nothing, so the migrations themselves are what is tested.
    with db.engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    database.upgrade(db.engine)
    yield db
    db.dispose()


def empty_tables(db: Database) -> None:
    with db.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != "site_state":
                connection.execute(table.delete())
        connection.execute(text("UPDATE site_state SET data_version = 0, changed_at = NULL, scheduler_seen_at = NULL"))


@pytest.fixture
def settings(database_url, tmp_path):
    settings = load_settings({"NOTICES_DATABASE_URL": database_url, "NOTICES_MAIL_DIR": str(tmp_path / "mail")})
    # Look for writes on every request: tests write and read in one breath. Approval is off
    # here, so tests of publishing publish; the approval tests turn it on (tests/approval_staff.py).
    # Attachments go to this test's own directory, never to var/ in the checkout.
    return dataclasses.replace(
        settings, feed_change_check_seconds=0, approval_for=(), attachments_store=str(tmp_path / "attachments")
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(DEFAULT_NOW)


@pytest.fixture
def ctx(settings, migrated_database, clock) -> Iterator[AppContext]:
    empty_tables(migrated_database)
    # The database is shared by the whole run: a cache fill refused in one test (its rest, with
    # that test's clock) must not leave the next test's fills resting.
    migrated_database.cache_fills_resting.clear()
    yield AppContext(settings=settings, db=migrated_database, clock=clock)
    empty_tables(migrated_database)


@pytest.fixture
def smtp():
    """A running aiosmtpd server; `smtp.stop()` / `smtp.start()` simulate an outage."""
    from tests.smtp_sink import SMTPSink

    sink = SMTPSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def mail_ctx(ctx, smtp):
    """The context with its mailer pointed at the test SMTP server."""
    from notices.mail.transports import SMTPMailer

    ctx.mailer = SMTPMailer(smtp.url, timeout=5)
    return ctx


@pytest.fixture
def app(ctx):
    """The web app on the test database and clock (mail_ctx, if requested, sets its mailer)."""
    from notices.web import create_app

    return create_app(ctx.settings, ctx=ctx)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        yield client
