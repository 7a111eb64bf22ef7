"""A scheduler process that starts at 07:10, after the 07:00 digest was missed, sends it: once."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from notices.runtime import bookkeeping
from tests.factories import add_notice, add_subscriber
from tests.processes import Process, logs_of, wait_for
from tests.smtp_sink import RecordingHandler, running

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
MONDAY_0710 = datetime(2026, 11, 30, 7, 10, tzinfo=AMSTERDAM)
CONFIG = """
[site]
name = "Late start test"
[scheduler]
safety_tick_seconds = 1
change_poll_seconds = 0.5
leader_poll_seconds = 0.5
[mail]
from_address = "notices@example.org"
send_interval_seconds = 0.5
[categories]
road-closure = "Road closure"
[locations]
plesmanlaan = "Plesmanlaan"
"""


def send_runs(ctx) -> int:
    with ctx.db.session() as session:
        return sum(run.runs for run in bookkeeping.job_runs(session) if run.job == "send-pending")


@pytest.fixture
def smtp_server():
    with running(RecordingHandler()) as server:
        yield server


def test_a_scheduler_started_at_0710_sends_the_0700_digest_once(ctx, smtp_server, tmp_path):
    config = tmp_path / "notices.toml"
    config.write_text(CONFIG)
    add_subscriber(ctx, "daily@example.org", frequency="daily")
    # Published on Sunday afternoon: news for Monday's 07:00 daily digest.
    sunday = datetime(2026, 11, 29, 15, 0, tzinfo=AMSTERDAM)
    add_notice(ctx, title="Plesmanlaan closed", now=sunday, starts_at=sunday + timedelta(days=3))
    environ = {
        **os.environ,
        "NOTICES_CONFIG": str(config),
        "NOTICES_DATABASE_URL": ctx.settings.database_url,
        "NOTICES_SMTP_URL": smtp_server.url,
        "NOTICES_SECRET_KEY": "late-start-test",
        "PYTHONUNBUFFERED": "1",
        # A real process, on a clock that starts at Monday 07:10 and runs on from there.
        "NOTICES_CLOCK_START": MONDAY_0710.isoformat(),
    }
    handler = smtp_server.handler
    first = Process("scheduler-1", ["scheduler"], environ)
    processes = [first]
    try:
        wait_for(lambda: len(handler.messages) >= 1, timeout=60, what="the missed digest")
        first.stop()
        # Restarted (a deploy, a failover): it catches up again at start, and sends nothing new.
        sends_before = send_runs(ctx)
        second = Process("scheduler-2", ["scheduler"], environ)
        processes.append(second)
        wait_for(lambda: second.said("scheduler started"), timeout=60, what="the second scheduler to start")
        wait_for(lambda: send_runs(ctx) >= sends_before + 2, timeout=30, what="two send runs after the restart")
    except AssertionError as failure:
        raise AssertionError(f"{failure}\n{logs_of(processes)}") from None
    finally:
        for process in processes:
            process.stop()
    (digest,) = handler.messages
    assert digest["To"].addresses[0].addr_spec == "daily@example.org"
    assert digest["Subject"] == "Daily notices 30 Nov: 1 new"
    assert "Traceback" not in logs_of(processes)
