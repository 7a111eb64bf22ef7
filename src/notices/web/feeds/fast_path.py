"""The feed fast path: raw ASGI in front of FastAPI, serving cached bytes with HTTP caching.

Feed readers poll every few minutes; most requests end here as a 304 or as
cached bytes, without middleware, routing, validation or a database query.
The app (web.app.NoticesApp) hands feed paths here before Starlette's
middleware stack; the answers' header lists are built once per cache entry
(cache.CachedFeed), and the request headers are read straight from the scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import parsedate_to_datetime

from starlette.datastructures import QueryParams

from notices.core.config import Settings
from notices.notice.lifecycle import Filters
from notices.web import outage
from notices.web.feeds.cache import CachedFeed, FeedCache
from notices.web.feeds.query import BadFilter, canonical_query, filters_from_query
from notices.web.request_guards import nul_problem

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


def not_modified(if_none_match: bytes | None, if_modified_since: bytes | None, entry: CachedFeed) -> bool:
    if if_none_match is not None:  # it takes precedence over If-Modified-Since
        # What readers send back nearly always: the tag exactly as we gave it.
        if if_none_match in (entry.quoted_etag, entry.quoted_etag_gzip):
            return True
        return etag_matches(if_none_match.decode("latin-1"), entry.etag)
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since.decode("latin-1"))
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            return False
        return entry.rendered.last_modified.replace(microsecond=0) <= since
    return False


def accepts_gzip(accept_encoding: str) -> bool:
    for part in accept_encoding.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "x-gzip"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _conditional_headers(headers) -> tuple[bytes | None, bytes | None, bytes]:
    """If-None-Match, If-Modified-Since and Accept-Encoding, read once from the raw header list.

    Repeated If-None-Match or Accept-Encoding headers are one comma-separated list (RFC 9110).
    """
    if_none_match = if_modified_since = None
    accept_encoding = b""
    for name, value in headers:
        if name == b"if-none-match":
            if_none_match = value if if_none_match is None else if_none_match + b", " + value
        elif name == b"accept-encoding":
            accept_encoding = value if not accept_encoding else accept_encoding + b", " + value
        elif name == b"if-modified-since" and if_modified_since is None:
            if_modified_since = value
    return if_none_match, if_modified_since, accept_encoding


ALLOW = b"GET, HEAD, OPTIONS"


async def _send(send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _plain(status: int, text: str, extra: Sequence[tuple[bytes, bytes]] = ()) -> tuple[int, list, bytes]:
    return status, [(b"content-type", b"text/plain; charset=utf-8"), *extra], (text + "\n").encode()


class FeedFastPath:
    """Answers feed requests (FEED_PATHS) from the cache; web.app.NoticesApp calls serve() for them."""

    def __init__(self, *, cache: FeedCache, settings: Settings, metrics=None) -> None:
        self.cache = cache
        self.settings = settings
        self._stale_cache_control = f"public, max-age={min(STALE_MAX_AGE, settings.feed_max_age)}".encode()
        # Raw query string -> (filters, canonical query) or a 400 message. Readers
        # poll the same few URLs, so this saves parsing on nearly every request.
        self._queries: dict[bytes, tuple[Filters, str, bytes] | str] = {}
        # Raw Accept-Encoding -> gzip or not: clients send a handful of distinct values.
        self._gzip_choices: dict[bytes, bool] = {}
        # (path, status) -> requests answered (web.metrics.FeedRequestCounts), or None without metrics.
        self._counts: dict[tuple[str, int], int] | None = metrics.feed_requests.counts if metrics else None

    def _filters(self, raw_query: bytes) -> tuple[Filters, str, bytes] | str:
        """(filters, canonical query, the same as bytes) or the 400's message."""
        known = self._queries.get(raw_query)
        if known is not None:
            return known
        nul = nul_problem({"path": "", "query_string": raw_query})
        if nul is not None:  # as RefuseNul answers for every other path
            message = nul[1]
            result: tuple[Filters, str, bytes] | str = message[0].upper() + message[1:] + "."
        else:
            result = self._parse(raw_query)
        if len(self._queries) < 1024:  # bounded: arbitrary query strings must not grow memory
            self._queries[raw_query] = result
        return result

    def _parse(self, raw_query: bytes) -> tuple[Filters, str, bytes] | str:
        try:
            filters = filters_from_query(QueryParams(raw_query.decode("latin-1")), self.settings)
            canonical = canonical_query(filters)
            return filters, canonical, canonical.encode()
        except BadFilter as error:
            return str(error)

    def _gzip(self, accept_encoding: bytes) -> bool:
        known = self._gzip_choices.get(accept_encoding)
        if known is None:
            known = accepts_gzip(accept_encoding.decode("latin-1"))
            if len(self._gzip_choices) < 256:  # bounded, as above
                self._gzip_choices[accept_encoding] = known
        return known

    async def serve(self, scope, send) -> None:
        self._count(scope["path"], await self._respond(scope, send))

    def _count(self, path: str, status: int) -> None:
        counts = self._counts
        if counts is not None:
            key = (path, status)
            counts[key] = counts.get(key, 0) + 1

    def answer_now(
        self, method: str, path: str, raw_query: bytes, headers: list[tuple[bytes, bytes]]
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        """The answer to a GET or HEAD of a feed, if it is in the cache and can be given without waiting.

        For the server's HTTP protocol (web.feeds.http_protocol), which writes it straight back
        from the request parser. None when serve() must answer instead: not GET or HEAD, a query
        that is not the canonical one, a feed not rendered yet or stale, the data version due
        for a check, or a database outage.
        """
        if method != "GET" and method != "HEAD":
            return None
        parsed = self._filters(raw_query)
        if isinstance(parsed, str) or raw_query != parsed[2]:
            return None
        entry = self.cache.fresh_entry(path, parsed[1])
        if entry is None:
            return None
        status, response_headers, body = self._answer(entry, True, method, headers)
        self._count(path, status)
        return status, response_headers, body

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
        filters, canonical, canonical_bytes = parsed
        if scope["query_string"] != canonical_bytes:
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
            entry, fresh = await self.cache.get_or_last(scope["path"], filters, canonical)
        except Exception as error:
            if not outage.is_outage(error):
                raise
            retry = [(name.lower().encode(), value.encode()) for name, value in outage.retry_headers().items()]
            await _send(send, *_plain(503, outage.MESSAGE, retry))
            return 503
        status, headers, body = self._answer(entry, fresh, method, scope["headers"])
        await _send(send, status, headers, body)
        return status

    def _answer(
        self, entry: CachedFeed, fresh: bool, method: str, request_headers: list[tuple[bytes, bytes]]
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """The 304 or 200 (with or without gzip; no body for HEAD) for this cached feed."""
        if_none_match, if_modified_since, accept_encoding = _conditional_headers(request_headers)
        gzipped = self._gzip(accept_encoding) if accept_encoding else False
        if not_modified(if_none_match, if_modified_since, entry):
            return 304, entry.not_modified_headers[gzipped] if fresh else self._stale(entry, gzipped), b""
        body = entry.gzipped if gzipped else entry.rendered.body
        if fresh:
            headers = entry.ok_headers[gzipped]
        else:
            length = [(b"content-length", b"%d" % len(body))]
            encoding = [(b"content-encoding", b"gzip")] if gzipped else []
            media_type = [(b"content-type", entry.rendered.media_type.encode())]
            headers = self._stale(entry, gzipped) + media_type + length + encoding
        return 200, headers, b"" if method == "HEAD" else body

    def _stale(self, entry: CachedFeed, gzipped: bool) -> list[tuple[bytes, bytes]]:
        """The last copy during a database outage: a short lifetime, and marked as stale."""
        return [*entry.validators(gzipped, self._stale_cache_control), (b"warning", b'110 - "Response is Stale"')]
