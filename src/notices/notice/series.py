"""The lifecycle of a series: exceptions as operations, and the instants its occurrences pass.

Cancelling or moving one occurrence, or skipping dates when a series is made, is a change of
the notice's `occurrence_changes` (a new NoticeFields): the caller applies it like any other
schedule change (approval.update → store.update_notice), so it bumps the version, keeps a
revision, is audited and waits for approval where approval applies. store.update_notice tells
such a change apart (occurrence_change) and records one event about that one occurrence.

Pure functions of fields and `now`: no database, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from notices.core.errors import Conflict, InvalidField, NotFound
from notices.core.states import EventKind
from notices.notice import recurrence
from notices.notice.recurrence import Occurrence, RuleError
from notices.notice.validation import NoticeFields, parse_note

# Dates to skip at creation: more than a year of daily occurrences is not a list a person types.
MAX_SKIPPED = 400
# How far back last_boundary looks for a passed occurrence before giving up (a yearly rule
# with INTERVAL=366 is the sparsest there is).
_LOOK_BACK = timedelta(days=366 * 366)


class OccurrenceNotFound(NotFound):
    """The series has no occurrence with this id."""


class OccurrenceConflict(Conflict):
    """The occurrence cannot change that way now (it has ended, or is already cancelled)."""


def find(fields: NoticeFields, occurrence_id: str) -> Occurrence:
    """The occurrence of this series with this id; NotFound naming it otherwise."""
    if not recurrence.is_recurring(fields):
        raise OccurrenceConflict("the notice is not a series: it has no occurrences (cancel the notice itself)")
    try:
        found = recurrence.find_occurrence(fields, occurrence_id.strip())
    except RuleError as error:
        raise OccurrenceNotFound(f"occurrence: {error}") from None
    if found is None:
        raise OccurrenceNotFound(
            f"occurrence: the series has no occurrence {occurrence_id.strip()!r} "
            "(ids are each occurrence's original start in UTC, as `notice show` lists them)"
        )
    return found


def cancel_occurrence(fields: NoticeFields, occurrence_id: str, *, reason: str, now: datetime) -> NoticeFields:
    """The series with one occurrence cancelled (an EXDATE); the reason is told to readers."""
    reason = parse_note(reason, "reason")
    occurrence = find(fields, occurrence_id)
    if occurrence.cancelled:
        raise OccurrenceConflict(f"occurrence {occurrence.id} is already cancelled")
    if occurrence.ends_at <= now:
        raise OccurrenceConflict(f"occurrence {occurrence.id} has already ended; there is nothing to cancel")
    changes = _copied(fields.occurrence_changes)
    changes[occurrence.id] = {"cancelled": True, "reason": reason}
    return _settled(fields, changes)


def move_occurrence(
    fields: NoticeFields, occurrence_id: str, *, starts_at: datetime, ends_at: datetime | None, now: datetime
) -> NoticeFields:
    """The series with one occurrence at another time (a RECURRENCE-ID override).

    Without `ends_at` the occurrence keeps its length. The moved occurrence may not overlap
    another one, nor end in the past.
    """
    occurrence = find(fields, occurrence_id)
    if occurrence.cancelled:
        raise OccurrenceConflict(f"occurrence {occurrence.id} is cancelled; a cancelled occurrence cannot be moved")
    if occurrence.ends_at <= now:
        raise OccurrenceConflict(f"occurrence {occurrence.id} has already ended; it cannot be moved")
    ends_at = ends_at or starts_at + (occurrence.ends_at - occurrence.starts_at)
    if ends_at <= starts_at:
        raise InvalidField("ends_at", "must be after starts_at")
    if ends_at <= now:
        raise InvalidField("ends_at", "is in the past: an occurrence can only be moved to a time still to come")
    if (starts_at, ends_at) == (occurrence.starts_at, occurrence.ends_at):
        raise OccurrenceConflict(f"occurrence {occurrence.id} is already at that time")
    changes = _copied(fields.occurrence_changes)
    if (starts_at, ends_at) == (occurrence.original_start, _unmoved_end(fields, occurrence)):
        changes.pop(occurrence.id, None)  # moved back where the rule puts it
    else:
        changes[occurrence.id] = {"starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()}
    moved = _settled(fields, changes)
    try:
        recurrence.check_series(moved)
    except RuleError as error:
        raise InvalidField("starts_at", str(error)) from None
    return moved


def skip(fields: NoticeFields, items: Iterable[Any], *, zone: ZoneInfo) -> NoticeFields:
    """A new series with these occurrences cancelled from the start: each item is an occurrence
    id or a local date (YYYY-MM-DD, the occurrence that starts that day). Nobody has heard of the
    series yet, so nothing is told about them."""
    items = list(items)
    if len(items) > MAX_SKIPPED:
        raise InvalidField("skip", f"at most {MAX_SKIPPED} dates")
    if not recurrence.is_recurring(fields):
        raise InvalidField("skip", "only a series (recurrence) has occurrences to skip")
    changes = _copied(fields.occurrence_changes)
    for item in items:
        text = str(item).strip() if isinstance(item, str | date) else None
        if not text:
            raise InvalidField("skip", f"{item!r} is not a date (2026-12-08) or an occurrence id (20261208T060000Z)")
        occurrence = _on_day(fields, text, zone) if "-" in text else _by_id(fields, text)
        changes[occurrence.id] = {"cancelled": True, "reason": ""}
    settled = _settled(fields, changes)
    if recurrence.first_start(settled) is None:
        raise InvalidField("skip", "skips every occurrence: the series would never happen")
    return settled


def occurrence_change(before: NoticeFields, after: NoticeFields) -> tuple[str, EventKind] | None:
    """If the change from `before` to `after` is one occurrence cancelled or moved (and nothing
    else), that occurrence's id and the event that tells it; otherwise None."""
    if not recurrence.is_recurring(after):
        return None
    if replace(before, occurrence_changes={}, ends_at=None) != replace(after, occurrence_changes={}, ends_at=None):
        return None
    old, new = before.occurrence_changes or {}, after.occurrence_changes or {}
    keys = [key for key in old.keys() | new.keys() if old.get(key) != new.get(key)]
    if len(keys) != 1:
        return None
    key = keys[0]
    if new.get(key, {}).get("cancelled") and not old.get(key, {}).get("cancelled"):
        return key, EventKind.CANCELLED
    return key, EventKind.RESCHEDULED


