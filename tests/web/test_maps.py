"""The maps as the server sends them: the outline without JavaScript, the data block map.js reads,
the library files served from this site, and the Content-Security-Policy that admits the tiles."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from notices.web import create_app
from tests.factories import add_notice
from tests.map_samples import CLOSURE_WITH_DIVERSION, WORKS_AREA, feature_collection, store_geometry


def html(response) -> etree._Element:
    assert response.status_code == 200
    return etree.HTML(response.text)


def sketch_shapes(page) -> list[etree._Element]:
    return page.xpath("//*[local-name()='svg'][@class='map-sketch']/*[contains(@class, 'sketch-shape')]")


def data_block(page) -> dict:
    (block,) = page.xpath("//script[@type='application/geo+json']")
    return json.loads(block.text)


@pytest.fixture
def closure(ctx, clock):
    notice = add_notice(ctx, title="Plesmanlaan closed", starts_at=clock.now())
    store_geometry(ctx, notice.uid, CLOSURE_WITH_DIVERSION)
    return notice


def test_without_javascript_the_notice_page_shows_the_closure_and_diversion_as_an_outline(client, closure):
    page = html(client.get(f"/notices/{closure.uid}"))
    shapes = sketch_shapes(page)
    # The closure is drawn last: over the diversion where they meet.
    assert [shape.get("class") for shape in shapes] == ["sketch-shape role-diversion", "sketch-shape role-closure"]
    assert shapes[1].get("stroke") == "#d7191c" and shapes[1].get("fill") == "none"
    assert shapes[0].get("stroke-dasharray")
    assert page.xpath("//section[@id='map']//h2/text()") == ["Map"]  # what emails link to: /notices/<uid>#map


def test_the_home_page_map_holds_every_shape_of_the_listed_notices(ctx, clock, client, closure):
    works = add_notice(ctx, title="Gorlaeus works", category="construction", severity="minor", starts_at=clock.now())
    store_geometry(ctx, works.uid, feature_collection((WORKS_AREA, "area")))
    add_notice(ctx, title="No place drawn", locations=[], starts_at=clock.now())
    page = html(client.get("/"))
    features = data_block(page)["features"]
    assert sorted((f["properties"]["title"], f["properties"]["role"]) for f in features) == [
        ("Gorlaeus works", "area"),
        ("Plesmanlaan closed", "closure"),
        ("Plesmanlaan closed", "diversion"),
    ]
    assert {f["properties"]["url"] for f in features} == {f"/notices/{closure.uid}", f"/notices/{works.uid}"}
    assert len(sketch_shapes(page)) == 3
    (area,) = [shape for shape in sketch_shapes(page) if "role-area" in shape.get("class")]
    assert area.get("d").endswith("Z") and area.get("fill") != "none"  # a polygon, filled
    # The list is still there, map or not.
    assert len(page.xpath("//article[@class='notice']")) == 3


def test_a_notice_without_a_place_on_the_map_has_no_map(client, ctx, clock):
    notice = add_notice(ctx, locations=[], starts_at=clock.now())
    for path in ("/", f"/notices/{notice.uid}"):
        page = html(client.get(path))
        assert not page.xpath("//*[@id='map']") and not page.xpath("//script[contains(@src, 'leaflet')]")


def test_notice_text_cannot_break_out_of_the_map_data(ctx, client, closure):
    from sqlalchemy import update

    from notices.core.models import Notice

    hostile = "</script><script>alert(1)</script> & <!-- \u2028"
    with ctx.db.session() as session, session.begin():
        session.execute(update(Notice).where(Notice.uid == closure.uid).values(title=hostile))
    response = client.get(f"/notices/{closure.uid}")
    assert "<script>alert(1)" not in response.text
    page = html(response)
    assert {f["properties"]["title"] for f in data_block(page)["features"]} == {hostile}
    assert [script.get("src") for script in page.xpath("//script[not(@type)]")] == [
        "/static/leaflet/leaflet.js",
        "/static/map.js",
    ]


@pytest.mark.parametrize(
    "damage",
    [
        {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "LineString"}}]},
        {"type": "FeatureCollection", "features": [{"geometry": {"type": "Point", "coordinates": ["x", None]}}]},
        {"type": "FeatureCollection", "features": "not a list"},
        {"type": "LineString", "coordinates": [[400.0, 52.16], [4.47, 52.17]]},
        ["not", "an", "object"],
    ],
)
def test_a_damaged_stored_geometry_leaves_the_page_readable_with_the_locations_shape(ctx, client, closure, damage):
    store_geometry(ctx, closure.uid, damage)  # as a row from before input was checked might be
    page = html(client.get(f"/notices/{closure.uid}"))
    assert page.xpath("//h1/text()") == ["Plesmanlaan closed"]
    # The Plesmanlaan's own line from the configuration stands in.
    assert [shape.get("class") for shape in sketch_shapes(page)] == ["sketch-shape role-place"]
    assert [f["properties"]["location"] for f in data_block(page)["features"]] == ["plesmanlaan"]
    assert html(client.get("/")).xpath("//h2/a/text()") == ["Plesmanlaan closed"]


def test_a_notice_without_its_own_shapes_shows_its_locations(ctx, client, clock):
    notice = add_notice(ctx, title="Both roads", locations=["plesmanlaan", "gorlaeus"], starts_at=clock.now())
    page = html(client.get(f"/notices/{notice.uid}"))
    features = data_block(page)["features"]
    assert sorted(f["properties"]["location"] for f in features) == ["gorlaeus", "plesmanlaan"]
    assert {f["properties"]["role"] for f in features} == {"place"}
    assert len(sketch_shapes(page)) == 2


def test_the_map_library_and_drawing_tools_are_served_from_this_site(client, closure):
    loaded = []
    for path in ("/", f"/notices/{closure.uid}"):
        page = html(client.get(path))
        loaded += page.xpath("//script/@src | //link[@rel='stylesheet']/@href")
    assert "/static/leaflet/leaflet.js" in loaded and "/static/leaflet/leaflet.css" in loaded
    for url in {*loaded, "/static/leaflet-geoman/leaflet-geoman.min.js", "/static/leaflet-geoman/leaflet-geoman.css"}:
        assert not urlsplit(url).netloc, url
        assert client.get(url).status_code == 200, url


def test_the_policy_admits_images_from_an_http_tile_server_and_nothing_else_new(ctx):
    def policy(tile_url: str) -> str:
        settings = dataclasses.replace(ctx.settings, map_tile_url=tile_url)
        with TestClient(create_app(settings, ctx=dataclasses.replace(ctx, settings=settings))) as client:
            return client.get("/").headers["content-security-policy"]

    default = policy("https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    assert "img-src 'self' data: https:;" in default and "script-src 'self';" in default
    assert "img-src 'self' data: https: http://tiles.intranet:8080;" in policy(
        "http://tiles.intranet:8080/{z}/{x}/{y}.png"
    )
    assert "img-src 'self' data: https: http://*.tiles.intranet;" in policy("http://{s}.tiles.intranet/{z}/{x}/{y}.png")
    # Nothing from a tile URL that would add a directive of its own.
    assert policy("http://evil; script-src *;/{z}/{x}/{y}.png") == default
    assert policy("") == default


def test_the_map_settings_travel_as_data_attributes(ctx, closure):
    settings = dataclasses.replace(ctx.settings, map_tile_url="", map_attribution="Our own tiles")
    with TestClient(create_app(settings, ctx=dataclasses.replace(ctx, settings=settings))) as client:
        (box,) = html(client.get(f"/notices/{closure.uid}")).xpath("//div[@data-map]")
    assert box.get("data-map") == "notice"
    assert box.get("data-tile-url") == ""  # map.js then draws the outlines on a plain background
    assert box.get("data-attribution") == "Our own tiles"
    assert json.loads(box.get("data-bounds")) == list(settings.map_bounds)
    assert json.loads(box.get("data-styles"))["roles"]["closure"]["color"] == "#d7191c"


def test_the_map_legend_and_labels_are_in_the_pages_language(client, closure):
    for language, closed, legend, major in (
        ("en", "Closed road", "Legend", "major"),
        ("nl", "Afgesloten weg", "Legenda", "groot"),
    ):
        (box,) = html(client.get(f"/notices/{closure.uid}?lang={language}")).xpath("//div[@data-map]")
        styles = json.loads(box.get("data-styles"))
        assert (styles["labels"]["closure"], styles["labels"]["legend"]) == (closed, legend)
        assert styles["severity_labels"]["major"] == major


def test_the_console_form_has_the_drawing_map_and_a_geometry_field_that_works_without_it(client, ctx):
    from tests.factories import add_user
    from tests.web.test_console import log_in

    add_user(ctx, "manager@example.org")
    assert log_in(client).status_code == 303
    page = html(client.get("/admin/notices/new"))
    (box,) = page.xpath("//div[@data-map='editor']")
    assert box.get("data-input") == "geometry"
    (field,) = page.xpath("//form[@id='notice-form']//textarea[@name='geometry']")
    assert field.get("id") == "geometry" and field.get("hidden") is None and field.get("readonly") is None
    assert page.xpath("//label[@for='geometry']")
    assert "/static/leaflet-geoman/leaflet-geoman.min.js" in page.xpath("//script/@src")


def test_the_outline_keeps_its_shape_for_a_point_or_a_single_spot(ctx, client, clock):
    notice = add_notice(ctx, title="Gate closed", starts_at=clock.now() + timedelta(hours=1))
    store_geometry(ctx, notice.uid, feature_collection(({"type": "Point", "coordinates": [4.47, 52.165]}, "closure")))
    (shape,) = sketch_shapes(html(client.get(f"/notices/{notice.uid}")))
    assert shape.tag.endswith("circle")
    assert 0 < float(shape.get("cx")) < 640
