"""What the schedulers record about themselves: the heartbeat of a completed run and each job's
last run (for /healthz, /metrics, the dashboard and `notices health`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from notices.core.db import insert_ignoring_duplicates
from notices.core.models import JobRun, SiteState, table_of


def scheduler_heartbeat(session: Session, now: datetime) -> None:
    """A scheduler finished a run (not a data change: the data version stays)."""
    session.execute(update(SiteState).where(SiteState.id == 1).values(scheduler_seen_at=now))


def scheduler_seen_at(session: Session) -> datetime | None:
    return session.scalar(select(SiteState.scheduler_seen_at).where(SiteState.id == 1))


def record_job_run(session: Session, job: str, *, scheduled: datetime, finished: datetime, error: str) -> None:
    """Count a finished run of a scheduled job (for /metrics and the dashboard)."""
    insert_ignoring_duplicates(
        session,
        table_of(JobRun),
        {
            "job": job,
            "runs": 0,
            "failures": 0,
            "last_lag_seconds": 0.0,
            "last_error": "",
        },
    )
    session.execute(
        update(JobRun)
        .where(JobRun.job == job)
        .values(
            runs=JobRun.runs + 1,
            failures=JobRun.failures + (1 if error else 0),
            last_scheduled_at=scheduled,
            last_finished_at=finished,
            last_lag_seconds=max(0.0, (finished - scheduled).total_seconds()),
            last_error=error[:1000],
        )
    )


def job_runs(session: Session) -> list[JobRun]:
    return list(session.scalars(select(JobRun).order_by(JobRun.job)))
