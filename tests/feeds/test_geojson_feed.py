"""/feeds/notices.geojson: RFC 7946, read back with python-geojson and geojson-pydantic."""

import gzip

import geojson
from geojson_pydantic import FeatureCollection
from shapely.geometry import LinearRing

from tests.factories import add_notice
from tests.feeds.geo_samples import CLOSURE, CLOSURE_WITH_DIVERSION, WORKS_AREA

PATH = "/feeds/notices.geojson"


def read(client, path=PATH, **headers):
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    document = geojson.loads(response.text)
    assert document.is_valid, document.errors()
    FeatureCollection.model_validate_json(response.content)
    return response, document


def test_one_feature_per_shape_with_the_notice_properties(ctx, client):
    notice = add_notice(ctx, geometry=CLOSURE_WITH_DIVERSION, ends_at=None, expected_end="approximately Q3 2027")
    _, document = read(client)
    assert [feature["properties"]["role"] for feature in document["features"]] == ["closure", "diversion"]
    closure = document["features"][0]
    assert closure["geometry"]["coordinates"] == CLOSURE  # [longitude, latitude], as stored
    properties = closure["properties"]
    assert properties["uid"] == notice.uid
    assert properties["url"] == f"{ctx.settings.base_url}/notices/{notice.uid}"
    assert (properties["category"], properties["severity"], properties["status"]) == (
        "road-closure",
        "major",
        "upcoming",
    )
    assert properties["starts"] == "2026-11-28T11:00:00+01:00"  # RFC 3339 with the site offset
    assert (properties["ends"], properties["expected_end"]) == (None, "approximately Q3 2027")
    assert len({feature["id"] for feature in document["features"]}) == 2


def test_a_notice_without_shapes_shows_its_locations(ctx, client):
    add_notice(ctx, locations=["gorlaeus", "station-leiden-centraal"], category="utilities")
    _, document = read(client)
    kinds = [(feature["properties"]["location"], feature["geometry"]["type"]) for feature in document["features"]]
    assert kinds == [("gorlaeus", "Polygon"), ("station-leiden-centraal", "Point")]


def test_polygons_follow_the_right_hand_rule(ctx, client):
    clockwise = [list(reversed(WORKS_AREA[0]))]
    add_notice(ctx, geometry={"type": "Polygon", "coordinates": clockwise}, category="construction")
    _, document = read(client)
    (feature,) = document["features"]
    assert feature["properties"]["role"] == "area"
    assert LinearRing(feature["geometry"]["coordinates"][0]).is_ccw


def test_filters_and_visibility_are_those_of_the_other_feeds(ctx, client):
    add_notice(ctx, geometry=CLOSURE_WITH_DIVERSION)
    add_notice(ctx, category="event", severity="info", locations=["de-limes"])
    add_notice(ctx, draft=True, locations=["lumc"])
    _, everything = read(client)
    assert len(everything["features"]) == 3
    _, roads = read(client, PATH + "?category=road-closure")
    assert {feature["properties"]["category"] for feature in roads["features"]} == {"road-closure"}


def test_caching_headers_304_gzip_and_head(ctx, client):
    add_notice(ctx, geometry=CLOSURE_WITH_DIVERSION)
    first, _ = read(client, **{"accept-encoding": "identity"})
    again = client.get(PATH, headers={"if-none-match": first.headers["etag"], "accept-encoding": "identity"})
    assert again.status_code == 304
    with client.stream("GET", PATH, headers={"accept-encoding": "gzip"}) as response:
        wire = b"".join(response.iter_raw())
        assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(wire) == first.content
    head = client.head(PATH, headers={"accept-encoding": "identity"})
    assert (head.status_code, head.content, head.headers["etag"]) == (200, b"", first.headers["etag"])


def test_hostile_text_stays_valid_json(ctx, client):
    add_notice(ctx, title='Closed \u202eevil\u202c "quoted" </script> \ufffe', geometry=CLOSURE_WITH_DIVERSION)
    _, document = read(client)
    title = document["features"][0]["properties"]["title"]
    assert "\u202e" not in title and '"quoted"' in title
