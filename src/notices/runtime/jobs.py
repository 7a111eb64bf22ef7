"""The scheduled jobs: plain, idempotent functions of (context, now) that return counts.

The scheduler decides when they run; each is also a CLI command. Running a
job twice, or in two processes at once, changes nothing the second time.
A job that fails for one item (a notice, an event) does the others, then
raises PartialFailure naming what failed, so the failure is recorded and shown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from notices.core import site_state
from notices.core.context import AppContext
from notices.core.db import isolated
from notices.core.errors import PartialFailure
from notices.core.states import DIGEST_FREQUENCIES, EventKind
from notices.feeds import export, prepare, stored_pieces
from notices.feeds.export import ExportCounts
from notices.feeds.fragments import Fragments
from notices.feeds.prepare import PrepareCounts
from notices.hooks import enqueue as hook_queue
from notices.hooks import outbox as hook_outbox
from notices.hooks import sender as hook_sender
from notices.mail import alerts, digests, sender, subscriptions
from notices.mail.digests import DigestCounts
from notices.mail.transports import mailer_from_settings
from notices.notice import rendered_bodies, store
from notices.people import rate_limits
from notices.runtime import bookkeeping

log = logging.getLogger(__name__)


def record_transitions(ctx: AppContext, *, now: datetime) -> dict[str, int]:
    """Record every due published/started/ended event not yet recorded (also after downtime).

    Their hook deliveries are queued in the same transaction.
    """
    failures: list[tuple[str, str]] = []
    with ctx.db.writing() as session, session.begin():
        counts = _record_transitions(session, now=now, failures=failures)
        hook_queue.enqueue_new_events(session, settings=ctx.settings, now=now, failures=failures)
    if failures:
        raise PartialFailure("record-transitions", counts, failures)
    return counts


def _record_transitions(session: Session, *, now: datetime, failures: list[tuple[str, str]]) -> dict[str, int]:
    counts: dict[str, int] = dict.fromkeys((EventKind.PUBLISHED, EventKind.STARTED, EventKind.ENDED), 0)
    for notice in store.notices_due_for_events(session, now):
        with isolated(session, f"notice {notice.uid}", failures):
            for kind in store.record_due_events(session, notice, now):
                counts[kind] += 1
                log.info("recorded %s of notice %s (v%s)", kind, notice.uid, notice.version)
    if any(counts.values()):
        site_state.bump_data_version(session, now)
    return counts


def heartbeat(ctx: AppContext, *, now: datetime) -> None:
    """A scheduler completed a run (for /healthz, /metrics and the dashboard)."""
    with ctx.db.session() as session, session.begin():
        bookkeeping.scheduler_heartbeat(session, now)


def export_feeds(
    ctx: AppContext, *, now: datetime, directory: Path | None = None, on_progress: Callable[[int], None] | None = None
) -> ExportCounts:
    """Rewrite the static feed files that changed (see feeds.export); no-op without a directory."""
    directory = directory or ctx.settings.feed_export_dir
    if directory is None:
        return {"written": 0, "unchanged": 0, "valid_until": None}
    counts = export.export_feeds(ctx, now=now, directory=directory, on_progress=on_progress)
    if counts["written"]:
        log.info("exported feeds to %s: %s", directory, counts)
    return counts


def prepare_feeds(ctx: AppContext, *, now: datetime, fragments: Fragments | None = None) -> PrepareCounts:
    """Render the notices feeds in every language so their pieces are stored before readers ask
    (see feeds.prepare); `fragments`: what the scheduler keeps between runs."""
    return prepare.prepare_feeds(ctx, now=now, fragments=fragments)


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
    failures: list[tuple[str, str]] = []
    with ctx.db.writing() as session, session.begin():
        counts = alerts.enqueue_alerts(session, settings=ctx.settings, now=now, failures=failures)
        reminders = alerts.enqueue_reminders(session, settings=ctx.settings, now=now, failures=failures)
        # Reminder events were just recorded: their hooks go in with them.
        hook_queue.enqueue_new_events(session, settings=ctx.settings, now=now, failures=failures)
    counts["reminders"] = reminders["enqueued"]
    if failures:
        raise PartialFailure("enqueue-alerts", counts, failures)
    return counts


def enqueue_digests(
    ctx: AppContext,
    *,
    now: datetime,
    frequency: str,
    dry_run: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> DigestCounts:
    """This period's digest for each subscriber of `frequency` (idempotent per period).

    Digests are built from lifecycle events, so the events due by `now` are
    recorded first, in case no scheduler ran. A dry run does exactly the same
    in a transaction it rolls back, so it predicts the real run.
    """
    failures: list[tuple[str, str]] = []
    with ctx.db.writing() as session:
        _record_transitions(session, now=now, failures=failures)
        counts = digests.enqueue_digests(
            session, settings=ctx.settings, frequency=frequency, now=now, dry_run=dry_run, on_progress=on_progress
        )
        if dry_run:
            session.rollback()
        else:
            session.commit()
    return counts


def catch_up_digests(ctx: AppContext, *, now: datetime) -> dict[str, DigestCounts]:
    """Enqueue every digest period that has closed but was not enqueued, while it is still worth sending.

    The 07:00 trigger lives in one scheduler's memory: a restart, failover or
    deploy at that minute would lose the day's digest. Every start and every
    safety tick comes through here; the period's row in digest_runs (and the
    outbox's unique keys) keep it to once.
    """
    done: dict[str, DigestCounts] = {}
    for frequency in DIGEST_FREQUENCIES:
        period = digests.digest_period(ctx.settings, frequency, now)
        if now >= period.end + ctx.settings.digest_validity:
            continue  # it would expire unsent: the next period's digest carries the news
        with ctx.db.session() as session:
            if digests.period_enqueued(session, period):
                continue
        done[frequency] = counts = enqueue_digests(ctx, now=now, frequency=frequency)
        log.info("%s digest for %s: %s enqueued", frequency, counts["period"], counts["enqueued"])
    return done


def send_pending(ctx: AppContext, *, now: datetime, on_progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Send every due delivery through the context's mailer."""
    mailer = ctx.mailer or mailer_from_settings(ctx.settings)
    return sender.send_pending(ctx, now=now, mailer=mailer, on_progress=on_progress)


