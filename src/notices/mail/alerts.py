"""Immediate alerts (a notice published, started, rescheduled, cancelled) and reminders before a start.

Both go to confirmed subscribers with frequency "immediate" whose filters
match. Idempotent: alerts follow lifecycle events marked once handled, and
every delivery has a dedup key.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from notices.core.config import Settings
from notices.core.db import insert_ignoring_duplicates, isolated
from notices.core.models import Notice, NoticeEvent, NoticeReminder, table_of
from notices.core.states import DeliveryKind, EventKind, Frequency
from notices.mail import outbox, subscriptions
from notices.mail.subscriptions import FilterRow
from notices.notice import handoff, recurrence, store
from notices.notice.lifecycle import Status, status_at
from notices.notice.recurrence import Occurrence

# Text edits ("updated") and ends are not worth an interruption; the
# digests and the event feed carry them.
ALERT_KINDS = (EventKind.PUBLISHED, EventKind.STARTED, EventKind.RESCHEDULED, EventKind.CANCELLED)
# A series alerts as one notice: its publication, its changes and its cancellation (events
# without an occurrence). Of the events about one occurrence, only the exceptions alert, once
# each: that occurrence cancelled or moved. Its every start is routine (a weekly closure would
# otherwise mail every week); reminders before each start, the digests and the feeds tell those.
OCCURRENCE_ALERT_KINDS = (EventKind.RESCHEDULED, EventKind.CANCELLED)


def alerts_for(kind: str, occurrence: str) -> bool:
    """Whether an event of this kind (about this occurrence, "" for the whole notice) alerts."""
    return kind in (OCCURRENCE_ALERT_KINDS if occurrence else ALERT_KINDS)


def _immediate_subscribers(session: Session) -> list[FilterRow]:
    return list(subscriptions.confirmed_subscribers(session, Frequency.IMMEDIATE))


def enqueue_alerts(
    session: Session,
    *,
    settings: Settings,
    now: datetime,
    failures: list[tuple[str, str]] | None = None,
) -> dict[str, int]:
    """Alerts for lifecycle events not handled yet; an event that fails is left for the next run."""
    failures = [] if failures is None else failures
    events = handoff.unhandled_events(session, NoticeEvent.alerts_enqueued, now=now)
    counts = {"events": len(events), "enqueued": 0, "stale": 0}
    if not events:
        return counts
    subscribers = _immediate_subscribers(session)
    handled = []
    for event in events:
        with isolated(session, f"alerts for event {event.id} ({event.kind}) of notice {event.notice.uid}", failures):
            counts["enqueued"] += _enqueue_event_alerts(
                session, event, subscribers, settings=settings, now=now, counts=counts
            )
            handled.append(event.id)
    handoff.mark_handled(session, NoticeEvent.alerts_enqueued, handled)
    return counts


def _enqueue_event_alerts(
    session: Session,
    event: NoticeEvent,
    subscribers: list[FilterRow],
    *,
    settings: Settings,
    now: datetime,
    counts: dict[str, int],
) -> int:
    notice = event.notice
    expires_at = event.occurred_at + settings.alert_validity
    # After downtime, an alert about something already over is noise.
    stale = expires_at <= now or (
        event.kind != EventKind.CANCELLED and status_at(notice, now) in (Status.ENDED, Status.CANCELLED)
    )
    if not alerts_for(event.kind, event.occurrence):
        return 0
    if stale:
        counts["stale"] += 1
        return 0
    enqueued = 0
    for row in subscribers:
        if subscriptions.row_filters(row).matches(notice):
            enqueued += outbox.enqueue(
                session,
                subscriber_id=row.id,
                dedup_key=f"alert:{notice.uid}:v{event.version}:{event.kind}"
                + (f":{event.occurrence}" if event.occurrence else ""),
                kind=DeliveryKind.ALERT,
                payload={
                    "notice": notice.uid,
                    "event": event.kind,
                    "version": event.version,
                    "occurrence": event.occurrence,
                },
                now=now,
                expires_at=expires_at,
            )
    return enqueued


def next_reminder_at(session: Session, *, settings: Settings, now: datetime) -> datetime | None:
    """The next instant at which a reminder falls due (for the scheduler's wake-up)."""
    instants = []
    for lead in settings.reminder_leads:
        first_start = session.scalar(
            select(Notice.starts_at)
            .where(Notice.cancelled_at.is_(None), Notice.publish_at.is_not(None), Notice.starts_at > now + lead)
            .order_by(Notice.starts_at)
            .limit(1)
        )
        if first_start is not None:
            instants.append(first_start - lead)
        # A series reminds before each occurrence: the next one that starts more than `lead` from now.
        for notice in store.live_series(session, now):
            coming = next(
                (o for o in recurrence.occurrences(notice, after=now + lead) if o.starts_at > now + lead), None
            )
            if coming is not None:
                instants.append(coming.starts_at - lead)
    return min(instants, default=None)


def enqueue_reminders(
    session: Session,
    *,
    settings: Settings,
    now: datetime,
    failures: list[tuple[str, str]] | None = None,
) -> dict[str, int]:
    """Reminders whose time (start minus lead) has come and whose notice has not started yet."""
    failures = [] if failures is None else failures
    counts = {"notices": 0, "enqueued": 0}
    if not settings.reminder_leads:
        return counts
    longest = max(settings.reminder_leads)
    upcoming = session.scalars(
        select(Notice).where(
            Notice.cancelled_at.is_(None),
            Notice.publish_at <= now,
            Notice.starts_at > now,
            Notice.starts_at <= now + longest,
        )
    ).all()
    # Series: each occurrence that starts within the longest lead is reminded of like a start.
    starts = [
        (notice, occurrence)
        for notice in store.live_series(session, now)
        if notice.publish_at is not None and notice.publish_at <= now
        for occurrence in recurrence.occurrences(notice, after=now, before=now + longest + timedelta(microseconds=1))
        if occurrence.starts_at > now
    ]
    single = [notice for notice in upcoming if not recurrence.is_recurring(notice)]
    subscribers = _immediate_subscribers(session) if single or starts else []
    for notice in single:
        with isolated(session, f"reminders for notice {notice.uid}", failures):
            _enqueue_notice_reminders(session, notice, subscribers, settings=settings, now=now, counts=counts)
    for notice, occurrence in starts:
        with isolated(session, f"reminders for occurrence {occurrence.id} of notice {notice.uid}", failures):
            _enqueue_notice_reminders(
                session, notice, subscribers, settings=settings, now=now, counts=counts, occurrence=occurrence
            )
    return counts


def _enqueue_notice_reminders(
    session: Session,
    notice: Notice,
    subscribers: list[FilterRow],
    *,
    settings: Settings,
    now: datetime,
    counts: dict[str, int],
    occurrence: Occurrence | None = None,
) -> None:
    """The reminders due for the notice's start, or for one occurrence's start of a series."""
    starts_at = occurrence.starts_at if occurrence is not None else notice.starts_at
    occurrence_id = occurrence.id if occurrence is not None else ""
    for lead in settings.reminder_leads:
        if starts_at - lead > now:
            continue
        # Announced less than `lead` before its start: the "new" alert
        # went out moments ago, a reminder would only repeat it. (Only
        # published notices get here: publish_at is never None.)
        if notice.publish_at is None or notice.publish_at > starts_at - lead:
            continue
        minutes = int(lead.total_seconds() // 60)
        # Once per (notice, start, lead): a text edit does not remind again,
        # a start moved to another time does (it is a new date to remember).
        first_time = insert_ignoring_duplicates(
            session,
            table_of(NoticeReminder),
            {
                "notice_id": notice.id,
                "starts_at": starts_at,
                "lead_minutes": minutes,
                "enqueued_at": now,
            },
        )
        if not first_time:
            continue
        counts["notices"] += 1
        insert_ignoring_duplicates(
            session,
            table_of(NoticeEvent),
            {
                "notice_id": notice.id,
                "kind": EventKind.REMINDER,
                "version": notice.version,
                "occurrence": occurrence_id,
                "occurred_at": now,
                "recorded_at": now,
                "detail": f"starts in {_lead_text(lead)}",
                "alerts_enqueued": True,
            },
        )
        for row in subscribers:
            if subscriptions.row_filters(row).matches(notice):
                counts["enqueued"] += outbox.enqueue(
                    session,
                    subscriber_id=row.id,
                    dedup_key=f"reminder:{notice.uid}:{_start_key(starts_at)}:{minutes}m",
                    kind=DeliveryKind.REMINDER,
                    payload={
                        "notice": notice.uid,
                        "lead_minutes": minutes,
                        "starts_at": starts_at.isoformat(),
                        "occurrence": occurrence_id,
                    },
                    now=now,
                    expires_at=starts_at,
                )


def _start_key(starts_at: datetime) -> str:
    return starts_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _lead_text(lead: timedelta) -> str:
    minutes = int(lead.total_seconds() // 60)
    if minutes % 1440 == 0:
        return f"{minutes // 1440} day{'s' if minutes != 1440 else ''}"
    if minutes % 60 == 0:
        return f"{minutes // 60} hour{'s' if minutes != 60 else ''}"
    return f"{minutes} minutes"
