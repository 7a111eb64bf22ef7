"""The lifecycle of a series: exceptions as operations, and the instants its occurrences pass.

Cancelling or moving one occurrence, or skipping dates (when a series is made, or in the
console's skip list), is a change of the notice's `occurrence_changes` (a new NoticeFields): the
caller applies it like any other schedule change (notice.series_changes, or approval.update →
store.update_notice), so it bumps the version, keeps a revision, is audited and waits for
approval where approval applies. store.update_notice tells such a change apart
(occurrence_change) and records one event about that one occurrence.

Pure functions of fields and `now`: no database, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from notices.core.errors import Conflict, InvalidField, NotFound
from notices.core.states import EventKind
from notices.notice import recurrence
from notices.notice.recurrence import Occurrence, RuleError
from notices.notice.validation import NoticeFields, parse_note

# Dates to skip: more than a year of daily occurrences is not a list a person types.
MAX_SKIPPED = 400
# How far from its original date a moved occurrence is still found by that date.
SKIP_REACH = timedelta(days=32)
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


def skip(fields: NoticeFields, items: Iterable[Any], *, zone: ZoneInfo, field: str = "skip") -> NoticeFields:
    """The series with these occurrences cancelled: each item is an occurrence id or a local date
    (YYYY-MM-DD, the occurrence the rule puts on that day, moved or not).

    An occurrence already cancelled stays as it is, with its reason. Used when a series is made
    (nobody has heard of it yet) and by the console's skip list; InvalidField names `field`.
    """
    changes = _copied(fields.occurrence_changes)
    for occurrence in _listed(fields, items, zone=zone, field=field):
        if not occurrence.cancelled:
            changes[occurrence.id] = {"cancelled": True, "reason": ""}
    settled = _settled(fields, changes)
    if recurrence.first_start(settled) is None:
        raise InvalidField(field, "skips every occurrence: the series would never happen")
    return settled


def reinstate(fields: NoticeFields, items: Iterable[Any], *, zone: ZoneInfo, field: str = "skip") -> NoticeFields:
    """The series with these cancelled occurrences on again, where the rule puts them (items as
    for `skip`; an occurrence that is not cancelled is left as it is)."""
    changes = _copied(fields.occurrence_changes)
    for occurrence in _listed(fields, items, zone=zone, field=field):
        if occurrence.cancelled:
            changes.pop(occurrence.id, None)
    return _settled(fields, changes)


def edit_skipped(
    fields: NoticeFields, *, listed: Iterable[Any], shown: Iterable[Any], zone: ZoneInfo, field: str
) -> NoticeFields:
    """A skip list edited by hand (the console): the dates `listed` are cancelled, those that were
    `shown` when the form was opened and are no longer listed are reinstated.

    Only what the editor deliberately removed comes back: a cancellation made meanwhile (through
    the API or the CLI, with its reason) was never shown, so it stays, and a date still listed
    keeps the reason it was cancelled with. Cancellations the rule no longer has an occurrence
    for (the rule or the start changed) are dropped. `shown` is the form's own hidden copy:
    a date in it the series no longer has is passed over.
    """
    changes = _copied(fields.occurrence_changes)
    for key, change in list(changes.items()):
        if change.get("cancelled") and _occurrence_or_none(fields, key) is None:
            del changes[key]
    fields = _settled(fields, changes) if changes != fields.occurrence_changes else fields
    listed_ids = {occurrence.id for occurrence in _listed(fields, listed, zone=zone, field=field)}
    removed: list[str] = []
    for item in shown:
        try:
            removed.extend(o.id for o in _listed(fields, [item], zone=zone, field=field) if o.id not in listed_ids)
        except InvalidField:
            continue
    fields = reinstate(fields, removed, zone=zone, field=field)
    return skip(fields, sorted(listed_ids), zone=zone, field=field) if listed_ids else fields


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


def _listed(fields: NoticeFields, items: Iterable[Any], *, zone: ZoneInfo, field: str) -> list[Occurrence]:
    """The occurrences these ids or local dates name; InvalidField(field) for one the series lacks."""
    items = list(items)
    if len(items) > MAX_SKIPPED:
        raise InvalidField(field, f"at most {MAX_SKIPPED} dates")
    if items and not recurrence.is_recurring(fields):
        raise InvalidField(field, "only a series (recurrence) has occurrences to skip")
    found = []
    for item in items:
        text = str(item).strip() if isinstance(item, str | date) else None
        if not text:
            raise InvalidField(field, f"{item!r} is not a date (2026-12-08) or an occurrence id (20261208T060000Z)")
        found.append(_on_day(fields, text, zone, field) if "-" in text else _by_id(fields, text, field))
    return found


def _occurrence_or_none(fields: NoticeFields, key: str) -> Occurrence | None:
    try:
        return recurrence.find_occurrence(fields, key)
    except RuleError:
        return None


def _by_id(fields: NoticeFields, text: str, field: str) -> Occurrence:
    try:
        found = recurrence.find_occurrence(fields, text)
    except RuleError as error:
        raise InvalidField(field, str(error)) from None
    if found is None:
        raise InvalidField(field, f"the series has no occurrence {text!r}")
    return found


def _on_day(fields: NoticeFields, text: str, zone: ZoneInfo, field: str) -> Occurrence:
    """The occurrence the rule puts on this local day: found by its original date, so a moved
    one is still found by the date it was moved from (within SKIP_REACH)."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidField(field, f"{text[:40]!r} is not a date (2026-12-08) or an occurrence id") from None
    try:
        start = datetime.combine(day, datetime.min.time(), tzinfo=zone).astimezone(UTC)
        around = recurrence.occurrences(
            fields, after=start - SKIP_REACH, before=start + SKIP_REACH, include_cancelled=True
        )
        found = next((o for o in around if o.original_start.astimezone(zone).date() == day), None)
    except (OverflowError, ValueError):  # a date at the end of the calendar (year 1, 9999)
        found = None
    if found is None:
        raise InvalidField(field, f"the series has no occurrence on {day.isoformat()}")
    return found


def _unmoved_end(fields: NoticeFields, occurrence: Occurrence) -> datetime:
    unmoved = recurrence.find_occurrence(replace(fields, occurrence_changes={}), occurrence.id)
    assert unmoved is not None  # the same rule and start: the same occurrences
    return unmoved.ends_at


def _settled(fields: NoticeFields, changes: dict[str, dict[str, Any]]) -> NoticeFields:
    changed = replace(fields, occurrence_changes=changes)
    return replace(changed, ends_at=recurrence.series_end(changed))


def _copied(changes: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict[str, Any]]:
    return {key: dict(change) for key, change in (changes or {}).items()}