def send_hooks(ctx: AppContext, *, now: datetime, on_progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Send every due hook delivery (webhooks, Slack, Teams)."""
    return hook_sender.send_hooks(ctx, now=now, on_progress=on_progress)


def enqueue_hooks(ctx: AppContext, *, now: datetime) -> dict[str, int]:
    """Hook deliveries for any event recorded without them (a safety net: writers queue them as they record)."""
    failures: list[tuple[str, str]] = []
    with ctx.db.writing() as session, session.begin():
        counts = hook_queue.enqueue_new_events(session, settings=ctx.settings, now=now, failures=failures)
    if failures:
        raise PartialFailure("enqueue-hooks", counts, failures)
    return counts


def hooks_due(ctx: AppContext, *, now: datetime) -> int:
    with ctx.db.session() as session:
        return hook_outbox.due_count(session, now=now)


def purge(ctx: AppContext, *, now: datetime) -> dict[str, int]:
    """Forget unconfirmed sign-ups past their deadline, old rate-limit counters, old hook deliveries
    and rendered bodies and feed pieces stored long ago (those still needed are stored again)."""
    with ctx.db.writing() as session, session.begin():
        return {
            "unconfirmed": subscriptions.purge_unconfirmed(session, now=now, settings=ctx.settings),
            "rate_limit_windows": rate_limits.purge_expired(session, before=now - timedelta(days=1)),
            "hook_deliveries": hook_outbox.purge_finished(session, before=now - hook_outbox.LOG_KEPT),
            "rendered_bodies": rendered_bodies.purge(session, before=now - rendered_bodies.KEPT),
            "rendered_pieces": stored_pieces.purge(session, before=now - stored_pieces.KEPT),
        }


def data_version(ctx: AppContext) -> int:
    with ctx.db.session() as session:
        return site_state.data_version(session)
