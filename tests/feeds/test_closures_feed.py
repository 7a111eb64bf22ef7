"""/feeds/closures.json: the Waze CIFS closure feed (ROAD_CLOSED incidents with a polyline)."""

import json
from datetime import datetime, timedelta

from notices.feeds.closures import OPEN_ENDED_AHEAD
from tests.factories import add_notice
from tests.feeds.geo_samples import CLOSURE, CLOSURE_WITH_DIVERSION, line

PATH = "/feeds/closures.json"
# What CIFS requires of a road closure, and what it requests.
REQUIRED = {"id", "type", "polyline", "starttime", "endtime", "description", "street"}
REQUESTED = {"direction", "reference", "creationtime", "updatetime"}


def incidents(client, path=PATH):
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    document = json.loads(response.content)
    assert set(document) == {"incidents"}
    for incident in document["incidents"]:
        assert set(incident) >= REQUIRED | REQUESTED, incident
        assert incident["type"] == "ROAD_CLOSED"
        assert incident["direction"] in ("BOTH_DIRECTIONS", "ONE_DIRECTION")
        for key in ("starttime", "endtime", "creationtime", "updatetime"):
            assert datetime.fromisoformat(incident[key]).utcoffset() is not None
    return document["incidents"]


def positions(polyline: str) -> list[list[float]]:
    numbers = [float(number) for number in polyline.split()]
    return [[lon, lat] for lat, lon in zip(numbers[::2], numbers[1::2], strict=True)]


def test_a_closure_with_its_closed_line_is_listed_lat_lon_in_traffic_order(ctx, client):
    notice = add_notice(ctx, geometry=CLOSURE_WITH_DIVERSION, summary="Follow the yellow signs.")
    (incident,) = incidents(client)  # the diversion is not a closure
    assert incident["id"] == notice.uid
    assert positions(incident["polyline"]) == CLOSURE  # CIFS writes "lat lon lat lon ..."
    assert incident["polyline"].startswith("52.169200 4.474500 ")
    assert incident["street"] == "Plesmanlaan"
    assert incident["description"] == "Plesmanlaan closed. Follow the yellow signs."
    assert incident["reference"] == f"{ctx.settings.base_url}/notices/{notice.uid}"
    assert datetime.fromisoformat(incident["endtime"]) == notice.ends_at


def test_only_road_closures_with_a_line_of_their_own(ctx, client):
    add_notice(ctx)  # a road closure without a shape: its street's whole line would close too much
    add_notice(ctx, category="construction", geometry={"type": "LineString", "coordinates": CLOSURE})
    add_notice(ctx, geometry={"type": "Point", "coordinates": [4.47, 52.17]})
    add_notice(ctx, draft=True, geometry={"type": "LineString", "coordinates": CLOSURE})
    assert incidents(client) == []


def test_each_closed_line_is_one_incident_with_a_stable_id(ctx, client):
    notice = add_notice(
        ctx,
        geometry={
            "type": "FeatureCollection",
            "features": [line(CLOSURE, "closure"), line([[4.479, 52.1684], [4.48, 52.1705]], "closure")],
        },
    )
    assert [incident["id"] for incident in incidents(client)] == [f"{notice.uid}-1", f"{notice.uid}-2"]


def test_an_open_ended_closure_gets_an_end_that_is_renewed_every_day(ctx, client, clock):
    add_notice(ctx, geometry=CLOSURE_WITH_DIVERSION, starts_at=clock.now(), ends_at=None)
    (today,) = incidents(client)
    end = datetime.fromisoformat(today["endtime"])
    assert end - clock.now() > OPEN_ENDED_AHEAD - timedelta(days=1)
    assert end.astimezone(ctx.settings.timezone).time().isoformat() == "00:00:00"
    etag = client.get(PATH).headers["etag"]
    clock.advance(timedelta(days=1))
    (tomorrow,) = incidents(client)
    assert datetime.fromisoformat(tomorrow["endtime"]) - end == timedelta(days=1)
    assert client.get(PATH).headers["etag"] != etag


def test_filters_and_caching_as_the_other_feeds(ctx, client):
    add_notice(ctx, geometry=CLOSURE_WITH_DIVERSION, locations=["plesmanlaan"])
    assert incidents(client, PATH + "?location=gorlaeus") == []
    first = client.get(PATH)
    assert client.get(PATH, headers={"if-none-match": first.headers["etag"]}).status_code == 304
