"""A recurring notice in the iCalendar feed: one VEVENT with RRULE, EXDATE and RECURRENCE-ID
overrides, which calendar software expands to exactly the service's own occurrences, across the
daylight saving changes of 29 March and 25 October 2026 (Europe/Amsterdam)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import recurring_ical_events
import vobject
from icalendar import Calendar

from notices.notice import recurrence, store
from tests.factories import add_notice, reload

ZONE = ZoneInfo("Europe/Amsterdam")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


def add_series(ctx, *, rule: str, starts_at: datetime, minutes: int, created: datetime | None = None):
    return add_notice(
        ctx,
        now=created or starts_at - timedelta(days=7),
        starts_at=starts_at,
        ends_at=None,
        recurrence=rule,
        occurrence_minutes=minutes,
    )


def set_changes(ctx, uid: str, changes: dict) -> None:
    """Exceptions written directly (the cancel/move operations are not what is tested here)."""
    with ctx.db.session() as session, session.begin():
        notice = store.get_notice(session, uid)
        notice.occurrence_changes = changes
        notice.ends_at = recurrence.series_end(notice)


def calendar_bytes(client) -> bytes:
    response = client.get("/calendar/notices.ics")
    assert response.status_code == 200, response.text
    return response.content


def expanded(body: bytes, uid: str, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The occurrences a calendar app shows between two instants, in UTC."""
    calendar = Calendar.from_ical(body)
    found = [
        event
        for event in recurring_ical_events.of(calendar).between(start, end)
        if str(event["uid"]) == f"{uid}@notices"
    ]
    spans = [(event.decoded("dtstart").astimezone(UTC), event.decoded("dtend").astimezone(UTC)) for event in found]
    return sorted(spans)


def ours(notice, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    return [(o.starts_at, o.ends_at) for o in recurrence.occurrences(notice, after=start, before=end)]


def test_an_overnight_weekly_series_across_both_dst_changes_expands_to_our_occurrences(ctx, client):
    # Saturdays 22:00-06:00: the nights of 28/29 March (7 hours) and 24/25 October (9 hours) included.
    notice = add_series(ctx, rule="FREQ=WEEKLY;BYDAY=SA;UNTIL=20261107", starts_at=local(2026, 3, 7, 22), minutes=480)
    set_changes(
        ctx,
        notice.uid,
        {
            "20260418T200000Z": {"cancelled": True, "reason": "King's Day works"},
            "20260523T200000Z": {
                "starts_at": local(2026, 5, 24, 21).isoformat(),
                "ends_at": local(2026, 5, 25, 5).isoformat(),
            },
        },
    )
    notice = reload(ctx, notice.uid)
    body = calendar_bytes(client)
    window = (local(2026, 3, 1), local(2026, 11, 15))
    expected = ours(notice, *window)
    assert len(expected) == 36 - 1  # 36 Saturdays from 7 March to 7 November, one cancelled
    assert expanded(body, notice.uid, *window) == expected
    # The nights with a clock change keep their wall-clock end.
    spring = (local(2026, 3, 28, 22), local(2026, 3, 29, 6))
    autumn = (local(2026, 10, 24, 22), local(2026, 10, 25, 6))
    assert spring in expected and spring[1] - spring[0] == timedelta(hours=7)
    assert autumn in expected and autumn[1] - autumn[0] == timedelta(hours=9)
    assert (local(2026, 4, 18, 22), local(2026, 4, 19, 6)) not in expected
    assert (local(2026, 5, 24, 21), local(2026, 5, 25, 5)) in expected
    # Narrow windows on both sides of each change give the same answer as a whole-year one.
    for window in [(local(2026, 3, 27), local(2026, 3, 31)), (local(2026, 10, 23), local(2026, 10, 27))]:
        assert expanded(body, notice.uid, *window) == ours(notice, *window) != []


def test_the_vevent_has_a_zoned_start_the_rule_in_utc_exdates_and_overrides_with_the_same_uid(ctx, client):
    notice = add_series(ctx, rule="FREQ=WEEKLY;BYDAY=SA;UNTIL=20261107", starts_at=local(2026, 3, 7, 22), minutes=480)
    set_changes(
        ctx,
        notice.uid,
        {
            "20260418T200000Z": {"cancelled": True, "reason": "works"},
            "20260523T200000Z": {"starts_at": local(2026, 5, 24, 21).isoformat()},
        },
    )
    calendar = Calendar.from_ical(calendar_bytes(client))
    uid = f"{notice.uid}@notices"
    series, *overrides = [event for event in calendar.walk("VEVENT") if str(event["uid"]) == uid]
    assert "recurrence-id" not in series
    assert series["dtstart"].params["TZID"] == "Europe/Amsterdam"
    assert series.decoded("dtstart").isoformat() == "2026-03-07T22:00:00+01:00"
    assert series.decoded("dtend").isoformat() == "2026-03-08T06:00:00+01:00"
    assert series["rrule"].to_ical() == b"FREQ=WEEKLY;UNTIL=20261107T225959Z;BYDAY=SA"
    assert [d.dt.isoformat() for d in series["exdate"].dts] == ["2026-04-18T22:00:00+02:00"]
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Amsterdam"]
    recurrence_ids = sorted(event.decoded("recurrence-id").astimezone(UTC) for event in overrides)
    # The moved one, and the two nights of a clock change (their length differs from the first's).
    assert recurrence_ids == [local(2026, 3, 28, 22), local(2026, 5, 23, 22), local(2026, 10, 24, 22)]
    assert {int(event["sequence"]) for event in overrides} == {int(series["sequence"])}


def test_an_endless_daily_series_expands_to_our_occurrences_up_to_the_horizon(ctx, client, clock):
    notice = add_series(ctx, rule="FREQ=DAILY", starts_at=local(2026, 12, 1, 22), minutes=480, created=clock.now())
    set_changes(ctx, notice.uid, {"20261224T210000Z": {"cancelled": True, "reason": "Christmas"}})
    notice = reload(ctx, notice.uid)
    body = calendar_bytes(client)
    # Both 2027 clock changes (28 March, 31 October) are before the horizon, a year from today.
    window = (local(2026, 11, 28), local(2027, 11, 20))
    expected = ours(notice, *window)
    assert expanded(body, notice.uid, *window) == expected
    assert (local(2027, 3, 27, 22), local(2027, 3, 28, 6)) in expected
    assert (local(2026, 12, 24, 22), local(2026, 12, 25, 6)) not in expected


def test_the_first_tuesday_series_reads_the_same_in_vobject(ctx, client):
    notice = add_series(ctx, rule="FREQ=MONTHLY;BYDAY=1TU;UNTIL=20270630", starts_at=local(2026, 12, 1, 7), minutes=120)
    body = calendar_bytes(client)
    (event,) = [e for e in vobject.readOne(body.decode()).vevent_list if e.uid.value == f"{notice.uid}@notices"]
    starts = [start.astimezone(UTC) for start in event.getrruleset(addRDate=True)]
    notice = reload(ctx, notice.uid)
    assert starts == [o.starts_at for o in recurrence.occurrences(notice)]
    assert len(starts) == 7
    description = event.description.value
    assert "every first Tuesday, 07:00–09:00, until 30 June 2027" in description
