"""A notice's geometry: checked with geojson-pydantic and shapely, stored as one canonical FeatureCollection."""

import json

import pytest
import shapely
from geojson_pydantic import FeatureCollection
from shapely.geometry import shape

from notices.core.errors import InvalidField
from notices.core.shapes import MAX_VERTICES
from notices.notice import store
from notices.notice.geometry import features_of, parse_geometry
from notices.notice.validation import parse_changes
from tests.factories import add_notice, reload

CLOSURE = [[4.4745, 52.1692], [4.4700, 52.1700], [4.4650, 52.1707]]
# Drawn clockwise: the wrong way round for RFC 7946.
CLOCKWISE_SQUARE = [[[4.47, 52.16], [4.47, 52.17], [4.48, 52.17], [4.48, 52.16], [4.47, 52.16]]]


def feature(kind, coordinates, role=None):
    properties = {"role": role} if role else {}
    return {"type": "Feature", "geometry": {"type": kind, "coordinates": coordinates}, "properties": properties}


def problem(value, settings) -> str:
    with pytest.raises(InvalidField) as caught:
        parse_geometry(value, settings)
    assert caught.value.field == "geometry"
    return caught.value.problem


def test_a_bare_line_becomes_a_closure_and_a_polygon_an_area(settings):
    line = parse_geometry({"type": "LineString", "coordinates": CLOSURE}, settings)
    assert line == {"type": "FeatureCollection", "features": [feature("LineString", CLOSURE, "closure")]}
    area = parse_geometry(json.dumps({"type": "Polygon", "coordinates": CLOCKWISE_SQUARE}), settings)
    assert area["features"][0]["properties"] == {"role": "area"}


def test_a_collection_keeps_closure_and_diversion_and_is_valid_geojson(settings):
    value = {
        "type": "FeatureCollection",
        "features": [
            feature("LineString", CLOSURE, "closure"),
            feature("LineString", [[4.4745, 52.1692], [4.4741, 52.1741], [4.4650, 52.1707]], "diversion"),
        ],
    }
    parsed = parse_geometry(value, settings)
    assert [item["properties"]["role"] for item in parsed["features"]] == ["closure", "diversion"]
    FeatureCollection.model_validate(parsed)
    assert parse_geometry(json.dumps(parsed), settings) == parsed  # canonical: the same shape stores the same


def test_polygons_are_stored_by_the_right_hand_rule(settings):
    parsed = parse_geometry({"type": "Polygon", "coordinates": CLOCKWISE_SQUARE}, settings)
    ring = shapely.LinearRing(parsed["features"][0]["geometry"]["coordinates"][0])
    assert ring.is_ccw
    assert shape(parsed["features"][0]["geometry"]).equals(shape({"type": "Polygon", "coordinates": CLOCKWISE_SQUARE}))


