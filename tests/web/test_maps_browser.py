"""The maps in a real browser (Debian's chromium via Playwright): the home page, a notice page and the
console's drawing tools, with tiles from a local tile server or none at all."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree
from playwright.sync_api import expect

from tests.factories import add_notice, add_user
from tests.map_samples import CLOSURE_WITH_DIVERSION, WORKS_AREA, TileServer, feature_collection, store_geometry

CAP_SCHEMA = etree.XMLSchema(etree.parse(str(Path(__file__).parents[1] / "feeds" / "schemas" / "CAP-v1.2.xsd")))
# Screenshots for a person to look at (var/ is not committed).
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"
SHAPES = ".leaflet-overlay-pane path.notice-shape"


@pytest.fixture
def tiles():
    with TileServer() as tile_server:
        yield tile_server


@pytest.fixture
def tile_url(tiles) -> str:
    return tiles.tile_url


@pytest.fixture
def settings(settings, tile_url):
    return dataclasses.replace(settings, map_tile_url=tile_url, map_attribution="Test tiles")


@pytest.fixture
def watched(page, server, tile_url):
    """The page, with every request outside the site and the tile server refused and recorded, and
    console errors, script errors and Content-Security-Policy violations recorded."""
    tile_origin = tile_url.split("/{z}")[0] if tile_url else None
    seen = {"elsewhere": [], "errors": []}

    def only_site_and_tiles(route):
        url = route.request.url
        if url.startswith(server + "/") or (tile_origin and url.startswith(tile_origin + "/")):
            route.continue_()
        else:
            seen["elsewhere"].append(url)
            route.abort()

    page.route("**/*", only_site_and_tiles)
    page.on("console", lambda message: message.type == "error" and seen["errors"].append(message.text))
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    page.add_init_script(
        "window.cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', e => window.cspViolations.push("
        "e.violatedDirective + ' ' + e.blockedURI));"
    )
    page.seen = seen
    return page


def assert_clean(page) -> None:
    assert page.seen["elsewhere"] == []
    assert page.seen["errors"] == []
    assert page.evaluate("window.cspViolations") == []


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def log_in(page, email="manager@example.org", password="correct horse battery") -> None:
    page.goto("/admin/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def roles_drawn(page) -> list[str]:
    return sorted(
        page.locator(SHAPES).evaluate_all(
            "paths => paths.map(p => [...p.classList].find(c => c.startsWith('role-')).slice(5))"
        )
    )


def closure_and_works(ctx, clock):
    closure = add_notice(ctx, title="Plesmanlaan closed between Sylviusweg and Einsteinweg", starts_at=clock.now())
    store_geometry(ctx, closure.uid, CLOSURE_WITH_DIVERSION)
    works = add_notice(
        ctx,
        title="Works at the Gorlaeus building",
        category="construction",
        severity="minor",
        locations=["gorlaeus"],
        starts_at=clock.now() + timedelta(days=2),
    )
    store_geometry(ctx, works.uid, feature_collection((WORKS_AREA, "area")))
    return closure, works


def test_the_home_and_notice_pages_show_the_closure_in_red_and_the_diversion(ctx, clock, watched, tiles):
    closure, _ = closure_and_works(ctx, clock)
    watched.goto("/")
    expect(watched.locator(SHAPES)).to_have_count(3)
    assert roles_drawn(watched) == ["area", "closure", "diversion"]
    assert watched.locator(f"{SHAPES}.role-closure").get_attribute("stroke") == "#d7191c"
    assert watched.locator(f"{SHAPES}.role-area").get_attribute("stroke") != "#d7191c"  # the severity's colour
    expect(watched.locator(".map-legend")).to_contain_text("Closed road")
    expect(watched.locator(".leaflet-control-attribution")).to_contain_text("Test tiles")
    expect(watched.locator("img.leaflet-tile-loaded").first).to_be_visible()
    # The list stays under the map.
    expect(watched.get_by_role("link", name="Works at the Gorlaeus building")).to_be_visible()
    screenshot(watched, "map-home.png")
    # A shape's popup leads to its notice.
    watched.locator(f"{SHAPES}.role-closure").click()
    watched.locator(".leaflet-popup").get_by_role("link", name="Read the notice").click()
    expect(watched).to_have_url(f"{watched.url.split('/notices/')[0]}/notices/{closure.uid}")

    watched.goto(f"/notices/{closure.uid}#map")
    expect(watched.locator(SHAPES)).to_have_count(2)
    assert roles_drawn(watched) == ["closure", "diversion"]
    assert watched.locator(f"{SHAPES}.role-diversion").get_attribute("stroke-dasharray")
    expect(watched.locator("#map")).to_be_in_viewport()
    screenshot(watched, "map-notice.png")
    assert tiles.requested and all(path.endswith(".png") for path in tiles.requested)
    assert_clean(watched)


def test_a_tenant_sees_the_demo_plesmanlaan_closure_and_its_diversion(ctx, clock, watched):
    from notices.notice import lifecycle, store
    from notices.runtime.demo import load_demo
    from notices.web.maps import notice_features

    with ctx.db.session() as session, session.begin():
        load_demo(session, ctx.settings, clock.now())
    with ctx.db.session() as session:
        visible = store.visible_notices(session, clock.now())
        expected = [f["properties"]["role"] for notice in visible for f in notice_features(notice, ctx.settings)]
        (plesmanlaan,) = [n for n in visible if n.title == "Plesmanlaan closed between Sylviusweg and Einsteinweg"]
        assert lifecycle.status_at(plesmanlaan, clock.now()) == "active"
    watched.goto("/")
    expect(watched.locator(SHAPES)).to_have_count(len(expected))
    assert roles_drawn(watched) == sorted(expected)
    screenshot(watched, "map-demo-home.png")
    watched.goto(f"/notices/{plesmanlaan.uid}#map")
    expect(watched.locator(SHAPES)).to_have_count(2)
    assert roles_drawn(watched) == ["closure", "diversion"]
    # The closure is drawn last, over the diversion that starts where it starts.
    assert "role-closure" in watched.locator(SHAPES).last.get_attribute("class").split()
    screenshot(watched, "map-demo-plesmanlaan.png")
    assert_clean(watched)


@pytest.mark.parametrize("tile_url", [""])
def test_without_a_tile_server_the_map_still_shows_the_outlines(ctx, clock, watched):
    closure, _ = closure_and_works(ctx, clock)
    watched.goto(f"/notices/{closure.uid}")
    expect(watched.locator(SHAPES)).to_have_count(2)
    assert watched.locator("img.leaflet-tile").count() == 0
    watched.goto("/")
    expect(watched.locator(SHAPES)).to_have_count(3)
    screenshot(watched, "map-home-no-tiles.png")
    assert_clean(watched)


def test_a_manager_draws_the_closure_and_the_diversion_saves_and_the_geometry_round_trips(ctx, clock, watched):
    add_user(ctx, "manager@example.org", password="correct horse battery")
    log_in(watched)
    watched.goto("/admin/notices/new")
    watched.get_by_label("Title").fill("Plesmanlaan closed between Sylviusweg and Einsteinweg")
    watched.get_by_label("Category").select_option("road-closure")
    watched.get_by_label("Severity").select_option("major")
    watched.get_by_label("Starts").fill("+10m")
    # The configured places are drawn in grey for orientation, not as shapes of the notice.
    expect(watched.locator("path.map-guide")).to_have_count(len(ctx.settings.location_geometries))
    expect(watched.locator(".map-guide-label", has_text="Plesmanlaan")).to_be_visible()

    def draw_line(*points):
        watched.locator(".leaflet-pm-icon-polyline").click()
        box = watched.locator(".map-editor").bounding_box()  # in the viewport, as mouse clicks are
        for x, y in points:
            watched.mouse.click(box["x"] + x * box["width"], box["y"] + y * box["height"])
        watched.locator(".leaflet-pm-actions-container:visible").get_by_text("Finish").click()

    draw_line((0.3, 0.5), (0.5, 0.45), (0.7, 0.4))
    watched.get_by_label("the diversion").check()
    draw_line((0.3, 0.5), (0.4, 0.7), (0.7, 0.4))
    expect(watched.locator(SHAPES)).to_have_count(2)
    assert roles_drawn(watched) == ["closure", "diversion"]

    drawn = json.loads(watched.get_by_label("Map shapes").input_value())
    assert [(f["geometry"]["type"], f["properties"]["role"]) for f in drawn["features"]] == [
        ("LineString", "closure"),
        ("LineString", "diversion"),
    ]
    west, south, east, north = ctx.settings.map_bounds
    for feature in drawn["features"]:
        assert len(feature["geometry"]["coordinates"]) == 3
        for lon, lat in feature["geometry"]["coordinates"]:  # longitude first, inside the site
            assert west <= lon <= east and south <= lat <= north
    # The preview of the public page (a sandboxed frame, no scripts) shows the drawing as an outline.
    preview = watched.frame_locator("#preview-page")
    expect(preview.locator("svg.map-sketch .sketch-shape")).to_have_count(2)
    expect(preview.locator("svg.map-sketch .role-closure")).to_have_attribute("stroke", "#d7191c")
    screenshot(watched, "map-form.png")

    watched.get_by_role("button", name="Publish now").click()
    expect(watched.get_by_role("status")).to_have_text("Saved.")
    uid = watched.url.split("/admin/notices/")[1].split("?")[0]
    stored = watched.request.get(f"/api/v1/notices/{uid}").json()["geometry"]
    assert stored == drawn
    shown = subprocess.run(
        [str(Path(sys.executable).parent / "notices"), "notice", "show", uid, "--json"],
        env={**os.environ, "NOTICES_DATABASE_URL": ctx.settings.database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(shown.stdout)["geometry"] == drawn
    # ... and every output with shapes: the GeoJSON feed, CAP (valid against the schema), the closure feed.
    closure, diversion = (feature["geometry"] for feature in drawn["features"])
    features = watched.request.get("/feeds/notices.geojson").json()["features"]
    assert [(f["geometry"], f["properties"]["role"], f["properties"]["uid"]) for f in features] == [
        (closure, "closure", uid),
        (diversion, "diversion", uid),
    ]
    cap = etree.fromstring(watched.request.get(f"/cap/{uid}.xml").body())
    CAP_SCHEMA.assertValid(cap)
    assert cap.findall(".//{urn:oasis:names:tc:emergency:cap:1.2}polygon")  # the closed stretch, as an area
    (incident,) = watched.request.get("/feeds/closures.json").json()["incidents"]
    assert (incident["id"], incident["type"]) == (uid, "ROAD_CLOSED")
    numbers = [float(number) for number in incident["polyline"].split()]  # CIFS: "lat lon lat lon ..."
    assert [[lon, lat] for lat, lon in zip(numbers[::2], numbers[1::2], strict=True)] == closure["coordinates"]
    # Opened again, the form's map holds the saved shapes, ready to edit.
    watched.reload()
    expect(watched.locator(SHAPES)).to_have_count(2)
    assert json.loads(watched.get_by_label("Map shapes").input_value()) == drawn
    assert_clean(watched)


def test_without_javascript_the_pages_show_the_outline_and_the_form_takes_geojson(ctx, clock, page, server):
    closure, _ = closure_and_works(ctx, clock)
    add_user(ctx, "manager@example.org", password="correct horse battery")
    context = page.context.browser.new_context(base_url=server, java_script_enabled=False)
    plain = context.new_page()
    plain.goto("/")
    expect(plain.locator("svg.map-sketch .sketch-shape")).to_have_count(3)
    expect(plain.get_by_role("link", name="Works at the Gorlaeus building")).to_be_visible()
    plain.goto(f"/notices/{closure.uid}#map")
    expect(plain.locator("svg.map-sketch .sketch-shape")).to_have_count(2)
    expect(plain.locator("svg.map-sketch .role-closure")).to_be_visible()
    screenshot(plain, "map-notice-no-javascript.png")
    log_in(plain)
    plain.goto("/admin/notices/new")
    expect(plain.locator(".map-editor")).to_be_hidden()  # nothing to draw with: no empty box either
    expect(plain.get_by_label("Map shapes")).to_be_editable()
    context.close()
