"""How notices read to people, in English or Dutch: times, periods, "until further notice",
the names of events, statuses, severities and frequencies.

The one wording path for pages, feeds, calendars and emails. Dates come from
Babel in the reader's language; a wall time in the autumn fold (it happens
twice) carries its offset, "02:30 (+01:00)"; a short time shows the year only
when it is not the current one; instants from rows older than input bounds
are shown at the limits a time zone shift can hold (markup.renderable_instant).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sized
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from notices.core.config import Settings
from notices.notice.html_text import html_to_text
from notices.notice.lifecycle import Status, Timed, status_at
from notices.notice.markup import renderable_instant
from notices.notice.times import format_offset, is_ambiguous

FULL = "EEE d MMM y HH:mm"
SHORT = "EEE d MMM HH:mm"


@dataclass(frozen=True)
class Texts:
    """The phrases of one language; `{time}`, `{expected_end}` and `{n}` are filled in."""

    until_further_notice: str
    expected: str
    from_time: str
    until: str
    ended: str
    cancelled: str
    events: Mapping[str, str]  # by event kind
    status: Mapping[str, str]
    severity: Mapping[str, str]
    frequency: Mapping[str, str]
    digest_title: Mapping[str, str]
    digest_parts: Mapping[str, str]
    nothing_new: str
    on_the_map: str


TEXTS = {
    "en": Texts(
        until_further_notice="until further notice",
        expected="expected {expected_end}",
        from_time="from {time}",
        until="until {time}",
        ended="ended {time}",
        cancelled="cancelled",
        events={
            "published": "New",
            "started": "Now in effect",
            "rescheduled": "Rescheduled",
            "cancelled": "Cancelled",
            "updated": "Updated",
            "ended": "Ended",
            "reminder": "Reminder",
        },
        status={
            "draft": "Draft",
            "scheduled": "Scheduled",
            "upcoming": "Upcoming",
            "active": "Active",
            "ended": "Ended",
            "cancelled": "Cancelled",
        },
        severity={"info": "info", "minor": "minor", "major": "major", "critical": "critical"},
        frequency={"immediate": "immediately", "daily": "daily", "weekly": "weekly"},
        digest_title={"daily": "Daily notices", "weekly": "Weekly notices"},
        digest_parts={
            "new": "{n} new",
            "changed": "{n} changed",
            "starting": "{n} starting soon",
            "ending": "{n} ending soon",
        },
        nothing_new="nothing new",
        on_the_map="On the map",
    ),
    "nl": Texts(
        until_further_notice="tot nader order",
        expected="verwacht {expected_end}",
        from_time="vanaf {time}",
        until="tot {time}",
        ended="beëindigd {time}",
        cancelled="geannuleerd",
        events={
            "published": "Nieuw",
            "started": "Nu van kracht",
            "rescheduled": "Gewijzigde planning",
            "cancelled": "Geannuleerd",
            "updated": "Bijgewerkt",
            "ended": "Beëindigd",
            "reminder": "Herinnering",
        },
        status={
            "draft": "Concept",
            "scheduled": "Gepland",
            "upcoming": "Aangekondigd",
            "active": "Van kracht",
            "ended": "Beëindigd",
            "cancelled": "Geannuleerd",
        },
        severity={"info": "informatie", "minor": "beperkt", "major": "groot", "critical": "kritiek"},
        frequency={"immediate": "direct", "daily": "dagelijks", "weekly": "wekelijks"},
        digest_title={"daily": "Dagelijks overzicht", "weekly": "Weekoverzicht"},
        digest_parts={
            "new": "{n} nieuw",
            "changed": "{n} gewijzigd",
            "starting": "{n} begint binnenkort",
            "ending": "{n} eindigt binnenkort",
        },
        nothing_new="niets nieuws",
        on_the_map="Op de kaart",
    ),
}


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


@lru_cache(maxsize=16384)
def _format(instant: datetime, pattern: str, language: str, zone: ZoneInfo) -> str:
    # Digests repeat the same few hundred instants thousands of times; Babel's
    # formatting is the slowest part of rendering them.
    local = renderable_instant(instant).astimezone(zone)
    text = format_datetime(local, pattern, locale=language)
    if "H" in pattern and is_ambiguous(local):
        text += f" ({format_offset(local.utcoffset())})"
    return text


class Words:
    """The words of one language, bound to the site (its zone and its labels); handed to templates as `words`."""

    def __init__(self, language: str, settings: Settings) -> None:
        self.language = language if language in TEXTS else "en"
        self.settings = settings
        self.zone = settings.timezone
        self.texts = TEXTS[self.language]

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
        return self.texts.status[status]

    def event(self, kind: str) -> str:
        return self.texts.events.get(kind, kind)

    def events(self, events: Iterable[HasKind]) -> str:
        return ", ".join(self.event(event.kind) for event in events)

    def severity(self, severity: str) -> str:
        return self.texts.severity.get(severity, severity)

    def on_the_map(self) -> str:
        return self.texts.on_the_map

    def frequency(self, frequency: str) -> str:
        return self.texts.frequency.get(frequency, frequency)

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
            return self.texts.until.format(time=self.short(notice.ends_at, now))
        text = self.texts.until_further_notice
        if notice.expected_end:
            text += ", " + self.texts.expected.format(expected_end=notice.expected_end)
        return text

    def when(self, notice: TimedNotice, now: datetime) -> str:
        """The part of a title that says when, as of `now`: 'from ...', 'until ...', 'ended ...'."""
        status = status_at(notice, now)
        if status is Status.ACTIVE:
            return self.until(notice, now)
        # Ended means an ends_at at or before now (status_at).
        if status is Status.ENDED and notice.ends_at is not None:
            return self.texts.ended.format(time=self.short(notice.ends_at, now))
        if status is Status.CANCELLED:
            return self.texts.cancelled
        return self.texts.from_time.format(time=self.short(notice.starts_at, now))

    def period(self, notice: TimedNotice) -> str:
        """The whole period: 'Fri 14 Nov 2026 16:00 – until further notice (expected approximately Q3 2027)'."""
        start = self.time(notice.starts_at)
        if notice.ends_at is not None:
            return f"{start} – {self.time(notice.ends_at)}"
        text = f"{start} – {self.texts.until_further_notice}"
        if notice.expected_end:
            text += f" ({self.texts.expected.format(expected_end=notice.expected_end)})"
        return text

    # Email ----------------------------------------------------------------------------------

    @staticmethod
    def as_text(html: str) -> str:
        """A notice body's HTML for the text part: the same words, link targets written out."""
        return html_to_text(html)

    def digest_title(self, frequency: str) -> str:
        return self.texts.digest_title[frequency]

    def digest_summary(self, sections: DigestContents) -> str:
        """What the digest holds, for its subject: '2 new, 1 changed, 3 starting soon'."""
        counted = {
            "new": sections.new,
            "changed": sections.changed,
            "starting": sections.starting,
            "ending": sections.ending,
        }
        parts = [self.texts.digest_parts[name].format(n=len(items)) for name, items in counted.items() if items]
        return ", ".join(parts) or self.texts.nothing_new
