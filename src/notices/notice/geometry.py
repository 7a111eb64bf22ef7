"""Where a notice applies: its GeoJSON FeatureCollection, parsed from input and built for output.

Stored shape (Notice.geometry): None, or an RFC 7946 FeatureCollection whose features each have
one geometry (see core.shapes) and `properties.role`: "closure" (the closed segment), "diversion"
(the route to take instead), "area" (works, an outage) or "place" (where, without more). Input
may be a bare geometry too; lines and points then become a closure, polygons an area.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol

from notices.core.config import Settings
from notices.core.errors import InvalidField
from notices.core.shapes import ShapeError, check_geometry

ROLES = ("closure", "diversion", "area", "place")
MAX_FEATURES = 50
# GeoJSON text as typed or pasted into a form: 2,000 positions fit many times over.
MAX_TEXT = 500_000
FIELD = "geometry"

log = logging.getLogger(__name__)


class Placed(Protocol):
    """What features_of reads: a stored Notice, or NoticeFields (the console's preview)."""

    @property
    def title(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def locations(self) -> Any: ...
    @property
    def geometry(self) -> dict[str, Any] | None: ...


def parse_geometry(value: object, settings: Settings) -> dict[str, Any] | None:
    """A notice's geometry from input (a dict or GeoJSON text); None for none. InvalidField otherwise."""
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip():
            return None
        value = _json(value)
    try:
        return _collection(value, settings)
    except ShapeError as error:
        raise InvalidField(FIELD, str(error)) from None


def features_of(notice: Placed, settings: Settings) -> dict[str, Any]:
    """The notice's FeatureCollection for maps and feeds: its own shapes, else its locations'.

    Every feature's properties carry the notice's uid, title, category and severity besides its
    role (and `location` for a location's shape). A stored geometry that no longer passes the
    checks (written before they existed) is left out in favour of the locations' shapes.
    """
    about = {
        "uid": getattr(notice, "uid", None),
        "title": notice.title,
        "category": notice.category,
        "severity": notice.severity,
    }
    return {
        "type": "FeatureCollection",
        "features": [
            {**feature, "properties": {**about, **feature["properties"]}} for feature in shapes_of(notice, settings)
        ],
    }


def shapes_of(notice: Placed, settings: Settings) -> list[dict[str, Any]]:
    """The features of features_of() with only their own properties (role, location): for a
    feed that takes a shape and not what the notice says."""
    features: list[dict[str, Any]] = []
    if notice.geometry:
        try:
            features = _collection(notice.geometry, settings, bounds_checked=False)["features"]
        except ShapeError as error:
            log.warning("notice %s: stored geometry ignored (%s)", getattr(notice, "uid", "?"), error)
    if not features:
        features = [
            {"type": "Feature", "geometry": settings.location_geometries[key], "properties": _place(key)}
            for key in notice.locations or ()
            if key in settings.location_geometries
        ]
    return features


def _place(key: str) -> dict[str, Any]:
    return {"role": "place", "location": key}


def _json(text: str) -> object:
    if len(text) > MAX_TEXT:
        raise InvalidField(FIELD, f"is {len(text)} characters long; at most {MAX_TEXT} are allowed")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except ValueError as error:
        raise InvalidField(FIELD, f"is not valid GeoJSON text ({error})") from None


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number")


def _collection(value: object, settings: Settings, *, bounds_checked: bool = True) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ShapeError("", f"must be a GeoJSON object (a FeatureCollection, Feature or geometry), got {_kind(value)}")
    kind = value.get("type")
    if kind == "FeatureCollection":
        items = value.get("features")
        if not isinstance(items, list):
            raise ShapeError("features", f"must be an array of features, got {_kind(items)}")
        if len(items) > MAX_FEATURES:
            raise ShapeError("features", f"has {len(items)} features; at most {MAX_FEATURES} are allowed")
        prefix = "features"
    else:
        items, prefix = [value], ""
    bounds = settings.map_bounds if bounds_checked else None
    features = [_feature(item, f"{prefix}[{index}]" if prefix else "", bounds) for index, item in enumerate(items)]
    if not features:
        raise ShapeError("features", "is empty; send null (or nothing) for no geometry")
    return {"type": "FeatureCollection", "features": features}


def _feature(value: object, where: str, bounds: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ShapeError(where, f"must be a GeoJSON Feature, got {_kind(value)}")
    if value.get("type") == "Feature":
        geometry, properties = value.get("geometry"), value.get("properties")
        inner = _join(where, "geometry")
        if properties is not None and not isinstance(properties, dict):
            raise ShapeError(_join(where, "properties"), f"must be an object or null, got {_kind(properties)}")
    else:
        geometry, properties, inner = value, None, where
    if geometry is None:
        raise ShapeError(inner, "a feature needs a geometry")
    try:
        checked = check_geometry(geometry, bounds=bounds)
    except ShapeError as error:
        raise ShapeError(_join(inner, error.where), error.problem) from None
    role = (properties or {}).get("role")
    if role is None:
        role = "area" if checked["type"] in ("Polygon", "MultiPolygon") else "closure"
    elif role not in ROLES:
        raise ShapeError(_join(where, "properties.role"), f"{str(role)[:40]!r} is not one of {', '.join(ROLES)}")
    properties_out: dict[str, Any] = {"role": role}
    if role == "place" and isinstance(location := (properties or {}).get("location"), str):
        properties_out["location"] = location[:100]
    return {"type": "Feature", "geometry": checked, "properties": properties_out}


def _join(where: str, more: str) -> str:
    return f"{where}.{more}" if where and more else where or more


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__
