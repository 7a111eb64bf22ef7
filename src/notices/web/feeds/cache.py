"""Rendered feed bytes, reused until the data changes or a notice boundary passes.

A write in any process bumps the data version in the database; the cache
reads that counter at most every `version_check_seconds`, so a write shows
within that interval everywhere (on PostgreSQL it is heard at once, see
heard()). Boundaries need no write: an entry is only valid until the next
boundary of any notice. After a change, concurrent requests for one feed
wait for a single render instead of each rendering.
While the database is unreachable, the last rendered copy of a feed is
still served (marked stale by the fast path): readers keep what they had.
What a render rendered that no process had stored (feeds.catalog.Unstored) is
stored by a thread of its own after the reader has the feed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import hashlib
import logging
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime

import anyio

from notices.core.context import AppContext
from notices.feeds.catalog import RenderedFeed, Unstored, render_feed
from notices.feeds.fragments import Fragments
from notices.notice.lifecycle import Filters
from notices.runtime import jobs
from notices.web import outage

log = logging.getLogger(__name__)

OUTAGE_RETRY_SECONDS = 2


@dataclass
class CachedFeed:
    rendered: RenderedFeed
    data_version: int
    etag: str  # the bare hash; the quoted forms are below
    gzipped: bytes = field(repr=False)
    cache_control: bytes = b"public, max-age=300"

    def __post_init__(self) -> None:
        self.last_modified = format_datetime(self.rendered.last_modified.replace(microsecond=0), usegmt=True)
        self.quoted_etag = f'"{self.etag}"'.encode()
        self.quoted_etag_gzip = f'"{self.etag}-gzip"'.encode()
        # Every answer's headers, built once here rather than on each of the many requests that
        # reuse this entry: (gzip?) -> the 304's and the 200's header lists.
        self.not_modified_headers = {
            compressed: self.validators(compressed, self.cache_control) for compressed in (False, True)
        }
        media_type = (b"content-type", self.rendered.media_type.encode())
        self.ok_headers = {
            False: [
                *self.not_modified_headers[False],
                media_type,
                (b"content-length", b"%d" % len(self.rendered.body)),
            ],
            True: [
                *self.not_modified_headers[True],
                media_type,
                (b"content-length", b"%d" % len(self.gzipped)),
                (b"content-encoding", b"gzip"),
            ],
        }

    def validators(self, compressed: bool, cache_control: bytes) -> list[tuple[bytes, bytes]]:
        """The headers a 304 carries (RFC 9110: those a 200 would have sent, less the body's)."""
        return [
            (b"etag", self.quoted_etag_gzip if compressed else self.quoted_etag),
            (b"last-modified", self.last_modified.encode()),
            (b"cache-control", cache_control),
            (b"vary", b"Accept-Encoding"),
            (b"x-content-type-options", b"nosniff"),
            # Feed readers and intranet widgets on other sites fetch these from scripts.
            (b"access-control-allow-origin", b"*"),
        ]

    def is_valid(self, *, now: datetime, data_version: int) -> bool:
        until = self.rendered.valid_until
        return self.data_version == data_version and (until is None or now < until)


def make_entry(rendered: RenderedFeed, data_version: int, *, max_age: int = 300) -> CachedFeed:
    return CachedFeed(
        rendered=rendered,
        data_version=data_version,
        etag=hashlib.sha256(rendered.body).hexdigest()[:32],
        # mtime=0: the same bytes give the same gzip, so ETags stay stable.
        gzipped=gzip.compress(rendered.body, compresslevel=6, mtime=0),
        cache_control=f"public, max-age={max_age}".encode(),
    )


class FeedCache:
    def __init__(self, ctx: AppContext, *, version_check_seconds: float, max_entries: int = 256) -> None:
        self.ctx = ctx
        self.version_check_seconds = version_check_seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[str, CachedFeed] = OrderedDict()
        self._render_locks: dict[str, asyncio.Lock] = {}
        self._version_lock = asyncio.Lock()
        self._version: int | None = None
        self._version_read_at = float("-inf")
        self.renders = 0
        self.hits = 0
        self._outage_seen_at = float("-inf")
        # Rendered entries, shared by every feed of this process: after a write only the changed
        # notices' entries are rendered again.
        self.fragments = Fragments()
        # One thread stores what renders left to store, in the order they were handed to it.
        self._storer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feed-store")

    async def data_version(self) -> int:
        if self._version is not None and time.monotonic() - self._version_read_at < self.version_check_seconds:
            return self._version
        async with self._version_lock:
            if self._version is None or time.monotonic() - self._version_read_at >= self.version_check_seconds:
                self._version = await anyio.to_thread.run_sync(jobs.data_version, self.ctx)
                self._version_read_at = time.monotonic()
        return self._version

    def heard(self, version: int | None) -> None:
        """A write's version, heard from the database (change_signal): no need to wait for the poll.

        Called from the listener's thread; each assignment is atomic, and the worst a race can
        do is one extra read of the counter. None (the listener reconnected, it may have missed
        some) makes the next request read the counter.
        """
        if version is None:
            self._version_read_at = float("-inf")
        elif self._version is None or version > self._version:
            self._version, self._version_read_at = version, time.monotonic()

    def _fresh(self, key: str, version: int) -> CachedFeed | None:
        entry = self._entries.get(key)
        if entry is not None and entry.is_valid(now=self.ctx.clock.now(), data_version=version):
            self._entries.move_to_end(key)
            return entry
        return None

    async def get(self, path: str, filters: Filters, query: str) -> CachedFeed:
        key = f"{path}?{query}"
        version = await self.data_version()
        entry = self._fresh(key, version)
        if entry is not None:
            self.hits += 1
            return entry
        lock = self._render_locks.setdefault(key, asyncio.Lock())
        async with lock:
            entry = self._fresh(key, version)  # someone else rendered it while we waited
            if entry is not None:
                self.hits += 1
                return entry
            # Tagged with the version read *before* rendering: a write during
            # the render makes this entry stale at the next check, never lost.
            entry = await anyio.to_thread.run_sync(self._render, path, filters, query, version)
            self.renders += 1
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                evicted, _ = self._entries.popitem(last=False)
                self._render_locks.pop(evicted, None)
            return entry

    def _render(self, path: str, filters: Filters, query: str, version: int) -> CachedFeed:
        """Render the feed and make its entry (hashing and compressing a calendar takes a while:
        in the render's thread too, not the event loop's); what the render left to store is
        stored by the storing thread."""
        now = self.ctx.clock.now()
        rendered = render_feed(self.ctx, path, filters, query, now, self.fragments, defer_storing=True)
        if rendered.unstored is not None:
            try:
                self._storer.submit(self._store, rendered.unstored, now)
            except RuntimeError:  # the interpreter is stopping: the next process renders them again
                log.info("not storing the rendered feed pieces: the process is stopping")
            rendered = dataclasses.replace(rendered, unstored=None)  # the entry need not hold the pieces
        return make_entry(rendered, version, max_age=self.ctx.settings.feed_max_age)

    def _store(self, unstored: Unstored, now: datetime) -> None:
        try:
            unstored.store(self.ctx.db, now=now)
        except Exception:  # a cache fill: what was not stored is rendered again by the next process
            log.exception("could not store the rendered feed pieces")

    def wait_stored(self, timeout: float | None = None) -> bool:
        """Wait until what the renders so far left to store is stored (or failed to be): at
        shutdown, so that a process that stops leaves its work to the next. False if that took
        longer than `timeout` seconds (a database that does not answer)."""
        try:
            # The one storing thread works in order: once this has run, everything before it has.
            self._storer.submit(lambda: None).result(timeout=timeout)
        except TimeoutError:
            return False
        return True

    def fresh_entry(self, path: str, query: str) -> CachedFeed | None:
        """What get_or_last() would answer as fresh without waiting for anything, else None.

        None when the data version is due for a check, a database outage is being waited out,
        or the feed is not cached or no longer valid: then get_or_last() must be awaited.
        """
        at = time.monotonic()
        if self._version is None or at - self._version_read_at >= self.version_check_seconds:
            return None
        if at - self._outage_seen_at < OUTAGE_RETRY_SECONDS:
            return None
        entry = self._fresh(f"{path}?{query}", self._version)
        if entry is not None:
            self.hits += 1
        return entry

    async def get_or_last(self, path: str, filters: Filters, query: str) -> tuple[CachedFeed, bool]:
        """(entry, fresh): the current feed, or during a database outage the last one rendered.

        Raises the database's error when there is no earlier copy to fall back on.
        """
        last = self._entries.get(f"{path}?{query}")
        # While an outage lasts, ask the database again at most every few seconds: a server that
        # does not answer would otherwise hold every feed request for a connect timeout.
        if last is not None and time.monotonic() - self._outage_seen_at < OUTAGE_RETRY_SECONDS:
            return last, False
        try:
            entry = await self.get(path, filters, query)
        except Exception as error:
            if not outage.is_outage(error):
                raise
            if self._outage_seen_at == float("-inf"):  # once per outage, not per request
                log.warning(
                    "database unavailable; serving feeds from their last copy: %s",
                    str(getattr(error, "orig", None) or error).splitlines()[0][:300],
                )
            self._outage_seen_at = time.monotonic()
            if last is None:
                raise
            return last, False
        self._outage_seen_at = float("-inf")
        return entry, True
