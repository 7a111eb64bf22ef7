"""Publishing never stops silently: faults in one step, one notice or the start of a scheduler are
recorded, shown by /healthz and /metrics, and do not stop the rest; a leader that cannot work
gives up its lead so a standby takes over."""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import signal
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, text, update

from notices.core import change_signal
from notices.core.db import Database
from notices.core.models import Delivery, DigestRun, Notice, NoticeEvent
from notices.runtime import jobs
from notices.runtime.leadership import leadership_for
from notices.runtime.scheduler import LeaderElectedScheduler, NoticeScheduler, run_until_signalled
from notices.web import create_app
from tests.factories import add_notice, add_subscriber, reload


def health(ctx):
    with TestClient(create_app(ctx.settings, ctx=ctx)) as client:
        response = client.get("/healthz")
        metrics = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(client.get("/metrics").text)
            for sample in family.samples
        }
    return response.status_code, response.json(), metrics


@pytest.fixture
def scheduler(ctx):
    scheduler = NoticeScheduler(ctx)
    yield scheduler
    scheduler.shutdown()


def poison(ctx, notice):
    """A row no input path can write (an old version, a hand edit): its locations are not a list."""
    with ctx.db.session() as session, session.begin():
        session.execute(update(Notice).where(Notice.id == notice.id).values(locations=42))


def test_an_unwritable_export_folder_does_not_stop_events_or_alerts(ctx, clock, tmp_path, scheduler):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the export folder should be")
    ctx.settings = dataclasses.replace(ctx.settings, feed_export_dir=blocker / "public")
    add_subscriber(ctx, "all@example.org")
    notice = add_notice(ctx)
    scheduler.start(paused=True)  # starts: exporting is not what a leader must give up for
    assert [event.kind for event in reload(ctx, notice.uid).events] == ["published"]
    with ctx.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 1
    status, body, metrics = health(ctx)
    assert (status, body["scheduler"]) == (503, "failing")
    assert "export-feeds" in body["failing_jobs"]["start-up"]
    assert metrics[("notices_scheduler_ok", ())] == 0
    assert metrics[("notices_job_last_run_failed", (("job", "start-up"),))] == 1
    # Someone fixes the folder: the next run exports, and once the failure is
    # older than the staleness window the scheduler is healthy again.
    blocker.unlink()
    clock.advance(timedelta(seconds=ctx.settings.scheduler_stale_after_seconds + 1))
    assert scheduler.run_transitions().problems == []
    assert (blocker / "public" / "feeds" / "notices.atom").exists()
    status, body, metrics = health(ctx)
    assert (status, body["scheduler"], body["failing_jobs"]) == (200, "ok", {})


def test_one_poison_notice_is_reported_and_every_other_notice_is_published_and_alerted(ctx, clock, scheduler):
    add_subscriber(ctx, "plesmanlaan@example.org", locations=["plesmanlaan"])  # filtering reads the bad column
    bad = add_notice(ctx, title="Poison", starts_at=clock.now() + timedelta(minutes=5))
    jobs.record_transitions(ctx, now=clock.now())
    poison(ctx, bad)
    good = [add_notice(ctx, title=f"Good {n}", starts_at=clock.now() + timedelta(minutes=5)) for n in range(3)]
    scheduler.start(paused=True)
    clock.advance(timedelta(minutes=5))
    report = scheduler.run_transitions()
    assert any(bad.uid in problem for problem in report.problems)
    for notice in good:
        assert [event.kind for event in reload(ctx, notice.uid).events] == ["published", "started"]
    with ctx.db.session() as session:
        alerted = session.scalars(select(Delivery.payload)).all()
    assert {(p["notice"], p["event"]) for p in alerted} >= {
        (n.uid, kind) for n in good for kind in ("published", "started")
    }
    assert scheduler.healthy  # item failures are reported, they are no reason to hand over
    scheduler._transitions_job()
    status, body, _ = health(ctx)
    assert status == 503 and bad.uid in body["failing_jobs"]["record-transitions"]


