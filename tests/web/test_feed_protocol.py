"""Cached feeds answered from uvicorn's request parser (FeedHttpProtocol, as `notices serve` runs it).

Between two checks of the data version (`[feeds] change_check_seconds`; tests elsewhere set it to
0, which sends every request the ASGI way) a cached feed is written back as soon as the request's
headers are parsed. These tests serve the same data from two apps on real uvicorn servers, one
with FeedHttpProtocol and one with uvicorn's own protocol, and want the same answers.
"""

import dataclasses
import re
import socket
from datetime import timedelta

import httpx
import pytest

from notices.core.context import AppContext
from notices.web import create_app
from notices.web.feeds.http_protocol import FeedHttpProtocol
from tests.factories import add_notice
from tests.live_server import serving
from tests.webclient import parse_feed


@pytest.fixture
def quiet_ctx(ctx):
    """The data version is read at most once an hour: between reads the cache answers by itself."""
    settings = dataclasses.replace(ctx.settings, feed_change_check_seconds=3600)
    return AppContext(settings=settings, db=ctx.db, clock=ctx.clock)


@pytest.fixture
def servers(quiet_ctx):
    """(ours, uvicorn's): base URLs of two apps on one database, behind the two HTTP protocols."""
    with (
        serving(create_app(quiet_ctx.settings, ctx=quiet_ctx), http=FeedHttpProtocol, proxy_headers=True) as ours,
        serving(create_app(quiet_ctx.settings, ctx=quiet_ctx), http="httptools", proxy_headers=True) as theirs,
    ):
        yield ours, theirs


def answer(base_url: str, method: str, path: str, headers: dict[str, str]) -> tuple[int, list, bytes]:
    with httpx.Client(base_url=base_url) as client:
        client.get(path)  # renders it, or finds it cached
        with client.stream(method, path, headers=headers) as response:
            wire = b"".join(response.iter_raw())  # as sent: gzip stays gzip
    return response.status_code, [item for item in response.headers.multi_items() if item[0] != "date"], wire


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize(
    "headers",
    [
        {"accept-encoding": "identity"},
        {"accept-encoding": "gzip, deflate"},
        {"accept-encoding": "br;q=1, gzip;q=0"},
        {"if-none-match": "{tag}"},
        {"if-none-match": "W/{tag}", "accept-encoding": "gzip"},
        {"if-none-match": '"other", {tag}'},
        {"if-none-match": '"other"'},
        {"if-modified-since": "{last_modified}"},
        {"if-modified-since": "not a date"},
    ],
)
@pytest.mark.parametrize("path", ["/feeds/notices.atom", "/feeds/events.rss?category=road-closure"])
def test_cached_answers_are_the_ones_uvicorns_protocol_gives(quiet_ctx, servers, method, headers, path):
    add_notice(quiet_ctx, category="road-closure")
    ours, theirs = servers
    plain = httpx.get(theirs + path, headers={"accept-encoding": "identity"})
    filled = {
        name: value.format(tag=plain.headers["etag"], last_modified=plain.headers["last-modified"])
        for name, value in headers.items()
    }
    assert answer(ours, method, path, filled) == answer(theirs, method, path, filled)


def test_a_cached_feed_drops_a_notice_at_its_end_with_no_write(quiet_ctx, clock, servers):
    ours, _ = servers
    now = clock.now()
    notice = add_notice(quiet_ctx, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1))
    with httpx.Client(base_url=ours) as client:
        first = client.get("/feeds/notices.atom")
        assert len(parse_feed(first).entries) == 1
        clock.set(notice.ends_at - timedelta(microseconds=1))
        assert client.get("/feeds/notices.atom", headers={"if-none-match": first.headers["etag"]}).status_code == 304
        clock.set(notice.ends_at)
        assert parse_feed(client.get("/feeds/notices.atom")).entries == []
        assert client.get("/feeds/notices.atom", headers={"if-none-match": first.headers["etag"]}).status_code == 200


def raw_exchange(base_url: str, request: bytes) -> bytes:
    """Send raw bytes on one connection; everything the server sends until it closes or goes quiet."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(request)
        received = b""
        connection.settimeout(1)
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except TimeoutError:
            pass
    return received


def without_dates(received: bytes) -> bytes:
    return re.sub(rb"date: [^\r]*\r\n", b"", received)


def test_pipelined_requests_are_answered_in_order(quiet_ctx, servers):
    add_notice(quiet_ctx)
    ours, theirs = servers
    tag = httpx.get(ours + "/feeds/notices.atom").headers["etag"]
    httpx.get(theirs + "/feeds/notices.atom")
    request = (
        b"GET /feeds/notices.atom HTTP/1.1\r\nHost: x\r\nIf-None-Match: %s\r\n\r\n"
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        b"HEAD /feeds/notices.atom HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /feeds/notices.atom HTTP/1.1\r\nHost: x\r\nIf-None-Match: %s\r\nConnection: close\r\n\r\n"
    ) % (tag.encode(), tag.encode())
    received = raw_exchange(ours, request)
    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", received) == [b"304", b"503", b"200", b"304"]  # 503: no scheduler ran
    assert received.endswith(b"connection: close\r\n\r\n")  # the last one asked to close, and was closed
    assert without_dates(received) == without_dates(raw_exchange(theirs, request))


def test_http_1_0_gets_its_answer_and_the_connection_closed(quiet_ctx, servers):
    add_notice(quiet_ctx)
    ours, theirs = servers
    httpx.get(ours + "/feeds/notices.atom")
    httpx.get(theirs + "/feeds/notices.atom")
    received = raw_exchange(ours, b"GET /feeds/notices.atom HTTP/1.0\r\n\r\n")
    assert without_dates(received) == without_dates(raw_exchange(theirs, b"GET /feeds/notices.atom HTTP/1.0\r\n\r\n"))
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nconnection: close" in head
    assert len(body) == int(head.split(b"content-length: ")[1].split(b"\r\n")[0])
