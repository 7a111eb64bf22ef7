"""Recurrence: rules expand in site wall time (07:00 stays 07:00 across DST), exceptions apply,
bad rules are refused with a reason, and a series' status follows its occurrences."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from notices.notice import recurrence
from notices.notice.lifecycle import Status, status_at
from notices.notice.recurrence import RuleError

ZONE = ZoneInfo("Europe/Amsterdam")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


@dataclass
class Series:
    starts_at: datetime
    recurrence: str
    occurrence_minutes: int | None = 120
    recurrence_zone: str = "Europe/Amsterdam"
    occurrence_changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    publish_at: datetime | None = None
    ends_at: datetime | None = None
    cancelled_at: datetime | None = None


def series(rule: str, start: datetime, **changes: Any) -> Series:
    made = Series(starts_at=start, recurrence=recurrence.parse_rule(rule, starts_at=start, zone=ZONE), **changes)
    made.publish_at = made.publish_at or start - timedelta(days=7)
    made.ends_at = recurrence.series_end(made)
    return made


@pytest.mark.parametrize(
    ("first", "label"),
    [(local(2026, 3, 17, 7, 0), "spring forward, 29 March"), (local(2026, 10, 13, 7, 0), "fall back, 25 October")],
)
def test_a_weekly_series_stays_at_seven_to_nine_local_on_both_sides_of_a_dst_change(first, label):
    weekly = series("FREQ=WEEKLY;BYDAY=TU;COUNT=4", first)
    found = list(recurrence.occurrences(weekly))
    assert len(found) == 4, label
    assert [(o.starts_at.astimezone(ZONE).hour, o.ends_at.astimezone(ZONE).hour) for o in found] == [(7, 9)] * 4
    # The UTC offset did change in between: the wall time held, not the UTC time.
    assert {o.starts_at.astimezone(ZONE).utcoffset() for o in found} == {timedelta(hours=1), timedelta(hours=2)}
    assert weekly.ends_at == found[-1].ends_at


def test_occurrence_ids_are_the_original_utc_start_and_stay_put_when_one_is_moved():
    weekly = series("FREQ=WEEKLY;BYDAY=TU;COUNT=3", local(2026, 12, 1, 7, 0))
    ids = [o.id for o in recurrence.occurrences(weekly)]
    assert ids == ["20261201T060000Z", "20261208T060000Z", "20261215T060000Z"]
    weekly.occurrence_changes = {
        "20261208T060000Z": {
            "starts_at": local(2026, 12, 9, 7, 0).isoformat(),
            "ends_at": local(2026, 12, 9, 8).isoformat(),
        }
    }
    moved = recurrence.find_occurrence(weekly, "20261208T060000Z")
    assert moved is not None and moved.moved
    assert moved.starts_at == local(2026, 12, 9, 7, 0) and moved.ends_at == local(2026, 12, 9, 8, 0)
    assert [o.id for o in recurrence.occurrences(weekly)] == ids
    assert recurrence.find_occurrence(weekly, "20261209T060000Z") is None  # not an occurrence of the rule


def test_a_cancelled_occurrence_is_skipped_and_the_series_is_upcoming_then():
    weekly = series("FREQ=WEEKLY;BYDAY=TU;COUNT=3", local(2026, 12, 1, 7, 0))
    weekly.occurrence_changes = {"20261208T060000Z": {"cancelled": True, "reason": "market moved"}}
    assert [o.id for o in recurrence.occurrences(weekly)] == ["20261201T060000Z", "20261215T060000Z"]
    assert status_at(weekly, local(2026, 12, 1, 8, 0)) is Status.ACTIVE
    assert status_at(weekly, local(2026, 12, 8, 8, 0)) is Status.UPCOMING  # the cancelled one
    assert status_at(weekly, local(2026, 12, 15, 9, 0)) is Status.ENDED  # half-open: at the last end
    cancelled_last = series("FREQ=WEEKLY;BYDAY=TU;COUNT=3", local(2026, 12, 1, 7, 0))
    cancelled_last.occurrence_changes = {"20261215T060000Z": {"cancelled": True}}
    assert recurrence.series_end(cancelled_last) == local(2026, 12, 8, 9, 0)


def test_status_between_occurrences_is_upcoming_and_during_one_active():
    monthly = series("FREQ=MONTHLY;BYDAY=1TU", local(2026, 12, 1, 7, 0))
    assert monthly.ends_at is None  # no COUNT or UNTIL: until further notice
    assert status_at(monthly, local(2026, 11, 30, 12, 0)) is Status.UPCOMING
    assert status_at(monthly, local(2026, 12, 1, 7, 0)) is Status.ACTIVE
    assert status_at(monthly, local(2026, 12, 1, 9, 0)) is Status.UPCOMING
    next_one = recurrence.next_occurrence(monthly, local(2026, 12, 1, 9, 0))
    assert next_one is not None and next_one.starts_at == local(2027, 1, 5, 7, 0)  # first Tuesday of January


def test_occurrences_in_a_window_include_the_one_under_way():
    daily = series("FREQ=DAILY;COUNT=5", local(2026, 12, 7, 22, 0), occurrence_minutes=8 * 60)  # night works
    found = recurrence.occurrences(daily, after=local(2026, 12, 9, 3, 0), before=local(2026, 12, 10, 23, 0))
    assert [o.starts_at for o in found] == [
        local(2026, 12, 8, 22, 0),
        local(2026, 12, 9, 22, 0),
        local(2026, 12, 10, 22, 0),
    ]


def test_until_as_a_date_includes_that_whole_local_day_and_is_stored_in_utc():
    rule = recurrence.parse_rule("FREQ=WEEKLY;BYDAY=TU;UNTIL=20270629", starts_at=local(2026, 12, 1, 7), zone=ZONE)
    assert rule == "FREQ=WEEKLY;BYDAY=TU;UNTIL=20270629T215959Z"
    weekly = series(rule, local(2026, 12, 1, 7, 0))
    assert list(recurrence.occurrences(weekly))[-1].starts_at == local(2027, 6, 29, 7, 0)


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        ("", "is empty"),
        ("FREQ=HOURLY", "FREQ must be one of"),
        ("FREQ=WEEKLY;COUNT=0", "COUNT must be a whole number"),
        ("FREQ=WEEKLY;COUNT=5;UNTIL=20270101", "COUNT or UNTIL, not both"),
        ("FREQ=WEEKLY;BYHOUR=3", "BYHOUR is not supported"),
        ("FREQ=WEEKLY;UNTIL=20200101", "UNTIL is before the start"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "no occurrence"),
        ("FREQ=WEEKLY;BYDAY=XX", "not a valid RRULE"),
        ("FREQ=WEEKLY\nEXDATE:20261208", "one RRULE line"),
        ("FREQ=WEEKLY;FREQ=DAILY", "given twice"),
        ("not a rule", "not NAME=VALUE"),
    ],
)
def test_bad_rules_are_refused_with_the_reason(rule, reason):
    with pytest.raises(RuleError, match=reason):
        recurrence.parse_rule(rule, starts_at=local(2026, 12, 1, 7), zone=ZONE)


def test_a_series_must_start_on_an_occurrence_and_occurrences_must_not_overlap():
    wednesday = Series(starts_at=local(2026, 12, 2, 7), recurrence="FREQ=WEEKLY;BYDAY=TU;COUNT=3")
    with pytest.raises(RuleError, match="not an occurrence"):
        recurrence.check_series(wednesday)
    long_days = Series(starts_at=local(2026, 12, 1, 7), recurrence="FREQ=DAILY;COUNT=3", occurrence_minutes=25 * 60)
    with pytest.raises(RuleError, match="overlap"):
        recurrence.check_series(long_days)
    no_length = Series(starts_at=local(2026, 12, 1, 7), recurrence="FREQ=DAILY;COUNT=3", occurrence_minutes=None)
    with pytest.raises(RuleError, match="duration"):
        recurrence.check_series(no_length)
    recurrence.check_series(Series(starts_at=local(2026, 12, 1, 7), recurrence="FREQ=DAILY;COUNT=3"))


def test_a_start_in_the_spring_gap_is_read_with_the_offset_from_before_the_gap():
    # 02:30 does not exist on 29 March; RFC 5545 reads it as 03:30 summer time.
    daily = series("FREQ=DAILY;COUNT=3", local(2026, 3, 28, 2, 30), occurrence_minutes=30)
    starts = [o.starts_at.astimezone(ZONE).strftime("%d %H:%M") for o in recurrence.occurrences(daily)]
    assert starts == ["28 02:30", "29 03:30", "30 02:30"]
