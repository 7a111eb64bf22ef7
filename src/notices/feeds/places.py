"""Where a notice is, in the small forms feeds carry: a GeoRSS Simple shape and a single point.

GeoRSS Simple allows one shape per entry and iCalendar one GEO point per event: both take the
notice's first shape that marks the affected place (a diversion is where traffic goes instead).
"""

from __future__ import annotations

from typing import Any

from notices.core.config import Settings
from notices.core.shapes import representative_point
from notices.notice.geometry import Placed, shapes_of

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
    for feature in shapes_of(notice, settings):
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
    if not notice.geometry:
        # Most notices: the first of their locations that has a shape (main_shape's choice, without
        # the features), whose point is found once per settings.
        location = next((key for key in notice.locations or () if key in settings.location_geometries), None)
        if location is None:
            return None
        longitude, latitude = settings.location_points[location]
        return latitude, longitude
    geometry = main_shape(notice, settings)
    if geometry is None:
        return None
    # A location's shape (not one of the notice's own): its point is found once per settings.
    location = next((key for key in notice.locations or () if settings.location_geometries.get(key) is geometry), None)
    longitude, latitude = settings.location_points[location] if location else representative_point(geometry)
    return latitude, longitude
