"""Recurring notices: an RFC 5545 rule expanded into occurrences, in site wall time.

A series is one notice. Its `starts_at` is the first occurrence's start (the rule's DTSTART);
`recurrence` holds the RRULE value ("FREQ=WEEKLY;BYDAY=TU;COUNT=10"); `occurrence_minutes` is
how long each occurrence lasts; `recurrence_zone` is the zone whose wall clock the rule follows,
so a weekly 07:00 stays 07:00 across daylight saving changes; `occurrence_changes` holds the
exceptions, keyed by occurrence id: a cancelled occurrence (EXDATE) or a moved one
(RECURRENCE-ID override). `ends_at` is kept equal to the last occurrence's end (None for a rule
without COUNT or UNTIL), so every query that finds live notices by `ends_at` finds series too.

dateutil's rrule does the expansion (RFC 5545 semantics, maintained); this module only turns wall
times into instants and applies the exceptions. Pure functions: no database, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

# Rules whose occurrences a person would announce. Sub-daily rules (HOURLY and below) would
# announce dozens of events a day; BYHOUR/BYMINUTE/BYSECOND would put several occurrences in a
# day whose times the rule, not the start, decides. The time of day comes from the start.
FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_ALLOWED_PARTS = frozenset({"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "WKST"})
# Bounds that keep every expansion cheap and every series something a person can read.
MAX_COUNT = 1000
MAX_INTERVAL = 366
MAX_OCCURRENCE_MINUTES = 31 * 24 * 60
# The occurrence id: the occurrence's original start in UTC, as an iCalendar RECURRENCE-ID
# reads in UTC. Stable for as long as the rule and the series start stay the same.
OCCURRENCE_ID_FORMAT = "%Y%m%dT%H%M%SZ"
_OCCURRENCE_ID = re.compile(r"^\d{8}T\d{6}Z$")


class RuleError(ValueError):
    """The rule text is not a usable recurrence; the message says why, for a user."""


class Recurring(Protocol):
    """What expansion reads: a notice, a revision as it was, a preview."""

    @property
    def starts_at(self) -> datetime: ...
    @property
    def recurrence(self) -> str: ...
    @property
    def occurrence_minutes(self) -> int | None: ...
    @property
    def recurrence_zone(self) -> str: ...
    @property
    def occurrence_changes(self) -> Mapping[str, Mapping[str, Any]]: ...


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of a series, as it happens (with a move applied)."""

    id: str  # the original start in UTC, OCCURRENCE_ID_FORMAT
    original_start: datetime  # aware UTC: where the rule put it (the RECURRENCE-ID)
    starts_at: datetime  # aware UTC
    ends_at: datetime  # aware UTC
    cancelled: bool = False
    cancel_reason: str = ""
    moved: bool = False


def is_recurring(notice: object) -> bool:
    """True for a series; rows and views without the recurrence fields are single notices."""
    return bool(getattr(notice, "recurrence", ""))


def occurrence_id(original_start: datetime) -> str:
    return original_start.astimezone(UTC).strftime(OCCURRENCE_ID_FORMAT)


