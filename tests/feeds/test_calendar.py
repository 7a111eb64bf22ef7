"""The iCalendar feed as a calendar app reads it (parsed with icalendar)."""

import dataclasses
from datetime import timedelta

import lxml.html
import vobject
from icalendar import Calendar

from notices.feeds.catalog import HISTORY
from notices.feeds.ical import build_calendar
from notices.notice import store
from notices.notice.lifecycle import Filters
from notices.notice.validation import parse_changes
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
        store.cancel_notice(
            session, store.get_notice(session, notice.uid), reason="postponed", now=ctx.clock.now(), author="test"
        )
    event = events(read_calendar(client))[f"{notice.uid}@notices"]
    assert int(event["sequence"]) == 2
    assert str(event["status"]) == "CANCELLED"


def test_calendar_takes_the_feed_filters(ctx, client):
    road = add_notice(ctx, category="road-closure")
    add_notice(ctx, category="event", severity="info")
    assert set(events(read_calendar(client, "?category=road-closure"))) == {f"{road.uid}@notices"}
    assert client.get("/calendar/notices.ics?location=atlantis").status_code == 400


def test_drafts_and_long_ended_notices_are_not_in_the_calendar(ctx, clock, client):
    now = clock.now()
    add_notice(ctx, draft=True)
    add_notice(
        ctx, publish_at=now - timedelta(days=90), starts_at=now - timedelta(days=80), ends_at=now - timedelta(days=60)
    )
    recent = add_notice(
        ctx, publish_at=now - timedelta(days=9), starts_at=now - timedelta(days=8), ends_at=now - timedelta(days=7)
    )
    assert set(events(read_calendar(client))) == {f"{recent.uid}@notices"}


def test_description_is_plain_text_with_link_targets(ctx, client):
    notice = add_notice(
        ctx,
        summary="Follow the diversion.",
        body="Read the **diversion** [map](map.html) first.\n\n- north side\n- south side",
    )
    body = client.get("/calendar/notices.ics").content
    (event,) = Calendar.from_ical(body).walk("VEVENT")
    description = str(event["description"]).split("\n\n")
    assert "Follow the diversion." in description
    assert f"Read the diversion map <{ctx.settings.base_url}/map.html> first." in description
    assert "- north side\n- south side" in description
    assert description[-1] == f"{ctx.settings.base_url}/notices/{notice.uid}"
    (second,) = vobject.readOne(body.decode()).vevent_list
    assert second.description.value == str(event["description"])


def test_the_html_goes_in_x_alt_desc(ctx, client):
    add_notice(ctx, body="Read the **diversion** map first.")
    body = client.get("/calendar/notices.ics").content
    (event,) = Calendar.from_ical(body).walk("VEVENT")
    assert event["x-alt-desc"].params["FMTTYPE"] == "text/html"
    html = lxml.html.fromstring(str(event["x-alt-desc"]))
    assert html.xpath("//strong/text()")[-1] == "diversion"
    (second,) = vobject.readOne(body.decode()).vevent_list
    assert second.x_alt_desc.params["FMTTYPE"] == ["text/html"]


def test_a_folder_named_in_a_notice_keeps_its_backslashes(ctx, client):
    # "\\N" is how RFC 5545 escapes a line break; a backslash and an N that a manager typed are text.
    add_notice(ctx, title="Files moved to S:\\Nieuwe map", body="The plans are in S:\\Nieuwe map\\Notices now.")
    body = client.get("/calendar/notices.ics").content
    (event,) = Calendar.from_ical(body).walk("VEVENT")
    assert str(event["summary"]).endswith(": Files moved to S:\\Nieuwe map")
    assert "The plans are in S:\\Nieuwe map\\Notices now." in str(event["description"]).split("\n\n")
    (second,) = vobject.readOne(body.decode()).vevent_list
    assert second.summary.value == str(event["summary"])
    assert second.description.value == str(event["description"])
    assert "<p>The plans are in S:\\Nieuwe map\\Notices now.</p>" in second.x_alt_desc.value


def test_the_calendar_is_named_after_the_site_whatever_its_name_holds(ctx, clock):
    # (A calendar app shows X-WR-CALNAME as the subscribed calendar's name.)
    settings = dataclasses.replace(ctx.settings, site_name="Bio Science Park, Leiden; S:\\Notices")
    add_notice(ctx)
    with ctx.db.session() as session:
        notices = store.calendar_notices(session, clock.now(), Filters(), history=HISTORY)
    body = build_calendar(notices, settings=settings, now=clock.now())
    assert vobject.readOne(body.decode()).x_wr_calname.value == "Bio Science Park, Leiden; S:\\Notices: notices"


def test_dtstamp_is_the_notice_creation_and_stays_put_when_it_is_updated(ctx, clock, client):
    notice = add_notice(ctx)
    clock.advance(timedelta(minutes=5))
    with ctx.db.writing() as session, session.begin():
        current = store.get_notice(session, notice.uid)
        fields = parse_changes(
            {"title": "Plesmanlaan closed, both lanes"},
            current=store.fields_of(current),
            settings=ctx.settings,
            now=clock.now(),
        )
        store.update_notice(session, current, fields, note="summary reworded", now=clock.now(), author="test")
    (event,) = read_calendar(client).walk("VEVENT")
    assert event.decoded("dtstamp") == notice.created_at
    assert event.decoded("last-modified") == clock.now()


def test_an_ended_notice_leaves_the_cached_calendar_thirty_days_after_its_end(ctx, clock, client):
    now = clock.now()
    ended = add_notice(
        ctx, publish_at=now - timedelta(days=41), starts_at=now - timedelta(days=40), ends_at=now - timedelta(days=29)
    )
    assert set(events(read_calendar(client))) == {f"{ended.uid}@notices"}
    clock.set(ended.ends_at + timedelta(days=30) - timedelta(seconds=1))
    assert set(events(read_calendar(client))) == {f"{ended.uid}@notices"}
    clock.set(ended.ends_at + timedelta(days=30))  # no write: the cached calendar must know by itself
    assert set(events(read_calendar(client))) == set()
