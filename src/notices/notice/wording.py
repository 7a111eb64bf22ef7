"""How notices read to people, in the reader's language (gettext, core.i18n): times, periods, "until further notice",
the names of events, statuses, severities and frequencies.

The one wording path for pages, feeds, calendars and emails. Dates come from
Babel in the reader's language; a wall time in the autumn fold (it happens
twice) carries its offset, "02:30 (+01:00)"; a short time shows the year only
when it is not the current one; instants from rows older than input bounds
are shown at the limits a time zone shift can hold (markup.renderable_instant).
"""

from __future__ import annotations

from collections.abc import Iterable, Sized
from datetime import date, datetime
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime

from notices.core.config import LANGUAGES, Settings
from notices.core.i18n import N_, translations
from notices.notice.html_text import html_to_text
from notices.notice.lifecycle import Status, Timed, status_at
from notices.notice.markup import renderable_instant
from notices.notice.times import format_offset, is_ambiguous

FULL = "EEE d MMM y HH:mm"
SHORT = "EEE d MMM HH:mm"
LISTING = "yyyy-MM-dd HH:mm"  # `notice list`: sortable, one line per notice


# The English texts are the message ids (core.i18n); N_ marks them for extraction here, and
# Words translates them when they are shown.
EVENTS = {
    "published": N_("New"),
    "started": N_("Now in effect"),
    "rescheduled": N_("Rescheduled"),
    "cancelled": N_("Cancelled"),
    "updated": N_("Updated"),
    "ended": N_("Ended"),
    "reminder": N_("Reminder"),
}
STATUSES = {
    "draft": N_("Draft"),
    "scheduled": N_("Scheduled"),
    "upcoming": N_("Upcoming"),
    "active": N_("Active"),
    "ended": N_("Ended"),
    "cancelled": N_("Cancelled"),
}
SEVERITIES = {"info": N_("info"), "minor": N_("minor"), "major": N_("major"), "critical": N_("critical")}
FREQUENCIES = {"immediate": N_("immediately"), "daily": N_("daily"), "weekly": N_("weekly")}
DIGEST_TITLES = {"daily": N_("Daily notices"), "weekly": N_("Weekly notices")}


class Spanned(Protocol):
    """Anything with a start and an end: an occurrence of a series."""

    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...


class TimedNotice(Timed, Protocol):
    """What the wording of a notice's time reads: its times and its expected end."""

    @property
    def expected_end(self) -> str: ...


class HasKind(Protocol):
    @property
    def kind(self) -> str: ...


class DigestContents(Protocol):
    """The sections of a digest (mail.digests.DigestSections), as far as its summary counts them."""

    @property
    def new(self) -> Sized: ...
    @property
    def changed(self) -> Sized: ...
    @property
    def starting(self) -> Sized: ...
    @property
    def ending(self) -> Sized: ...


# The patterns of a date and then the time of day, whose date part is formatted once per day
# (`_format`): a date part of any other pattern may hold what is not a date field ("h a", a
# zone) or be one of Babel's named formats ("short").
_CLOCK = " HH:mm"
_DAY_AND_CLOCK = frozenset({FULL, SHORT, LISTING})


@lru_cache(maxsize=16384)
def _format(instant: datetime, pattern: str, language: str, zone: ZoneInfo) -> str:
    # Digests repeat the same few hundred instants thousands of times; Babel's
    # formatting is the slowest part of rendering them.
    local = renderable_instant(instant).astimezone(zone)
    if pattern in _DAY_AND_CLOCK:
        # Babel formats a pattern field by field, so the date's fields and then the time's give
        # the same text; a calendar of notices, each with times of its own, has far fewer days
        # than instants (Babel took some 9 us an instant). HH:mm is two-digit hours and minutes.
        day = _format_day(local.date(), pattern[: -len(_CLOCK)], language)
        text = f"{day} {local.hour:02}:{local.minute:02}"
    else:
        text = format_datetime(local, pattern, locale=language)
    if "H" in pattern and is_ambiguous(local):
        text += f" ({format_offset(local.utcoffset())})"
    return text


@lru_cache(maxsize=4096)
def _format_day(day: date, pattern: str, language: str) -> str:
    return format_date(day, pattern, locale=language)


