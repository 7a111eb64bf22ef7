"""Feed readers and calendars see the place: GeoRSS in Atom and RSS, GEO and LOCATION in iCalendar."""

import dataclasses
from types import SimpleNamespace

import feedparser
import pytest
import vobject
from icalendar import Calendar
from lxml import etree

from notices.feeds.places import geo_point
from notices.runtime import jobs
from tests.factories import add_notice
from tests.feeds.geo_samples import CLOSURE, CLOSURE_WITH_DIVERSION, WORKS_AREA

GEORSS = "{http://www.georss.org/georss}"


def lat_lon_pairs(text: str) -> list[list[float]]:
    numbers = [float(number) for number in text.split()]
    return [[lon, lat] for lat, lon in zip(numbers[::2], numbers[1::2], strict=True)]


@pytest.mark.parametrize("path", ["/feeds/notices.atom", "/feeds/notices.rss", "/feeds/events.atom"])
def test_entries_carry_the_closed_line_as_georss(ctx, client, path):
    add_notice(ctx, geometry=CLOSURE_WITH_DIVERSION, starts_at=ctx.clock.now())
    if path.startswith("/feeds/events"):
        jobs.record_transitions(ctx, now=ctx.clock.now())
    body = client.get(path).content
    lines = etree.fromstring(body).findall(f".//{GEORSS}line")
    assert lines and all(lat_lon_pairs(line.text) == CLOSURE for line in lines)  # not the diversion
    entry = feedparser.parse(body).entries[0]
    assert entry.where["type"] == "LineString"  # feedparser reads GeoRSS into GeoJSON
    assert [list(position) for position in entry.where["coordinates"]] == CLOSURE


def test_areas_and_points_use_polygon_and_point(ctx, client):
    add_notice(ctx, title="Works", geometry={"type": "Polygon", "coordinates": WORKS_AREA}, category="construction")
    add_notice(ctx, title="Station", locations=["station-leiden-centraal"], category="traffic")
    document = etree.fromstring(client.get("/feeds/notices.atom").content)
    (polygon,) = document.findall(f".//{GEORSS}polygon")
    assert lat_lon_pairs(polygon.text)[0] == lat_lon_pairs(polygon.text)[-1]
    (point,) = document.findall(f".//{GEORSS}point")
    assert point.text == "52.1663 4.4817"


def test_calendar_events_carry_geo_and_location(ctx, client):
    add_notice(ctx, geometry={"type": "LineString", "coordinates": CLOSURE}, locations=["plesmanlaan"])
    body = client.get("/calendar/notices.ics").content
    (event,) = Calendar.from_ical(body).walk("VEVENT")
    latitude, longitude = event["GEO"].latitude, event["GEO"].longitude
    assert 52.169 < latitude < 52.171 and 4.465 < longitude < 4.4745  # on the closed stretch
    assert str(event["LOCATION"]) == "Plesmanlaan"
    second_opinion = vobject.readOne(body.decode())
    assert second_opinion.vevent.geo.value == f"{latitude};{longitude}"


def test_a_notice_without_any_place_has_no_geo(ctx, client):
    add_notice(ctx, locations=[])
    assert b"georss:" not in client.get("/feeds/notices.atom").content.split(b"<entry>")[1]
    (event,) = Calendar.from_ical(client.get("/calendar/notices.ics").content).walk("VEVENT")
    assert "GEO" not in event


def test_a_notice_at_a_location_has_the_locations_point_as_the_site_draws_it(ctx, client):
    add_notice(ctx, locations=["plesmanlaan"])  # no shape of its own: the location's
    (event,) = Calendar.from_ical(client.get("/calendar/notices.ics").content).walk("VEVENT")
    assert 52.169 < event["GEO"].latitude < 52.171 and 4.465 < event["GEO"].longitude < 4.4745  # on the Plesmanlaan
    # The site redraws the Plesmanlaan (settings loaded again): the point follows the new shape,
    # not the one found for the old.
    notice = SimpleNamespace(
        title="Closed", category="traffic", severity="minor", locations=["plesmanlaan"], geometry=None
    )
    moved = {"type": "LineString", "coordinates": [[4.49, 52.16], [4.50, 52.16]]}
    redrawn = dataclasses.replace(
        ctx.settings, location_geometries={**ctx.settings.location_geometries, "plesmanlaan": moved}
    )
    latitude, longitude = geo_point(notice, redrawn)
    assert latitude == 52.16 and 4.49 <= longitude <= 4.50
    assert geo_point(notice, ctx.settings) == (event["GEO"].latitude, event["GEO"].longitude)