def parse_occurrence_id(text: str) -> datetime:
    """An occurrence id back to its original start; RuleError if it is not one."""
    if not _OCCURRENCE_ID.match(text or ""):
        raise RuleError(f"{text!r} is not an occurrence id (like 20261201T060000Z)")
    try:
        return datetime.strptime(text, OCCURRENCE_ID_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise RuleError(f"{text!r} is not an occurrence id (like 20261201T060000Z)") from None


def parse_rule(text: str, *, starts_at: datetime, zone: ZoneInfo) -> str:
    """Check an RRULE value and return it normalised: upper case, UNTIL in UTC, no DTSTART.

    Accepts the value with or without a leading "RRULE:". UNTIL may be a date (the whole of
    that day in `zone` is included), a wall time in `zone`, or UTC with "Z"; it is stored in
    UTC, as RFC 5545 asks when the start has a time zone.
    """
    text = (text or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[len("RRULE:") :]
    if not text:
        raise RuleError("is empty")
    if any(character in text for character in "\r\n"):
        raise RuleError("must be one RRULE line (DTSTART and EXDATE are given separately)")
    parts: dict[str, str] = {}
    for item in text.split(";"):
        name, equals, value = item.partition("=")
        name, value = name.strip().upper(), value.strip().upper()
        if not equals or not name or not value:
            raise RuleError(f"{item!r} is not NAME=VALUE")
        if name not in _ALLOWED_PARTS:
            raise RuleError(f"{name} is not supported; use {', '.join(sorted(_ALLOWED_PARTS))}")
        if name in parts:
            raise RuleError(f"{name} is given twice")
        parts[name] = value
    frequency = parts.get("FREQ")
    if frequency not in FREQUENCIES:
        raise RuleError(f"FREQ must be one of {', '.join(FREQUENCIES)}")
    if "COUNT" in parts and "UNTIL" in parts:
        raise RuleError("give COUNT or UNTIL, not both")
    if "COUNT" in parts:
        _bounded_int(parts["COUNT"], "COUNT", 1, MAX_COUNT)
    if "INTERVAL" in parts:
        _bounded_int(parts["INTERVAL"], "INTERVAL", 1, MAX_INTERVAL)
    if "UNTIL" in parts:
        until = _until_instant(parts["UNTIL"], zone)
        if until < starts_at:
            raise RuleError("UNTIL is before the start")
        parts["UNTIL"] = until.strftime(OCCURRENCE_ID_FORMAT)
    normalised = ";".join(f"{name}={value}" for name, value in parts.items())
    try:
        expander = _expander(normalised, starts_at, zone)
        first = expander[0] if "COUNT" in parts or "UNTIL" in parts else next(iter(expander), None)
    except (ValueError, TypeError, IndexError) as error:
        if isinstance(error, IndexError):
            raise RuleError("gives no occurrence at all") from None
        raise RuleError(f"is not a valid RRULE: {error}") from None
    if first is None:
        raise RuleError("gives no occurrence at all")
    return normalised


def check_series(notice: Recurring) -> None:
    """The series as a whole: a duration, and occurrences that do not overlap one another.

    Overlapping occurrences would make "active" ambiguous (which one ends when?). Checked over
    the first MAX_COUNT occurrences, which is every occurrence of a bounded rule.
    """
    minutes = notice.occurrence_minutes
    if minutes is None or not 1 <= minutes <= MAX_OCCURRENCE_MINUTES:
        raise RuleError(f"each occurrence needs a duration of 1 to {MAX_OCCURRENCE_MINUTES} minutes")
    previous_end: datetime | None = None
    bounded = is_bounded(notice.recurrence)
    for count, occurrence in enumerate(occurrences(notice, include_cancelled=True)):
        if count >= MAX_COUNT:
            if bounded:
                # An UNTIL far ahead (year 9999) would make every expansion of the series long.
                raise RuleError(f"gives more than {MAX_COUNT} occurrences; end it sooner (COUNT or UNTIL)")
            break
        if count == 0 and occurrence.original_start != notice.starts_at:
            # RFC 5545 would count such a start as an extra occurrence, dateutil would not:
            # refusing it keeps the service and every calendar on the same occurrences.
            raise RuleError("the start is not an occurrence of the rule; start on the first day the rule gives")
        if previous_end is not None and occurrence.starts_at < previous_end:
            raise RuleError(
                "occurrences overlap: each one must end before the next starts "
                f"({occurrence.starts_at.isoformat()} starts before the previous one ends)"
            )
        previous_end = occurrence.ends_at


def occurrences(
    notice: Recurring,
    *,
    after: datetime | None = None,
    before: datetime | None = None,
    include_cancelled: bool = False,
) -> Iterator[Occurrence]:
    """The occurrences that end after `after` and start before `before`, in start order.

    Moved occurrences count where they now are. Lazy: an open-ended rule is fine as long as
    the caller stops (give `before`, or stop iterating).
    """
    zone = ZoneInfo(notice.recurrence_zone)
    changes = notice.occurrence_changes or {}
    duration = timedelta(minutes=notice.occurrence_minutes or 0)
    # A moved occurrence may now start earlier or later than the rule put it: look that much
    # further either way, so none is skipped or yielded out of order.
    reach = max((_move_of(key, change) for key, change in changes.items()), default=timedelta())
    expander = _expander(notice.recurrence, notice.starts_at, zone)
    walls = iter(expander) if after is None else expander.xafter(_wall(after - duration - reach, zone), inc=True)
    pending: list[Occurrence] = []
    for wall in walls:
        original = _instant(wall, zone)
        # Later originals start (moved or not) no earlier than original - reach: whatever is
        # pending before that is in its final order.
        while pending and pending[0].starts_at <= original - reach:
            yield pending.pop(0)
        if before is not None and original >= before + reach:
            break
        occurrence = _occurrence(original, wall, duration, zone, changes)
        if occurrence.cancelled and not include_cancelled:
            continue
        if after is not None and occurrence.ends_at <= after:
            continue
        if before is not None and occurrence.starts_at >= before:
            continue
        pending.append(occurrence)
        pending.sort(key=lambda item: item.starts_at)
    yield from pending


def occurrence_at(notice: Recurring, now: datetime) -> Occurrence | None:
    """The occurrence under way at `now` (half-open: at its end it is over), or None."""
    return next(occurrences(notice, after=now, before=now + timedelta(microseconds=1)), None)


def next_occurrence(notice: Recurring, now: datetime) -> Occurrence | None:
    """The occurrence under way at `now`, else the next one to start; None after the last."""
    return next(occurrences(notice, after=now), None)


def find_occurrence(notice: Recurring, wanted_id: str) -> Occurrence | None:
    """The occurrence with this id (cancelled ones too), or None if the rule has no such one."""
    original = parse_occurrence_id(wanted_id)
    zone = ZoneInfo(notice.recurrence_zone)
    expander = _expander(notice.recurrence, notice.starts_at, zone)
    wall = _wall(original, zone)
    hits = expander.between(wall, wall, inc=True)
    if not hits or _instant(hits[0], zone) != original:
        return None
    duration = timedelta(minutes=notice.occurrence_minutes or 0)
    return _occurrence(original, hits[0], duration, zone, notice.occurrence_changes or {})


def series_end(notice: Recurring) -> datetime | None:
    """When the last occurrence (cancelled ones left out) ends; None for an endless rule.

    This is what `ends_at` holds for a series. A series whose every occurrence is cancelled
    ends where its rule would have ended.
    """
    if not is_bounded(notice.recurrence):
        return None
    latest: datetime | None = None
    last_any: datetime | None = None
    for occurrence in occurrences(notice, include_cancelled=True):
        last_any = max(last_any or occurrence.ends_at, occurrence.ends_at)
        if not occurrence.cancelled:
            latest = max(latest or occurrence.ends_at, occurrence.ends_at)
    return latest or last_any


def is_bounded(rule: str) -> bool:
    """Whether a (normalised) rule ends by itself: it has a COUNT or an UNTIL."""
    return any(item.split("=", 1)[0] in ("COUNT", "UNTIL") for item in rule.split(";"))


def first_start(notice: Recurring) -> datetime | None:
    """When the first occurrence that is not cancelled starts (a move applied)."""
    return next((occurrence.starts_at for occurrence in occurrences(notice)), None)


def _occurrence(
    original: datetime, wall: datetime, duration: timedelta, zone: ZoneInfo, changes: Mapping[str, Mapping[str, Any]]
) -> Occurrence:
    key = occurrence_id(original)
    change = changes.get(key) or {}
    if change.get("starts_at"):
        starts_at = _from_iso(change["starts_at"])
        ends_at = _from_iso(change["ends_at"]) if change.get("ends_at") else starts_at + duration
        moved = True
    else:
        starts_at = original
        ends_at = _instant(wall + duration, zone)
        if ends_at <= starts_at:
            # Only possible when the wall-clock end falls in a fold or gap next to the start;
            # the elapsed duration is the sensible end then.
            ends_at = starts_at + duration
        moved = False
    return Occurrence(
        id=key,
        original_start=original,
        starts_at=starts_at,
        ends_at=ends_at,
        cancelled=bool(change.get("cancelled")),
        cancel_reason=str(change.get("reason", "")),
        moved=moved,
    )


def _move_of(key: str, change: Mapping[str, Any]) -> timedelta:
    """How far a change moved its occurrence's start, either way."""
    if not change.get("starts_at"):
        return timedelta()
    return abs(_from_iso(change["starts_at"]) - parse_occurrence_id(key))


def _expander(rule: str, starts_at: datetime, zone: ZoneInfo) -> rrule:
    """dateutil's rrule over naive wall times in `zone` (UNTIL turned into wall time too)."""
    parts = dict(item.split("=", 1) for item in rule.split(";"))
    if "UNTIL" in parts:
        until = datetime.strptime(parts["UNTIL"], OCCURRENCE_ID_FORMAT).replace(tzinfo=UTC)
        parts["UNTIL"] = _wall(until, zone).strftime("%Y%m%dT%H%M%S")
    text = ";".join(f"{name}={value}" for name, value in parts.items())
    expander = rrulestr(text, dtstart=_wall(starts_at, zone), cache=False)
    assert isinstance(expander, rrule)  # one RRULE line without EXDATE gives an rrule, not a set
    return expander


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def _instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """A wall time in `zone` as UTC, the RFC 5545 way: in a fold the first of the two instants,
    in a gap the wall time read with the offset from before the gap (02:30 → 03:30 summer time).
    zoneinfo's fold=0 does exactly that."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _until_instant(text: str, zone: ZoneInfo) -> datetime:
    try:
        if text.endswith("Z"):
            return datetime.strptime(text, OCCURRENCE_ID_FORMAT).replace(tzinfo=UTC)
        if "T" in text:
            return _instant(datetime.strptime(text, "%Y%m%dT%H%M%S"), zone)
        day = datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise RuleError(f"UNTIL={text} is not a date (20270630) or a time (20270630T090000Z)") from None
    # A date: every occurrence that starts on that local day is included.
    return _instant(datetime.combine(day, datetime.max.time().replace(microsecond=0)), zone)


def _bounded_int(text: str, name: str, lowest: int, highest: int) -> int:
    if not text.isdigit() or not lowest <= int(text) <= highest:
        raise RuleError(f"{name} must be a whole number from {lowest} to {highest}")
    return int(text)


def _from_iso(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