def next_boundary(notice: recurrence.Recurring, now: datetime) -> datetime | None:
    """The first occurrence start or end after `now`."""
    upcoming = recurrence.next_occurrence(notice, now)
    if upcoming is None:
        return None
    return upcoming.starts_at if upcoming.starts_at > now else upcoming.ends_at


def last_boundary(notice: recurrence.Recurring, now: datetime) -> datetime | None:
    """The latest occurrence start or end at or before `now` (None before the first start)."""
    current = recurrence.next_occurrence(notice, now)
    if current is not None and current.starts_at <= now:
        return current.starts_at
    if notice.starts_at > now:
        return None
    # The previous occurrence: look back a week, then further, as sparse rules need.
    reach = timedelta(days=7)
    while True:
        since = max(now - reach, notice.starts_at - timedelta(seconds=1))
        passed = [o for o in recurrence.occurrences(notice, after=since, before=now) if o.ends_at <= now]
        if passed:
            return passed[-1].ends_at
        if since <= notice.starts_at or reach > _LOOK_BACK:
            return None
        reach *= 4


def _by_id(fields: NoticeFields, text: str) -> Occurrence:
    try:
        found = recurrence.find_occurrence(fields, text)
    except RuleError as error:
        raise InvalidField("skip", str(error)) from None
    if found is None:
        raise InvalidField("skip", f"the series has no occurrence {text!r}")
    return found


def _on_day(fields: NoticeFields, text: str, zone: ZoneInfo) -> Occurrence:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidField("skip", f"{text!r} is not a date (2026-12-08) or an occurrence id") from None
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    found = [
        occurrence
        for occurrence in recurrence.occurrences(
            fields, after=start, before=start + timedelta(days=1), include_cancelled=True
        )
        if occurrence.original_start.astimezone(zone).date() == day
    ]
    if not found:
        raise InvalidField("skip", f"the series has no occurrence on {day.isoformat()}")
    return found[0]


def _unmoved_end(fields: NoticeFields, occurrence: Occurrence) -> datetime:
    unmoved = recurrence.find_occurrence(replace(fields, occurrence_changes={}), occurrence.id)
    assert unmoved is not None  # the same rule and start: the same occurrences
    return unmoved.ends_at


def _settled(fields: NoticeFields, changes: dict[str, dict[str, Any]]) -> NoticeFields:
    changed = replace(fields, occurrence_changes=changes)
    return replace(changed, ends_at=recurrence.series_end(changed))


def _copied(changes: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict[str, Any]]:
    return {key: dict(change) for key, change in (changes or {}).items()}
