"""When jobs run: APScheduler 3 in the background of `notices serve` or `notices scheduler`.

The scheduler wakes exactly at the next notice boundary. Writes from other
processes (CLI, web) move that boundary, so it polls the cheap data-version
counter and re-plans when it changes. A slow safety tick catches anything
else (a clock jump, a wake-up lost to an overloaded machine).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from datetime import UTC, datetime

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from notices import jobs, store
from notices.context import AppContext
from notices.leadership import leadership_for

log = logging.getLogger(__name__)

WAKE_AT_BOUNDARY = "wake-at-boundary"
SAFETY_TICK = "record-transitions"
WATCH_CHANGES = "watch-for-changes"
SEND_PENDING = "send-pending"
DIGEST_JOBS = {"daily": "digest-daily", "weekly": "digest-weekly"}
PURGE = "purge"


class NoticeScheduler:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        settings = ctx.settings
        self._scheduler = BackgroundScheduler(
            timezone=settings.timezone,
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": settings.misfire_grace_seconds,
            },
        )
        self._planning = threading.Lock()
        self._seen_version: int | None = None
        self.planned_wakeup: datetime | None = None
        self._exported_version: int | None = None
        self._export_valid_until: datetime | None = None
        self._wake_job_id: str | None = None

    def start(self, *, paused: bool = False) -> None:
        """Catch up on everything missed while down, then plan the next wake-up."""
        self.run_transitions()
        self._scheduler.add_job(
            self.run_transitions, "interval", seconds=self.ctx.settings.safety_tick_seconds,
            id=SAFETY_TICK, replace_existing=True,
        )
        self._scheduler.add_job(
            self.watch_for_changes, "interval", seconds=self.ctx.settings.change_poll_seconds,
            id=WATCH_CHANGES, replace_existing=True,
            # Only the latest poll matters; a late one is just skipped.
            misfire_grace_time=max(1, int(self.ctx.settings.change_poll_seconds * 5)),
        )
        self._scheduler.add_job(
            self.send_pending, "interval", seconds=self.ctx.settings.send_interval_seconds,
            id=SEND_PENDING, replace_existing=True,
        )
        for frequency, job_id in DIGEST_JOBS.items():
            self._scheduler.add_job(
                self.run_digest, CronTrigger(**self._digest_schedule(frequency), timezone=self.ctx.settings.timezone),
                args=[frequency], id=job_id, replace_existing=True,
                # A digest is still worth sending hours late (it expires on its own).
                misfire_grace_time=int(self.ctx.settings.digest_validity.total_seconds()),
            )
        # Hourly, so an unconfirmed sign-up is gone within the hour after its 3 days.
        self._scheduler.add_job(self.purge, "cron", minute=30, timezone=self.ctx.settings.timezone,
                                id=PURGE, replace_existing=True)
        self._scheduler.add_listener(self._record_run, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        self._scheduler.start(paused=paused)
        # Whatever the catch-up above enqueued goes out now, not at the first tick.
        self.send_soon()
        log.info("scheduler started; next boundary %s", self.planned_wakeup)

    def _record_run(self, event) -> None:
        job = event.job_id.split("@")[0]
        if job == WATCH_CHANGES:
            return  # every second and nearly always a no-op: not worth a write each time
        error = repr(event.exception) if event.exception else ""
        if error:
            log.error("job %s failed: %s", job, error)
        try:
            with self.ctx.db.session() as session, session.begin():
                store.record_job_run(session, job, scheduled=event.scheduled_run_time.astimezone(UTC),
                                     finished=datetime.now(UTC), error=error)
        except Exception:  # bookkeeping must never take a job down with it
            log.exception("could not record the run of job %s", job)

    def _digest_schedule(self, frequency: str) -> dict:
        settings = self.ctx.settings
        if frequency == "daily":
            hour, minute = settings.daily_digest_at.split(":")
            return {"hour": int(hour), "minute": int(minute)}
        weekday, clock = settings.weekly_digest_at.split()
        hour, minute = clock.split(":")
        return {"day_of_week": weekday, "hour": int(hour), "minute": int(minute)}

    def send_pending(self) -> dict[str, int]:
        return jobs.send_pending(self.ctx, now=self.ctx.clock.now())

    def send_soon(self) -> None:
        """Run send_pending now instead of at its next tick (mail was just enqueued)."""
        if self._scheduler.running and self._scheduler.get_job(SEND_PENDING):
            self._scheduler.modify_job(SEND_PENDING, next_run_time=datetime.now(UTC))

    def run_digest(self, frequency: str) -> dict:
        counts = jobs.enqueue_digests(self.ctx, now=self.ctx.clock.now(), frequency=frequency)
        log.info("%s digest %s: %s enqueued", frequency, counts["period"], counts["enqueued"])
        if counts["enqueued"]:
            self.send_soon()
        return counts

    def purge(self) -> dict[str, int]:
        return jobs.purge(self.ctx, now=self.ctx.clock.now())

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
            log.info("scheduler stopped")

    @property
    def running(self) -> bool:
        return self._scheduler.running

    def export_if_stale(self, now: datetime) -> dict | None:
        """Re-export the static feeds only after a write or when a boundary has passed.

        Rendering every feed costs real time on a large site; the safety tick
        and the change poll come through here far more often than anything changes.
        """
        if self.ctx.settings.feed_export_dir is None:
            return None
        version = jobs.data_version(self.ctx)
        valid_until = self._export_valid_until
        if version == self._exported_version and (valid_until is None or now < valid_until):
            return None
        result = jobs.export_feeds(self.ctx, now=now)
        self._exported_version, self._export_valid_until = version, result["valid_until"]
        return result

    def job(self, job_id: str):
        return self._scheduler.get_job(job_id)

    def run_transitions(self) -> dict[str, int]:
        """Record due events, refresh the static feed copies, plan the next wake-up."""
        now = self.ctx.clock.now()
        counts = jobs.record_transitions(self.ctx, now=now)
        # Boundaries, writes and the safety tick all come through here, which
        # is exactly when the exported files and alerts can change.
        self.export_if_stale(now)
        mail = jobs.enqueue_alerts(self.ctx, now=now)
        if mail["enqueued"] or mail["reminders"]:
            self.send_soon()
        self.plan_next_wakeup(now)
        return counts

    def watch_for_changes(self) -> bool:
        """Catch up and re-plan when another process changed data; True if it did.

        A notice published "now" elsewhere has a boundary that is already past
        by the time we see it, so recording (not only planning) is needed here.
        """
        version = jobs.data_version(self.ctx)
        if version == self._seen_version:
            return False
        self.run_transitions()
        # Our own recording bumps the version too; remember the one after it.
        self._seen_version = jobs.data_version(self.ctx)
        return True

    def plan_next_wakeup(self, now: datetime) -> datetime | None:
        with self._planning:
            boundary = jobs.next_boundary(self.ctx, now=now)
            job_id = wake_job_id(boundary) if boundary else None
            if job_id and self._scheduler.get_job(job_id):
                return boundary
            # Each wake-up gets an id of its own: APScheduler removes a fired
            # date job right after handing it to a worker thread, and with a
            # shared id that removal could delete the wake-up planned next.
            if self._wake_job_id and self._wake_job_id != job_id:
                try:
                    self._scheduler.remove_job(self._wake_job_id)
                except JobLookupError:
                    pass  # it fired already
            self.planned_wakeup, self._wake_job_id = boundary, job_id
            if boundary is not None:
                self._scheduler.add_job(self.run_transitions, "date", run_date=boundary, id=job_id, replace_existing=True)
                log.debug("next wake-up at %s", boundary.isoformat())
            return boundary

    def wake_job(self):
        return self._scheduler.get_job(self._wake_job_id) if self._wake_job_id else None


def wake_job_id(boundary: datetime) -> str:
    return f"{WAKE_AT_BOUNDARY}@{boundary.isoformat()}"


class LeaderElectedScheduler:
    """Runs a NoticeScheduler only while this process holds the leader lock.

    Every process started with a scheduler competes for the lock; the others
    stand by and poll, so when the leader dies a standby takes over within
    `leader_poll_seconds` (plus the database noticing the dead connection).
    """

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.leadership = leadership_for(ctx.db.engine)
        self.scheduler: NoticeScheduler | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="notices-leader", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def send_soon(self) -> None:
        if self.scheduler is not None:
            self.scheduler.send_soon()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._step()
            except Exception:  # keep electing; a bad moment must not end the scheduler for good
                log.exception("leader election step failed")
            self._stop.wait(self.ctx.settings.leader_poll_seconds)

    def _step(self) -> None:
        if self.scheduler is None:
            if self.leadership.try_acquire():
                log.info("this process is now the scheduler leader (pid %s)", os.getpid())
                self.scheduler = NoticeScheduler(self.ctx)
                self.scheduler.start()
        elif not self.leadership.still_held():
            log.warning("lost the scheduler leadership; standing by")
            self.scheduler.shutdown()
            self.scheduler = None

    def shutdown(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        if self.scheduler is not None:
            self.scheduler.shutdown()
            self.scheduler = None
        self.leadership.release()


def run_until_signalled(ctx: AppContext, on_ready=lambda: None) -> None:
    """`notices scheduler`: run (or stand by to run) the jobs until SIGTERM or SIGINT, then stop cleanly."""
    stop = threading.Event()

    def request_stop(signum, _frame) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    elected = LeaderElectedScheduler(ctx)
    elected.start()
    on_ready()
    try:
        stop.wait()
    finally:
        elected.shutdown()
