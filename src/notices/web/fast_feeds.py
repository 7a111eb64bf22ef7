"""The feed fast path: raw ASGI in front of FastAPI, serving cached bytes with HTTP caching.

Feed readers poll every few minutes; most requests end here as a 304 or as
cached bytes, without routing, validation or a database query.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime

from starlette.datastructures import Headers, QueryParams

from notices.config import Settings
from notices.feed_catalog import FEED_PATHS
from notices.web.feed_cache import CachedFeed, FeedCache
from notices.web.query_filters import BadFilter, canonical_query, filters_from_query


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


async def _send(send, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    raw = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class FeedFastPath:
    def __init__(self, app, *, cache: FeedCache, settings: Settings) -> None:
        self.app = app
        self.cache = cache
        self.settings = settings

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] not in FEED_PATHS:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            await _send(send, 405, [("allow", "GET, HEAD"), ("content-type", "text/plain; charset=utf-8")],
                        b"Method not allowed: feeds are read with GET or HEAD.\n")
            return
        try:
            filters = filters_from_query(QueryParams(scope["query_string"].decode("latin-1")), self.settings)
        except BadFilter as error:
            await _send(send, 400, [("content-type", "text/plain; charset=utf-8")], (str(error) + "\n").encode())
            return
        entry = await self.cache.get(scope["path"], filters, canonical_query(filters))
        request_headers = Headers(scope=scope)
        gzipped = accepts_gzip(request_headers)
        headers = [
            ("etag", f'"{entry.etag}-gzip"' if gzipped else f'"{entry.etag}"'),
            ("last-modified", entry.last_modified),
            ("cache-control", f"public, max-age={self.settings.feed_max_age}"),
            ("vary", "Accept-Encoding"),
        ]
        if not_modified(request_headers, entry):
            await _send(send, 304, headers, b"")
            return
        body = entry.gzipped if gzipped else entry.rendered.body
        headers += [("content-type", entry.rendered.media_type), ("content-length", str(len(body)))]
        if gzipped:
            headers.append(("content-encoding", "gzip"))
        await _send(send, 200, headers, b"" if method == "HEAD" else body)
