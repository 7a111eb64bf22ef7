"""The scheduler's upkeep of rendered feeds: the static copies in the export folder, or without
one the pieces stored for the web processes (feeds.prepare), each renewed only after a write or
when a feed's bytes change without one: a boundary has passed, or (the events feeds, while they
have events) the five-minute window moved.

Rendering every feed costs real time on a large site; the safety tick and the change watch come
through here far more often than anything changes.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from notices.core.context import AppContext
from notices.feeds.export import ExportCounts
from notices.feeds.fragments import Fragments
from notices.runtime import jobs

# How long the feeds prepared are kept before starting over: the purge drops stored pieces a week
# old (feeds.stored_pieces.KEPT), and a piece kept here is not stored again. Starting over daily
# stores again whatever the purge took, and forgets the entries of ended notices.
PREPARED_KEPT = timedelta(days=1)


class _Freshness:
    """The data version and the instant up to which a rendering stays right."""

    def __init__(self) -> None:
        self.version: int | None = None
        self.valid_until: datetime | None = None

    def current(self, version: int, now: datetime) -> bool:
        return version == self.version and (self.valid_until is None or now < self.valid_until)

    def renewed(self, version: int, valid_until: datetime | None) -> None:
        self.version, self.valid_until = version, valid_until


class FeedUpkeep:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._exported = _Freshness()
        self._prepared = _Freshness()
        # The safety tick, the change watch and a wake-up are jobs of their own and may run side
        # by side: one of them prepares, the others go on.
        self._preparing = threading.Lock()
        self._kept = Fragments()
        self._kept_since = ctx.clock.now()

    def export_if_stale(self, now: datetime) -> ExportCounts | None:
        """Re-export the static feeds after a write or a boundary; None if there was no need
        (or no export folder)."""
        if self.ctx.settings.feed_export_dir is None:
            return None
        version = jobs.data_version(self.ctx)
        if self._exported.current(version, now):
            return None
        result = jobs.export_feeds(self.ctx, now=now)
        self._exported.renewed(version, result["valid_until"])
        return result

    def prepare_if_stale(self, now: datetime) -> bool:
        """Render the stored feeds ahead of readers after a write, a boundary or a move of the
        events feeds' window (feeds.prepare); True if it did. Entries kept from the run before are
        not rendered again. Not with an export folder: exporting renders the same feeds."""
        if self.ctx.settings.feed_export_dir is not None or not self._preparing.acquire(blocking=False):
            return False
        try:
            version = jobs.data_version(self.ctx)
            if self._prepared.current(version, now):
                return False
            if now - self._kept_since >= PREPARED_KEPT:
                self._kept, self._kept_since = Fragments(), now
            prepared = jobs.prepare_feeds(self.ctx, now=now, fragments=self._kept)
            self._prepared.renewed(version, prepared["valid_until"])
            return True
        finally:
            self._preparing.release()
