"""Notices as plain data (CLI --json, the JSON API): times in the site zone, status derived."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from notices.core.config import Settings
from notices.core.models import Notice
from notices.notice import recurrence
from notices.notice.languages import TEXT_FIELDS, text_in, texts_by_language
from notices.notice.lifecycle import status_at
from notices.notice.times import isoformat_site


def _time(instant: datetime | None, zone: ZoneInfo) -> str | None:
    return isoformat_site(instant, zone) if instant is not None else None


def notice_data(
    notice: Notice,
    *,
    zone: ZoneInfo,
    now: datetime,
    settings: Settings | None = None,
    language: str | None = None,
    with_history: bool = False,
) -> dict[str, Any]:
    """The notice as plain data. With `settings`: the text fields in `language` (default: the
    site's; a missing translation gives the default language's text, no marker: `languages`
    says what exists) and `languages`, every configured language's own text."""
    data: dict[str, object] = {
        "uid": notice.uid,
        "status": str(status_at(notice, now)),
        "title": notice.title,
        "summary": notice.summary,
        "body": notice.body,
        "category": notice.category,
        "severity": notice.severity,
        "locations": list(notice.locations),
        "location_detail": notice.location_detail,
        "geometry": notice.geometry,
        "publish_at": _time(notice.publish_at, zone),
        "starts_at": _time(notice.starts_at, zone),
        "ends_at": _time(notice.ends_at, zone),
        "expected_end": notice.expected_end,
        "version": notice.version,
        "cancelled_at": _time(notice.cancelled_at, zone),
        "cancel_reason": notice.cancel_reason,
        "created_at": _time(notice.created_at, zone),
        "created_by": notice.created_by,
        "updated_at": _time(notice.updated_at, zone),
        "updated_by": notice.updated_by,
    }
    data.update(series_data(notice, zone=zone, now=now))
    if settings is not None:
        chosen = language if language in settings.languages else settings.language
        for field in TEXT_FIELDS:
            data[field] = text_in(notice, field, chosen, settings)[0]
        data["language"] = chosen
        data["languages"] = texts_by_language(notice, settings)
    if with_history:
        data["events"] = [
            {
                "kind": event.kind,
                "version": event.version,
                "occurred_at": _time(event.occurred_at, zone),
                "recorded_at": event.recorded_at.astimezone(zone).isoformat(timespec="milliseconds"),
                "detail": event.detail,
                "occurrence": event.occurrence,
            }
            for event in notice.events
        ]
        data["revisions"] = [
            {
                "version": revision.version,
                "changed_at": _time(revision.changed_at, zone),
                "changed_by": revision.changed_by,
                "change_note": revision.change_note,
                **({"languages": texts_by_language(_Snapshot(revision.snapshot), settings)} if settings else {}),
            }
            for revision in notice.revisions
        ]
    return data


# How many coming occurrences a notice's data lists (the feeds and calendars have them all).
UPCOMING_SHOWN = 10


def series_data(notice: recurrence.Recurring, *, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    """A series' rule, occurrence length, next occurrences and exceptions (null/empty for a single notice)."""
    if not recurrence.is_recurring(notice):
        return {
            "recurrence": None,
            "occurrence_minutes": None,
            "next_occurrence": None,
            "upcoming_occurrences": [],
            "exceptions": [],
        }
    upcoming: list[dict[str, Any]] = []
    for occurrence in recurrence.occurrences(notice, after=now):
        if len(upcoming) == UPCOMING_SHOWN:
            break
        upcoming.append(_occurrence_data(occurrence, zone))
    exceptions = [
        _occurrence_data(occurrence, zone)
        for occurrence in (recurrence.find_occurrence(notice, key) for key in sorted(notice.occurrence_changes or {}))
        if occurrence is not None
    ]
    return {
        "recurrence": notice.recurrence,
        "occurrence_minutes": notice.occurrence_minutes,
        "next_occurrence": upcoming[0] if upcoming else None,
        "upcoming_occurrences": upcoming,
        "exceptions": exceptions,
    }


def _occurrence_data(occurrence: recurrence.Occurrence, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "id": occurrence.id,
        "starts_at": _time(occurrence.starts_at, zone),
        "ends_at": _time(occurrence.ends_at, zone),
        "original_start": _time(occurrence.original_start, zone),
        "cancelled": occurrence.cancelled,
        "reason": occurrence.cancel_reason,
        "moved": occurrence.moved,
    }


class _Snapshot:
    """A revision's snapshot read like a notice (texts_by_language reads attributes)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.__dict__.update({field: data.get(field) or "" for field in TEXT_FIELDS})
        self.translations = data.get("translations") or {}
