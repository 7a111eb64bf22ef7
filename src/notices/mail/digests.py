"""Daily and weekly digests: which period, what is in it for whom, and enqueuing them.

A digest covers the period between two scheduled digest times in the site
zone (so a daily period is 23 or 25 hours around a DST change) and is built
as of the end of that period, whenever it is actually sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TypedDict
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from notices.core.config import Settings
from notices.core.db import insert_ignoring_duplicates
from notices.core.models import DigestRun, Notice, NoticeEvent, table_of
from notices.core.states import DeliveryKind, EventKind, Frequency
from notices.mail import outbox, subscriptions
from notices.notice import languages, recurrence, store
from notices.notice.lifecycle import Filters, Status, status_at
from notices.notice.recurrence import Occurrence

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HORIZON = timedelta(days=7)
CHANGE_KINDS = (EventKind.UPDATED, EventKind.RESCHEDULED, EventKind.CANCELLED)
# Digests enqueued per INSERT: one statement per chunk, well inside SQLite's limit of bound values.
ENQUEUE_CHUNK = 500


@dataclass(frozen=True)
class DigestPeriod:
    frequency: str
    start: datetime
    end: datetime

    @property
    def key(self) -> str:
        """The dedup key: one digest per subscriber per period, however often it is enqueued."""
        return f"digest:{self.frequency}:{self.label}"

    label: str = ""  # the local date the period ends on, e.g. 2026-11-28


def _scheduled(day: date, at: time, zone: ZoneInfo) -> datetime:
    # Digest times are whole minutes like 07:00, never inside a DST gap in
    # practice; fold=0 picks the first of an ambiguous time.
    return datetime.combine(day, at, tzinfo=zone)


def digest_period(settings: Settings, frequency: str, now: datetime) -> DigestPeriod:
    """The latest complete period ending at or before `now`."""
    zone = settings.timezone
    local_now = now.astimezone(zone)
    if frequency == Frequency.DAILY:
        at = time.fromisoformat(settings.daily_digest_at)
        day = local_now.date()
        if _scheduled(day, at, zone) > now:
            day -= timedelta(days=1)
        end, start = _scheduled(day, at, zone), _scheduled(day - timedelta(days=1), at, zone)
    elif frequency == Frequency.WEEKLY:
        weekday_name, clock = settings.weekly_digest_at.split()
        at, weekday = time.fromisoformat(clock), WEEKDAYS.index(weekday_name)
        day = local_now.date() - timedelta(days=(local_now.weekday() - weekday) % 7)
        if _scheduled(day, at, zone) > now:
            day -= timedelta(days=7)
        end, start = _scheduled(day, at, zone), _scheduled(day - timedelta(days=7), at, zone)
    else:
        raise ValueError(f"no digest for frequency {frequency!r}")
    return DigestPeriod(
        frequency=frequency,
        start=start.astimezone(now.tzinfo),
        end=end.astimezone(now.tzinfo),
        label=end.date().isoformat(),
    )


@dataclass
class DigestSnapshot:
    """Everything any subscriber's digest for one period can contain, loaded once."""

    period: DigestPeriod
    published: list[Notice]
    changed: list[tuple[Notice, list[NoticeEvent]]]
    visible: list[Notice]


@dataclass
class DigestSections:
    new: list[Notice] = field(default_factory=list)
    changed: list[tuple[Notice, list[NoticeEvent]]] = field(default_factory=list)
    starting: list[Notice] = field(default_factory=list)
    ending: list[Notice] = field(default_factory=list)
    active: list[Notice] = field(default_factory=list)
    # Series among the above: their occurrences from the period's start to the horizon, with
    # their times (cancelled ones too, marked), so a reader sees which dates are on.
    dates: list[tuple[Notice, list[Occurrence]]] = field(default_factory=list)

    def fingerprint(self) -> tuple[object, ...]:
        """What the digest shows, as ids: equal fingerprints render the same email."""
        return (
            tuple(n.id for n in self.new),
            tuple((n.id, tuple(e.id for e in events)) for n, events in self.changed),
            tuple(n.id for n in self.starting),
            tuple(n.id for n in self.ending),
            tuple(n.id for n in self.active),
            tuple((n.id, tuple((o.id, o.starts_at, o.cancelled) for o in found)) for n, found in self.dates),
        )

    @property
    def has_news(self) -> bool:
        """Anything a reader did not know yesterday or needs to act on this week (a date of a series too)."""
        return bool(self.new or self.changed or self.starting or self.ending or self.dates)


def in_language(sections: DigestSections, language: str, settings: Settings) -> DigestSections:
    """The same sections, each notice read in `language` (its text, or the default's marked)."""

    def read(notice: Notice) -> Notice:
        shown: Notice = languages.in_language(notice, language, settings)
        return shown

    return DigestSections(
        new=[read(n) for n in sections.new],
        changed=[(read(n), events) for n, events in sections.changed],
        starting=[read(n) for n in sections.starting],
        ending=[read(n) for n in sections.ending],
        active=[read(n) for n in sections.active],
        dates=[(read(n), found) for n, found in sections.dates],
    )


