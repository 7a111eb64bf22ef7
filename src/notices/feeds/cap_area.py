"""GeoJSON shapes as CAP 1.2 <area> values: polygons ("lat,lon" pairs) and circles ("lat,lon radius").

CAP has no lines: a closed road becomes a narrow polygon around it (shapely's buffer, computed in
metres on a local flat projection, which is exact enough over a few kilometres). Diversions are
where traffic goes, not the affected area, so they are left out.
"""

from __future__ import annotations

import math
from typing import Any

from shapely import affinity
from shapely.geometry import MultiPolygon, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry

# Half the width of the band drawn around a closed road, and the radius of a point's circle.
LINE_BUFFER_METRES = 15.0
POINT_RADIUS_KM = 0.05
METRES_PER_DEGREE_LATITUDE = 111_320.0


def cap_shapes(features: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(polygons, circles) in CAP's text form for the features that mark the affected area."""
    polygons: list[str] = []
    circles: list[str] = []
    for feature in features:
        if feature["properties"].get("role") == "diversion":
            continue
        geometry = shape(feature["geometry"])
        if isinstance(geometry, Point):
            circles.append(f"{_pair(geometry.x, geometry.y)} {POINT_RADIUS_KM}")
            continue
        if geometry.geom_type in ("LineString", "MultiLineString"):
            geometry = buffered(geometry, LINE_BUFFER_METRES)
        polygons += [_ring(part) for part in _polygons(geometry)]
    return polygons, circles


def buffered(geometry: BaseGeometry, metres: float) -> BaseGeometry:
    """`geometry` widened by `metres` on each side, in degrees again (lon/lat)."""
    centre = geometry.centroid
    # A degree of longitude shrinks with the cosine of the latitude: squash to square metres-ish
    # degrees, buffer, stretch back.
    squash = math.cos(math.radians(centre.y))
    flat = affinity.scale(geometry, xfact=squash, yfact=1.0, origin=centre)
    band = flat.buffer(metres / METRES_PER_DEGREE_LATITUDE, quad_segs=4)
    return affinity.scale(band, xfact=1 / squash, yfact=1.0, origin=centre)


def _polygons(geometry: BaseGeometry) -> list[Polygon]:
    if isinstance(geometry, Polygon):
        return [geometry]
    if isinstance(geometry, MultiPolygon):
        return list(geometry.geoms)
    return []


def _ring(polygon: Polygon) -> str:
    """The outline as CAP wants it: latitude first, the first pair repeated at the end."""
    return " ".join(_pair(x, y) for x, y in polygon.exterior.coords)


def _pair(longitude: float, latitude: float) -> str:
    return f"{latitude:.6f},{longitude:.6f}"
