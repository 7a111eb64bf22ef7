"""The features as an SVG outline, drawn on the server: the map without JavaScript.

Shown inside the map's box until map.js replaces it with Leaflet, so a reader without scripts
(and the console's preview, a sandboxed frame where no script runs) still sees the shape of
the closure and the diversion. Web Mercator, like the tiles, so the shapes look the same.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

from markupsafe import Markup, escape

from notices.web.maps import style_of

WIDTH = 640.0
MIN_HEIGHT, MAX_HEIGHT = 200.0, 400.0
MIN_SPAN = 0.002  # degrees: a single point or a short line still gets some surroundings
Position = tuple[float, float]


def _mercator(lon: float, lat: float) -> Position:
    lat = max(-85.0, min(85.0, lat))
    return math.radians(lon), math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def _rings(geometry: dict[str, Any]) -> list[tuple[list[Position], bool]]:
    """The geometry's lines as (positions, closed) pairs; points are one-position lines."""
    kind, coordinates = geometry.get("type"), geometry.get("coordinates") or []

    def line(positions: Sequence[Sequence[float]]) -> list[Position]:
        return [(float(p[0]), float(p[1])) for p in positions if len(p) >= 2]

    if kind == "Point":
        return [(line([coordinates]), False)]
    if kind == "LineString":
        return [(line(coordinates), False)]
    if kind == "MultiLineString":
        return [(line(part), False) for part in coordinates]
    if kind == "Polygon":
        return [(line(ring), True) for ring in coordinates]
    if kind == "MultiPolygon":
        return [(line(ring), True) for polygon in coordinates for ring in polygon]
    return []


def _positions(features: Sequence[dict[str, Any]]) -> Iterator[Position]:
    for feature in features:
        for ring, _ in _rings(feature["geometry"]):
            yield from ring


def _drawable(feature: dict[str, Any]) -> bool:
    """Whether the feature has positions that are numbers (an old or damaged row may not)."""
    try:
        return bool(list(_positions([feature])))
    except (TypeError, ValueError, IndexError, KeyError, AttributeError):
        return False


def _frame(features: Sequence[dict[str, Any]]) -> tuple[float, float, float, float]:
    """west, south, east, north (projected) around the features, with a margin."""
    projected = [_mercator(lon, lat) for lon, lat in _positions(features)]
    xs, ys = [x for x, _ in projected], [y for _, y in projected]
    span = math.radians(MIN_SPAN)
    west, east = min(xs), max(xs)
    south, north = min(ys), max(ys)
    grow_x, grow_y = max(span - (east - west), 0) / 2, max(span - (north - south), 0) / 2
    west, east, south, north = west - grow_x, east + grow_x, south - grow_y, north + grow_y
    margin = 0.08 * max(east - west, north - south)
    return west - margin, south - margin, east + margin, north + margin


def sketch(features: Sequence[dict[str, Any]], label: str) -> Markup:
    """An <svg> with one shape per feature (empty markup when there is nothing to draw)."""
    # Closures last, so drawn over a diversion that starts where they start (as on the Leaflet map).
    features = sorted(
        (feature for feature in features if _drawable(feature)),
        key=lambda feature: (feature.get("properties") or {}).get("role") == "closure",
    )
    if not features:
        return Markup("")
    west, south, east, north = _frame(features)
    scale = WIDTH / (east - west)
    height = min(MAX_HEIGHT, max(MIN_HEIGHT, (north - south) * scale))
    scale = min(scale, height / (north - south))
    offset_x = (WIDTH - (east - west) * scale) / 2
    offset_y = (height - (north - south) * scale) / 2

    def point(lon: float, lat: float) -> str:
        x, y = _mercator(lon, lat)
        return f"{offset_x + (x - west) * scale:.1f} {offset_y + (north - y) * scale:.1f}"

    shapes = []
    for feature in features:
        properties = feature.get("properties") or {}
        style = style_of(properties)
        role = properties.get("role", "place")
        if feature["geometry"].get("type") == "Point":
            x, y = point(*feature["geometry"]["coordinates"][:2]).split()
            shapes.append(
                f'<circle class="sketch-shape role-{escape(role)}" cx="{x}" cy="{y}" r="7" '
                f'fill="{style["color"]}" fill-opacity="0.6" stroke="{style["color"]}" stroke-width="2"/>'
            )
            continue
        path, filled = [], False
        for ring, closed in _rings(feature["geometry"]):
            path.append("M " + " L ".join(point(lon, lat) for lon, lat in ring) + (" Z" if closed else ""))
            filled = filled or closed
        dash = f' stroke-dasharray="{style["dashArray"]}"' if "dashArray" in style else ""
        fill = f'fill="{style["color"]}" fill-opacity="{style["fillOpacity"]}"' if filled else 'fill="none"'
        shapes.append(
            f'<path class="sketch-shape role-{escape(role)}" d="{" ".join(path)}" {fill} '
            f'stroke="{style["color"]}" stroke-width="{style["weight"]}"{dash} '
            'stroke-linecap="round" stroke-linejoin="round"/>'
        )
    return Markup(
        f'<svg class="map-sketch" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH:.0f} {height:.0f}" '
        f'role="img" aria-label="{escape(label)}">{"".join(shapes)}</svg>'
    )
