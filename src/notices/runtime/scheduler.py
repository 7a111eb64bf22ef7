"""When jobs run: APScheduler 3 in the background of `notices serve` or `notices scheduler`.

The scheduler wakes exactly at the next notice boundary. Writes from other
processes (CLI, web) move that boundary, so it polls the cheap data-version
counter and re-plans when it changes. A slow safety tick catches anything
else (a clock jump, a lost wake-up, a digest whose 07:00 nobody was up for).

Publishing must never stop silently: each step of a run is guarded, so an
unwritable export folder does not stop alerts and a failed alert step does
not stop the next wake-up from being planned; every failure is recorded
per job (job_runs, /healthz, /metrics) with its reason. A scheduler whose
core work keeps failing reports itself unhealthy, and the leader loop
(LeaderElectedScheduler) then gives up leadership so a standby takes over.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import FrameType
from typing import TypeVar, cast

# APScheduler 3 ships no type hints (4 will); its objects are unchecked here.
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from notices.core import change_signal, heap
from notices.core.context import AppContext
from notices.core.errors import PartialFailure
from notices.core.states import Frequency
from notices.mail.digests import DigestCounts
from notices.runtime import bookkeeping, jobs
from notices.runtime.feed_upkeep import FeedUpkeep
from notices.runtime.leadership import leadership_for

log = logging.getLogger(__name__)

WAKE_AT_BOUNDARY = "wake-at-boundary"
SAFETY_TICK = "record-transitions"
WATCH_CHANGES = "watch-for-changes"
SEND_PENDING = "send-pending"
SEND_HOOKS = "send-hooks"
DIGEST_JOBS = {Frequency.DAILY: "digest-daily", Frequency.WEEKLY: "digest-weekly"}
PURGE = "purge"
START_UP = "start-up"
SELF_RECORDING = (SAFETY_TICK, WATCH_CHANGES, WAKE_AT_BOUNDARY)
T = TypeVar("T")


class RunFailed(Exception):
    """Some steps of a run failed (the others were done); the message lists them."""


@dataclass
class RunReport:
    """What one run of the transitions job did, step by step."""

    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    # False when the run could not do its core work (record, alert, plan):
    # the kind of failure after which another scheduler should take over.
    core_ok: bool = True

    def step(self, name: str, action: Callable[[], T], *, core: bool) -> T | None:
        """Run one step; a failure is noted (and logged) instead of ending the run."""
        try:
            return action()
        except PartialFailure as failure:
            # The step did its work for everything but the items named. A job raises
            # PartialFailure with the counts it returns when every item works out.
            self.problems.append(str(failure))
            return cast(T, failure.counts)
        except Exception as error:  # each step is guarded: the others still run
            log.exception("%s failed", name)
            self.problems.append(f"{name}: {type(error).__name__}: {error}")
            self.core_ok = self.core_ok and not core
            return None


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
        self.feeds = FeedUpkeep(ctx)
        self._wake_job_id: str | None = None
        self._health = threading.Lock()
        # Per kind of work (transitions, sending, digests): runs that failed in a row.
        self._failed_in_a_row: dict[str, int] = {}
        self.last_problem = ""

    def start(self, *, paused: bool = False) -> None:
        """Catch up on everything missed while down, then plan the next wake-up.

        Raises when the catch-up could not do its core work (the database is
        away, say): the caller gives up leadership and retries later. Other
        problems (an unwritable export folder) are recorded and reported, and
        the scheduler runs on.
        """
        started = self.ctx.clock.now()
        report = self.run_transitions()
        self._record(START_UP, scheduled=started, error="; ".join(report.problems))
        if not report.core_ok:
            raise RunFailed("; ".join(report.problems))
        self._scheduler.add_job(
            self._transitions_job,
            "interval",
            seconds=self.ctx.settings.safety_tick_seconds,
            id=SAFETY_TICK,
            replace_existing=True,
        )
        self._scheduler.add_job(
            self.watch_for_changes,
            "interval",
            seconds=self.ctx.settings.change_poll_seconds,
            id=WATCH_CHANGES,
            replace_existing=True,
            # Only the latest poll matters; a late one is just skipped.
            misfire_grace_time=max(1, int(self.ctx.settings.change_poll_seconds * 5)),
        )
        self._scheduler.add_job(
            self.send_pending,
            "interval",
            seconds=self.ctx.settings.send_interval_seconds,
            id=SEND_PENDING,
            replace_existing=True,
        )
        self._scheduler.add_job(
            self.send_hooks,
            "interval",
            seconds=self.ctx.settings.hooks_send_interval_seconds,
            id=SEND_HOOKS,
            replace_existing=True,
        )
        for frequency, job_id in DIGEST_JOBS.items():
            self._scheduler.add_job(
                self.run_digest,
                CronTrigger(**self._digest_schedule(frequency), timezone=self.ctx.settings.timezone),
                args=[frequency],
                id=job_id,
                replace_existing=True,
                # A digest is still worth sending hours late (it expires on its own).
                misfire_grace_time=int(self.ctx.settings.digest_validity.total_seconds()),
            )
        # Hourly, so an unconfirmed sign-up is gone within the hour after its 3 days.
        self._scheduler.add_job(
            self.purge, "cron", minute=30, timezone=self.ctx.settings.timezone, id=PURGE, replace_existing=True
        )
        self._scheduler.add_listener(self._record_run, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        self._scheduler.start(paused=paused)
        # Whatever the catch-up above enqueued goes out now, not at the first tick.
        self.send_soon()
        self.send_hooks_soon()
        log.info("scheduler started; next boundary %s", self.planned_wakeup)

    # -- health -------------------------------------------------------------------------------

    @property
    def healthy(self) -> bool:
        """False once core work failed `max_failures` runs in a row (see LeaderElectedScheduler)."""
        with self._health:
            return max(self._failed_in_a_row.values(), default=0) < self.ctx.settings.scheduler_max_failures

    def _note(self, work: str, *, core_ok: bool, problem: str = "") -> None:
        with self._health:
            self._failed_in_a_row[work] = 0 if core_ok else self._failed_in_a_row.get(work, 0) + 1
            if problem:
                self.last_problem = problem

    def _record_run(self, event: JobExecutionEvent) -> None:
        job = event.job_id.split("@")[0]
        if job in SELF_RECORDING and event.exception is None:
            return  # the transitions jobs record their own runs (see _transitions_job)
        error = repr(event.exception) if event.exception is not None else ""
        self._record(job, scheduled=event.scheduled_run_time.astimezone(UTC), error=error)

    def _record(self, job: str, *, scheduled: datetime, error: str) -> None:
        try:
            with self.ctx.db.session() as session, session.begin():
                bookkeeping.record_job_run(
                    session, job, scheduled=scheduled, finished=self.ctx.clock.now(), error=error
                )
        except Exception:  # bookkeeping must never take a job down with it
            log.exception("could not record the run of job %s", job)

    def _digest_schedule(self, frequency: str) -> dict[str, int | str]:
        settings = self.ctx.settings
        if frequency == Frequency.DAILY:
            hour, minute = settings.daily_digest_at.split(":")
            return {"hour": int(hour), "minute": int(minute)}
        weekday, clock = settings.weekly_digest_at.split()
        hour, minute = clock.split(":")
        return {"day_of_week": weekday, "hour": int(hour), "minute": int(minute)}

    # -- jobs -----------------------------------------------------------------------------------

    def send_pending(self) -> dict[str, int]:
        try:
            counts = jobs.send_pending(self.ctx, now=self.ctx.clock.now())
        except Exception as error:
            self._note(SEND_PENDING, core_ok=False, problem=f"{SEND_PENDING}: {error!r}")
            raise
        self._note(SEND_PENDING, core_ok=True)
        return counts

    def send_soon(self) -> None:
        """Run send_pending now instead of at its next tick (mail was just enqueued)."""
        if self._scheduler.running and self._scheduler.get_job(SEND_PENDING):
            self._scheduler.modify_job(SEND_PENDING, next_run_time=datetime.now(UTC))

    def send_hooks(self) -> dict[str, int]:
        try:
            counts = jobs.send_hooks(self.ctx, now=self.ctx.clock.now())
        except Exception as error:
            self._note(SEND_HOOKS, core_ok=False, problem=f"{SEND_HOOKS}: {error!r}")
            raise
        self._note(SEND_HOOKS, core_ok=True)
        return counts

    def send_hooks_soon(self) -> None:
        """Run send_hooks now instead of at its next tick (an event was just recorded)."""
        if self._scheduler.running and self._scheduler.get_job(SEND_HOOKS):
            self._scheduler.modify_job(SEND_HOOKS, next_run_time=datetime.now(UTC))

    def run_digest(self, frequency: str) -> dict[str, DigestCounts]:
        """The digest trigger: the same catch-up every safety tick runs, on time."""
        try:
            done = jobs.catch_up_digests(self.ctx, now=self.ctx.clock.now())
        except Exception as error:
            self._note("digests", core_ok=False, problem=f"digest-{frequency}: {error!r}")
            raise
        self._note("digests", core_ok=True)
        if any(counts["enqueued"] for counts in done.values()):
            self.send_soon()
        return done

    def purge(self) -> dict[str, int]:
        return jobs.purge(self.ctx, now=self.ctx.clock.now())

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
            log.info("scheduler stopped")

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def job(self, job_id: str) -> Job | None:
        return self._scheduler.get_job(job_id)

    def _transitions_job(self, job: str = SAFETY_TICK, planned: datetime | None = None) -> dict[str, int]:
        """run_transitions as an APScheduler job, recording its run (failed if any step had a problem).

        It records itself rather than raising: every failed step was logged
        already, and APScheduler would log the whole story again as a traceback.
        """
        started = self.ctx.clock.now()
        report = self.run_transitions()
        self._record(job, scheduled=planned or started, error="; ".join(report.problems))
        return report.counts

    def run_transitions(self) -> RunReport:
        """Record due events, refresh the static feed copies, enqueue alerts and late digests, plan the next wake-up.

        Boundaries, writes and the safety tick all come through here, which is
        exactly when events, exported files and alerts can change. Each step
        runs whatever happened to the one before it.
        """
        now = self.ctx.clock.now()
        report = RunReport()
        report.counts = (
            report.step("record-transitions", lambda: jobs.record_transitions(self.ctx, now=now), core=True) or {}
        )
        report.step("export-feeds", lambda: self.feeds.export_if_stale(now), core=False)
        mail = report.step("enqueue-alerts", lambda: jobs.enqueue_alerts(self.ctx, now=now), core=True) or {}
        digests = report.step("catch-up-digests", lambda: jobs.catch_up_digests(self.ctx, now=now), core=True) or {}
        if mail.get("enqueued") or mail.get("reminders") or any(c["enqueued"] for c in digests.values()):
            self.send_soon()
        # Hooks were queued with their events (here or by the writer elsewhere); whatever is due goes now.
        report.step("enqueue-hooks", lambda: jobs.enqueue_hooks(self.ctx, now=now), core=True)
        if report.step("hooks-due", lambda: jobs.hooks_due(self.ctx, now=now), core=False):
            self.send_hooks_soon()
        report.step("plan-next-wake-up", lambda: self.plan_next_wakeup(now), core=True)
        if report.core_ok:
            report.step("heartbeat", lambda: jobs.heartbeat(self.ctx, now=now), core=True)
        # Last: after a release this renders for about a second, which alerts, hooks and the
        # heartbeat need not wait for.
        report.step("prepare-feeds", lambda: self.feeds.prepare_if_stale(now), core=False)
        self._note("transitions", core_ok=report.core_ok, problem="; ".join(report.problems))
        return report

    def watch_for_changes(self) -> bool:
        """Catch up and re-plan when another process changed data; True if it did.

        A notice published "now" elsewhere has a boundary that is already past
        by the time we see it, so recording (not only planning) is needed here.
        """
        version = jobs.data_version(self.ctx)
        if version == self._seen_version:
            return False
        self._transitions_job(WATCH_CHANGES)
        # Our own recording bumps the version too; remember the one after it.
        self._seen_version = jobs.data_version(self.ctx)
        return True

    def heard(self, version: int | None) -> None:
        """Another process wrote (core.change_signal): run the change check now, not at the next poll."""
        if version is not None and version == self._seen_version:
            return  # our own write, or one already handled
        with contextlib.suppress(JobLookupError):  # not started yet, or shutting down
            # APScheduler runs on real time; "now" here means "as soon as a worker is free".
            self._scheduler.modify_job(WATCH_CHANGES, next_run_time=datetime.now(UTC))

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
                with contextlib.suppress(JobLookupError):  # it fired already
                    self._scheduler.remove_job(self._wake_job_id)
            self.planned_wakeup, self._wake_job_id = boundary, job_id
            if boundary is not None:
                self._scheduler.add_job(
                    self._transitions_job,
                    "date",
                    run_date=boundary,
                    id=job_id,
                    args=[WAKE_AT_BOUNDARY, boundary],
                    replace_existing=True,
                )
                log.debug("next wake-up at %s", boundary.isoformat())
            return boundary

    def wake_job(self) -> Job | None:
        return self._scheduler.get_job(self._wake_job_id) if self._wake_job_id else None


def wake_job_id(boundary: datetime) -> str:
    return f"{WAKE_AT_BOUNDARY}@{boundary.isoformat()}"


class LeaderElectedScheduler:
    """Runs a NoticeScheduler only while this process holds the leader lock, and only while it works.

    Every process started with a scheduler competes for the lock; the others
    stand by and poll, so when the leader dies a standby takes over within
    `leader_poll_seconds` (plus the database noticing the dead connection).
    A leader whose start fails, or whose core work keeps failing, stops its
    jobs, releases the lock and waits (doubling, up to a cap) before it
    competes again, so a standby that can do the work takes over meanwhile.
    """

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.leadership = leadership_for(ctx.db.engine)
        self.scheduler: NoticeScheduler | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="notices-leader", daemon=True)
        self._retry_at = 0.0
        self._setbacks = 0
        self._leading_since = 0.0
        self._handover = threading.Lock()  # see _stop_leading

    def start(self) -> None:
        self._thread.start()

    def send_soon(self) -> None:
        if self.scheduler is not None:
            self.scheduler.send_soon()

    def heard(self, version: int | None) -> None:
        scheduler = self.scheduler
        if scheduler is not None:
            scheduler.heard(version)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._step()
            except Exception:  # keep electing; a bad moment must not end the scheduler for good
                log.exception("leader election step failed")
                self._give_up("the leader election step failed")
            self._stop.wait(self.ctx.settings.leader_poll_seconds)
        # A scheduler that the last step started while shutdown() waited for it (a catch-up longer
        # than that wait) stops here; shutdown() stopped one that ran before.
        self._stop_leading()

    def _stop_leading(self) -> None:
        """Stop this process's jobs if it runs them, and release the lead. Either thread may call it
        (the election's, or the one that shuts down), so a scheduler is taken and stopped once."""
        with self._handover:
            scheduler, self.scheduler = self.scheduler, None
            if scheduler is not None:
                scheduler.shutdown()
            self.leadership.release()

    def _step(self) -> None:
        if self.scheduler is None:
            if time.monotonic() < self._retry_at or not self.leadership.try_acquire():
                return
            log.info("this process is now the scheduler leader (pid %s)", os.getpid())
            scheduler = NoticeScheduler(self.ctx)
            try:
                scheduler.start()
            except Exception as error:
                log.error("the scheduler could not start: %s", error)
                scheduler.shutdown()
                self._give_up(f"it could not start ({error})")
                return
            self.scheduler = scheduler
            self._leading_since = time.monotonic()
        elif not self.leadership.still_held():
            log.warning("lost the scheduler leadership; standing by")
            self.scheduler.shutdown()
            self.scheduler = None
        elif not self.scheduler.healthy:
            self._give_up(f"its jobs keep failing ({self.scheduler.last_problem})")
        elif self._setbacks and time.monotonic() - self._leading_since > self.ctx.settings.scheduler_retry_max_seconds:
            self._setbacks = 0  # working for a good while since the last setback: back to the short wait

    def _give_up(self, reason: str) -> None:
        """Stop our jobs and release the lock; compete again after a growing wait."""
        self._stop_leading()
        settings = self.ctx.settings
        wait = min(settings.leader_poll_seconds * 2 ** (self._setbacks + 1), settings.scheduler_retry_max_seconds)
        self._setbacks += 1
        self._retry_at = time.monotonic() + wait
        log.error(
            "gave up the scheduler leadership because %s; a standby may take over; "
            "this process competes again in %.0f s",
            reason,
            wait,
        )

    def shutdown(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
            if self._thread.is_alive():
                log.warning("the scheduler's thread is still busy; it stops what it started when it is done")
        self._stop_leading()


def run_until_signalled(ctx: AppContext, on_ready: Callable[[], None] = lambda: None) -> None:
    """`notices scheduler`: run (or stand by to run) the jobs until SIGTERM or SIGINT, then stop cleanly."""
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    elected = LeaderElectedScheduler(ctx)
    heap.settle_startup_objects()  # before its thread starts: what a job has under way is not startup's
    try:
        elected.start()
        listener = change_signal.listener_for(ctx.settings.database_url)
        if listener is not None:
            listener.subscribe(elected.heard)
            listener.start()
    except BaseException:
        # A start that failed stops the elected scheduler (its thread may have taken the lead) and
        # leaves the collector as it found it; the error is the start's, whatever stopping meets.
        try:
            elected.shutdown()
        except Exception:  # noqa: BLE001 - logged; the start's own error follows
            log.exception("the scheduler did not stop cleanly after a failed start")
        finally:
            heap.unsettle()
        raise
    on_ready()
    try:
        stop.wait()
    finally:
        heap.unsettle()
        if listener is not None:
            listener.stop()
        elected.shutdown()
