"""Static copies of the unfiltered feeds, for nginx or a CDN in front of the service.

Files mirror the URL paths (DIR/feeds/notices.atom, DIR/calendar/notices.ics)
so a web server with `root DIR` serves the same URLs. Every other language of the
site gets its own file beside it, the language before the extension
(DIR/feeds/notices.nl.atom: the bytes of /feeds/notices.atom?lang=nl), a name a
static server serves with the right type and no query-string rules. A file is replaced
atomically (readers never see half a feed) and only when its bytes change,
so its mtime, ETag and Last-Modified stay put while nothing changes.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TypedDict

from notices.core.config import Settings
from notices.core.context import AppContext
from notices.core.errors import PartialFailure
from notices.feeds.catalog import FEED_PATHS, render_feed
from notices.feeds.fragments import Fragments
from notices.notice.lifecycle import Filters


def write_if_changed(target: Path, body: bytes, *, modified: datetime) -> bool:
    """Atomically replace `target` with `body` unless it already holds exactly that."""
    try:
        if target.read_bytes() == body:
            return False
    except FileNotFoundError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(body)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        timestamp = modified.timestamp()
        os.utime(temporary, (timestamp, timestamp))
        os.replace(temporary, target)  # atomic on POSIX within one file system
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


class ExportCounts(TypedDict):
    written: int
    unchanged: int
    valid_until: datetime | None


def exported_files(settings: Settings) -> list[tuple[str, str | None, str]]:
    """(feed path, language or None for the default, file path under the directory) for every file written."""
    return [
        (path, None if language == settings.language else language, file_name(path, language, settings))
        for language in settings.languages
        for path in FEED_PATHS
    ]


def file_name(path: str, language: str, settings: Settings) -> str:
    """A feed's file under the export directory: the URL path; another language's before the extension."""
    name = path.lstrip("/")
    if language == settings.language:
        return name  # unchanged since before languages: existing links and nginx rules keep working
    stem, dot, extension = name.rpartition(".")
    return f"{stem}.{language}{dot}{extension}"


def export_feeds(
    ctx: AppContext, *, now: datetime, directory: Path, on_progress: Callable[[int], None] | None = None
) -> ExportCounts:
    """Counts of files written and unchanged, and until when the files stay right without a write
    ("valid_until", as the feeds' own valid_until: the next boundary or window refresh)."""
    counts: ExportCounts = {"written": 0, "unchanged": 0, "valid_until": None}
    valid_until = []
    skipped: dict[str, str] = {}
    # One store of rendered pieces for the run: the feeds of one language share their notices'
    # views (each body rendered once, or read from the stored bodies), as a web process's do.
    fragments = Fragments()
    for path, language, name in exported_files(ctx.settings):
        # The query as the web app puts it in the feed's self link (web.feeds.query.canonical_query).
        query = f"lang={language}" if language else ""
        rendered = render_feed(ctx, path, Filters(language=language), query, now, fragments)
        changed = write_if_changed(directory / name, rendered.body, modified=rendered.last_modified)
        counts["written" if changed else "unchanged"] += 1
        if rendered.valid_until is not None:
            valid_until.append(rendered.valid_until)
        skipped.update(rendered.skipped)
        if on_progress:
            on_progress(1)  # of len(exported_files(settings)) files
    counts["valid_until"] = min(valid_until, default=None)
    if skipped:
        # Every file is written, without the entries that failed: say which.
        raise PartialFailure("export-feeds", counts, sorted(skipped.items()))
    return counts
