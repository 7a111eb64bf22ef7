"""Notices as an iCalendar file (icalendar package). No queries, no clock.

One VEVENT per notice with a stable UID and SEQUENCE = version, so calendar
apps update events in place; cancelled notices stay in the file with
STATUS:CANCELLED so subscribed calendars remove them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from icalendar import Calendar, Event

from notices.config import Settings
from notices.feeds import notice_url
from notices.models import Notice
from notices.rendering import xml_safe
from notices.wording import until_phrase


def _description(settings: Settings, notice: Notice) -> str:
    places = ", ".join(settings.locations.get(key, key) for key in notice.locations)
    parts = [notice.summary] if notice.summary else []
    if notice.ends_at is None:
        phrase = until_phrase(notice, settings.timezone, notice.starts_at)
        parts.append(phrase[:1].upper() + phrase[1:] + ".")
    if places or notice.location_detail:
        parts.append("Where: " + "; ".join(part for part in (places, notice.location_detail) if part))
    if notice.cancelled_at is not None:
        parts.append(f"Cancelled: {notice.cancel_reason}")
    parts.append(notice.body)
    parts.append(notice_url(settings, notice))
    return xml_safe("\n\n".join(part for part in parts if part))


def build_calendar(notices: Sequence[Notice], *, settings: Settings) -> bytes:
    zone = settings.timezone
    calendar = Calendar()
    calendar.add("prodid", "-//notices//notices//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", xml_safe(f"{settings.site_name}: notices"))
    calendar.add("x-wr-timezone", zone.key)
    for notice in notices:
        event = Event()
        event.add("uid", f"{notice.uid}@notices")
        event.add("sequence", notice.version)
        event.add("dtstamp", notice.updated_at)
        event.add("last-modified", notice.updated_at)
        event.add("created", notice.created_at)
        event.add("summary", xml_safe(f"{settings.categories.get(notice.category, notice.category)}: {notice.title}"))
        event.add("dtstart", notice.starts_at.astimezone(zone))
        # An open-ended notice is a marker at its start (a zero-length event),
        # not a block across every day until some unknown end.
        if notice.ends_at is not None:
            event.add("dtend", notice.ends_at.astimezone(zone))
        event.add("description", _description(settings, notice))
        event.add("url", notice_url(settings, notice))
        if notice.locations or notice.location_detail:
            places = [settings.locations.get(key, key) for key in notice.locations]
            event.add("location", xml_safe(", ".join(places + ([notice.location_detail] if notice.location_detail else []))))
        event.add("categories", [settings.categories.get(notice.category, notice.category)])
        event.add("status", "CANCELLED" if notice.cancelled_at is not None else "CONFIRMED")
        # Closures should not block people's calendars as busy time.
        event.add("transp", "TRANSPARENT")
        event.add("x-microsoft-cdo-busystatus", "FREE")
        calendar.add_component(event)
    if notices:
        first = min(notice.starts_at for notice in notices).astimezone(zone).date() - timedelta(days=1)
        last = max((notice.ends_at or notice.starts_at) for notice in notices).astimezone(zone).date() + timedelta(days=366)
        calendar.add_missing_timezones(first_date=first, last_date=last)
    return calendar.to_ical()