class Words:
    """The words of one language, bound to the site (its zone and its labels); handed to templates as `words`."""

    def __init__(self, language: str, settings: Settings) -> None:
        self.language = language if language in LANGUAGES else "en"
        self.settings = settings
        self.zone = settings.timezone
        catalogue = translations(self.language)
        self.gettext = catalogue.gettext
        self.ngettext = catalogue.ngettext

    @classmethod
    def of_site(cls, settings: Settings) -> Words:
        """In the site's own language (feeds, calendars, pages)."""
        return cls(settings.language, settings)

    # Labels ---------------------------------------------------------------------------------

    def category(self, key: str) -> str:
        return self.settings.label("categories", key, self.language)

    def categories(self, keys: Iterable[str]) -> str:
        return ", ".join(self.category(key) for key in keys)

    def location(self, key: str) -> str:
        return self.settings.label("locations", key, self.language)

    def locations(self, keys: Iterable[str]) -> str:
        return ", ".join(self.location(key) for key in keys)

    def status(self, status: str) -> str:
        return self.gettext(STATUSES[status])

    def event(self, kind: str) -> str:
        return self.gettext(EVENTS[kind]) if kind in EVENTS else kind

    def events(self, events: Iterable[HasKind]) -> str:
        return ", ".join(self.event(event.kind) for event in events)

    def severity(self, severity: str) -> str:
        return self.gettext(SEVERITIES[severity]) if severity in SEVERITIES else severity

    def on_the_map(self) -> str:
        return self.gettext("On the map")

    def frequency(self, frequency: str) -> str:
        return self.gettext(FREQUENCIES[frequency]) if frequency in FREQUENCIES else frequency

    # Times ----------------------------------------------------------------------------------

    def time(self, instant: datetime, pattern: str = FULL) -> str:
        """E.g. 'Fri 14 Nov 2026 16:00' (a Babel pattern; the site zone)."""
        return _format(instant, pattern, self.language, self.zone)

    def short(self, instant: datetime, now: datetime | None = None) -> str:
        """E.g. 'Fri 14 Nov 16:00'; with the year when it is not the year of `now`."""
        if now is not None and self._year(instant) != self._year(now):
            return self.time(instant)
        return self.time(instant, SHORT)

    def _year(self, instant: datetime) -> int:
        return renderable_instant(instant).astimezone(self.zone).year

    def until(self, notice: TimedNotice, now: datetime | None = None) -> str:
        """'until Fri 12 Dec 17:00', or 'until further notice, expected approximately Q3 2027'."""
        if notice.ends_at is not None:
            return self.gettext("until %(time)s") % {"time": self.short(notice.ends_at, now)}
        text = self.gettext("until further notice")
        if notice.expected_end:
            text += ", " + self._expected(notice.expected_end)
        return text

    def _expected(self, expected_end: str) -> str:
        return self.gettext("expected %(expected_end)s") % {"expected_end": expected_end}

    def when(self, notice: TimedNotice, now: datetime) -> str:
        """The part of a title that says when, as of `now`: 'from ...', 'until ...', 'ended ...'."""
        status = status_at(notice, now)
        if status is Status.ACTIVE:
            return self.until(notice, now)
        # Ended means an ends_at at or before now (status_at).
        if status is Status.ENDED and notice.ends_at is not None:
            return self.gettext("ended %(time)s") % {"time": self.short(notice.ends_at, now)}
        if status is Status.CANCELLED:
            return self.gettext("cancelled")
        return self.gettext("from %(time)s") % {"time": self.short(notice.starts_at, now)}

    def period(self, notice: TimedNotice) -> str:
        """The whole period: 'Fri 14 Nov 2026 16:00 – until further notice (expected approximately Q3 2027)'."""
        start = self.time(notice.starts_at)
        if notice.ends_at is not None:
            return f"{start} – {self.time(notice.ends_at)}"
        text = f"{start} – {self.gettext('until further notice')}"
        if notice.expected_end:
            text += f" ({self._expected(notice.expected_end)})"
        return text

    def occurrence(self, occurrence: Spanned) -> str:
        """One occurrence of a series, as `period` writes a notice's but with the date once when it
        ends the day it starts: 'Tue 8 Dec 2026 07:00–09:00'; 'Tue 8 Dec 2026 22:00 – Wed 9 Dec 2026 06:00'."""
        start = self.time(occurrence.starts_at)
        if self._day(occurrence.ends_at) == self._day(occurrence.starts_at):
            return f"{start}–{self.time(occurrence.ends_at, 'HH:mm')}"
        return f"{start} – {self.time(occurrence.ends_at)}"

    def _day(self, instant: datetime) -> date:
        return renderable_instant(instant).astimezone(self.zone).date()

    # Email ----------------------------------------------------------------------------------

    @staticmethod
    def as_text(html: str) -> str:
        """A notice body's HTML for the text part: the same words, link targets written out."""
        return html_to_text(html)

    def digest_title(self, frequency: str) -> str:
        return self.gettext(DIGEST_TITLES[frequency])

    def digest_summary(self, sections: DigestContents) -> str:
        """What the digest holds, for its subject: '2 new, 1 changed, 3 starting soon'."""
        counted = [
            (len(sections.new), self.ngettext("%(num)d new", "%(num)d new", len(sections.new))),
            (len(sections.changed), self.ngettext("%(num)d changed", "%(num)d changed", len(sections.changed))),
            (
                len(sections.starting),
                self.ngettext("%(num)d starting soon", "%(num)d starting soon", len(sections.starting)),
            ),
            (len(sections.ending), self.ngettext("%(num)d ending soon", "%(num)d ending soon", len(sections.ending))),
        ]
        parts = [text % {"num": count} for count, text in counted if count]
        return ", ".join(parts) or self.gettext("nothing new")
