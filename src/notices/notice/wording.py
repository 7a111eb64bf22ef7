"""How a notice's times read to people: 'from Fri 14 Nov 16:00', 'until further notice'."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from notices.notice.lifecycle import Status, status_at
from notices.notice.markup import renderable_instant
from notices.notice.times import format_site

SHORT = "%a %-d %b %H:%M"
STATUS_LABELS = {
    Status.DRAFT: "Draft",
    Status.SCHEDULED: "Scheduled",
    Status.UPCOMING: "Upcoming",
    Status.ACTIVE: "Active",
    Status.ENDED: "Ended",
    Status.CANCELLED: "Cancelled",
}


def _short(instant: datetime, zone: ZoneInfo, now: datetime) -> str:
    # The year only when it is not the current one: "Fri 14 Nov 16:00" vs "Wed 01 Sep 2027 08:00".
    instant, now = renderable_instant(instant), renderable_instant(now)
    pattern = SHORT if instant.astimezone(zone).year == now.astimezone(zone).year else "%a %-d %b %Y %H:%M"
    return format_site(instant, zone, pattern)


def _full(instant: datetime, zone: ZoneInfo) -> str:
    # Rows older than input bounds may hold instants a zone shift would overflow.
    return format_site(renderable_instant(instant), zone)


def until_phrase(notice, zone: ZoneInfo, now: datetime) -> str:
    if notice.ends_at is not None:
        return f"until {_short(notice.ends_at, zone, now)}"
    if notice.expected_end:
        return f"until further notice, expected {notice.expected_end}"
    return "until further notice"


def when_phrase(notice, zone: ZoneInfo, now: datetime) -> str:
    """The part of a title that says when, as of `now`."""
    status = status_at(notice, now)
    if status is Status.ACTIVE:
        return until_phrase(notice, zone, now)
    if status is Status.ENDED:
        return f"ended {_short(notice.ends_at, zone, now)}"
    if status is Status.CANCELLED:
        return "cancelled"
    return f"from {_short(notice.starts_at, zone, now)}"


def period(notice, zone: ZoneInfo) -> str:
    """The full period, e.g. 'Fri 14 Nov 2026 16:00 – until further notice (approximately Q3 2027)'."""
    start = _full(notice.starts_at, zone)
    if notice.ends_at is not None:
        return f"{start} – {_full(notice.ends_at, zone)}"
    if notice.expected_end:
        return f"{start} – until further notice (expected {notice.expected_end})"
    return f"{start} – until further notice"
