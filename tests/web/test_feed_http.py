"""HTTP caching of feeds: ETag, Last-Modified, 304s, gzip, HEAD, and the render cache."""

import asyncio
import gzip
import hashlib
import logging
import threading
import time
from datetime import timedelta
from email.utils import format_datetime
from urllib.parse import urlsplit

import feedparser
import httpx
import pytest
import uvicorn

from notices.web import create_app
from notices.web.feeds.http_protocol import FeedHttpProtocol
from tests.factories import add_notice
from tests.live_server import serving
from tests.smtp_sink import free_port
from tests.webclient import parse_feed

PLAIN = {"accept-encoding": "identity"}


@pytest.fixture(params=["asgi", "served"])
def client(request, app):
    """Each test twice: through the ASGI app, and over HTTP from uvicorn as `notices serve` runs it.

    `notices serve` gives uvicorn FeedHttpProtocol, which answers cached feeds from the request
    parser, before the ASGI app; the answers must be the same.
    """
    if request.param == "asgi":
        from fastapi.testclient import TestClient

        with TestClient(app) as client:
            yield client
        return
    with (
        serving(app, http=FeedHttpProtocol, access_log=False, proxy_headers=True) as base_url,
        httpx.Client(base_url=base_url, follow_redirects=True) as client,
    ):
        yield client


def test_strong_etag_is_the_hash_of_the_body(ctx, client):
    add_notice(ctx)
    response = client.get("/feeds/notices.atom", headers=PLAIN)
    assert response.headers["etag"] == f'"{hashlib.sha256(response.content).hexdigest()[:32]}"'
    assert response.headers["cache-control"] == f"public, max-age={ctx.settings.feed_max_age}"
    assert response.headers["vary"] == "Accept-Encoding"


@pytest.mark.parametrize("form", ["{tag}", "W/{tag}", '"{bare}-gzip"', 'W/"{bare}-gzip"', '"other", {tag}', "*"])
def test_if_none_match_in_its_usual_forms_gives_304(ctx, client, form):
    add_notice(ctx)
    tag = client.get("/feeds/notices.atom", headers=PLAIN).headers["etag"]
    response = client.get(
        "/feeds/notices.atom", headers={**PLAIN, "if-none-match": form.format(tag=tag, bare=tag.strip('"'))}
    )
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == tag


def test_a_stale_etag_gets_the_new_feed(ctx, client):
    add_notice(ctx)
    old = client.get("/feeds/notices.atom", headers=PLAIN).headers["etag"]
    add_notice(ctx, title="Another closure")
    response = client.get("/feeds/notices.atom", headers={**PLAIN, "if-none-match": old})
    assert response.status_code == 200
    assert len(parse_feed(response).entries) == 2


def test_if_modified_since(ctx, client):
    notice = add_notice(ctx)
    response = client.get("/feeds/notices.rss", headers=PLAIN)
    assert response.headers["last-modified"] == format_datetime(notice.updated_at.replace(microsecond=0), usegmt=True)
    same = client.get("/feeds/notices.rss", headers={**PLAIN, "if-modified-since": response.headers["last-modified"]})
    assert same.status_code == 304
    earlier = format_datetime(notice.updated_at - timedelta(hours=1), usegmt=True)
    assert client.get("/feeds/notices.rss", headers={**PLAIN, "if-modified-since": earlier}).status_code == 200


def test_gzip_when_accepted(ctx, client):
    add_notice(ctx)
    plain = client.get("/feeds/notices.atom", headers=PLAIN)
    with client.stream("GET", "/feeds/notices.atom", headers={"accept-encoding": "gzip"}) as response:
        wire = b"".join(response.iter_raw())  # the bytes as sent, not decoded by httpx
        assert response.headers["content-encoding"] == "gzip"
        assert response.headers["etag"] == plain.headers["etag"][:-1] + '-gzip"'
        assert int(response.headers["content-length"]) == len(wire) < len(plain.content)
    assert gzip.decompress(wire) == plain.content


def test_head_gives_the_headers_without_a_body(ctx, client):
    add_notice(ctx)
    get = client.get("/feeds/notices.atom", headers=PLAIN)
    head = client.head("/feeds/notices.atom", headers=PLAIN)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-length"] == str(len(get.content))


def test_other_methods_are_refused(client):
    response = client.post("/feeds/notices.atom")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"


def test_options_of_a_feed_lists_its_methods(client):
    response = client.options("/feeds/notices.atom")
    assert (response.status_code, response.headers["allow"], response.content) == (204, "GET, HEAD, OPTIONS", b"")


def test_repeated_requests_reuse_one_render(ctx, app, client):
    add_notice(ctx)
    for _ in range(5):
        client.get("/feeds/notices.atom")
    assert app.state.feed_cache.renders == 1


def test_a_write_in_any_process_invalidates_the_cache(ctx, app, client):
    add_notice(ctx)
    client.get("/feeds/notices.atom")
    add_notice(ctx, title="Written by another process")  # bumps the data version in the database
    assert len(parse_feed(client.get("/feeds/notices.atom")).entries) == 2
    assert app.state.feed_cache.renders == 2


def test_a_cached_feed_drops_a_notice_at_its_end_with_no_write(ctx, clock, app, client):
    now = clock.now()
    notice = add_notice(ctx, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1))
    assert len(parse_feed(client.get("/feeds/notices.atom")).entries) == 1
    clock.set(notice.ends_at - timedelta(microseconds=1))
    assert len(parse_feed(client.get("/feeds/notices.atom")).entries) == 1
    assert app.state.feed_cache.renders == 1  # still valid just before the end
    clock.set(notice.ends_at)
    assert parse_feed(client.get("/feeds/notices.atom")).entries == []


