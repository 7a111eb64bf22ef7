from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from notices.notice.times import TimeInputError, parse_instant

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def parse(text: str) -> datetime:
    return parse_instant(text, zone=AMSTERDAM, now=NOW)


def test_wall_time_is_read_in_the_site_zone():
    assert parse("2026-11-14T16:00") == datetime(2026, 11, 14, 15, 0, tzinfo=UTC)
    assert parse("2026-07-01 16:00") == datetime(2026, 7, 1, 14, 0, tzinfo=UTC)


def test_explicit_offset_wins_over_the_site_zone():
    assert parse("2026-11-14T16:00+00:00") == datetime(2026, 11, 14, 16, 0, tzinfo=UTC)
    assert parse("2026-11-14T16:00Z") == datetime(2026, 11, 14, 16, 0, tzinfo=UTC)


def test_result_is_aware_utc():
    parsed = parse("2026-11-14T16:00+05:30")
    assert parsed.tzinfo is UTC
    assert parsed == datetime(2026, 11, 14, 10, 30, tzinfo=UTC)


def test_time_in_the_spring_forward_gap_is_refused():
    # 29 March 2026: clocks in Amsterdam jump from 02:00 to 03:00.
    with pytest.raises(TimeInputError, match="does not exist in Europe/Amsterdam"):
        parse("2026-03-29T02:30")


def test_times_around_the_spring_gap_are_accepted():
    assert parse("2026-03-29T01:59") == datetime(2026, 3, 29, 0, 59, tzinfo=UTC)
    assert parse("2026-03-29T03:00") == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_time_in_the_autumn_fold_needs_an_offset():
    # 25 October 2026: 02:00-03:00 happens twice in Amsterdam.
    with pytest.raises(TimeInputError, match=r"happens twice.*\+02:00 or \+01:00"):
        parse("2026-10-25T02:30")


def test_time_in_the_autumn_fold_with_an_offset_is_accepted():
    assert parse("2026-10-25T02:30+02:00") == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert parse("2026-10-25T02:30+01:00") == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


def test_now_and_relative_times_count_from_the_given_now():
    assert parse("now") == NOW
    assert parse("+5s") == datetime(2026, 11, 28, 9, 0, 5, tzinfo=UTC)
    assert parse("+2h") == datetime(2026, 11, 28, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["tomorrow", "2026-13-01T10:00", "14/11/2026 16:00", ""])
def test_unreadable_times_are_refused_with_a_hint(text):
    with pytest.raises(TimeInputError):
        parse(text)


def test_a_date_without_time_of_day_is_refused():
    with pytest.raises(TimeInputError, match="no time of day"):
        parse("2026-11-14")
