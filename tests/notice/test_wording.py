"""How times and periods read, in one wording for every output (pages, feeds, calendars, emails)."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from hypothesis import example, given
from hypothesis import strategies as st

from notices.notice.markup import renderable_instant
from notices.notice.times import format_offset, is_ambiguous
from notices.notice.wording import FULL, LISTING, SHORT, Words


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


def occurrence(starts_at: datetime, ends_at: datetime) -> SimpleNamespace:
    return SimpleNamespace(starts_at=starts_at, ends_at=ends_at)


def test_an_occurrence_within_one_day_names_its_date_once(english, settings):
    tuesday = occurrence(datetime(2026, 12, 8, 6, tzinfo=UTC), datetime(2026, 12, 8, 8, tzinfo=UTC))
    assert english.occurrence(tuesday) == "Tue 8 Dec 2026 07:00–09:00"
    assert Words("nl", settings).occurrence(tuesday) == "di 8 dec 2026 07:00–09:00"


def test_an_overnight_occurrence_names_both_dates(english, settings):
    night = occurrence(datetime(2026, 12, 7, 21, tzinfo=UTC), datetime(2026, 12, 8, 5, tzinfo=UTC))
    assert english.occurrence(night) == "Mon 7 Dec 2026 22:00 – Tue 8 Dec 2026 06:00"
    assert Words("nl", settings).occurrence(night) == "ma 7 dec 2026 22:00 – di 8 dec 2026 06:00"


def test_an_occurrence_ending_in_the_autumn_fold_carries_the_offset(english):
    fold = occurrence(datetime(2026, 10, 24, 23, 30, tzinfo=UTC), datetime(2026, 10, 25, 1, 30, tzinfo=UTC))
    assert english.occurrence(fold) == "Sun 25 Oct 2026 01:30–02:30 (+01:00)"


@given(
    # Any instant a row may hold: those beyond what a zone shift can hold are shown at the limits.
    instant=st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)).map(
        lambda moment: moment.replace(tzinfo=UTC)
    ),
    zone=st.sampled_from(["Europe/Amsterdam", "America/St_Johns", "Asia/Kathmandu", "UTC"]),
    language=st.sampled_from(["en", "nl"]),
    pattern=st.sampled_from([FULL, SHORT, LISTING, "EEEE d MMMM HH:mm", "d MMM", "HH:mm", "short HH:mm", "h a HH:mm"]),
)
@example(instant=datetime(2026, 10, 25, 1, 30, tzinfo=UTC), zone="Europe/Amsterdam", language="nl", pattern=FULL)
@example(instant=datetime(9999, 12, 31, 23, 59, tzinfo=UTC), zone="Asia/Kathmandu", language="en", pattern=FULL)
@example(instant=datetime(1, 1, 1, tzinfo=UTC), zone="America/St_Johns", language="nl", pattern=SHORT)
def test_a_time_reads_as_babel_writes_it_with_the_offset_in_the_fold(instant, zone, language, pattern):
    # (Words formats a time's date once per day: the text must be Babel's for the whole pattern.)
    site = SimpleNamespace(timezone=ZoneInfo(zone))  # all that times need of the settings
    local = renderable_instant(instant).astimezone(ZoneInfo(zone))
    expected = format_datetime(local, pattern, locale=language)
    if "H" in pattern and is_ambiguous(local):
        expected += f" ({format_offset(local.utcoffset())})"
    assert Words(language, site).time(instant, pattern) == expected
