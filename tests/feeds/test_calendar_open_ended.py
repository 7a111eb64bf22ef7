"""An open-ended notice ("until approximately Q3 2027") as calendar users see it: on every day it
is in effect, read with icalendar, recurring-ical-events (what a calendar shows on a date) and vobject."""

from datetime import date, timedelta

import recurring_ical_events
import vobject
from icalendar import Calendar

from notices.feeds.catalog import render_feed
from notices.notice import store
from notices.notice.lifecycle import Filters
from tests.factories import add_notice

# The fixed test clock reads Saturday 28 November 2026, 10:00 in Amsterdam.
TODAY = date(2026, 11, 28)


def add_plesmanlaan_closure(ctx):
    return add_notice(
        ctx,
        title="Plesmanlaan closed",
        publish_at="2025-11-10T09:00",
        starts_at="2025-11-14T16:00",
        ends_at=None,
        expected_end="approximately Q3 2027",
    )


def calendar_bytes(client) -> bytes:
    response = client.get("/calendar/notices.ics")
    assert response.status_code == 200, response.text
    return response.content


def shown_on(body: bytes, day: date) -> set[str]:
    """UIDs of the events a calendar shows on `day` (recurring-ical-events expands the file)."""
    return {str(event["uid"]) for event in recurring_ical_events.of(Calendar.from_ical(body)).at(day)}


def vobject_event(body: bytes, uid: str):
    (event,) = [event for event in vobject.readOne(body.decode()).vevent_list if event.uid.value == uid]
    return event


def test_an_open_ended_closure_is_shown_on_a_day_inside_its_period(ctx, client):
    uid = f"{add_plesmanlaan_closure(ctx).uid}@notices"
    body = calendar_bytes(client)
    assert uid in shown_on(body, TODAY)
    assert uid in shown_on(body, date(2027, 6, 1))
    event = vobject_event(body, uid)
    assert event.dtstart.value == date(2025, 11, 14)  # an all-day event from its first day
    assert event.dtstart.value <= TODAY < event.dtend.value


def test_an_open_ended_closure_says_until_further_notice(ctx, client):
    uid = f"{add_plesmanlaan_closure(ctx).uid}@notices"
    body = calendar_bytes(client)
    (event,) = Calendar.from_ical(body).walk("VEVENT")
    assert str(event["summary"]) == (
        "Road closure: Plesmanlaan closed (until further notice, expected approximately Q3 2027)"
    )
    expected = "When: Fri 14 Nov 2025 16:00 – until further notice (expected approximately Q3 2027)"
    assert expected in str(event["description"])
    assert expected in vobject_event(body, uid).description.value


def test_a_cancelled_open_ended_closure_is_gone_from_the_days_after(ctx, clock, client):
    notice = add_plesmanlaan_closure(ctx)
    uid = f"{notice.uid}@notices"
    assert uid in shown_on(calendar_bytes(client), TODAY + timedelta(days=7))
    with ctx.db.writing() as session, session.begin():
        store.cancel_notice(
            session,
            store.get_notice(session, notice.uid),
            reason="works finished early",
            now=clock.now(),
            author="test",
        )
    body = calendar_bytes(client)
    # Gone from today on, even in calendars that ignore STATUS:CANCELLED.
    assert uid not in shown_on(body, TODAY)
    assert uid not in shown_on(body, TODAY + timedelta(days=7))
    assert uid in shown_on(body, TODAY - timedelta(days=1))
    assert vobject_event(body, uid).status.value == "CANCELLED"


def test_the_horizon_rolls_forward_with_the_clock(ctx, clock, client):
    uid = f"{add_plesmanlaan_closure(ctx).uid}@notices"
    first = client.get("/calendar/notices.ics")
    end = vobject_event(first.content, uid).dtend.value
    clock.advance(timedelta(days=1))
    later = client.get("/calendar/notices.ics")  # the same process: its cached calendar must not stay
    assert vobject_event(later.content, uid).dtend.value == end + timedelta(days=1)
    assert later.headers["etag"] != first.headers["etag"]
    assert later.headers["last-modified"] != first.headers["last-modified"]


def test_the_calendar_stays_valid_until_the_next_midnight_in_the_site_zone(ctx, clock):
    add_plesmanlaan_closure(ctx)
    rendered = render_feed(ctx, "/calendar/notices.ics", Filters(), "", clock.now())
    # Midnight 29 November in Amsterdam (UTC+1) is 23:00 UTC on the 28th.
    assert rendered.valid_until.isoformat() == "2026-11-28T23:00:00+00:00"


def test_the_same_data_on_the_same_day_gives_the_same_bytes(ctx, clock):
    add_plesmanlaan_closure(ctx)
    add_notice(ctx)
    first = render_feed(ctx, "/calendar/notices.ics", Filters(), "", clock.now())
    later = render_feed(ctx, "/calendar/notices.ics", Filters(), "", clock.now() + timedelta(minutes=30))
    assert later.body == first.body
    assert later.last_modified == first.last_modified
