"""The feed fast path: raw ASGI in front of FastAPI, serving cached bytes with HTTP caching.

Feed readers poll every few minutes; most requests end here as a 304 or as
cached bytes, without routing, validation or a database query.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import parsedate_to_datetime

from starlette.datastructures import Headers, QueryParams

from notices.core.config import Settings
from notices.feeds.catalog import FEED_PATHS
from notices.notice.lifecycle import Filters
from notices.web import outage
from notices.web.feeds.cache import CachedFeed, FeedCache
from notices.web.feeds.query import BadFilter, canonical_query, filters_from_query

# A stale copy (the database is down) may be kept briefly only: readers should come back soon.
STALE_MAX_AGE = 30


def etag_matches(if_none_match: str, etag: str) -> bool:
    """If-None-Match against our tag, accepting W/"…" and "…-gzip" (weak comparison, RFC 9110)."""
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*":
            return True
        if candidate.startswith("W/"):
            candidate = candidate[2:]
        candidate = candidate.strip('"')
        if candidate.endswith("-gzip"):
            candidate = candidate[: -len("-gzip")]
        if candidate == etag:
            return True
    return False


def not_modified(headers: Headers, entry: CachedFeed) -> bool:
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:  # it takes precedence over If-Modified-Since
        return etag_matches(if_none_match, entry.etag)
    if_modified_since = headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            return False
        return entry.rendered.last_modified.replace(microsecond=0) <= since
    return False


def accepts_gzip(headers: Headers) -> bool:
    for part in headers.get("accept-encoding", "").split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "x-gzip"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


ALLOW = b"GET, HEAD, OPTIONS"


async def _send(send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _plain(status: int, text: str, extra: Sequence[tuple[bytes, bytes]] = ()) -> tuple[int, list, bytes]:
    return status, [(b"content-type", b"text/plain; charset=utf-8"), *extra], (text + "\n").encode()


class FeedFastPath:
    def __init__(self, app, *, cache: FeedCache, settings: Settings, metrics=None) -> None:
        self.app = app
        self.cache = cache
        self.metrics = metrics
        self.settings = settings
        self._cache_control = f"public, max-age={settings.feed_max_age}".encode()
        self._stale_cache_control = f"public, max-age={min(STALE_MAX_AGE, settings.feed_max_age)}".encode()
        # Raw query string -> (filters, canonical query) or a 400 message. Readers
        # poll the same few URLs, so this saves parsing on nearly every request.
        self._queries: dict[bytes, tuple[Filters, str] | str] = {}

    def _filters(self, raw_query: bytes) -> tuple[Filters, str] | str:
        known = self._queries.get(raw_query)
        if known is not None:
            return known
        try:
            filters = filters_from_query(QueryParams(raw_query.decode("latin-1")), self.settings)
            result: tuple[Filters, str] | str = (filters, canonical_query(filters))
        except BadFilter as error:
            result = str(error)
        if len(self._queries) < 1024:  # bounded: arbitrary query strings must not grow memory
            self._queries[raw_query] = result
        return result

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] not in FEED_PATHS:
            await self.app(scope, receive, send)
            return
        status = await self._respond(scope, send)
        if self.metrics is not None:
            self.metrics.feed_requests.labels(scope["path"], str(status)).inc()

    async def _respond(self, scope, send) -> int:
        method = scope["method"]
        if method == "OPTIONS":
            await _send(send, 204, [(b"allow", ALLOW), (b"access-control-allow-origin", b"*")], b"")
            return 204
        if method not in ("GET", "HEAD"):
            await _send(send, *_plain(405, "Method not allowed: feeds are read with GET or HEAD.", [(b"allow", ALLOW)]))
            return 405
        parsed = self._filters(scope["query_string"])
        if isinstance(parsed, str):
            await _send(send, *_plain(400, parsed))
            return 400
        canonical = parsed[1]
        if scope["query_string"] != canonical.encode():
            # One URL per filter set: the feed's rel=self names the canonical query, so a reader
            # subscribed as ?location=a,b (or in another order or case) is sent there for good and
            # updates its subscription, instead of seeing a self link that is not the one it uses.
            target = scope["path"] + (f"?{canonical}" if canonical else "")
            await _send(
                send,
                *_plain(
                    301,
                    f"Moved permanently to {target}",
                    [(b"location", target.encode()), (b"cache-control", b"public, max-age=86400")],
                ),
            )
            return 301
        try:
            entry, fresh = await self.cache.get_or_last(scope["path"], *parsed)
        except Exception as error:
            if not outage.is_outage(error):
                raise
            retry = [(name.lower().encode(), value.encode()) for name, value in outage.retry_headers().items()]
            await _send(send, *_plain(503, outage.MESSAGE, retry))
            return 503
        request_headers = Headers(scope=scope)
        gzipped = accepts_gzip(request_headers)
        headers = [
            (b"etag", entry.quoted_etag_gzip if gzipped else entry.quoted_etag),
            (b"last-modified", entry.last_modified.encode()),
            (b"cache-control", self._cache_control if fresh else self._stale_cache_control),
            (b"vary", b"Accept-Encoding"),
            (b"x-content-type-options", b"nosniff"),
            # Feed readers and intranet widgets on other sites fetch these from scripts.
            (b"access-control-allow-origin", b"*"),
        ]
        if not fresh:
            headers.append((b"warning", b'110 - "Response is Stale"'))
        if not_modified(request_headers, entry):
            await _send(send, 304, headers, b"")
            return 304
        body = entry.gzipped if gzipped else entry.rendered.body
        headers += [(b"content-type", entry.rendered.media_type.encode()), (b"content-length", str(len(body)).encode())]
        if gzipped:
            headers.append((b"content-encoding", b"gzip"))
        await _send(send, 200, headers, b"" if method == "HEAD" else body)
        return 200
