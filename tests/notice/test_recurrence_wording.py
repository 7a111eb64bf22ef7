"""A series' rule in plain words, English and Dutch: what pages, emails, feeds and the console say."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from notices.notice import recurrence, recurrence_wording
from notices.notice.wording import Words

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
    ends_at: datetime | None = None


def series(rule: str, start: datetime, minutes: int = 120, **changes: Any) -> Series:
    made = Series(starts_at=start, recurrence=recurrence.parse_rule(rule, starts_at=start, zone=ZONE), **changes)
    made.occurrence_minutes = minutes
    made.ends_at = recurrence.series_end(made)
    return made


FIRST_TUESDAY = local(2026, 12, 1, 7, 0)  # Tuesday 1 December 2026
MONDAY = local(2026, 11, 30, 22, 0)


@pytest.mark.parametrize(
    ("rule", "start", "minutes", "english", "dutch"),
    [
        (
            "FREQ=MONTHLY;BYDAY=1TU;UNTIL=20270630",
            FIRST_TUESDAY,
            120,
            "every first Tuesday, 07:00–09:00, until 30 June 2027",
            "elke eerste dinsdag, 07:00–09:00, tot en met 30 juni 2027",
        ),
        (
            "FREQ=MONTHLY;BYDAY=TU;BYSETPOS=1;COUNT=3",
            FIRST_TUESDAY,
            120,
            "every first Tuesday, 07:00–09:00, 3 times",
            "elke eerste dinsdag, 07:00–09:00, 3 keer",
        ),
        (
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;COUNT=5",
            MONDAY,
            480,
            "every 2 weeks on Monday and Thursday, 22:00–06:00, 5 times",
            "om de 2 weken op maandag en donderdag, 22:00–06:00, 5 keer",
        ),
        (
            "FREQ=DAILY",
            MONDAY,
            480,
            "daily, 22:00–06:00, until further notice",
            "dagelijks, 22:00–06:00, tot nader order",
        ),
        (
            "FREQ=DAILY;INTERVAL=3;COUNT=1",
            MONDAY,
            60,
            "every 3 days, 22:00–23:00, 1 time",
            "om de 3 dagen, 22:00–23:00, 1 keer",
        ),
        (
            "FREQ=WEEKLY",
            FIRST_TUESDAY,
            90,
            "every Tuesday, 07:00–08:30, until further notice",
            "elke dinsdag, 07:00–08:30, tot nader order",
        ),
        (
            "FREQ=WEEKLY;BYDAY=TH,MO,WE;COUNT=9",
            MONDAY,
            60,
            "every Monday, Wednesday, and Thursday, 22:00–23:00, 9 times",
            "elke maandag, woensdag en donderdag, 22:00–23:00, 9 keer",
        ),
        (
            "FREQ=MONTHLY;BYMONTHDAY=1",
            FIRST_TUESDAY,
            120,
            "monthly on day 1, 07:00–09:00, until further notice",
            "maandelijks op dag 1, 07:00–09:00, tot nader order",
        ),
        (
            "FREQ=MONTHLY;INTERVAL=3",
            FIRST_TUESDAY,
            120,
            "every 3 months on day 1, 07:00–09:00, until further notice",
            "om de 3 maanden op dag 1, 07:00–09:00, tot nader order",
        ),
        (
            "FREQ=MONTHLY;INTERVAL=2;BYDAY=-1FR",
            local(2026, 12, 25, 18, 0),
            120,
            "every 2 months on the last Friday, 18:00–20:00, until further notice",
            "om de 2 maanden op de laatste vrijdag, 18:00–20:00, tot nader order",
        ),
        (
            "FREQ=MONTHLY;BYMONTHDAY=-1",
            local(2026, 12, 31, 18, 0),
            120,
            "monthly on the last day, 18:00–20:00, until further notice",
            "maandelijks op de laatste dag, 18:00–20:00, tot nader order",
        ),
        (
            "FREQ=YEARLY;COUNT=2",
            FIRST_TUESDAY,
            120,
            "every year on 1 December, 07:00–09:00, 2 times",
            "elk jaar op 1 december, 07:00–09:00, 2 keer",
        ),
        (
            "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
            local(2027, 3, 28, 1, 0),
            60,
            "every year on the last Sunday of March, 01:00–02:00, until further notice",
            "elk jaar op de laatste zondag van maart, 01:00–02:00, tot nader order",
        ),
        (
            "FREQ=WEEKLY;BYDAY=SA;BYMONTH=6,7,8",
            local(2027, 6, 5, 9, 0),
            3 * 24 * 60,
            "every Saturday in June, July, and August, 09:00 for 3 days, until further notice",
            "elke zaterdag in juni, juli en augustus, 09:00 gedurende 3 dagen, tot nader order",
        ),
    ],
)
def test_rules_read_as_sentences_in_english_and_dutch(settings, rule, start, minutes, english, dutch):
    made = series(rule, start, minutes)
    assert recurrence_wording.summary(made, Words("en", settings)) == english
    assert recurrence_wording.summary(made, Words("nl", settings)) == dutch


def test_a_weekly_seven_oclock_reads_seven_oclock_whatever_the_offset(settings):
    summer = series("FREQ=WEEKLY;BYDAY=TU", local(2026, 7, 7, 7, 0))
    assert recurrence_wording.summary(summer, Words("en", settings)).startswith("every Tuesday, 07:00–09:00")


def test_skipped_dates_are_named_and_past_ones_left_out_when_now_is_given(settings):
    daily = series("FREQ=DAILY", MONDAY, 480)
    daily.occurrence_changes = {
        "20261221T210000Z": {"cancelled": True, "reason": "holidays"},
        "20270104T210000Z": {"cancelled": True, "reason": ""},
        "20261201T210000Z": {"starts_at": local(2026, 12, 1, 23).isoformat()},  # moved, not skipped
    }
    english = Words("en", settings)
    assert recurrence_wording.summary(daily, english) == (
        "daily, 22:00–06:00, until further notice, not on 21 December and 4 January 2027"
    )
    assert recurrence_wording.summary(daily, Words("nl", settings)).endswith("niet op 21 december en 4 januari 2027")
    later = local(2026, 12, 28)
    assert recurrence_wording.summary(daily, english, now=later).endswith("not on 4 January 2027")


def test_many_skipped_dates_are_counted_not_listed(settings):
    daily = series("FREQ=DAILY;COUNT=30", MONDAY, 60)
    daily.occurrence_changes = {
        recurrence.occurrence_id(MONDAY + timedelta(days=day)): {"cancelled": True} for day in range(1, 10)
    }
    text = recurrence_wording.summary(daily, Words("en", settings))
    assert text.endswith("6 December, and 3 other dates"), text
    assert "1 December" in text


def test_a_rule_the_sentences_do_not_cover_still_says_what_it_is(settings):
    odd = series("FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=2", local(2026, 12, 7, 7, 0), 60)
    english = recurrence_wording.summary(odd, Words("en", settings))
    assert english.startswith("repeats by the rule FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=2, 07:00–08:00")
    assert recurrence_wording.summary(odd, Words("nl", settings)).startswith("herhaalt volgens de regel FREQ=")


def test_the_title_phrase_follows_the_occurrences(settings):
    weekly = series("FREQ=WEEKLY;BYDAY=TU;COUNT=2", FIRST_TUESDAY)
    english, dutch = Words("en", settings), Words("nl", settings)
    before = local(2026, 11, 28, 12)
    assert recurrence_wording.next_phrase(weekly, english, before) == "next Tue 1 Dec 07:00"
    assert recurrence_wording.next_phrase(weekly, dutch, before) == "volgende di 1 dec 07:00"
    assert recurrence_wording.next_phrase(weekly, english, local(2026, 12, 1, 8)) == "until Tue 1 Dec 09:00"
    assert recurrence_wording.next_phrase(weekly, english, local(2026, 12, 1, 9)) == "next Tue 8 Dec 07:00"
    assert recurrence_wording.next_phrase(weekly, english, local(2026, 12, 9)) == "ended Tue 8 Dec 09:00"


def test_coming_occurrences_include_the_cancelled_ones_and_spans_read_naturally(settings):
    weekly = series("FREQ=WEEKLY;BYDAY=MO;COUNT=4", MONDAY, 480)
    weekly.occurrence_changes = {"20261207T210000Z": {"cancelled": True, "reason": "works paused"}}
    found = recurrence_wording.coming(weekly, local(2026, 12, 2), limit=2)
    assert [o.id for o in found] == ["20261207T210000Z", "20261214T210000Z"]
    assert found[0].cancelled and found[0].cancel_reason == "works paused"
    assert recurrence_wording.occurrence_span(found[1], Words("en", settings)) == "Mon 14 Dec 22:00–Tue 15 Dec 06:00"
    # Babel's list style in English has the serial comma; Dutch has none.
