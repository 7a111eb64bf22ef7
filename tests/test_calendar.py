"""The iCalendar feed as a calendar app reads it (parsed with icalendar)."""

from datetime import timedelta

from icalendar import Calendar

from notices import store
from tests.factories import add_notice


def read_calendar(client, query=""):
    response = client.get("/calendar/notices.ics" + query)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    return Calendar.from_ical(response.content)


def events(calendar):
    return {str(event["uid"]): event for event in calendar.walk("VEVENT")}


def test_one_event_per_notice_with_a_stable_uid_and_site_zone_times(ctx, client):
    notice = add_notice(ctx, starts_at="2026-12-14T16:00", ends_at="2026-12-15T16:00")
    calendar = read_calendar(client)
    event = events(calendar)[f"{notice.uid}@notices"]
    assert event.decoded("dtstart").isoformat() == "2026-12-14T16:00:00+01:00"
    assert event["dtstart"].params["TZID"] == "Europe/Amsterdam"
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Amsterdam"]
    assert int(event["sequence"]) == 1
    assert str(event["status"]) == "CONFIRMED"


def test_sequence_follows_the_version_and_cancelled_notices_say_so(ctx, client):
    notice = add_notice(ctx)
    with ctx.db.writing() as session, session.begin():
        store.cancel_notice(session, store.get_notice(session, notice.uid), reason="postponed",
                            now=ctx.clock.now(), author="test")
    event = events(read_calendar(client))[f"{notice.uid}@notices"]
    assert int(event["sequence"]) == 2
    assert str(event["status"]) == "CANCELLED"


def test_open_ended_notice_is_a_marker_at_its_start(ctx, clock, client):
    notice = add_notice(ctx, starts_at=clock.now() + timedelta(days=1), ends_at=None,
                        expected_end="approximately Q3 2027")
    event = events(read_calendar(client))[f"{notice.uid}@notices"]
    assert "dtend" not in event
    assert "Until further notice, expected approximately Q3 2027" in str(event["description"])


def test_calendar_takes_the_feed_filters(ctx, client):
    road = add_notice(ctx, category="road-closure")
    add_notice(ctx, category="event", severity="info")
    assert set(events(read_calendar(client, "?category=road-closure"))) == {f"{road.uid}@notices"}
    assert client.get("/calendar/notices.ics?location=atlantis").status_code == 400


def test_drafts_and_long_ended_notices_are_not_in_the_calendar(ctx, clock, client):
    now = clock.now()
    add_notice(ctx, draft=True)
    add_notice(ctx, publish_at=now - timedelta(days=90), starts_at=now - timedelta(days=80),
               ends_at=now - timedelta(days=60))
    recent = add_notice(ctx, publish_at=now - timedelta(days=9), starts_at=now - timedelta(days=8),
                        ends_at=now - timedelta(days=7))
    assert set(events(read_calendar(client))) == {f"{recent.uid}@notices"}
