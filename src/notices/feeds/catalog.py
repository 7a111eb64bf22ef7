"""Which feeds exist and how each is built from the database at `now`.

Used by the web fast path (with its cache) and by the static export. Each
rendering says until when it stays right without any write: the next
boundary of a notice, or the moment something slides out of a time window.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from notices.core.config import Settings
from notices.core.context import AppContext
from notices.core.db import Database
from notices.core.models import Notice, NoticeEvent
from notices.core.states import EventKind
from notices.feeds import cap, closures, geojson, series, stored_pieces
from notices.feeds.atom import EPOCH, build_feed, keyed_entries
from notices.feeds.event_feed import build_event_feed, keyed_events
from notices.feeds.fragments import Fragments
from notices.feeds.ical import (
    STORED_EVENTS,
    build_calendar,
    horizon_moved_at,
    horizon_moves_at,
    piece_keys,
    runs_to_horizon,
)
from notices.notice import event_queries, lifecycle, rendered_bodies, store
from notices.notice.lifecycle import Filters
from notices.notice.markup import RenderableNotice

HISTORY = timedelta(days=30)
# Windows that slide with time (events of the last 30 days) are re-rendered
# at least this often; a lingering entry for a few minutes harms nobody. (The
# calendar knows exactly when something leaves its window, see _calendar_changes.)
WINDOW_REFRESH = timedelta(minutes=5)

MEDIA_TYPES = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "ics": "text/calendar; charset=utf-8",
    "geojson": geojson.MEDIA_TYPE,
    "json": "application/json; charset=utf-8",
}
# URL path -> (what, format)
FEED_PATHS = {
    "/feeds/notices.atom": ("notices", "atom"),
    "/feeds/notices.rss": ("notices", "rss"),
    "/feeds/events.atom": ("events", "atom"),
    "/feeds/events.rss": ("events", "rss"),
    "/calendar/notices.ics": ("calendar", "ics"),
    "/feeds/notices.geojson": ("geojson", "geojson"),
    "/feeds/cap.atom": ("cap", "atom"),
    "/feeds/closures.json": ("closures", "json"),
}


@dataclass(frozen=True)
class Unstored:
    """What a render rendered that no process had stored (notice bodies, entries, calendar events):
    worth storing for the processes that render after it (notice.rendered_bodies,
    feeds.stored_pieces). Storing is a cache fill that never fails the caller."""

    settings: Settings  # those the pieces were rendered with, which their stored key names
    bodies: tuple[RenderableNotice, ...] = ()
    pieces: Mapping[Hashable, Any] = field(default_factory=dict)
    codec: stored_pieces.Codec = stored_pieces.BYTES

    def __bool__(self) -> bool:
        return bool(self.bodies or self.pieces)

    def store(self, db: Database, *, now: datetime) -> None:
        if self.bodies:
            rendered_bodies.save(db, self.bodies, now=now)
        if self.pieces:
            forms = {key: self.codec.encode(piece) for key, piece in self.pieces.items()}
            stored_pieces.save(db, self.settings, forms, now=now)


@dataclass(frozen=True)
class RenderedFeed:
    body: bytes
    media_type: str
    last_modified: datetime
    valid_until: datetime | None
    # Entries left out because they could not be rendered: (what, error).
    skipped: tuple[tuple[str, str], ...] = ()
    # What the render left for its caller to store (render_feed with defer_storing).
    unstored: Unstored | None = field(default=None, repr=False, compare=False)


def render_feed(
    ctx: AppContext,
    path: str,
    filters: Filters,
    query: str,
    now: datetime,
    fragments: Fragments | None = None,
    *,
    defer_storing: bool = False,
) -> RenderedFeed:
    """The feed at `path` as of `now`. With `fragments` (kept by the caller between renders), the
    entries of notices rendered before are reused (feeds.fragments); the bytes are the same.

    What the render rendered that no process had stored is stored before it returns, or with
    `defer_storing` left in RenderedFeed.unstored for the caller to store once the reader has the
    feed (the web cache does: storing a thousand pieces took a tenth of a cold render)."""
    what, fmt = FEED_PATHS[path]
    settings = ctx.settings
    fragments = fragments.for_settings(settings) if fragments is not None else None
    language = filters.language or settings.language
    self_url = settings.absolute_url(path) + (f"?{query}" if query else "")
    skipped: list[tuple[str, str]] = []
    unstored: list[RenderableNotice] = []  # views whose body this render renders (worth storing)
    unstored_pieces: list[Hashable] = []  # the same for entries and events (feeds.stored_pieces)
    with ctx.db.session() as session:
        next_boundary = store.next_boundary_after(session, now)
        last_change = store.last_change_at_or_before(session, now) or EPOCH
        shown: list[Notice] = []
        if what in ("notices", "geojson", "closures", "cap"):
            # A series shows its current or next occurrence: the bytes change at each occurrence
            # boundary, so a rendering is right until the next one and Last-Modified is the last one.
            if what == "cap":
                shown = cap_notices(session, now, filters)
            elif fragments is not None and what in ("notices", "geojson"):
                shown = fragments.visible_notices(session, now, filters)  # rows read before are kept
            else:
                shown = store.visible_notices(session, now, filters)
            passed, coming = series.boundaries(shown, now)
            next_boundary = _earliest(next_boundary, coming)
            last_change = max(last_change, passed or EPOCH)
        if what == "notices":
            notices = series.in_feed_order(shown, now)
            entries = keyed_entries(
                notices, settings=settings, fmt=fmt, now=now, language=language, fragments=fragments, skipped=skipped
            )
            if fragments is not None:  # entries another process rendered are read
                entry_keys = [(entry.notice, entry.key) for entry in entries]
                unstored_pieces, unstored = fragments.prepare_pieces(
                    session, settings, language, entry_keys, stored_pieces.BYTES
                )
            body = build_feed(
                entries,
                settings=settings,
                fmt=fmt,
                self_url=self_url,
                updated=last_change,
                now=now,
                skipped=skipped,
                language=language,
                fragments=fragments,
            )
            valid_until = next_boundary
        elif what == "events":
            if fragments is not None:  # events read before are kept
                events = fragments.recent_events(session, now, filters, history=HISTORY)
            else:
                events = event_queries.recent_events(session, now, filters, history=HISTORY)
            events = [event for event in events if _in_event_feed(event, settings)]
            keyed = keyed_events(
                events, settings=settings, fmt=fmt, now=now, language=language, fragments=fragments, skipped=skipped
            )
            if fragments is not None:  # entries another process rendered are read
                unstored_pieces = fragments.take_stored(
                    session, settings, [item.key for item in keyed], stored_pieces.BYTES
                )
            body = build_event_feed(
                events,
                keyed,
                settings=settings,
                fmt=fmt,
                self_url=self_url,
                skipped=skipped,
                language=language,
                fragments=fragments,
            )
            valid_until = _earliest(next_boundary, now + WINDOW_REFRESH if events else None)
        elif what == "geojson":
            notices = shown
            body = geojson.build_geojson(
                notices, settings=settings, now=now, skipped=skipped, language=language, fragments=fragments
            )
            valid_until = next_boundary
        elif what == "cap":
            notices = shown
            body = cap.build_cap_index(
                notices,
                settings=settings,
                self_url=self_url,
                updated=last_change,
                skipped=skipped,
                language=language,
                now=now,  # a series' entry is the message of its current occurrence boundary
            )
            valid_until = _earliest(next_boundary, now + WINDOW_REFRESH if notices else None)
        elif what == "closures":
            notices = shown
            body = closures.build_closures(notices, settings=settings, now=now, skipped=skipped, language=language)
            valid_until = next_boundary
            if closures.has_open_ended(notices):
                # The open-ended closures' end moved at midnight: new bytes, so a new Last-Modified.
                valid_until = _earliest(valid_until, closures.renewed_at(now, settings))
                last_change = max(last_change, horizon_moved_at(now, settings.timezone))
        else:
            if fragments is not None:  # rows read before are kept
                notices = fragments.calendar_notices(session, now, filters, history=HISTORY)
                # Events another process rendered are read.
                event_keys = piece_keys(notices, settings=settings, now=now, language=language)
                unstored_pieces, unstored = fragments.prepare_pieces(
                    session, settings, language, zip(notices, event_keys, strict=True), STORED_EVENTS
                )
            else:
                notices = store.calendar_notices(session, now, filters, history=HISTORY)
            body = build_calendar(
                notices, settings=settings, now=now, skipped=skipped, language=language, fragments=fragments
            )
            valid_until = _earliest(next_boundary, *_calendar_changes(notices, now, settings.timezone))
            if any(runs_to_horizon(notice) for notice in notices):
                # The rolling horizon moved at midnight: the bytes changed, so must Last-Modified.
                last_change = max(last_change, horizon_moved_at(now, settings.timezone))
    left = Unstored(
        settings,
        bodies=tuple(unstored),
        # The pieces themselves, not their keys: by the time they are stored, the fragments may
        # have let them go, or started over for other settings under the same keys (then none).
        pieces=fragments.kept(unstored_pieces, settings) if fragments is not None else {},
        codec=STORED_EVENTS if what == "calendar" else stored_pieces.BYTES,
    )
    if left and not defer_storing:
        left.store(ctx.db, now=now)
    return RenderedFeed(
        body=body,
        media_type=MEDIA_TYPES[fmt],
        last_modified=last_change,
        valid_until=valid_until,
        skipped=tuple(skipped),
        unstored=left if left and defer_storing else None,
    )


def _in_event_feed(event: NoticeEvent, settings: Settings) -> bool:
    """Series-level events always; an occurrence's own events (its start) only with
    `[feeds] occurrence_events = true`, and never an occurrence's end (a daily series would
    otherwise put two entries a day in the feed)."""
    if not event.occurrence:
        return True
    return settings.feed_occurrence_events and event.kind != EventKind.ENDED


def cap_notices(session: Session, now: datetime, filters: Filters) -> list[Notice]:
    """The notices with a current CAP message: those in effect or upcoming, and those cancelled
    within HISTORY (their Cancel message must reach the hubs that have the alert)."""
    # Each entry is the notice's current message, found among its revisions (cap.messages).
    published = store.calendar_notices(session, now, filters, history=HISTORY, with_revisions=True)
    return [
        notice
        for notice in published
        if notice.cancelled_at is not None or lifecycle.status_at(notice, now) in lifecycle.VISIBLE_STATUSES
    ]


def _calendar_changes(notices: Sequence[Notice], now: datetime, zone: ZoneInfo) -> list[datetime | None]:
    """The instants, besides notice boundaries, at which the calendar's bytes change without a write:
    a notice slides out of the history window, or the open-ended notices' horizon moves."""
    leaving = [_plus(instant, HISTORY) for instant in map(_stopped_at, notices) if instant is not None]
    rolling = horizon_moves_at(now, zone) if any(runs_to_horizon(notice) for notice in notices) else None
    return [*leaving, rolling]


def _stopped_at(notice: Notice) -> datetime | None:
    """When a notice stopped being current: its cancellation, else its end (None: neither)."""
    return notice.cancelled_at if notice.cancelled_at is not None else notice.ends_at


def _plus(instant: datetime, delta: timedelta) -> datetime | None:
    try:
        return instant + delta
    except OverflowError:  # a row beyond what input accepts today: it never leaves
        return None


def _earliest(*instants: datetime | None) -> datetime | None:
    return min((instant for instant in instants if instant is not None), default=None)
