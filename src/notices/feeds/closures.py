"""Road closures for navigation apps: the Waze for Cities Closure and Incident Feed (CIFS), as JSON.

Only road-closure notices whose own shapes include a closed line are in it: a navigation app routes
around exactly that stretch (a whole street from the location list would close too much). One
incident per closed line, in both directions (the notices do not say which one). CIFS wants an
end time: an open-ended closure ("until further notice") gets one OPEN_ENDED_AHEAD days past the
current day, and the feed renews it at every midnight (site time) as long as the closure lasts;
should the feed ever stop being served, the closure lapses by itself instead of lingering forever.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from itertools import chain
from typing import Any

from notices.core.config import Settings
from notices.core.models import Notice
from notices.feeds import series
from notices.notice.geometry import features_of
from notices.notice.lifecycle import Status, status_at
from notices.notice.markup import render_each, renderable_instant, renderable_notice

MEDIA_TYPE = "application/json"
CLOSURE_CATEGORY = "road-closure"
OPEN_ENDED_AHEAD = timedelta(days=30)


def is_listed(notice: Notice, now: datetime, settings: Settings) -> bool:
    """A road closure with a closed line of its own, announced and not over."""
    return (
        notice.category == CLOSURE_CATEGORY
        and status_at(notice, now) in (Status.UPCOMING, Status.ACTIVE)
        and bool(closed_lines(notice, settings))
    )


def closed_lines(notice: Notice, settings: Settings) -> list[list[list[float]]]:
    """The lines ([lon, lat] positions) the notice itself marks as closed (checked shapes only)."""
    lines: list[list[list[float]]] = []
    for feature in features_of(notice, settings)["features"]:
        geometry = feature["geometry"]
        if feature["properties"]["role"] != "closure":
            continue  # a location's shape ("place") is a whole street, not the closed stretch
        if geometry["type"] == "LineString":
            lines.append(geometry["coordinates"])
        elif geometry["type"] == "MultiLineString":
            lines += geometry["coordinates"]
    return lines


def open_ended_until(now: datetime, settings: Settings) -> datetime:
    """The end given to an open-ended closure as of `now`: moves at each midnight in the site zone."""
    today = now.astimezone(settings.timezone).date()
    return datetime.combine(today + OPEN_ENDED_AHEAD, time(), tzinfo=settings.timezone).astimezone(UTC)


def renewed_at(now: datetime, settings: Settings) -> datetime:
    """When the open-ended end moves next (the next midnight in the site zone)."""
    tomorrow = now.astimezone(settings.timezone).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(), tzinfo=settings.timezone).astimezone(UTC)


def polyline(positions: list[list[float]]) -> str:
    """CIFS's polyline: "lat lon lat lon ...", blank-separated, six decimals (about 10 cm)."""
    return " ".join(f"{lat:.6f} {lon:.6f}" for lon, lat in positions)


def _time(instant: datetime, settings: Settings) -> str:
    return renderable_instant(instant).astimezone(settings.timezone).isoformat(timespec="seconds")


def notice_incidents(
    notice: Notice, *, settings: Settings, now: datetime, language: str | None = None
) -> list[dict[str, Any]]:
    view = renderable_notice(notice, settings, language)
    # A series: the times of its occurrence under way at `now`, else the next one (feeds.series).
    view = series.at_occurrence(view, now)
    ends = view.ends_at if view.ends_at is not None else open_ended_until(now, settings)
    street = view.places[0] if view.places else view.title
    description = view.title if not view.summary else f"{view.title}. {view.summary}"
    lines = closed_lines(notice, settings)
    incidents = []
    for index, line in enumerate(lines):
        incidents.append(
            {
                # Stable over the closure's lifetime, unique in the feed.
                "id": view.uid if len(lines) == 1 else f"{view.uid}-{index + 1}",
                "type": "ROAD_CLOSED",
                "polyline": polyline(line),
                "street": street,
                "direction": "BOTH_DIRECTIONS",
                "starttime": _time(view.starts_at, settings),
                "endtime": _time(max(ends, view.starts_at), settings),
                "description": description[:1000],
                "reference": view.url,
                "creationtime": _time(view.created_at, settings),
                "updatetime": _time(view.updated_at, settings),
            }
        )
    return incidents


def build_closures(
    notices: Sequence[Notice],
    *,
    settings: Settings,
    now: datetime,
    skipped: list[tuple[str, str]] | None = None,
    language: str | None = None,
) -> bytes:
    """The CIFS JSON document for the notices given (those not listed are left out here)."""
    listed = render_each(
        notices,
        lambda notice: (
            notice_incidents(notice, settings=settings, now=now, language=language)
            if is_listed(notice, now, settings)
            else []
        ),
        describe=lambda notice: f"notice {notice.uid}",
        skipped=skipped,
    )
    incidents = list(chain.from_iterable(listed))
    return json.dumps({"incidents": incidents}, ensure_ascii=False, indent=1).encode("utf-8")


def has_open_ended(notices: Sequence[Notice]) -> bool:
    """Whether the feed holds an open-ended closure (its bytes then change at midnight)."""
    # Any open-ended road closure counts: a row that cannot be rendered is already reported.
    return any(notice.ends_at is None and notice.category == CLOSURE_CATEGORY for notice in notices)
