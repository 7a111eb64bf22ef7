"""[map] and the shapes of [locations]: real coordinates, checked when the configuration loads."""

from pathlib import Path

import pytest
from shapely.geometry import box, shape

from notices.core.config import DEFAULT_TILE_URL, ConfigError, load_settings

LEIDEN_CENTRAAL = (4.4817, 52.1663)


def write(tmp_path: Path, text: str) -> dict[str, str]:
    config = tmp_path / "notices.toml"
    config.write_text('[categories]\na = "A"\n' + text, encoding="utf-8")
    return {"NOTICES_CONFIG": str(config)}


def test_every_shipped_location_has_a_shape_inside_the_site():
    settings = load_settings({})
    assert set(settings.location_geometries) == set(settings.locations)
    site = box(*settings.map_bounds)
    for key, geometry in settings.location_geometries.items():
        assert site.contains(shape(geometry)), key
    station = shape(settings.location_geometries["station-leiden-centraal"])
    assert station.distance(shape({"type": "Point", "coordinates": LEIDEN_CENTRAAL})) < 0.001
    # The Plesmanlaan runs east-west north of the LUMC campus.
    road, campus = shape(settings.location_geometries["plesmanlaan"]), shape(settings.location_geometries["lumc"])
    assert road.bounds[2] - road.bounds[0] > 3 * (road.bounds[3] - road.bounds[1])
    assert road.centroid.y > campus.bounds[3]


def test_map_defaults_and_overrides():
    settings = load_settings({})
    assert settings.map_tile_url == DEFAULT_TILE_URL
    assert "openstreetmap.org/copyright" in settings.map_attribution
    assert settings.map_bounds == (4.44, 52.14, 4.51, 52.18)
    assert load_settings({"NOTICES_MAP_TILE_URL": ""}).map_tile_url == ""
    tiles = "https://tiles.example.org/{z}/{x}/{y}.png"
    assert load_settings({"NOTICES_MAP_TILE_URL": tiles}).map_tile_url == tiles


def test_labels_and_shapes_live_side_by_side(tmp_path):
    settings = load_settings(
        write(
            tmp_path,
            '[locations.hall]\nen = "Hall"\nnl = "Hal"\n'
            '[locations.hall.geometry]\ntype = "Point"\ncoordinates = [4.47, 52.16]\n',
        )
    )
    assert settings.locations == {"hall": "Hall"}
    assert settings.label("locations", "hall", "nl") == "Hal"
    assert settings.location_geometries["hall"] == {"type": "Point", "coordinates": [4.47, 52.16]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[locations.hall]\nen = "Hall"\n[locations.hall.geometry]\ntype = "Point"\ncoordinates = [52.16, 4.47]\n',
            r"locations\.hall\.geometry\.coordinates: \[52\.16, 4\.47\] looks like \[latitude, longitude\]",
        ),
        (
            '[locations.hall]\nen = "Hall"\n[locations.hall.geometry]\ntype = "Polygon"\n'
            "coordinates = [[[4.47, 52.16], [4.48, 52.17], [4.48, 52.16], [4.47, 52.17], [4.47, 52.16]]]\n",
            r"locations\.hall\.geometry\.coordinates: the polygon's outline crosses itself",
        ),
        (
            '[locations.hall]\nen = "Hall"\ngeometry = "somewhere"\n',
            r"locations\.hall\.geometry: must be a GeoJSON geometry object",
        ),
        ('[locations]\na = "A"\n[map]\nbounds = [4.51, 52.14, 4.44, 52.18]\n', r"map\.bounds: must be \[west"),
        ('[locations]\na = "A"\n[map]\nbounds = "Leiden"\n', r"map\.bounds"),
        ('[locations]\na = "A"\n[map]\ntile_url = "tiles.example.org"\n', r"map\.tile_url"),
        ('[locations]\na = "A"\n[map]\ntile_url = "https://tiles.example.org/x.png"\n', r"\{z\}, \{x\} and \{y\}"),
    ],
)
def test_bad_map_settings_stop_start_up_naming_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(write(tmp_path, text))
