"""uvicorn's HTTP protocol, answering cached feed requests from inside the request parser.

Most requests are feed readers polling a feed that is cached and unchanged. For those, the
ASGI round trip costs more than the answer: a scope, an asyncio task, a request/response cycle
and two send() calls, each checking every header again. This protocol (`notices serve` passes
it to uvicorn as `http=`) asks the fast path (FeedFastPath.answer_now) for the answer as soon
as the request's headers are parsed and writes it back at once, with uvicorn's own Date and
Server headers; the header block of each cached answer is joined once. Anything else, or
anything that would have to wait (a render, the data-version check, an outage), goes the ASGI
way as before, through FastAPI and NoticesApp's fast path, with the same answers.
"""

from __future__ import annotations

import contextlib
from typing import Any

from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

from notices.feeds.catalog import FEED_PATHS
from notices.web.feeds.fast_path import FeedFastPath

_RAW_FEED_PATHS = frozenset(path.encode() for path in FEED_PATHS)


class _Answered:
    """Stands for the request/response cycle of a request answered here: complete, nothing to wake."""

    response_complete = True
    disconnected = False

    class message_event:  # noqa: N801 - the cycle's attribute name
        @staticmethod
        def set() -> None:
            pass


_ANSWERED = _Answered()


def _header_block(headers: list[tuple[bytes, bytes]]) -> bytes:
    return b"".join(b"%s: %s\r\n" % (name, value) for name, value in headers)


async def _nothing(scope, receive, send) -> None:
    pass


def find_fast_path(app) -> FeedFastPath | None:
    """The app's feed fast path, under whatever uvicorn wrapped around it (proxy headers, logging)."""
    for _ in range(8):
        fast_path = getattr(app, "feed_fast_path", None)
        if fast_path is not None:
            return fast_path
        app = getattr(app, "app", None)
        if app is None:
            break
    return None


class FeedHttpProtocol(HttpToolsProtocol):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fast_path = find_fast_path(self.app)
        # With a concurrency limit uvicorn may have to refuse the request: that is the ASGI way's.
        self.answers_here = self.fast_path is not None and self.limit_concurrency is None
        # The access log names the client as the proxy headers say (X-Forwarded-For from a
        # trusted proxy), so it is worked out the way uvicorn's middleware does it.
        self._proxy: Any = (
            ProxyHeadersMiddleware(_nothing, self.config.forwarded_allow_ips)
            if self.access_log and self.config.proxy_headers
            else None
        )
        self._defaults: tuple[object, bytes] = (None, b"")
        # id(header list) -> (the list, its joined block): cached answers reuse their lists.
        self._blocks: dict[int, tuple[list[tuple[bytes, bytes]], bytes]] = {}

    def on_message_begin(self) -> None:
        if not self.answers_here:
            super().on_message_begin()
            return
        # What uvicorn's on_message_begin resets for the parser's callbacks; its ASGI scope (a
        # dict and a copy of the app state per request) is built only for a request that goes
        # the ASGI way (_begin_asgi), not for the polls answered here.
        self.url = b""
        self.expect_100_continue = False
        self.headers = []

    def _begin_asgi(self) -> None:
        """uvicorn's on_message_begin, late: the scope, with the URL and headers parsed since."""
        url, headers, expect_100_continue = self.url, self.headers, self.expect_100_continue
        super().on_message_begin()
        self.url, self.headers, self.expect_100_continue = url, headers, expect_100_continue
        self.scope["headers"] = headers

    def on_headers_complete(self) -> None:
        if self.answers_here:
            if self._answer_here():
                return
            self._begin_asgi()
        super().on_headers_complete()

    def _answer_here(self) -> bool:
        parser = self.parser
        raw_path, _, raw_query = self.url.partition(b"?")
        if (
            raw_path not in _RAW_FEED_PATHS
            or self.root_path
            or self.pipeline
            or self.expect_100_continue
            or (self.cycle is not None and not self.cycle.response_complete)
            or parser.get_http_version() != "1.1"
            or not parser.should_keep_alive()
            or parser.should_upgrade()
        ):
            return False
        method = parser.get_method().decode("ascii")
        answer = self.fast_path.answer_now(method, raw_path.decode("ascii"), raw_query, self.headers)  # type: ignore[union-attr]
        if answer is None:
            return False
        status, headers, body = answer
        if self.access_log:
            self._log(method, raw_path, raw_query, status)
        self.transport.writelines((self._head(status, headers), body) if body else (self._head(status, headers),))
        self.cycle = _ANSWERED  # type: ignore[assignment]
        self.on_response_complete()  # counts it, reads on, arms the keep-alive timeout
        return True

    def _log(self, method: str, raw_path: bytes, raw_query: bytes, status: int) -> None:
        """The line uvicorn's request/response cycle would have logged."""
        scope: Any = {
            "type": "http",
            "client": self.client,
            "scheme": self.scheme,
            "headers": self.headers,
            "root_path": "",
            "path": raw_path.decode("ascii"),
            "query_string": raw_query,
        }
        if self._proxy is not None:
            with contextlib.suppress(StopIteration):  # it sets scope["client"] and awaits nothing
                self._proxy(scope, None, None).send(None)
        self.access_logger.info(
            '%s - "%s %s HTTP/%s" %d',
            get_client_addr(scope),
            method,
            get_path_with_query_string(scope),
            "1.1",
            status,
        )

    def _head(self, status: int, headers: list[tuple[bytes, bytes]]) -> bytes:
        defaults = self.server_state.default_headers  # Date and Server; replaced every second
        if self._defaults[0] is not defaults:
            self._defaults = (defaults, _header_block(defaults))
        known = self._blocks.get(id(headers))
        if known is None or known[0] is not headers:
            if len(self._blocks) >= 64:  # answers of replaced entries: start afresh
                self._blocks.clear()
            known = self._blocks[id(headers)] = (headers, _header_block(headers))
        return b"".join((STATUS_LINE[status], self._defaults[1], known[1], b"\r\n"))
