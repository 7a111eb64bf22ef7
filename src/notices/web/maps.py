"""What the maps show: the features of notices (with what a popup and a legend need) and the map's settings.

The pages carry the features as a GeoJSON data block and the settings as data-* attributes;
templates/static/map.js draws them with Leaflet. Without JavaScript (and in the console's
sandboxed preview) the same features are drawn as an SVG outline by map_sketch.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from notices.core.config import Settings
from notices.core.i18n import N_
from notices.notice.geometry import features_of
from notices.notice.markup import safe_output_text
from notices.notice.wording import Words

_ORIGIN_HOST = re.compile(r"(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")
# One look for both drawings (Leaflet in map.js, the SVG outline in map_sketch): closures red,
# diversions blue and dashed, areas and places in their notice's severity colour.
SEVERITY_COLOURS = {"info": "#2b83ba", "minor": "#c98a00", "major": "#e8590c", "critical": "#8b0016"}
ROLE_STYLES: dict[str, dict[str, Any]] = {
    "closure": {"color": "#d7191c", "weight": 6, "fillOpacity": 0.35},
    "diversion": {"color": "#1f5fbf", "weight": 5, "dashArray": "10 8", "fillOpacity": 0.2},
    "area": {"weight": 2, "fillOpacity": 0.3},
    "place": {"weight": 3, "dashArray": "3 6", "fillOpacity": 0.1},
}
ROLE_LABELS = {
    "closure": N_("Closed road"),
    "diversion": N_("Diversion"),
    "area": N_("Works area"),
    "place": N_("Place named in a notice"),
    "legend": N_("Legend"),
}


def style_of(properties: dict[str, Any]) -> dict[str, Any]:
    """Leaflet path options for a feature: by role, with the severity's colour where the role has none."""
    role = properties.get("role", "place")
    style = dict(ROLE_STYLES.get(role, ROLE_STYLES["place"]))
    style.setdefault("color", SEVERITY_COLOURS.get(properties.get("severity", ""), SEVERITY_COLOURS["info"]))
    return style


@dataclass(frozen=True)
class MapSettings:
    tile_url: str  # "" = no background: the outlines alone
    attribution: str
    bounds: tuple[float, float, float, float]

    @classmethod
    def of(cls, settings: Settings) -> MapSettings:
        return cls(tile_url=settings.map_tile_url, attribution=settings.map_attribution, bounds=settings.map_bounds)

    @property
    def tile_origin(self) -> str | None:
        """scheme://host[:port] of the tile server: the one other place a map page loads from."""
        if not self.tile_url:
            return None
        parts = urlsplit(self.tile_url.replace("{s}.", "*."))  # Leaflet's subdomains: a CSP wildcard
        # It goes into the Content-Security-Policy header: a host name, an address and a port, nothing else.
        if parts.scheme not in ("http", "https") or not _ORIGIN_HOST.fullmatch(parts.netloc):
            return None
        return f"{parts.scheme}://{parts.netloc}"

    def attributes(self, extra: dict[str, str] | None = None, words: Words | None = None) -> dict[str, str]:
        """The data-* attributes map.js reads (plus `extra`, e.g. the editor's form field); its
        legend and popups in the language of `words` (the page's)."""
        labels = {role: words.gettext(label) if words else label for role, label in ROLE_LABELS.items()}
        severity_labels = {severity: words.severity(severity) if words else severity for severity in SEVERITY_COLOURS}
        return (extra or {}) | {
            "data-tile-url": self.tile_url,
            "data-attribution": self.attribution,
            "data-bounds": json.dumps(list(self.bounds)),
            "data-styles": json.dumps(
                {
                    "roles": ROLE_STYLES,
                    "severities": SEVERITY_COLOURS,
                    "labels": labels,
                    "severity_labels": severity_labels,
                },
                ensure_ascii=False,
            ),
        }


def notice_features(notice: Any, settings: Settings) -> list[dict[str, Any]]:
    """The notice's own features, else its locations' ("place"), each with what a popup, a style
    and a legend need (role, uid, title, severity, category) and the link to the notice's page.
    A stored geometry that no longer passes the checks gives the locations' shapes instead."""
    features = features_of(notice, settings)["features"]
    return [
        feature
        | {"properties": _filtered(feature["properties"]) | {"uid": str(notice.uid), "url": f"/notices/{notice.uid}"}}
        for feature in features
    ]


def _filtered(properties: dict[str, Any]) -> dict[str, Any]:
    """The properties' text through the output filter: a page prints them as JSON (escaped, which
    the template's own filter cannot see into), and a popup shows the title."""
    return {key: safe_output_text(value) if isinstance(value, str) else value for key, value in properties.items()}


def collection(notices: Iterable[Any], settings: Settings) -> dict[str, Any]:
    """One FeatureCollection of every feature of these notices (the home page's map)."""
    return {
        "type": "FeatureCollection",
        "features": [feature for notice in notices for feature in notice_features(notice, settings)],
    }


def places(settings: Settings) -> dict[str, Any]:
    """The configured locations' shapes with their labels: what the drawing map shows for orientation
    (streets and buildings to draw along, also when there are no background tiles)."""
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": geometry, "properties": {"label": settings.locations.get(key, key)}}
            for key, geometry in settings.location_geometries.items()
        ],
    }
