"""Visible notices as one GeoJSON FeatureCollection (RFC 7946). No queries, no clock of its own.

One feature per shape of each notice: its own closure, diversion and areas, or else its locations'
shapes. Map libraries, GIS tools and dashboards read it as it is; `application/geo+json`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from itertools import chain
from typing import Any

from notices.core.config import Settings
from notices.core.models import Notice
from notices.feeds import series
from notices.notice.geometry import features_of
from notices.notice.lifecycle import status_at
from notices.notice.markup import render_each, renderable_notice
from notices.notice.times import isoformat_site

MEDIA_TYPE = "application/geo+json"


def notice_features(
    notice: Notice, *, settings: Settings, now: datetime, language: str | None = None
) -> list[dict[str, Any]]:
    """The notice's features with the properties feed readers need (text made safe for any output),
    the text in `language` (default: the site's; a missing translation falls back, marked)."""
    view = renderable_notice(notice, settings, language)
    # A series: the times of its occurrence under way at `now`, else the next one (feeds.series).
    view = series.at_occurrence(view, now)
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
) -> bytes:
    """The FeatureCollection of the notices given (already chosen and ordered); same data, same bytes."""
    # One notice, several features; a notice that cannot be rendered costs only its own.
    each_notice = render_each(
        notices,
        lambda notice: notice_features(notice, settings=settings, now=now, language=language),
        describe=lambda notice: f"notice {notice.uid}",
        skipped=skipped,
    )
    features = list(chain.from_iterable(each_notice))
    collection = {"type": "FeatureCollection", "features": features}
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
