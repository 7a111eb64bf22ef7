"""Is publishing working? The truth for /healthz, /metrics, `notices health` and the dashboard.

Read from the database, so every web replica and every CLI gives the same
answer about the schedulers they share. A scheduler is:
- "never ran": no scheduler has completed a run on this database;
- "stale": none completed a run within `[scheduler] stale_after_seconds`
  (dead, stuck, or standing by with no leader);
- "failing": runs complete, but the latest run of some job failed recently
  (an unwritable export folder, a notice that cannot be recorded, ...);
- "ok".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from notices.core.config import Settings
from notices.notice.attachments.blobstore import open_store
from notices.runtime import bookkeeping


@dataclass(frozen=True)
class SchedulerHealth:
    state: str
    last_run_seconds_ago: float | None
    # job -> the error of its latest run, for the jobs whose latest run failed recently
    failing_jobs: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    def as_dict(self) -> dict[str, object]:
        return {
            "scheduler": self.state,
            "scheduler_last_run_seconds_ago": None
            if self.last_run_seconds_ago is None
            else round(self.last_run_seconds_ago, 1),
            "failing_jobs": self.failing_jobs,
        }


def scheduler_health(session: Session, *, settings: Settings, now: datetime) -> SchedulerHealth:
    window = timedelta(seconds=settings.scheduler_stale_after_seconds)
    seen = bookkeeping.scheduler_seen_at(session)
    age = (now - seen).total_seconds() if seen is not None else None
    failing = {
        run.job: run.last_error
        for run in bookkeeping.job_runs(session)
        if run.last_error and run.last_finished_at is not None and run.last_finished_at > now - window
    }
    if age is None:
        state = "never ran"
    elif age > window.total_seconds():
        state = "stale"
    elif failing:
        state = "failing"
    else:
        state = "ok"
    return SchedulerHealth(state=state, last_run_seconds_ago=age, failing_jobs=failing)


def attachment_store_problem(settings: Settings) -> str | None:
    """Why uploads cannot be stored now (a directory that cannot be written, an unreachable
    bucket), or None. Publishing goes on without it, but uploads fail until it is fixed."""
    try:
        return open_store(settings).problem()
    except Exception as error:  # noqa: BLE001 - a store that cannot even be opened is a problem to report
        return f"{type(error).__name__}: {error}"
