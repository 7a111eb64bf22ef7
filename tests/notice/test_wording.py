"""How times and periods read, in one wording for every output (pages, feeds, calendars, emails)."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from notices.notice.wording import Words


@pytest.fixture
def english(settings):
    return Words("en", settings)


def test_display_uses_the_site_zone_on_both_sides_of_dst(english):
    assert english.time(datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "HH:mm") == "01:59"
    assert english.time(datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "HH:mm") == "03:00"


def test_display_in_the_autumn_fold_adds_the_offset(english):
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert english.time(first, "HH:mm") == "02:30 (+02:00)"
    assert english.time(second, "HH:mm") == "02:30 (+01:00)"
    assert english.time(datetime(2026, 10, 25, 2, 30, tzinfo=UTC), "HH:mm") == "03:30"


def test_the_fold_offset_shows_in_dutch_too(settings):
    assert Words("nl", settings).time(datetime(2026, 10, 25, 1, 30, tzinfo=UTC)) == "zo 25 okt 2026 02:30 (+01:00)"


def test_a_short_time_shows_the_year_only_when_it_is_not_this_year(english):
    now = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    assert english.short(datetime(2026, 12, 1, 6, 0, tzinfo=UTC), now) == "Tue 1 Dec 07:00"
    assert english.short(datetime(2027, 9, 1, 6, 0, tzinfo=UTC), now) == "Wed 1 Sep 2027 08:00"


def notice(**times):
    values = {"publish_at": None, "starts_at": None, "ends_at": None, "cancelled_at": None, "expected_end": ""}
    return SimpleNamespace(**(values | times))


def test_the_phrases_of_an_open_ended_notice(english):
    start = datetime(2025, 11, 14, 15, 0, tzinfo=UTC)
    closure = notice(publish_at=start - timedelta(days=10), starts_at=start, expected_end="approximately Q3 2027")
    now = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    assert english.when(closure, now) == "until further notice, expected approximately Q3 2027"
    assert english.when(closure, start - timedelta(days=1)) == "from Fri 14 Nov 16:00"
    assert english.period(closure) == "Fri 14 Nov 2025 16:00 – until further notice (expected approximately Q3 2027)"
    assert Words("nl", english.settings).when(closure, now) == "tot nader order, verwacht approximately Q3 2027"


def test_instants_beyond_what_a_zone_shift_can_hold_are_shown_at_the_limit(english):
    assert english.time(datetime(9999, 12, 31, 23, 59, tzinfo=UTC)).endswith("9999 01:00")
