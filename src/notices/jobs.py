"""The scheduled jobs: plain, idempotent functions of (context, now) that return counts.

The scheduler decides when they run; each is also a CLI command. Running a
job twice, or in two processes at once, changes nothing the second time.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

from notices import alerts, digests, feed_export, ratelimit, sender, store, subscriptions
from notices.context import AppContext

log = logging.getLogger(__name__)


def record_transitions(ctx: AppContext, *, now: datetime) -> dict[str, int]:
    """Record every due published/started/ended event not yet recorded (also after downtime)."""
    counts = {"published": 0, "started": 0, "ended": 0}
    with ctx.db.writing() as session, session.begin():
        for notice in store.notices_due_for_events(session, now):
            for kind in store.record_due_events(session, notice, now):
                counts[kind] += 1
                log.info("recorded %s of notice %s (v%s)", kind, notice.uid, notice.version)
        if any(counts.values()):
            store.bump_data_version(session, now)
        store.scheduler_heartbeat(session, now)
    return counts


def export_feeds(ctx: AppContext, *, now: datetime, directory: Path | None = None) -> dict:
    """Rewrite the static feed files that changed (see feed_export); no-op without a directory."""
    directory = directory or ctx.settings.feed_export_dir
    if directory is None:
        return {"written": 0, "unchanged": 0, "valid_until": None}
    counts = feed_export.export_feeds(ctx, now=now, directory=directory)
    if counts["written"]:
        log.info("exported feeds to %s: %s", directory, counts)
    return counts


def next_boundary(ctx: AppContext, *, now: datetime) -> datetime | None:
    """The next instant a job has something to do: a notice boundary or a reminder."""
    with ctx.db.session() as session:
        instants = [
            store.next_boundary_after(session, now),
            alerts.next_reminder_at(session, settings=ctx.settings, now=now),
        ]
    return min((instant for instant in instants if instant is not None), default=None)


def enqueue_alerts(ctx: AppContext, *, now: datetime) -> dict[str, int]:
    """Turn new lifecycle events into alerts for immediate subscribers, and enqueue due reminders."""
    with ctx.db.writing() as session, session.begin():
        counts = alerts.enqueue_alerts(session, settings=ctx.settings, now=now)
        reminders = alerts.enqueue_reminders(session, settings=ctx.settings, now=now)
    counts["reminders"] = reminders["enqueued"]
    return counts


def enqueue_digests(ctx: AppContext, *, now: datetime, frequency: str, dry_run: bool = False) -> dict:
    """This period's digest for each subscriber of `frequency` (idempotent per period)."""
    if not dry_run:
        # Digests are built from lifecycle events: catch up first in case no scheduler ran.
        record_transitions(ctx, now=now)
    with ctx.db.writing() as session:
        counts = digests.enqueue_digests(session, settings=ctx.settings, frequency=frequency, now=now, dry_run=dry_run)
        if not dry_run:
            session.commit()
    return counts


def send_pending(ctx: AppContext, *, now: datetime, on_progress=None) -> dict[str, int]:
    """Send every due delivery through the context's mailer."""
    return sender.send_pending(ctx, now=now, mailer=ctx.mailer, on_progress=on_progress)


def purge(ctx: AppContext, *, now: datetime) -> dict[str, int]:
    """Forget unconfirmed sign-ups past their deadline and old rate-limit counters."""
    with ctx.db.writing() as session, session.begin():
        return {
            "unconfirmed": subscriptions.purge_unconfirmed(session, now=now, settings=ctx.settings),
            "rate_limit_windows": ratelimit.purge_expired(session, before=now - timedelta(days=1)),
        }


def data_version(ctx: AppContext) -> int:
    with ctx.db.session() as session:
        return store.data_version(session)
