"""Render the feeds whose pieces are stored, ahead of their readers.

Every process keeps what it rendered, and stores each entry and calendar event it rendered for the
others (feeds.stored_pieces), so a new web process reads them instead of rendering. Nothing does
that work before the first reader after a release that changed how entries render (or the first
start of all): that reader would wait for all of it, a quarter to three quarters of a second for
1,000 notices. So the scheduler renders these feeds, in every language of the site, after each
write and boundary, as exporting does (without an export folder; with one, the export renders
them), and `notices feed prepare` does it once, for a release.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from notices.core.context import AppContext
from notices.core.errors import PartialFailure
from notices.feeds.catalog import render_feed
from notices.feeds.fragments import Fragments
from notices.notice.lifecycle import Filters

# The feeds built from stored pieces (feeds.catalog.render_feed); the others render quickly anyway.
# The events feeds hold every event of the last 30 days (1,500 for 1,000 notices): their window
# moves, so they are prepared again every few minutes, which costs little with the entries the
# scheduler keeps (only what changed is rendered).
PREPARED_PATHS = (
    "/feeds/notices.atom",
    "/feeds/notices.rss",
    "/calendar/notices.ics",
    "/feeds/events.atom",
    "/feeds/events.rss",
)


class PrepareCounts(TypedDict):
    feeds: int
    valid_until: datetime | None


def prepare_feeds(ctx: AppContext, *, now: datetime, fragments: Fragments | None = None) -> PrepareCounts:
    """Render each prepared feed in each language, storing the pieces not stored yet: how many
    feeds, and until when that stays right without a write (the next boundary or window refresh,
    as the feeds' own). `fragments`: what the caller keeps between runs (the scheduler), so a run
    after a write renders only what changed. PartialFailure names the notices that failed to render
    (the others are stored all the same), as exporting does."""
    settings = ctx.settings
    fragments = fragments if fragments is not None else Fragments()
    counts: PrepareCounts = {"feeds": 0, "valid_until": None}
    valid_until = []
    skipped: dict[str, str] = {}
    for language in (None if language == settings.language else language for language in settings.languages):
        for path in PREPARED_PATHS:
            # As a reader asks for it: the site's language without a query (web.feeds.query.canonical_query).
            query = f"lang={language}" if language else ""
            rendered = render_feed(ctx, path, Filters(language=language), query, now, fragments)
            counts["feeds"] += 1
            if rendered.valid_until is not None:
                valid_until.append(rendered.valid_until)
            skipped.update(rendered.skipped)
    counts["valid_until"] = min(valid_until, default=None)
    if skipped:
        raise PartialFailure("prepare-feeds", counts, sorted(skipped.items()))
    return counts
