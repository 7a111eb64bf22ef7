"""Notices as an iCalendar file (icalendar package). No queries, no clock.

One VEVENT per notice with a stable UID and SEQUENCE = version, so calendar
apps update events in place; cancelled notices stay in the file with
STATUS:CANCELLED so subscribed calendars remove them.

An open-ended notice ("until further notice") is an all-day event from its
start to a rolling horizon a year past today, so a calendar shows it on every
day it is in effect (as far as anyone knows); the horizon moves at each
midnight in the site zone, and with it the calendar's bytes.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Hashable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from icalendar import Calendar, Timezone, vRecur, vText, vUnknown

from notices.core.config import Settings
from notices.core.models import Notice
from notices.feeds.entry_text import entry_html
from notices.feeds.fragments import Fragments, notice_key, view_of
from notices.feeds.ical_event import EventLines, escaped_text, events_ical
from notices.feeds.ical_lines import folded_ical
from notices.feeds.places import geo_point
from notices.feeds.stored_pieces import Codec
from notices.notice import recurrence, recurrence_wording
from notices.notice.languages import reader_language
from notices.notice.lifecycle import Timed
from notices.notice.markup import (
    RenderableNotice,
    render_each,
    safe_output_text,
)
from notices.notice.wording import Words

OPEN_ENDED_HORIZON = timedelta(days=365)
# Instants in this window are written in the site zone (with a VTIMEZONE for
# the years used); those outside (rows older than input bounds, or the first or
# last hours of the input window, which is of dates in the site zone) in UTC,
# which needs no VTIMEZONE and cannot overflow one.
ZONED_FROM = datetime(1970, 1, 1, tzinfo=UTC)
ZONED_UNTIL = datetime(2100, 1, 1, tzinfo=UTC)
ONE_DAY = timedelta(days=1)


def horizon_date(now: datetime, zone: ZoneInfo) -> date:
    """The (exclusive) last day open-ended notices are shown on, as of `now`."""
    return now.astimezone(zone).date() + OPEN_ENDED_HORIZON


def horizon_moved_at(now: datetime, zone: ZoneInfo) -> datetime:
    """When the horizon last moved: the latest midnight in the site zone at or before `now`."""
    return _midnight(now.astimezone(zone).date(), zone)


def horizon_moves_at(now: datetime, zone: ZoneInfo) -> datetime:
    """When the horizon moves next: the first midnight in the site zone after `now`."""
    return _midnight(now.astimezone(zone).date() + ONE_DAY, zone)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    # Where midnight falls in a DST gap, zoneinfo gives the instant of the
    # transition itself, which is when the new local day begins.
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def is_rolling(notice: Timed) -> bool:
    """True for a notice shown up to the rolling horizon: open-ended and not cancelled.

    An endless series is rolling too: its occurrences are written out as exceptions only up to
    the horizon (see _series), so its bytes move with the horizon."""
    return notice.ends_at is None and notice.cancelled_at is None


def runs_to_horizon(notice: Timed) -> bool:
    """True when the notice's events change as the horizon moves: an open-ended notice runs up to
    it, and a series with an endless rule has its exceptions written up to it (see _series), also
    once cancelled, while it stays in the calendar."""
    rule: str = getattr(notice, "recurrence", "")  # rows and views without it are single notices
    return is_rolling(notice) or (bool(rule) and not recurrence.is_bounded(rule))


def _summary(view: RenderableNotice, words: Words) -> str:
    summary = f"{view.category_label}: {view.title}"
    if is_rolling(view) and not recurrence.is_recurring(view):
        summary += f" ({words.until(view)})"
    return summary


def _description(view: RenderableNotice, words: Words) -> str:
    """Plain text (RFC 5545 DESCRIPTION); the same in HTML goes in X-ALT-DESC."""
    when = recurrence_wording.summary(view, words) if recurrence.is_recurring(view) else words.period(view)
    parts = [view.summary, f"{words.gettext('When')}: {when}"]
    if view.where:
        parts.append(f"{words.gettext('Where')}: {view.where}")
    if view.cancelled_at is not None:
        cancelled = words.gettext("Cancelled")
        parts.append(f"{cancelled}: {view.cancel_reason}" if view.cancel_reason else f"{cancelled}.")
    parts += [view.body_text, view.url]
    return "\n\n".join(part for part in parts if part)


def _ical_time(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone) if ZONED_FROM <= instant < ZONED_UNTIL else instant.astimezone(UTC)


def _span(view: RenderableNotice, zone: ZoneInfo, horizon: date) -> tuple[date, date] | tuple[datetime, datetime]:
    """DTSTART and DTEND (exclusive): times for a notice with an end, whole days for an open-ended one."""
    if view.ends_at is not None:
        # DTEND must not come before DTSTART (RFC 5545, 3.6.1); only a row older than input checks can ask for it.
        return _ical_time(view.starts_at, zone), _ical_time(max(view.ends_at, view.starts_at), zone)
    first = view.starts_at.astimezone(zone).date()
    if view.cancelled_at is None:
        return first, max(horizon, first + ONE_DAY)
    # Cancelled: calendars that ignore STATUS:CANCELLED still stop showing it
    # from the day of the cancellation on (at least its first day is needed).
    return first, max(first + ONE_DAY, view.cancelled_at.astimezone(zone).date())


def build_calendar(
    notices: Sequence[Notice],
    *,
    settings: Settings,
    now: datetime,
    skipped: list[tuple[str, str]] | None = None,
    language: str | None = None,
    fragments: Fragments | None = None,
) -> bytes:
    """The calendar as of `now` (which only sets the rolling horizon): the same bytes for the same data and day.
    The notice text in `language` (default: the site's), each text property with its LANGUAGE.

    With `fragments`, a notice's events rendered before (same version, language and, for an
    open-ended one, horizon) are reused; the bytes are the same either way.
    """
    zone = settings.timezone
    language = reader_language(language, settings)
    words = Words(language, settings)
    horizon = horizon_date(now, zone)
    calendar = Calendar()
    calendar.add("prodid", "-//notices//notices//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    # An X- property is written as it is given (icalendar's vUnknown): its text escaped here, so a
    # comma or semicolon in the site's name does not end the name in a calendar app.
    calendar.add("x-wr-calname", vUnknown(escaped_text(safe_output_text(f"{settings.site_name}: notices"))))
    calendar.add("x-wr-timezone", zone.key)

    def vevents(notice: Notice) -> _CalendarPiece:
        key = piece_key(notice, language, horizon)
        found: _CalendarPiece | None = fragments.get(key) if fragments is not None else None
        if found is None:
            view = view_of(fragments, notice, settings, language)
            events, instants = _vevents(notice, view, settings=settings, words=words, horizon=horizon)
            tzids = frozenset(tzid for event in events for tzid in event.tzids)
            found = _CalendarPiece(events_ical(events), tuple(instants), tzids)
            if fragments is not None:
                fragments.put(key, found, len(found.ical))
        return found

    pieces = list(render_each(notices, vevents, describe=lambda notice: f"notice {notice.uid}", skipped=skipped))
    zoned = [instant for piece in pieces for instant in piece.instants]
    if zoned:
        # A VTIMEZONE for each zone the events name (sorted: the same bytes in every process), covering
        # every date they use in the site zone (icalendar's add_missing_timezones, which takes them as
        # components, in the same place: before the events).
        first = min(zoned).date() - ONE_DAY
        last = max(zoned).date() + timedelta(days=366)
        for tzid in sorted(set().union(*(piece.tzids for piece in pieces))):
            with contextlib.suppress(ValueError):  # a zone icalendar does not know is left out, as it would
                calendar.add_component(Timezone.from_tzid(tzid, first_date=first, last_date=last))
    head = folded_ical(calendar)
    end = b"END:VCALENDAR\r\n"
    return b"".join([head[: -len(end)], *(piece.ical for piece in pieces), end])


def piece_key(notice: Notice, language: str, horizon: date) -> tuple[Hashable, ...]:
    """What a notice's events are kept under (feeds.fragments, feeds.stored_pieces): the notice at
    its version, the language and, for one whose events run up to it, the horizon."""
    return ("ics", *notice_key(notice), language, horizon if runs_to_horizon(notice) else None)


def piece_keys(notices: Sequence[Notice], *, settings: Settings, now: datetime, language: str | None) -> list[Hashable]:
    """The keys build_calendar keeps the notices' events under, as of `now`."""
    language, horizon = reader_language(language, settings), horizon_date(now, settings.timezone)
    return [piece_key(notice, language, horizon) for notice in notices]


