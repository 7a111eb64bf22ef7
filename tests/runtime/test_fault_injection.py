"""Faults in sequence against two real scheduler processes on the real clock: an unwritable export
folder, a poison notice, the database going away. Each time the schedulers recover by themselves,
/healthz tells the truth meanwhile, and every other notice is published and mailed on time, once."""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text, update

from notices.core.clock import SystemClock
from notices.core.config import load_settings
from notices.core.models import Notice, NoticeEvent
from notices.web import create_app
from tests.factories import add_notice, add_subscriber
from tests.processes import Process, logs_of, wait_for
from tests.smtp_sink import RecordingHandler, running

SUBSCRIBERS = 4
CONFIG = """
[site]
name = "Fault test"
[scheduler]
safety_tick_seconds = 1
change_poll_seconds = 0.5
leader_poll_seconds = 0.5
max_failures = 2
retry_max_seconds = 2
stale_after_seconds = 6
[mail]
from_address = "notices@example.org"
send_interval_seconds = 0.5
lease_seconds = 10
[categories]
road-closure = "Road closure"
[locations]
plesmanlaan = "Plesmanlaan"
"""


@pytest.fixture
def sink():
    with running(RecordingHandler()) as server:
        yield server.handler, server.port


def test_the_schedulers_recover_from_each_fault_and_publish_everything_else_once(ctx, sink, tmp_path):
    handler, smtp_port = sink
    config = tmp_path / "notices.toml"
    config.write_text(CONFIG)
    blocker = tmp_path / "export"
    blocker.write_text("a file where the export folder should be")
    environ = {
        **os.environ,
        "NOTICES_CONFIG": str(config),
        "NOTICES_DATABASE_URL": ctx.settings.database_url,
        "NOTICES_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "NOTICES_SECRET_KEY": "fault-test",
        "NOTICES_FEED_EXPORT_DIR": str(blocker / "public"),
        "PYTHONUNBUFFERED": "1",
    }
    ctx.clock = SystemClock()
    saved_settings, ctx.settings = ctx.settings, load_settings(environ)
    for number in range(SUBSCRIBERS):
        # A location filter: matching reads the column the poison notice has broken.
        add_subscriber(ctx, f"tenant{number}@example.org", locations=["plesmanlaan"])
    app = create_app(ctx.settings, ctx=ctx)

    def healthz() -> tuple[int, dict]:
        with TestClient(app) as client:
            response = client.get("/healthz")
        return response.status_code, response.json()

    def soon_notice(title: str) -> Notice:
        now = datetime.now(UTC)
        return add_notice(
            ctx, title=title, now=now, starts_at=now + timedelta(seconds=3), ends_at=now + timedelta(seconds=60)
        )

    def alerted(notice: Notice) -> bool:
        subjects = [m["Subject"] for m in handler.messages if notice.title in m["Subject"]]
        return sorted(subject.split(":")[0] for subject in subjects) == sorted(["New", "Now in effect"] * SUBSCRIBERS)

    processes = [Process(f"scheduler-{n}", ["scheduler"], environ) for n in (1, 2)]
    published = []
    try:
        wait_for(lambda: any(p.said("is now the scheduler leader") for p in processes), timeout=30, what="a leader")

        # 1. The export folder cannot be written: mail goes on, /healthz says why.
        first = soon_notice("Closure one")
        published.append(first)
        wait_for(lambda: alerted(first), timeout=30, what="the alerts of the first notice")
        wait_for(
            lambda: "export-feeds" in str(healthz()[1].get("failing_jobs")),
            timeout=15,
            what="/healthz to name the failing export",
        )
        assert healthz()[0] == 503
        blocker.unlink()
        wait_for(
            lambda: (blocker / "public" / "feeds" / "notices.atom").exists(),
            timeout=15,
            what="the export to resume by itself",
        )
        assert first.uid in (blocker / "public" / "feeds" / "notices.atom").read_text()
        wait_for(lambda: healthz()[0] == 200, timeout=20, what="/healthz to recover")

        # 2. A poison notice: recorded as failing, every other notice goes out.
        bad = soon_notice("Poison")
        with ctx.db.session() as session, session.begin():
            session.execute(update(Notice).where(Notice.id == bad.id).values(locations=42))
        second = soon_notice("Closure two")
        published.append(second)
        wait_for(lambda: alerted(second), timeout=30, what="the alerts of the notice after the poison one")
        wait_for(
            lambda: bad.uid in str(healthz()[1].get("failing_jobs")),
            timeout=15,
            what="/healthz to name the poison notice",
        )
        with ctx.db.session() as session, session.begin():  # someone repairs the row
            session.execute(update(Notice).where(Notice.id == bad.id).values(locations=["plesmanlaan"]))
        published.append(bad)
        wait_for(lambda: alerted(bad), timeout=30, what="the repaired notice's alerts, once")
        wait_for(lambda: healthz()[0] == 200, timeout=20, what="/healthz to recover")

        # 3. The database goes away under the schedulers (a table they need, and on
        #    PostgreSQL every connection, as in a restart), then comes back.
        with ctx.db.engine.begin() as connection:
            connection.execute(text("ALTER TABLE notice_events RENAME TO notice_events_away"))
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
        wait_for(
            lambda: sum(p.said("gave up the scheduler leadership") for p in processes) >= 1,
            timeout=30,
            what="the failing leader to give up its lead",
        )
        assert healthz()[0] == 503
        ctx.db.engine.dispose()
        with ctx.db.engine.begin() as connection:
            connection.execute(text("ALTER TABLE notice_events_away RENAME TO notice_events"))
        wait_for(lambda: healthz()[0] == 200, timeout=30, what="a scheduler to work again")
        third = soon_notice("Closure three")
        published.append(third)
        wait_for(lambda: alerted(third), timeout=30, what="the alerts of a notice after the outage")
    except AssertionError as failure:
        raise AssertionError(f"{failure}\n{logs_of(processes)}") from None
    finally:
        for process in processes:
            process.stop()
        ctx.settings = saved_settings
        with ctx.db.engine.begin() as connection:  # whatever happened, leave the schema whole
            tables = set(connection.dialect.get_table_names(connection))
            if "notice_events_away" in tables:
                connection.execute(text("ALTER TABLE notice_events_away RENAME TO notice_events"))

    received = Counter((m["To"].addresses[0].addr_spec, m["Message-ID"]) for m in handler.messages)
    assert set(received.values()) == {1}, "a message was delivered twice"
    assert len(received) == len(published) * 2 * SUBSCRIBERS
    with ctx.db.session() as session:
        events = session.execute(
            select(NoticeEvent.notice_id, NoticeEvent.kind, NoticeEvent.occurred_at, NoticeEvent.recorded_at).where(
                NoticeEvent.kind == "started"
            )
        ).all()
        assert session.scalar(select(func.count()).select_from(NoticeEvent)) == len(published) * 2
    # On time: each start was recorded within seconds of its boundary.
    assert all((recorded - occurred).total_seconds() < 5 for _, _, occurred, recorded in events)
