"""One GeoJSON geometry (RFC 7946), checked and put in one canonical form.

Shared by the configuration (the shapes of locations) and notice input (a notice's own
shapes): geojson-pydantic checks the structure, shapely the geometry itself. Positions are
[longitude, latitude] in WGS 84; the canonical form has two coordinates per position rounded
to 7 decimals (about a centimetre) and polygons wound by the right-hand rule (RFC 7946 3.1.6:
exterior rings counterclockwise, holes clockwise), so the same shape is always stored, and so
compared, the same way.
"""

from __future__ import annotations

import math
import re
from typing import Any

import shapely
from geojson_pydantic import LineString, MultiLineString, MultiPolygon, Point, Polygon
from pydantic import BaseModel, ValidationError
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient
from shapely.validation import explain_validity

GEOMETRY_TYPES: dict[str, type[BaseModel]] = {
    "Point": Point,
    "LineString": LineString,
    "MultiLineString": MultiLineString,
    "Polygon": Polygon,
    "MultiPolygon": MultiPolygon,
}
# Enough for a detailed route through the park; far more than anyone draws by hand, and
# small enough that every feed, CAP document and map stays light.
MAX_VERTICES = 2_000
# A shape may reach this far (in degrees: ~11 km north-south, ~7 km east-west here) beyond the
# site's bounds, for a diversion via the ring road; further out it is a typo or swapped lat/lon.
BOUNDS_MARGIN = 0.1
DECIMALS = 7

# west, south, east, north
Bounds = tuple[float, float, float, float]


