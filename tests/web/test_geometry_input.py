"""Geometry through the JSON API and the console form: round-trips, clear errors, nothing stored when bad."""

import json

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import func, select

from notices.cli import cli
from notices.core.models import Notice
from tests.factories import add_notice, add_token, add_user, reload
from tests.web.test_console import csrf_of, log_in

CLOSURE = {"type": "LineString", "coordinates": [[4.4745, 52.1692], [4.47, 52.17], [4.465, 52.1707]]}
DIVERSION = {"type": "LineString", "coordinates": [[4.4745, 52.1692], [4.4741, 52.1741], [4.465, 52.1707]]}
COLLECTION = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "geometry": CLOSURE, "properties": {"role": "closure"}},
        {"type": "Feature", "geometry": DIVERSION, "properties": {"role": "diversion"}},
    ],
}
NEW = {"title": "Plesmanlaan closed", "category": "road-closure", "starts_at": "2026-12-01T07:00"}


def count_notices(ctx) -> int:
    with ctx.db.session() as session:
        return session.scalar(select(func.count()).select_from(Notice))


@pytest.fixture
def auth(ctx):
    add_user(ctx, "manager@example.org")
    return {"Authorization": f"Bearer {add_token(ctx, 'manager@example.org')}"}


def test_the_api_takes_and_gives_the_geometry(ctx, client, auth):
    created = client.post("/api/v1/notices", json={**NEW, "geometry": COLLECTION}, headers=auth)
    assert created.status_code == 201, created.text
    uid = created.json()["uid"]
    assert client.get(f"/api/v1/notices/{uid}").json()["geometry"] == COLLECTION
    moved = {"type": "LineString", "coordinates": [[4.4745, 52.1692], [4.4700, 52.1700]]}
    changed = client.patch(f"/api/v1/notices/{uid}", json={"geometry": moved, "note": "shorter"}, headers=auth)
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    assert changed.json()["geometry"]["features"][0]["geometry"] == moved
    cleared = client.patch(f"/api/v1/notices/{uid}", json={"geometry": None, "note": "no shape"}, headers=auth)
    assert (cleared.json()["version"], cleared.json()["geometry"]) == (3, None)


@pytest.mark.parametrize(
    ("geometry", "expected"),
    [
        ({"type": "Point", "coordinates": [52.1663, 4.4817]}, "looks like [latitude, longitude]"),
        ({"type": "Point", "coordinates": [4.4817, 95]}, "latitude 95 is outside -90..90"),
        (
            {
                "type": "Polygon",
                "coordinates": [[[4.47, 52.16], [4.48, 52.17], [4.48, 52.16], [4.47, 52.17], [4.47, 52.16]]],
            },
            "crosses itself",
        ),
        ({"type": "Hexagon"}, "not a supported geometry type"),
        ({"type": "LineString", "coordinates": [[4.47, 52.16]] * 2001}, "more than 2000 positions"),
    ],
)
def test_the_api_answers_422_naming_the_field(ctx, client, auth, geometry, expected):
    response = client.post("/api/v1/notices", json={**NEW, "geometry": geometry}, headers=auth)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "geometry"
    assert expected in response.json()["error"]["message"]
    assert count_notices(ctx) == 0


def test_a_bad_change_of_the_geometry_writes_nothing(ctx, client, auth):
    notice = add_notice(ctx, geometry=CLOSURE)
    bad = client.patch(
        f"/api/v1/notices/{notice.uid}",
        json={"geometry": {"type": "Point", "coordinates": [200, 52]}, "note": "oops"},
        headers=auth,
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "geometry"
    stored = reload(ctx, notice.uid)
    assert (stored.version, stored.geometry) == (1, notice.geometry)


@pytest.fixture
def manager(app, ctx):
    add_user(ctx, "manager@example.org")
    with TestClient(app) as client:
        assert log_in(client).status_code == 303
        yield client


def form_data(page, **extra):
    return {
        "csrf_token": csrf_of(page),
        "action": "publish",
        "title": "Plesmanlaan closed",
        "category": "road-closure",
        "severity": "major",
        "starts_at": "2026-12-01 07:00",
        **extra,
    }


def test_the_console_form_stores_pasted_geojson_and_shows_it_again(ctx, manager):
    page = manager.get("/admin/notices/new")
    created = manager.post(
        "/admin/notices", data=form_data(page, geometry=json.dumps(COLLECTION)), follow_redirects=False
    )
    assert created.status_code == 303
    edit = manager.get(created.headers["location"])
    shown = etree.HTML(edit.text).xpath('//textarea[@name="geometry"]/text()')
    assert json.loads(shown[0]) == COLLECTION


def test_a_bad_shape_on_the_form_is_shown_with_the_users_text_and_nothing_is_written(ctx, manager):
    page = manager.get("/admin/notices/new")
    pasted = '{"type": "LineString", "coordinates": [[52.1692, 4.4745], [52.17, 4.47]]}'
    response = manager.post("/admin/notices", data=form_data(page, geometry=pasted))
    assert response.status_code == 400
    html = etree.HTML(response.text)
    alert = "".join(html.xpath('//*[@role="alert"]//text()'))
    assert "geometry" in alert and "looks like [latitude, longitude]" in alert
    textarea = html.xpath('//textarea[@name="geometry"]')[0]
    assert textarea.text == pasted and textarea.get("aria-invalid") == "true"
    assert count_notices(ctx) == 0


def test_an_edit_of_the_shape_on_the_form_bumps_the_version(ctx, manager):
    notice = add_notice(ctx)
    page = manager.get(f"/admin/notices/{notice.uid}")
    data = form_data(page, geometry=json.dumps(CLOSURE), note="closed stretch drawn", locations=["plesmanlaan"])
    data.pop("action")
    data.update(starts_at=etree.HTML(page.text).xpath('//input[@name="starts_at"]/@value')[0])
    data.update(ends_at=etree.HTML(page.text).xpath('//input[@name="ends_at"]/@value')[0])
    saved = manager.post(f"/admin/notices/{notice.uid}", data=data, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    stored = reload(ctx, notice.uid)
    assert stored.version == 2 and stored.geometry["features"][0]["geometry"] == CLOSURE


def test_a_closure_sent_to_the_api_round_trips_through_every_output(ctx, client, auth):
    created = client.post(
        "/api/v1/notices", json={**NEW, "starts_at": "now", "geometry": COLLECTION}, headers=auth
    ).json()
    uid = created["uid"]
    shown = CliRunner().invoke(cli, ["notice", "show", uid, "--json"], obj=ctx, catch_exceptions=False)
    assert json.loads(shown.output)["geometry"] == COLLECTION
    features = client.get("/feeds/notices.geojson").json()["features"]
    assert [(f["geometry"], f["properties"]["role"]) for f in features] == [
        (CLOSURE, "closure"),
        (DIVERSION, "diversion"),
    ]
    cap = etree.fromstring(client.get(f"/cap/{uid}.xml").content)
    polygons = cap.findall(".//{urn:oasis:names:tc:emergency:cap:1.2}polygon")
    assert len(polygons) == 2  # one per language: the closure's band (the diversion is not the area)
    (incident,) = client.get("/feeds/closures.json").json()["incidents"]
    assert incident["id"] == uid
    pairs = [float(number) for number in incident["polyline"].split()]
    assert [[lon, lat] for lat, lon in zip(pairs[::2], pairs[1::2], strict=True)] == CLOSURE["coordinates"]
