"""Visible notices as one GeoJSON FeatureCollection (RFC 7946). No queries, no clock of its own.

One feature per shape of each notice: its own closure, diversion and areas, or else its locations'
shapes. Map libraries, GIS tools and dashboards read it as it is; `application/geo+json`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from notices.core.config import Settings
from notices.core.models import Notice
from notices.feeds import series
from notices.feeds.fragments import Fragments, notice_key, view_of
from notices.notice.geometry import features_of
from notices.notice.languages import reader_language
from notices.notice.lifecycle import status_at
from notices.notice.markup import RenderableNotice, render_each, renderable_notice
from notices.notice.times import isoformat_site

MEDIA_TYPE = "application/geo+json"


def notice_features(
    notice: Notice,
    *,
    settings: Settings,
    now: datetime,
    language: str | None = None,
    view: RenderableNotice | None = None,
) -> list[dict[str, Any]]:
    """The notice's features with the properties feed readers need (text made safe for any output),
    the text in `language` (default: the site's; a missing translation falls back, marked)."""
    view = series.at_occurrence(view or renderable_notice(notice, settings, language), now)
    # (A series: the times of its occurrence under way at `now`, else the next one, feeds.series.)
    zone = settings.timezone
    about = {
        "uid": view.uid,
        "title": view.title,
        "summary": view.summary,
        "category": view.category,
        "severity": view.severity,
        "status": str(status_at(notice, now)),
        "starts": isoformat_site(view.starts_at, zone),
        "ends": isoformat_site(view.ends_at, zone) if view.ends_at else None,
        "expected_end": view.expected_end,
        "url": view.url,
        "language": view.text_language,
    }
    features = []
    for index, feature in enumerate(features_of(notice, settings)["features"]):
        own = {key: feature["properties"][key] for key in ("role", "location") if key in feature["properties"]}
        features.append(
            {"type": "Feature", "id": f"{view.uid}-{index}", "geometry": feature["geometry"], "properties": about | own}
        )
    return features


def build_geojson(
    notices: Sequence[Notice],
    *,
    settings: Settings,
    now: datetime,
    skipped: list[tuple[str, str]] | None = None,
    language: str | None = None,
    fragments: Fragments | None = None,
) -> bytes:
    """The FeatureCollection of the notices given (already chosen and ordered); same data, same bytes.

    With `fragments`, a notice's features serialised before (same version, language, status and
    occurrence) are reused; the bytes are the same either way.
    """
    language = reader_language(language, settings)

    def features(notice: Notice) -> bytes:
        view = view_of(fragments, notice, settings, language)
        # What `now` changes in a notice's features: its status, and a series' current occurrence.
        shown = series.at_occurrence(view, now)
        key = ("geojson", *notice_key(notice), language, status_at(notice, now), shown.starts_at, shown.ends_at)
        found: bytes | None = fragments.get(key) if fragments is not None else None
        if found is None:
            found = b",".join(
                _json(feature) for feature in notice_features(notice, settings=settings, now=now, view=view)
            )
            if fragments is not None:
                fragments.put(key, found, len(found))
        return found

    # One notice, several features; a notice that cannot be rendered costs only its own.
    each_notice = render_each(notices, features, describe=lambda notice: f"notice {notice.uid}", skipped=skipped)
    # The same bytes as json.dumps of the whole collection with these separators.
    return b'{"type":"FeatureCollection","features":[' + b",".join(piece for piece in each_notice if piece) + b"]}"


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
