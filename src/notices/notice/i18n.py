"""The words and date formats of emails in English and Dutch (dates via Babel)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from notices.notice.html_text import html_to_text
from notices.notice.lifecycle import Status, status_at

TEXTS = {
    "en": {
        "until_further_notice": "until further notice",
        "expected": "expected {expected_end}",
        "from": "from {time}",
        "until": "until {time}",
        "ended": "ended {time}",
        "cancelled": "cancelled",
        "event_published": "New",
        "event_started": "Now in effect",
        "event_rescheduled": "Rescheduled",
        "event_cancelled": "Cancelled",
        "event_updated": "Updated",
        "severity": {"info": "info", "minor": "minor", "major": "major", "critical": "critical"},
        "frequency": {"immediate": "immediately", "daily": "daily", "weekly": "weekly"},
        "digest_title": {"daily": "Daily notices", "weekly": "Weekly notices"},
        "digest_parts": {
            "new": "{n} new",
            "changed": "{n} changed",
            "starting": "{n} starting soon",
            "ending": "{n} ending soon",
        },
        "nothing_new": "nothing new",
    },
    "nl": {
        "until_further_notice": "tot nader order",
        "expected": "verwacht {expected_end}",
        "from": "vanaf {time}",
        "until": "tot {time}",
        "ended": "beëindigd {time}",
        "cancelled": "geannuleerd",
        "event_published": "Nieuw",
        "event_started": "Nu van kracht",
        "event_rescheduled": "Gewijzigde planning",
        "event_cancelled": "Geannuleerd",
        "event_updated": "Bijgewerkt",
        "severity": {"info": "informatie", "minor": "beperkt", "major": "groot", "critical": "kritiek"},
        "frequency": {"immediate": "direct", "daily": "dagelijks", "weekly": "wekelijks"},
        "digest_title": {"daily": "Dagelijks overzicht", "weekly": "Weekoverzicht"},
        "digest_parts": {
            "new": "{n} nieuw",
            "changed": "{n} gewijzigd",
            "starting": "{n} begint binnenkort",
            "ending": "{n} eindigt binnenkort",
        },
        "nothing_new": "niets nieuws",
    },
}


@lru_cache(maxsize=16384)
def _format(instant: datetime, pattern: str, language: str, zone: ZoneInfo) -> str:
    # Digests repeat the same few hundred instants thousands of times; Babel's
    # formatting is the slowest part of rendering them.
    return format_datetime(instant.astimezone(zone), pattern, locale=language)


class Words:
    """Language-bound helpers handed to the email templates."""

    def __init__(self, language: str, zone: ZoneInfo, settings=None) -> None:
        self.language = language if language in TEXTS else "en"
        self.zone = zone
        self.texts = TEXTS[self.language]
        self.settings = settings

    def category(self, key: str) -> str:
        return self.settings.label("categories", key, self.language) if self.settings else key

    def categories(self, keys) -> str:
        return ", ".join(self.category(key) for key in keys)

    def locations(self, keys) -> str:
        return ", ".join(self.settings.label("locations", key, self.language) if self.settings else key for key in keys)

    def time(self, instant: datetime, pattern: str = "EEE d MMM y HH:mm") -> str:
        return _format(instant, pattern, self.language, self.zone)

    def short(self, instant: datetime) -> str:
        return self.time(instant, "EEE d MMM HH:mm")

    def until(self, notice) -> str:
        if notice.ends_at is not None:
            return self.texts["until"].format(time=self.short(notice.ends_at))
        text = self.texts["until_further_notice"]
        if notice.expected_end:
            text += ", " + self.texts["expected"].format(expected_end=notice.expected_end)
        return text

    def when(self, notice, now: datetime) -> str:
        status = status_at(notice, now)
        if status is Status.ACTIVE:
            return self.until(notice)
        if status is Status.ENDED:
            return self.texts["ended"].format(time=self.short(notice.ends_at))
        if status is Status.CANCELLED:
            return self.texts["cancelled"]
        return self.texts["from"].format(time=self.short(notice.starts_at))

    def period(self, notice) -> str:
        start = self.time(notice.starts_at)
        if notice.ends_at is not None:
            return f"{start} – {self.time(notice.ends_at)}"
        return f"{start} – {self.until(notice)}"

    @staticmethod
    def as_text(html: str) -> str:
        """A notice body's HTML for the text part: the same words, link targets written out."""
        return html_to_text(html)

    def event(self, kind: str) -> str:
        return self.texts.get(f"event_{kind}", kind)

    def events(self, events) -> str:
        return ", ".join(self.event(event.kind) for event in events)

    def severity(self, severity: str) -> str:
        return self.texts["severity"].get(severity, severity)

    def frequency(self, frequency: str) -> str:
        return self.texts["frequency"].get(frequency, frequency)

    def digest_title(self, frequency: str) -> str:
        return self.texts["digest_title"][frequency]

    def digest_summary(self, sections) -> str:
        """What the digest holds, for its subject: '2 new, 1 changed, 3 starting soon'."""
        parts = [
            self.texts["digest_parts"][name].format(n=len(getattr(sections, name)))
            for name in ("new", "changed", "starting", "ending")
            if getattr(sections, name)
        ]
        return ", ".join(parts) or self.texts["nothing_new"]