def load_snapshot(session: Session, period: DigestPeriod) -> DigestSnapshot:
    events = session.scalars(
        select(NoticeEvent)
        .where(NoticeEvent.occurred_at >= period.start, NoticeEvent.occurred_at < period.end)
        .options(selectinload(NoticeEvent.notice))
        .order_by(NoticeEvent.occurred_at, NoticeEvent.id)
    ).all()
    published = {event.notice_id: event.notice for event in events if event.kind == EventKind.PUBLISHED}
    changed: dict[int, tuple[Notice, list[NoticeEvent]]] = {}
    for event in events:
        if event.kind in CHANGE_KINDS and event.notice_id not in published:
            changed.setdefault(event.notice_id, (event.notice, []))[1].append(event)
    return DigestSnapshot(
        period=period,
        published=sorted(published.values(), key=lambda notice: (notice.starts_at, notice.uid)),
        changed=list(changed.values()),
        visible=store.visible_notices(session, period.end),
    )


def sections_for(snapshot: DigestSnapshot, filters: Filters) -> DigestSections:
    end = snapshot.period.end
    sections = DigestSections()
    sections.new = [n for n in snapshot.published if filters.matches(n) and n.cancelled_at is None]
    sections.changed = [(n, events) for n, events in snapshot.changed if filters.matches(n)]
    listed = {n.id for n in sections.new} | {n.id for n, _ in sections.changed}
    for notice in snapshot.visible:
        # Published at exactly the end: it belongs to the next digest, as "new".
        # (Visible notices are all published: publish_at is never None here.)
        if not filters.matches(notice) or notice.publish_at is None or notice.publish_at >= end:
            continue
        status = status_at(notice, end)
        # A series starts again with each occurrence: it is starting when its next one is near.
        next_start = _next_start(notice, end)
        if status is Status.UPCOMING and next_start is not None and next_start < end + HORIZON:
            if notice.id not in listed:
                sections.starting.append(notice)
        elif status is Status.ACTIVE and notice.ends_at is not None and notice.ends_at < end + HORIZON:
            sections.ending.append(notice)
        elif status is Status.ACTIVE:
            sections.active.append(notice)
    # Every series the reader follows that has a date from the period's start to the horizon:
    # those listed above, and those only between two occurrences (upcoming, the next one later).
    following = [n for n in snapshot.visible if filters.matches(n) and n.publish_at is not None and n.publish_at < end]
    shown = [*sections.new, *(n for n, _ in sections.changed), *sections.starting, *sections.ending, *following]
    seen: set[int] = set()
    for notice in shown:
        if notice.id in seen or not recurrence.is_recurring(notice):
            continue
        seen.add(notice.id)
        found = list(
            recurrence.occurrences(notice, after=snapshot.period.start, before=end + HORIZON, include_cancelled=True)
        )
        if found:
            sections.dates.append((notice, found))
    return sections


def _next_start(notice: Notice, now: datetime) -> datetime | None:
    """When the notice (or the series' next occurrence) starts, if it has not yet."""
    if not recurrence.is_recurring(notice):
        return notice.starts_at
    coming = recurrence.next_occurrence(notice, now)
    return coming.starts_at if coming is not None and coming.starts_at > now else None


class DigestCounts(TypedDict):
    """What enqueue_digests did: the period's label and how many subscribers got a digest,
    already had one, or had nothing new; a dry run lists the planned (subscriber id, sections)."""

    period: str
    enqueued: int
    already: int
    empty: int
    planned: list[tuple[int, DigestSections]]


def enqueue_digests(
    session: Session,
    *,
    settings: Settings,
    frequency: str,
    now: datetime,
    dry_run: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> DigestCounts:
    """Enqueue this period's digest for every confirmed subscriber of `frequency` who has news.

    Idempotent: the dedup key makes a second run (or a second scheduler) a no-op. `on_progress(1)`
    after each subscriber (of subscriptions.confirmed_count).
    """
    period = digest_period(settings, frequency, now)
    snapshot = load_snapshot(session, period)
    counts: DigestCounts = {"period": period.label, "enqueued": 0, "already": 0, "empty": 0, "planned": []}
    # Subscribers with the same filters get the same sections: worked out once per distinct filters.
    found: dict[Filters, DigestSections] = {}
    waiting: list[int] = []

    def enqueue_waiting() -> None:
        added = outbox.enqueue_many(
            session,
            subscriber_ids=waiting,
            dedup_key=period.key,
            kind=DeliveryKind.DIGEST,
            payload={"frequency": frequency, "start": period.start.isoformat(), "end": period.end.isoformat()},
            now=now,
            expires_at=period.end + settings.digest_validity,
        )
        counts["enqueued"] += added
        counts["already"] += len(waiting) - added
        waiting.clear()

    for row in subscriptions.confirmed_subscribers(session, frequency):
        if on_progress:
            on_progress(1)
        filters = subscriptions.row_filters(row)
        sections = found.get(filters)
        if sections is None:
            sections = found[filters] = sections_for(snapshot, filters)
        if settings.skip_empty_digests and not sections.has_news:
            counts["empty"] += 1
            continue
        if dry_run:
            counts["planned"].append((row.id, sections))
            continue
        waiting.append(row.id)
        if len(waiting) >= ENQUEUE_CHUNK:
            enqueue_waiting()
    if waiting:
        enqueue_waiting()
    if not dry_run:
        insert_ignoring_duplicates(
            session,
            table_of(DigestRun),
            {
                "frequency": frequency,
                "period": period.label,
                "enqueued_at": now,
                "enqueued": counts["enqueued"],
            },
        )
    return counts


def period_enqueued(session: Session, period: DigestPeriod) -> bool:
    """Whether this period's digests were enqueued already (by any scheduler or `digest run`)."""
    return session.get(DigestRun, (period.frequency, period.label)) is not None
