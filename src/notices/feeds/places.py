"""Where a notice is, in the small forms feeds carry: a GeoRSS Simple shape and a single point.

GeoRSS Simple allows one shape per entry and iCalendar one GEO point per event: both take the
notice's first shape that marks the affected place (a diversion is where traffic goes instead).
"""

from __future__ import annotations

from typing import Any

from notices.core.config import Settings
from notices.core.shapes import representative_point
from notices.notice.geometry import Placed, features_of

# GeoRSS element for each GeoJSON type (multi-part shapes give their first part).
GEORSS_KINDS = {
    "Point": "point",
    "LineString": "line",
    "MultiLineString": "line",
    "Polygon": "polygon",
    "MultiPolygon": "polygon",
}


def main_shape(notice: Placed, settings: Settings) -> dict[str, Any] | None:
    """The first shape of the notice that is not a diversion, or None."""
    for feature in features_of(notice, settings)["features"]:
        if feature["properties"].get("role") != "diversion":
            geometry: dict[str, Any] = feature["geometry"]
            return geometry
    return None


def georss(notice: Placed, settings: Settings) -> tuple[str, str] | None:
    """(element, text) for GeoRSS Simple, e.g. ("line", "52.1692 4.4745 52.17 4.47"): latitude first."""
    geometry = main_shape(notice, settings)
    if geometry is None:
        return None
    kind, coordinates = geometry["type"], geometry["coordinates"]
    if kind == "Point":
        positions = [coordinates]
    elif kind == "LineString":
        positions = coordinates
    elif kind in ("MultiLineString", "Polygon"):
        positions = coordinates[0]  # the first line; a polygon's outline
    else:
        positions = coordinates[0][0]
    return GEORSS_KINDS[kind], " ".join(f"{lat:g} {lon:g}" for lon, lat in positions)


def geo_point(notice: Placed, settings: Settings) -> tuple[float, float] | None:
    """(latitude, longitude) of a point on the notice's place, for iCalendar's GEO."""
    geometry = main_shape(notice, settings)
    if geometry is None:
        return None
    named = any(settings.location_geometries.get(key) is geometry for key in notice.locations or ())
    longitude, latitude = _location_point(geometry) if named else representative_point(geometry)
    return latitude, longitude


# The point of each configured location's shape, found once: most notices name a location rather
# than draw a shape, and finding a point on a shape (shapely) cost a tenth of a calendar render.
# Keyed by the shape's identity (the settings keep each shape for the life of the process; the
# entry keeps it too, so its id is not reused), and emptied when full, for processes (tests)
# that load settings many times.
_LOCATION_POINTS: dict[int, tuple[dict[str, Any], tuple[float, float]]] = {}
_LOCATION_POINTS_KEPT = 1024


def _location_point(geometry: dict[str, Any]) -> tuple[float, float]:
    found = _LOCATION_POINTS.get(id(geometry))
    if found is not None and found[0] is geometry:
        return found[1]
    if len(_LOCATION_POINTS) >= _LOCATION_POINTS_KEPT:
        _LOCATION_POINTS.clear()
    point = representative_point(geometry)
    _LOCATION_POINTS[id(geometry)] = (geometry, point)
    return point