class _CalendarPiece(NamedTuple):
    """A notice's VEVENTs as bytes, with what the calendar needs of them: the instants written in a
    zone (the span the VTIMEZONEs must cover) and the zones they name."""

    ical: bytes
    instants: tuple[datetime, ...]
    tzids: frozenset[str]

    def stored(self) -> tuple[bytes, str]:
        """As feeds.stored_pieces keeps it: the bytes, and the rest as JSON (each instant with its zone)."""
        instants = [[instant.isoformat(), getattr(instant.tzinfo, "key", "")] for instant in self.instants]
        return self.ical, json.dumps({"instants": instants, "tzids": sorted(self.tzids)})


def _stored_piece(content: bytes, meta: str) -> _CalendarPiece:
    """A notice's events as feeds.stored_pieces gave them back: each instant in the zone it was
    written in, whose date the VTIMEZONE's span is counted from."""
    data = json.loads(meta)
    instants = (
        datetime.fromisoformat(written).astimezone(ZoneInfo(zone)) if zone else datetime.fromisoformat(written)
        for written, zone in data["instants"]
    )
    return _CalendarPiece(content, tuple(instants), frozenset(data["tzids"]))


# How feeds.stored_pieces keeps a notice's events.
STORED_EVENTS = Codec(encode=_CalendarPiece.stored, decode=_stored_piece)