def test_a_cached_feed_gains_a_scheduled_notice_at_its_publish_time(ctx, clock, client):
    notice = add_notice(
        ctx, publish_at=clock.now() + timedelta(hours=1), starts_at=clock.now() + timedelta(days=1), ends_at=None
    )
    assert parse_feed(client.get("/feeds/notices.atom")).entries == []
    clock.set(notice.publish_at)
    assert len(parse_feed(client.get("/feeds/notices.atom")).entries) == 1


def test_concurrent_requests_after_a_change_cause_one_render(ctx, app):
    add_notice(ctx)

    async def burst():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            responses = await asyncio.gather(*(client.get("/feeds/notices.atom") for _ in range(20)))
        return {response.status_code for response in responses}

    assert asyncio.run(burst()) == {200}
    assert app.state.feed_cache.renders == 1


def test_filters_are_cached_separately_and_spelled_one_way(ctx, app, client):
    add_notice(ctx, category="road-closure")
    add_notice(ctx, category="event", severity="info")
    a = client.get("/feeds/notices.atom?category=road-closure,event")
    b = client.get("/feeds/notices.atom?category=event&category=road-closure")
    assert a.content == b.content
    assert app.state.feed_cache.renders == 1
    client.get("/feeds/notices.atom?category=event")
    assert app.state.feed_cache.renders == 2


@pytest.mark.parametrize(
    ("query", "canonical"),
    [
        ("location=plesmanlaan,einsteinweg", "location=einsteinweg&location=plesmanlaan"),
        ("location=plesmanlaan&location=einsteinweg", "location=einsteinweg&location=plesmanlaan"),
        ("severity=major&category=Road-Closure", "category=road-closure&severity=major"),
        ("category=event&category=event", "category=event"),
        ("category=&location=&severity=", ""),
        ("utm_source=newsletter&category=event", "category=event"),
    ],
)
def test_a_feed_url_in_another_spelling_moves_permanently_to_the_canonical_one(client, query, canonical):
    for method in ("GET", "HEAD"):
        response = client.request(method, f"/feeds/notices.atom?{query}", follow_redirects=False)
        assert response.status_code == 301
        assert response.headers["location"] == "/feeds/notices.atom" + (f"?{canonical}" if canonical else "")


def test_the_canonical_spelling_is_served_as_it_is(ctx, client):
    add_notice(ctx)
    response = client.get(
        "/feeds/notices.rss?category=road-closure&location=plesmanlaan&severity=major", follow_redirects=False
    )
    assert response.status_code == 200


@pytest.fixture
def live_server(ctx):
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(ctx.settings, ctx=ctx), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_a_reader_subscribed_with_the_comma_form_updates_to_the_url_its_self_link_names(ctx, live_server):
    add_notice(ctx, locations=["plesmanlaan", "einsteinweg"])
    parsed = feedparser.parse(f"{live_server}/feeds/notices.atom?location=plesmanlaan,einsteinweg")
    # feedparser reports a permanent redirect: readers store the new address in place of the old one.
    assert parsed.status == 301
    assert parsed.href == f"{live_server}/feeds/notices.atom?location=einsteinweg&location=plesmanlaan"
    assert len(parsed.entries) == 1
    (self_link,) = [link.href for link in parsed.feed.links if link.rel == "self"]
    assert urlsplit(self_link)[2:4] == urlsplit(parsed.href)[2:4]  # same path and query


def test_metrics_count_the_answers_from_the_cache(ctx, app, client):
    add_notice(ctx)
    tag = client.get("/feeds/notices.atom", headers=PLAIN).headers["etag"]
    client.get("/feeds/notices.atom", headers={**PLAIN, "if-none-match": tag})
    client.head("/feeds/notices.atom", headers=PLAIN)
    metrics = client.get("/metrics").text
    assert 'notices_feed_requests_total{feed="/feeds/notices.atom",status="200"} 2.0' in metrics
    assert 'notices_feed_requests_total{feed="/feeds/notices.atom",status="304"} 1.0' in metrics
    assert "notices_feed_cache_hits_total 2.0" in metrics
    assert app.state.feed_cache.renders == 1


def test_the_access_log_names_the_forwarded_client_of_cached_answers_too(ctx, app, caplog):
    add_notice(ctx)
    forwarded = {"x-forwarded-for": "203.0.113.9"}  # from 127.0.0.1, a trusted proxy by default
    with serving(app, http=FeedHttpProtocol, proxy_headers=True) as base_url, httpx.Client(base_url=base_url) as client:
        access = logging.getLogger("uvicorn.access")  # uvicorn's logging setup keeps it from propagating
        access.addHandler(caplog.handler)
        access.setLevel(logging.INFO)
        tag = client.get("/feeds/notices.atom?category=road-closure", headers=forwarded).headers["etag"]  # rendered
        client.get("/feeds/notices.atom?category=road-closure", headers={**forwarded, "if-none-match": tag})  # cached
        client.get("/feeds/notices.atom?category=road-closure", headers={"x-forwarded-for": "198.51.100.7"})
        access.removeHandler(caplog.handler)
    lines = [record.getMessage() for record in caplog.records if record.name == "uvicorn.access"]
    assert lines == [
        '203.0.113.9:0 - "GET /feeds/notices.atom?category=road-closure HTTP/1.1" 200',
        '203.0.113.9:0 - "GET /feeds/notices.atom?category=road-closure HTTP/1.1" 304',
        '198.51.100.7:0 - "GET /feeds/notices.atom?category=road-closure HTTP/1.1" 200',
    ]
