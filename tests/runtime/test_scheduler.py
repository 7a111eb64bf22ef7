"""The scheduler plans its wake-ups at notice boundaries (APScheduler started paused: no waiting)."""

import dataclasses
from datetime import timedelta

import pytest

from notices.runtime import jobs
from notices.runtime.scheduler import SAFETY_TICK, WATCH_CHANGES, NoticeScheduler
from tests.factories import add_notice, reload


@pytest.fixture
def scheduler(ctx):
    scheduler = NoticeScheduler(ctx)
    yield scheduler
    scheduler.shutdown()


def test_start_catches_up_and_plans_the_next_boundary(ctx, clock, scheduler):
    now = clock.now()
    missed = add_notice(
        ctx, publish_at=now - timedelta(hours=3), starts_at=now - timedelta(hours=2), ends_at=now - timedelta(hours=1)
    )
    upcoming = add_notice(ctx, starts_at=now + timedelta(minutes=5), ends_at=now + timedelta(minutes=10))
    scheduler.start(paused=True)
    assert [event.kind for event in reload(ctx, missed.uid).events] == ["published", "started", "ended"]
    assert [event.kind for event in reload(ctx, upcoming.uid).events] == ["published"]
    assert scheduler.planned_wakeup == upcoming.starts_at
    assert scheduler.wake_job().next_run_time == upcoming.starts_at


def test_fixed_job_ids_with_coalescing_and_misfire_grace(ctx, scheduler):
    scheduler.start(paused=True)
    for job_id in (SAFETY_TICK, WATCH_CHANGES):
        job = scheduler.job(job_id)
        assert job is not None
        assert job.coalesce is True
        assert job.misfire_grace_time >= 1


def test_a_write_from_another_process_moves_the_wake_up(ctx, clock, scheduler):
    now = clock.now()
    later = add_notice(ctx, starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=2))
    scheduler.start(paused=True)
    assert scheduler.planned_wakeup == later.starts_at
    sooner = add_notice(ctx, starts_at=now + timedelta(seconds=5), ends_at=now + timedelta(seconds=10))
    assert scheduler.watch_for_changes() is True
    assert scheduler.planned_wakeup == sooner.starts_at
    assert scheduler.watch_for_changes() is False  # nothing changed since


def test_a_notice_published_now_elsewhere_is_recorded_at_the_next_poll(ctx, clock, scheduler):
    scheduler.start(paused=True)
    notice = add_notice(ctx, starts_at=clock.now() + timedelta(seconds=5), ends_at=clock.now() + timedelta(seconds=10))
    clock.advance(timedelta(seconds=1))  # the poll comes a moment after the write
    assert scheduler.watch_for_changes() is True
    assert [event.kind for event in reload(ctx, notice.uid).events] == ["published"]
    assert scheduler.planned_wakeup == notice.starts_at


def test_the_wake_up_records_the_event_and_plans_the_next(ctx, clock, scheduler):
    now = clock.now()
    notice = add_notice(ctx, starts_at=now + timedelta(seconds=5), ends_at=now + timedelta(seconds=10))
    scheduler.start(paused=True)
    clock.set(notice.starts_at)  # what the wake-up job sees when it fires on time
    assert scheduler.run_transitions().counts["started"] == 1
    assert scheduler.planned_wakeup == notice.ends_at
    clock.set(notice.ends_at)
    assert scheduler.run_transitions().counts["ended"] == 1
    assert scheduler.planned_wakeup is None
    assert scheduler.wake_job() is None


def test_nothing_planned_without_future_boundaries(ctx, scheduler):
    scheduler.start(paused=True)
    assert scheduler.planned_wakeup is None


def test_hearing_another_processs_write_brings_the_change_check_forward(ctx):
    # An hour between polls: only hearing the write (core.change_signal on PostgreSQL) runs the check soon.
    ctx = dataclasses.replace(ctx, settings=dataclasses.replace(ctx.settings, change_poll_seconds=3600))
    scheduler = NoticeScheduler(ctx)
    try:
        scheduler.start(paused=True)
        scheduler.watch_for_changes()  # the first check after start remembers the version
        polled_at = scheduler.job(WATCH_CHANGES).next_run_time
        scheduler.heard(jobs.data_version(ctx))  # our own version: nothing to do
        assert scheduler.job(WATCH_CHANGES).next_run_time == polled_at
        add_notice(ctx)
        scheduler.heard(jobs.data_version(ctx))
        assert scheduler.job(WATCH_CHANGES).next_run_time < polled_at - timedelta(minutes=59)
    finally:
        scheduler.shutdown()
