"""The scheduled jobs: plain, idempotent functions of (context, now) that return counts.

The scheduler decides when they run; each is also a CLI command. Running a
job twice, or in two processes at once, changes nothing the second time.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from notices import feed_export, store
from notices.context import AppContext

log = logging.getLogger(__name__)


def record_transitions(ctx: AppContext, *, now: datetime) -> dict[str, int]:
    """Record every due published/started/ended event not yet recorded (also after downtime)."""
    counts = {"published": 0, "started": 0, "ended": 0}
    with ctx.db.writing() as session, session.begin():
        for notice in store.notices_due_for_events(session, now):
            for kind in store.record_due_events(session, notice, now):
                counts[kind] += 1
                log.info("recorded %s of notice %s (v%s)", kind, notice.uid, notice.version)
        if any(counts.values()):
            store.bump_data_version(session, now)
    return counts


def export_feeds(ctx: AppContext, *, now: datetime, directory: Path | None = None) -> dict[str, int]:
    """Rewrite the static feed files that changed (see feed_export); no-op without a directory."""
    directory = directory or ctx.settings.feed_export_dir
    if directory is None:
        return {"written": 0, "unchanged": 0}
    counts = feed_export.export_feeds(ctx, now=now, directory=directory)
    if counts["written"]:
        log.info("exported feeds to %s: %s", directory, counts)
    return counts


def next_boundary(ctx: AppContext, *, now: datetime) -> datetime | None:
    with ctx.db.session() as session:
        return store.next_boundary_after(session, now)


def data_version(ctx: AppContext) -> int:
    with ctx.db.session() as session:
        return store.data_version(session)
