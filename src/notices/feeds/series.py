"""Series in the feeds that show one time span per notice (Atom/RSS order, GeoJSON, closures.json,
CAP): the occurrence under way at `now`, else the next one; after the last, the last one.

A feed's bytes then change at occurrence boundaries (the phrase "next Tue 1 Dec 07:00" moves on),
and only there: `boundaries` says when the last one passed (Last-Modified) and when the next one
comes (how long a rendering stays right). No queries; `now` is passed in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from notices.notice import recurrence
from notices.notice.markup import RenderableNotice
from notices.notice.recurrence import Occurrence, Recurring

ViewT = TypeVar("ViewT", bound=RenderableNotice)
SeriesT = TypeVar("SeriesT", bound=Recurring)
# How far back to look for the occurrence that ended last (a bounded look: a series seen in a feed
# has an occurrence under way or coming, or has just ended).
LOOK_BACK = timedelta(days=400)


def shown_occurrence(notice: Recurring, now: datetime) -> Occurrence | None:
    """The occurrence a feed shows for a series: under way at `now`, else the next, else the last."""
    current = recurrence.next_occurrence(notice, now)
    if current is not None:
        return current
    return last_occurrence_before(notice, now)


def last_occurrence_before(notice: Recurring, now: datetime) -> Occurrence | None:
    last = None
    for occurrence in recurrence.occurrences(notice, after=now - LOOK_BACK, before=now):
        last = occurrence
    return last


def at_occurrence(view: ViewT, now: datetime) -> ViewT:
    """A series' view with the shown occurrence's start and end; a single notice as it is."""
    if not recurrence.is_recurring(view):
        return view
    occurrence = shown_occurrence(view, now)
    if occurrence is None:
        return view
    shown = dataclasses.replace(view, starts_at=occurrence.starts_at, ends_at=occurrence.ends_at)
    if view.body_rendered:
        shown.take_body_html(view.body_html)  # the body is the series' own: not rendered again
    return shown


def shown_start(notice: Recurring, now: datetime) -> datetime:
    """What the notices feed sorts by: the start of the occurrence shown (a single notice: its start)."""
    if not recurrence.is_recurring(notice):
        return notice.starts_at
    occurrence = shown_occurrence(notice, now)
    return occurrence.starts_at if occurrence is not None else notice.starts_at


def in_feed_order(notices: Sequence[SeriesT], now: datetime) -> list[SeriesT]:
    """Soonest shown start first (a series by its current or next occurrence), stable otherwise."""
    return sorted(notices, key=lambda notice: shown_start(notice, now))


def boundaries(notices: Iterable[Recurring], now: datetime) -> tuple[datetime | None, datetime | None]:
    """(the latest occurrence start or end at or before `now`, the first after `now`) over the series
    among `notices`: when their shown occurrence last changed, and when it changes next."""
    passed: datetime | None = None
    coming: datetime | None = None
    for notice in notices:
        if not recurrence.is_recurring(notice):
            continue
        current = recurrence.next_occurrence(notice, now)
        if current is not None:
            upcoming = current.starts_at if current.starts_at > now else current.ends_at
            coming = upcoming if coming is None else min(coming, upcoming)
            if current.starts_at <= now:
                passed = _latest(passed, current.starts_at)
        previous = last_occurrence_before(notice, now if current is None else min(now, current.starts_at))
        if previous is not None and previous.ends_at <= now:
            passed = _latest(passed, previous.ends_at)
    return passed, coming


def _latest(first: datetime | None, second: datetime) -> datetime:
    return second if first is None else max(first, second)
