"""Operations: /metrics, /healthz with the scheduler heartbeat, JSON logs, leader election."""

import json
import os
import subprocess
import sys
from datetime import timedelta

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from notices.core.db import Database
from notices.runtime import jobs
from notices.runtime.leadership import leadership_for
from notices.web import create_app
from tests.factories import add_notice, add_subscriber


def metrics_of(client) -> dict:
    families = text_string_to_metric_families(client.get("/metrics").text)
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in families
        for sample in family.samples
    }


def test_metrics_count_feed_traffic_deliveries_and_job_runs(ctx, clock):
    add_subscriber(ctx, "a@example.org")
    add_notice(ctx)
    jobs.record_transitions(ctx, now=clock.now())
    jobs.heartbeat(ctx, now=clock.now())
    jobs.enqueue_alerts(ctx, now=clock.now())
    with TestClient(create_app(ctx.settings, ctx=ctx)) as client:
        etag = client.get("/feeds/notices.atom").headers["etag"]
        client.get("/feeds/notices.atom", headers={"If-None-Match": etag})
        client.get("/feeds/notices.atom?category=nonsense")
        values = metrics_of(client)
    assert values[("notices_feed_requests_total", (("feed", "/feeds/notices.atom"), ("status", "200")))] == 1
    assert values[("notices_feed_requests_total", (("feed", "/feeds/notices.atom"), ("status", "304")))] == 1
    assert values[("notices_feed_requests_total", (("feed", "/feeds/notices.atom"), ("status", "400")))] == 1
    assert values[("notices_feed_renders_total", ())] == 1
    assert values[("notices_feed_cache_hits_total", ())] == 1
    assert values[("notices_deliveries", (("status", "pending"),))] == 1
    assert values[("notices_scheduler_heartbeat_age_seconds", ())] == 0
    assert values[("notices_visible_notices", ())] == 1
    assert values[("notices_scheduler_ok", ())] == 1


def test_healthz_reports_how_long_ago_the_scheduler_ran(ctx, clock):
    jobs.heartbeat(ctx, now=clock.now())
    with TestClient(create_app(ctx.settings, ctx=ctx)) as client:
        clock.advance(timedelta(seconds=42))
        response = client.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {
            "status": "ok",
            "database": "ok",
            "scheduler": "ok",
            "scheduler_last_run_seconds_ago": 42.0,
            "failing_jobs": {},
            "attachment_store": "ok",
        }
        clock.advance(timedelta(hours=1))
        stale = client.get("/healthz")
        assert (stale.status_code, stale.json()["status"], stale.json()["scheduler"]) == (503, "error", "stale")
        # A web process itself is fine meanwhile: restarting it would not help.
        assert client.get("/livez").json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_before_any_scheduler_ran(client):
    response = client.get("/healthz")
    assert (response.status_code, response.json()["scheduler"]) == (503, "never ran")


def test_logs_as_json_lines_when_configured(ctx):
    environ = {**os.environ, "NOTICES_DATABASE_URL": ctx.settings.database_url, "NOTICES_LOG_FORMAT": "json"}
    # The subprocess runs on the real clock: a notice published long before either clock.
    add_notice(ctx, publish_at=ctx.clock.now() - timedelta(days=30), starts_at=ctx.clock.now() + timedelta(days=365))
    result = subprocess.run(
        [sys.executable, "-m", "notices", "--verbose", "jobs", "record-transitions"],
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    assert lines, result.stderr
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert any(line["logger"] == "notices.runtime.jobs" and "recorded published" in line["message"] for line in lines)


def test_only_one_process_leads_and_a_standby_takes_over(ctx):
    first, second = Database.from_url(ctx.settings.database_url), Database.from_url(ctx.settings.database_url)
    leader, standby = leadership_for(first.engine), leadership_for(second.engine)
    try:
        assert leader.try_acquire() is True
        assert leader.still_held() is True
        assert standby.try_acquire() is False
        leader.release()  # what the database or the kernel does when the leader dies
        assert standby.try_acquire() is True
        assert leader.try_acquire() is False
    finally:
        leader.release()
        standby.release()
        first.dispose()
        second.dispose()


def test_notices_health_exits_1_and_says_why_until_a_scheduler_ran(ctx, clock):
    from click.testing import CliRunner

    from notices.cli import cli

    runner = CliRunner()
    before = runner.invoke(cli, ["health"], obj=ctx)
    assert (before.exit_code, before.output.strip()) == (1, "scheduler: never ran")
    jobs.heartbeat(ctx, now=clock.now())
    after = runner.invoke(cli, ["health", "--json"], obj=ctx)
    assert after.exit_code == 0
    assert json.loads(after.output) == {
        "status": "ok",
        "database": "ok",
        "scheduler": "ok",
        "scheduler_last_run_seconds_ago": 0.0,
        "failing_jobs": {},
    }