def test_a_failing_step_still_plans_the_next_wake_up(ctx, clock, scheduler, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    ctx.settings = dataclasses.replace(ctx.settings, feed_export_dir=blocker / "public")
    notice = add_notice(ctx, starts_at=clock.now() + timedelta(minutes=5))
    scheduler.start(paused=True)
    assert scheduler.planned_wakeup == notice.starts_at


class TableAway:
    """Makes the scheduler's core work fail on the real database (as in an outage) and undoes it."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx

    def __enter__(self):
        with self.ctx.db.engine.begin() as connection:
            connection.execute(text("ALTER TABLE notice_events RENAME TO notice_events_away"))
        return self

    def restore(self) -> None:
        with self.ctx.db.engine.begin() as connection:
            connection.execute(text("ALTER TABLE notice_events_away RENAME TO notice_events"))

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(Exception):  # restored already
            self.restore()


def wait_for(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def fast(ctx):
    ctx.settings = dataclasses.replace(
        ctx.settings,
        leader_poll_seconds=0.2,
        scheduler_retry_max_seconds=1,
        safety_tick_seconds=3600,
        change_poll_seconds=3600,
    )
    return ctx


def lock_is_free(ctx) -> bool:
    other = Database.from_url(ctx.settings.database_url)
    probe = leadership_for(other.engine)
    try:
        return probe.try_acquire()
    finally:
        probe.release()
        other.dispose()


def test_a_scheduler_that_cannot_start_releases_the_lead_and_retries_until_it_can(fast):
    add_notice(fast)
    elected = LeaderElectedScheduler(fast)
    try:
        with TableAway(fast) as away:
            elected._step()
            assert elected.scheduler is None
            assert lock_is_free(fast)  # a standby could take over now
            elected.start()  # the loop retries on its own, after a growing wait
            away.restore()
            wait_for(
                lambda: elected.scheduler is not None and elected.scheduler.running,
                timeout=20,
                what="the scheduler to start once the database works again",
            )
        with fast.db.session() as session:
            assert session.scalar(select(func.count()).select_from(NoticeEvent)) == 1
    finally:
        elected.shutdown()


def test_a_leader_whose_jobs_keep_failing_hands_over_to_a_standby(fast):
    first, second = LeaderElectedScheduler(fast), LeaderElectedScheduler(fast)
    try:
        first._step()
        assert first.scheduler is not None and first.scheduler.running
        second._step()
        assert second.scheduler is None  # standing by
        with TableAway(fast):
            for _ in range(fast.settings.scheduler_max_failures):
                assert first.scheduler.run_transitions().core_ok is False
            assert first.scheduler.healthy is False
            first._step()
            assert first.scheduler is None and lock_is_free(fast)
        second._step()
        assert second.scheduler is not None and second.scheduler.running
        first._step()
        assert first.scheduler is None  # still waiting, and the lead is taken anyway
    finally:
        first.shutdown()
        second.shutdown()


class ListenerThatCannotStart:
    """A change listener whose thread the operating system refuses (as under a limit on processes),
    once this process's scheduler holds the lead: a start that fails after the scheduler started."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx

    def subscribe(self, callback) -> None:
        pass

    def start(self) -> None:
        wait_for(lambda: not lock_is_free(self.ctx), timeout=20, what="the scheduler to take the lead")
        raise RuntimeError("can't start new thread")

    def stop(self, wait: float = 0.0) -> None:
        pass


@pytest.fixture
def listener_cannot_start(fast, monkeypatch):
    monkeypatch.setattr(change_signal, "listener_for", lambda url: ListenerThatCannotStart(fast))


def scheduler_threads() -> set[threading.Thread]:
    """The threads of a scheduler: the leader election's, and APScheduler's once it leads."""
    return {thread for thread in threading.enumerate() if thread.name in ("notices-leader", "APScheduler")}


def test_an_app_whose_start_fails_stops_its_scheduler_and_leaves_the_collector_as_it_was(fast, listener_cannot_start):
    gc.unfreeze()
    threshold, threads = gc.get_threshold(), scheduler_threads()
    app = create_app(fast.settings, ctx=fast, run_scheduler=True)
    with pytest.raises(RuntimeError, match="can't start new thread"), TestClient(app):
        pass
    assert scheduler_threads() == threads  # no scheduler left running in a process that serves nothing
    assert lock_is_free(fast)  # a standby can take over
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == threshold


def test_a_scheduler_process_whose_start_fails_stops_and_leaves_the_collector_as_it_was(fast, listener_cannot_start):
    gc.unfreeze()
    threshold, threads = gc.get_threshold(), scheduler_threads()
    handlers = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        with pytest.raises(RuntimeError, match="can't start new thread"):
            run_until_signalled(fast)
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
    assert scheduler_threads() == threads
    assert lock_is_free(fast)
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == threshold


def local(text_time: str) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(text_time).replace(tzinfo=ZoneInfo("Europe/Amsterdam")).astimezone(UTC)


def test_a_scheduler_started_at_0710_sends_the_0700_digest_once(ctx, clock):
    add_subscriber(ctx, "daily@example.org", frequency="daily")
    clock.set(local("2026-11-29T12:00"))
    add_notice(ctx, starts_at=clock.now() + timedelta(days=3))
    jobs.record_transitions(ctx, now=clock.now())
    clock.set(local("2026-11-30T07:10"))  # nobody was up at 07:00
    for _ in range(2):  # a restart, or a second scheduler: still one digest
        scheduler = NoticeScheduler(ctx)
        scheduler.start(paused=True)
        scheduler.shutdown()
    with ctx.db.session() as session:
        keys = session.scalars(select(Delivery.dedup_key).where(Delivery.kind == "digest")).all()
        assert session.scalar(select(DigestRun.period).where(DigestRun.frequency == "daily")) == "2026-11-30"
    assert keys == ["digest:daily:2026-11-30"]


def test_a_digest_too_late_to_be_worth_sending_is_not_caught_up(ctx, clock):
    add_subscriber(ctx, "daily@example.org", frequency="daily")
    clock.set(local("2026-11-29T12:00"))
    add_notice(ctx, starts_at=clock.now() + timedelta(days=3))
    clock.set(local("2026-11-30T19:30"))  # 12.5 hours late: it would expire unsent
    assert jobs.catch_up_digests(ctx, now=clock.now()) == {}