class ShapeError(ValueError):
    """A geometry cannot be used; `where` is the JSON path inside it ("" for the whole)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}" if where else problem)
        self.where = where
        self.problem = problem


def check_geometry(value: object, *, bounds: Bounds | None) -> dict[str, Any]:
    """The canonical form of one GeoJSON geometry, or ShapeError saying what is wrong and where."""
    if not isinstance(value, dict):
        raise ShapeError("", f"must be a GeoJSON geometry object, got {_kind(value)}")
    kind = value.get("type")
    if kind not in GEOMETRY_TYPES:
        known = ", ".join(GEOMETRY_TYPES)
        if kind == "GeometryCollection":
            raise ShapeError("type", f"GeometryCollection is not supported; use one of {known}")
        raise ShapeError("type", f"{_short(kind)} is not a supported geometry type; use one of {known}")
    coordinates = value.get("coordinates")
    _count_vertices(coordinates)
    try:
        GEOMETRY_TYPES[kind].model_validate({"type": kind, "coordinates": coordinates})
    except ValidationError as error:
        raise _structure_error(error, kind) from None
    flat = _two_dimensional(coordinates)
    _check_ranges(flat, bounds)
    geometry = shape({"type": kind, "coordinates": flat})
    _check_valid(geometry)
    return canonical(geometry)


def canonical(geometry: BaseGeometry) -> dict[str, Any]:
    """GeoJSON of a shapely geometry: polygons by the right-hand rule, lists rather than tuples."""
    if isinstance(geometry, shapely.Polygon):
        geometry = orient(geometry, sign=1.0)
    elif isinstance(geometry, shapely.MultiPolygon):
        geometry = shapely.MultiPolygon([orient(part, sign=1.0) for part in geometry.geoms])
    data = mapping(geometry)
    return {"type": data["type"], "coordinates": _lists(data["coordinates"])}


def representative_point(geometry: dict[str, Any]) -> tuple[float, float]:
    """A point on (or in) the shape, as (longitude, latitude): a pin for calendars and feeds."""
    point = shape(geometry).representative_point()
    return round(point.x, DECIMALS), round(point.y, DECIMALS)


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _count_vertices(coordinates: object) -> None:
    """Refuse a huge shape before any library walks it, and anything that is not a finite number."""
    if not isinstance(coordinates, list):
        raise ShapeError("coordinates", f"must be an array of positions, got {_kind(coordinates)}")
    count = 0
    stack: list[tuple[object, str]] = [(coordinates, "coordinates")]
    while stack:
        item, where = stack.pop()
        if isinstance(item, list):
            if item and not isinstance(item[0], list):
                count += 1
                if count > MAX_VERTICES:
                    raise ShapeError("coordinates", f"has more than {MAX_VERTICES} positions; simplify the shape")
                if len(item) not in (2, 3):
                    raise ShapeError(where, f"a position is [longitude, latitude]; got {len(item)} numbers")
            stack.extend((child, f"{where}[{index}]") for index, child in enumerate(item))
        elif isinstance(item, bool) or not isinstance(item, int | float):
            raise ShapeError(where, f"must be a number, got {_kind(item)}")
        elif not math.isfinite(item):
            raise ShapeError(where, "must be a finite number")


_NESTING = {
    "Point": "one position [longitude, latitude]",
    "LineString": "an array of positions",
    "MultiLineString": "an array of lines, each an array of positions",
    "Polygon": "an array of rings, each an array of positions",
    "MultiPolygon": "an array of polygons, each an array of rings of positions",
}
_TOO_FEW = re.compile(r"at least (\d+) items? after validation, not (\d+)")


def _structure_error(error: ValidationError, kind: str) -> ShapeError:
    first = error.errors()[0]
    # pydantic names the union member it tried (Position2D, ...) in the path: not the user's concern.
    parts = [part for part in first["loc"] if isinstance(part, int) or not part[:1].isupper()]
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in parts).lstrip(".")
    message = first["msg"].removeprefix("Value error, ")
    if too_few := _TOO_FEW.search(message):
        message = f"too few positions for a {kind}: at least {too_few[1]} are needed, got {too_few[2]}"
    elif message == "Field required":
        message = "a number is missing: positions are [longitude, latitude]"
    elif message.startswith("Input should be"):
        message = f"is nested wrongly: a {kind} has {_NESTING[kind]}"
    return ShapeError(where or "coordinates", message)


def _two_dimensional(coordinates: Any) -> Any:
    """[lon, lat(, altitude)] -> [lon, lat] rounded: altitude means nothing on a site map."""
    if coordinates and not isinstance(coordinates[0], list):
        return [round(float(coordinates[0]), DECIMALS), round(float(coordinates[1]), DECIMALS)]
    return [_two_dimensional(item) for item in coordinates]


def _positions(coordinates: Any, where: str = "coordinates") -> list[tuple[str, list[float]]]:
    if coordinates and not isinstance(coordinates[0], list):
        return [(where, coordinates)]
    return [found for index, item in enumerate(coordinates) for found in _positions(item, f"{where}[{index}]")]


def _check_ranges(coordinates: Any, bounds: Bounds | None) -> None:
    for where, (lon, lat) in _positions(coordinates):
        if not -180 <= lon <= 180:
            raise ShapeError(where, f"longitude {lon:g} is outside -180..180")
        if not -90 <= lat <= 90:
            hint = " (positions are [longitude, latitude])" if -90 <= lon <= 90 and -180 <= lat <= 180 else ""
            raise ShapeError(where, f"latitude {lat:g} is outside -90..90{hint}")
        if bounds is not None and not _near(lon, lat, bounds):
            if _near(lat, lon, bounds):
                raise ShapeError(
                    where,
                    f"[{lon:g}, {lat:g}] looks like [latitude, longitude]; GeoJSON positions are "
                    f"[longitude, latitude], here [{lat:g}, {lon:g}]",
                )
            west, south, east, north = bounds
            raise ShapeError(
                where,
                f"[{lon:g}, {lat:g}] is far outside the site (longitude {west:g}..{east:g}, "
                f"latitude {south:g}..{north:g}); positions are [longitude, latitude] in WGS 84",
            )


def _near(lon: float, lat: float, bounds: Bounds) -> bool:
    west, south, east, north = bounds
    margin = BOUNDS_MARGIN
    return west - margin <= lon <= east + margin and south - margin <= lat <= north + margin


def _check_valid(geometry: BaseGeometry) -> None:
    if geometry.is_valid:
        return
    reason = explain_validity(geometry)
    if "Self-intersection" in reason or "Ring Self-intersection" in reason:
        where = reason.partition("[")[2].rstrip("]").split()
        near = f" near [{float(where[0]):g}, {float(where[1]):g}]" if len(where) == 2 else ""
        raise ShapeError("coordinates", f"the polygon's outline crosses itself{near}; draw it without crossings")
    if "Too few points" in reason:
        raise ShapeError("coordinates", "a line or ring needs at least two different positions")
    raise ShapeError("coordinates", f"not a valid {geometry.geom_type}: {reason}")


def _lists(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_lists(item) for item in value]
    return value