def test_altitude_is_dropped_and_positions_are_rounded(settings):
    parsed = parse_geometry({"type": "Point", "coordinates": [4.481712345678, 52.16630000001, 3.5]}, settings)
    assert parsed["features"][0]["geometry"]["coordinates"] == [4.4817123, 52.1663]


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_nothing_means_no_geometry(settings, blank):
    assert parse_geometry(blank, settings) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{not json", "not valid GeoJSON text"),
        ('{"type": "Point", "coordinates": [NaN, 52.1]}', "NaN is not a number"),
        ([1, 2], "must be a GeoJSON object"),
        ({"type": "Circle", "coordinates": [4.47, 52.16]}, "'Circle' is not a supported geometry type"),
        ({"type": "GeometryCollection", "geometries": []}, "GeometryCollection is not supported"),
        ({"type": "LineString", "coordinates": [[4.47, 52.16]]}, "too few positions for a LineString"),
        ({"type": "Point", "coordinates": [4.47, 152.16]}, "latitude 152.16 is outside -90..90"),
        ({"type": "Point", "coordinates": [200, 52.16]}, "longitude 200 is outside -180..180"),
        ({"type": "Point", "coordinates": [52.1663, 4.4817]}, "looks like [latitude, longitude]"),
        ({"type": "Point", "coordinates": [13.4, 52.5]}, "far outside the site"),
        ({"type": "Point", "coordinates": ["4.47", 52.16]}, "coordinates[0]: must be a number, got str"),
        ({"type": "Point", "coordinates": [True, 52.16]}, "must be a number, got bool"),
        (
            {
                "type": "Polygon",
                "coordinates": [[[4.47, 52.16], [4.48, 52.17], [4.48, 52.16], [4.47, 52.17], [4.47, 52.16]]],
            },
            "outline crosses itself near [4.475, 52.165]",
        ),
        (
            {"type": "Polygon", "coordinates": [[[4.47, 52.16], [4.47, 52.17], [4.48, 52.17], [4.48, 52.16]]]},
            "same start and end",
        ),
        ({"type": "LineString", "coordinates": [[4.47, 52.16]] * (MAX_VERTICES + 1)}, "more than 2000 positions"),
        ({"type": "FeatureCollection", "features": []}, "features: is empty"),
        (
            {"type": "FeatureCollection", "features": [feature("LineString", CLOSURE, "detour")]},
            "'detour' is not one of",
        ),
        ({"type": "Feature", "geometry": None, "properties": {}}, "a feature needs a geometry"),
    ],
)
def test_bad_geometry_is_refused_naming_the_problem(settings, value, expected):
    assert expected in problem(value, settings)


def test_the_error_says_where_in_a_collection(settings):
    value = {
        "type": "FeatureCollection",
        "features": [feature("LineString", CLOSURE), feature("LineString", [[4.47, 52.16], [52.17, 4.47]])],
    }
    assert problem(value, settings).startswith("features[1].geometry.coordinates[1]: [52.17, 4.47] looks like")


def test_huge_text_is_refused_before_parsing(settings):
    assert "characters long" in problem(" " * 10 + "[" * 600_000, settings)


def test_a_notice_keeps_its_geometry_and_a_change_can_remove_it(ctx):
    notice = add_notice(ctx, geometry={"type": "LineString", "coordinates": CLOSURE})
    stored = reload(ctx, notice.uid)
    assert stored.geometry["features"][0]["properties"]["role"] == "closure"
    current = store.fields_of(stored)
    for nothing in (None, ""):
        changed = parse_changes({"geometry": nothing}, current=current, settings=ctx.settings, now=ctx.clock.now())
        assert changed.geometry is None
    untouched = parse_changes(
        {"title": "Plesmanlaan still closed"}, current=current, settings=ctx.settings, now=ctx.clock.now()
    )
    assert untouched.geometry == stored.geometry


def test_a_notice_without_geometry_shows_its_locations_shapes(ctx):
    notice = add_notice(ctx, locations=["plesmanlaan", "gorlaeus"])
    collection = features_of(notice, ctx.settings)
    assert [item["properties"]["location"] for item in collection["features"]] == ["plesmanlaan", "gorlaeus"]
    assert {item["properties"]["role"] for item in collection["features"]} == {"place"}
    assert collection["features"][0]["properties"]["uid"] == notice.uid
    assert collection["features"][0]["geometry"] == ctx.settings.location_geometries["plesmanlaan"]
    FeatureCollection.model_validate(collection)


def test_its_own_shapes_replace_its_locations_and_carry_the_notice(ctx):
    notice = add_notice(ctx, severity="critical", geometry={"type": "LineString", "coordinates": CLOSURE})
    collection = features_of(notice, ctx.settings)
    assert len(collection["features"]) == 1
    assert collection["features"][0]["properties"] == {
        "uid": notice.uid,
        "title": notice.title,
        "category": "road-closure",
        "severity": "critical",
        "role": "closure",
    }


def test_a_stored_geometry_from_before_the_checks_falls_back_to_the_locations(ctx):
    notice = add_notice(ctx)
    notice.geometry = {"type": "Polygon", "coordinates": "rubbish"}
    assert [item["properties"]["role"] for item in features_of(notice, ctx.settings)["features"]] == ["place"]
