"""The dashboard's outbox chart: the last 24 site-time hours as stacked bars, drawn as inline SVG.

Server-rendered (no script, no library): the geometry is worked out here, the template only
draws it, and a table beside it carries the same numbers for screen readers and for print.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from notices.mail.outbox import CHART_OUTCOMES, Hour

BAR_WIDTH = 16
GAP = 4
HEIGHT = 120  # the tallest bar, in SVG units
AXIS = 16  # room under the bars for the hour labels
COLOURS = {"sent": "#2e7d32", "retried": "#b26a00", "failed": "#c62828", "expired": "#6b6b6b"}


@dataclass(frozen=True)
class Segment:
    outcome: str
    count: int
    y: float
    height: float


@dataclass(frozen=True)
class Bar:
    start: datetime
    x: int
    total: int
    counts: dict[str, int]
    segments: list[Segment]
    label: str  # the hour under every third bar, else ""


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    width: int
    height: int
    peak: int
    today: dict[str, int]
    colours: dict[str, str]
    outcomes: tuple[str, ...] = CHART_OUTCOMES


def build(hours: list[Hour], *, now: datetime) -> Chart:
    """Bars scaled to the busiest hour, and the totals of the hours that fall on today (site time)."""
    peak = max((sum(hour.counts.values()) for hour in hours), default=0)
    scale = HEIGHT / peak if peak else 0.0
    bars = []
    for index, hour in enumerate(hours):
        top = float(HEIGHT)
        segments = []
        for outcome in CHART_OUTCOMES:
            count = hour.counts[outcome]
            if count:
                # At least one unit high, so a single failure among thousands sent still shows.
                height = max(count * scale, 1.0)
                top -= height
                segments.append(Segment(outcome, count, round(top, 2), round(height, 2)))
        label = f"{hour.start:%H}" if hour.start.hour % 3 == 0 else ""
        bars.append(
            Bar(hour.start, index * (BAR_WIDTH + GAP), sum(hour.counts.values()), dict(hour.counts), segments, label)
        )
    today_date = now.astimezone(hours[-1].start.tzinfo).date() if hours else None
    today = {
        outcome: sum(h.counts[outcome] for h in hours if h.start.date() == today_date) for outcome in CHART_OUTCOMES
    }
    return Chart(bars, len(hours) * (BAR_WIDTH + GAP), HEIGHT + AXIS, peak, today, COLOURS)
