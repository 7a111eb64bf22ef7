"""The lifecycle events an events feed shows (feeds.event_feed): those of a recent window, newest
first, read whole or, for a renderer that keeps the events it read before (feeds.fragments), by
narrow queries that say which ones to read whole."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, selectinload

from notices.core.db import one_of
from notices.core.models import Notice, NoticeEvent
from notices.notice.lifecycle import Filters
from notices.notice.store import NoticeVersion, notice_versions

# What an events feed reads of an event besides its own row: its notice, with the revisions that
# say what the notice was at the event (the notice's attachments come with it).
_WITH_NOTICE = (selectinload(NoticeEvent.notice).selectinload(Notice.revisions),)
_NEWEST_FIRST = (NoticeEvent.occurred_at.desc(), NoticeEvent.id.desc())


def _within(now: datetime, history: timedelta) -> tuple[ColumnElement[bool], ...]:
    return NoticeEvent.occurred_at > now - history, NoticeEvent.occurred_at <= now


def recent_events(session: Session, now: datetime, filters: Filters, *, history: timedelta) -> list[NoticeEvent]:
    """Lifecycle events of the last `history`, newest first, with their notices loaded."""
    events = session.scalars(
        select(NoticeEvent).where(*_within(now, history)).options(*_WITH_NOTICE).order_by(*_NEWEST_FIRST)
    ).all()
    return [event for event in events if filters.matches(event.notice)]


def recent_event_ids(session: Session, now: datetime, *, history: timedelta) -> list[tuple[int, int]]:
    """(event id, notice id) of the events recent_events reads (before filters), in its order."""
    query = select(NoticeEvent.id, NoticeEvent.notice_id).where(*_within(now, history)).order_by(*_NEWEST_FIRST)
    return [(event_id, notice_id) for event_id, notice_id in session.execute(query)]


def recent_event_versions(session: Session, now: datetime, *, history: timedelta) -> list[NoticeVersion]:
    """The versions of the notices of those events."""
    return notice_versions(session, select(NoticeEvent.notice_id).where(*_within(now, history)))


def events_by_id(session: Session, ids: Sequence[int]) -> list[NoticeEvent]:
    """The events with these ids (any order), loaded as recent_events loads them."""
    found: list[NoticeEvent] = []
    for wanted in one_of(session, NoticeEvent.id, ids):
        found += session.scalars(select(NoticeEvent).where(wanted).options(*_WITH_NOTICE)).all()
    return found