def _vevents(
    notice: Notice, view: RenderableNotice, *, settings: Settings, words: Words, horizon: date
) -> tuple[list[EventLines], list[datetime]]:
    """The notice's VEVENT (and a series' overrides), and the instants the calendar's VTIMEZONEs must
    cover: its start and end where written in the site zone, and each override's."""
    zone = settings.timezone

    def spoken(field: str) -> dict[str, str]:
        # RFC 5545 3.2.10: the language of the property's text, the default's where it fell back.
        return {"LANGUAGE": settings.language if field in view.fallback_fields else view.language}

    event = EventLines()
    event.add("uid", f"{view.uid}@notices")
    event.add("sequence", view.version)
    # With METHOD:PUBLISH, DTSTAMP is when this calendar object was made
    # (RFC 5545, 3.8.7.2). The time of rendering would change the bytes,
    # and so the ETag, on every request for unchanged data; the notice's
    # creation never changes, and SEQUENCE and LAST-MODIFIED carry its updates.
    event.add("dtstamp", view.created_at.astimezone(UTC))
    event.add("last-modified", view.updated_at.astimezone(UTC))
    event.add("created", view.created_at.astimezone(UTC))
    event.add("summary", _summary(view, words), parameters=spoken("title"))
    span = _series_span(view) if recurrence.is_recurring(view) else _span(view, zone, horizon)
    start, end = span
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("description", _description(view, words), parameters=spoken("body"))
    # An X- property is of unknown type to icalendar: say it is TEXT, so it is escaped as one.
    event.add(
        "x-alt-desc",
        vText(f"<html><body>{entry_html(settings, view)}</body></html>"),
        parameters={"FMTTYPE": "text/html"},
    )
    event.add("url", view.url)
    if view.where:
        event.add(
            "location",
            ", ".join([*view.places, view.location_detail] if view.location_detail else view.places),
            parameters=spoken("location_detail"),
        )
    if (point := geo_point(notice, settings)) is not None:
        event.add("geo", point)
    event.add("categories", [view.category_label])
    event.add("status", "CANCELLED" if view.cancelled_at is not None else "CONFIRMED")
    # Closures should not block people's calendars as busy time.
    event.add("transp", "TRANSPARENT")
    event.add("x-microsoft-cdo-busystatus", "FREE")
    instants = [instant for instant in (start, end) if isinstance(instant, datetime) and instant.tzinfo is zone]
    if not recurrence.is_recurring(view):
        return [event], instants
    exceptions, moved = _series(view, event, horizon)
    return [event, *exceptions], instants + moved


# Series -----------------------------------------------------------------------------------------


def _series_span(view: RenderableNotice) -> tuple[datetime, datetime]:
    """The first occurrence, as the rule has it (DTSTART, DTEND), in the rule's zone."""
    zone = ZoneInfo(view.recurrence_zone)
    wall = view.starts_at.astimezone(zone).replace(tzinfo=None)
    end = (wall + timedelta(minutes=view.occurrence_minutes or 0)).replace(tzinfo=zone, fold=0)
    return view.starts_at.astimezone(zone), end.astimezone(UTC).astimezone(zone)


def _series(view: RenderableNotice, event: EventLines, horizon: date) -> tuple[list[EventLines], list[datetime]]:
    """The rule and its exceptions on the series' VEVENT; the VEVENTs that override occurrences, and their times.

    RRULE as stored (UNTIL in UTC, RFC 5545 3.3.10 for a zoned DTSTART); EXDATE for each
    cancelled occurrence; a VEVENT with the same UID and a RECURRENCE-ID for each moved one.
    The service ends an occurrence at its wall-clock end (a 22:00-06:00 night stays 06:00 when the
    clocks change in between); a calendar applies DTEND - DTSTART as an exact duration (RFC 5545
    3.8.5.3), so an occurrence whose length differs from the first one's by a clock change gets an
    override with its real times too: up to the horizon for an endless rule, all of them otherwise.
    """
    zone = ZoneInfo(view.recurrence_zone)
    first_start, first_end = _series_span(view)
    length = first_end - first_start
    event.add("rrule", vRecur.from_ical(view.recurrence))
    cancelled: list[datetime] = []
    overrides: list[EventLines] = []
    override_times: list[datetime] = []
    until = None if recurrence.is_bounded(view.recurrence) else datetime.combine(horizon, time(), tzinfo=zone)
    for occurrence in recurrence.occurrences(view, include_cancelled=True, before=until):
        original = occurrence.original_start.astimezone(zone)
        if occurrence.cancelled:
            cancelled.append(original)
            continue
        if not occurrence.moved and occurrence.ends_at - occurrence.starts_at == length:
            continue
        override = EventLines()
        for name in ("uid", "sequence", "dtstamp", "last-modified", "created", "summary", "description"):
            override.add_from(name, event)
        start, end = (
            _ical_time(occurrence.starts_at, zone),
            _ical_time(max(occurrence.ends_at, occurrence.starts_at), zone),
        )
        override.add("recurrence-id", original)
        override.add("dtstart", start)
        override.add("dtend", end)
        override_times += [start, end]
        for name in (
            "x-alt-desc",
            "url",
            "location",
            "geo",
            "categories",
            "status",
            "transp",
            "x-microsoft-cdo-busystatus",
        ):
            override.add_from(name, event)
        overrides.append(override)
    if cancelled:
        event.add("exdate", cancelled)
    return overrides, override_times
