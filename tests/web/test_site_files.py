"""Files every site is asked for: /robots.txt, and the API reference's assets served from here."""

from __future__ import annotations

from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import pytest
from lxml import etree


@pytest.fixture
def robots(client) -> RobotFileParser:
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    parser = RobotFileParser()
    parser.parse(response.text.splitlines())
    return parser


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/?category=road-closure",
        "/notices/0b6a3c1e-6f1d-4a43-9d55-2d7b8f0a1c2e",
        "/feeds/notices.atom",
        "/feeds/events.rss",
        "/calendar/notices.ics",
        "/subscribe",
        "/docs",
    ],
)
def test_robots_may_read_the_public_pages_and_feeds(robots, path):
    assert robots.can_fetch("ExampleBot", path)


@pytest.mark.parametrize(
    "path",
    [
        "/admin",
        "/admin/login",
        "/admin/notices/new",
        "/preferences/a-personal-token",
        "/unsubscribe/a-personal-token",
        "/subscribe/confirm/a-personal-token",
    ],
)
def test_robots_stay_out_of_the_console_and_personal_link_pages(robots, path):
    assert not robots.can_fetch("ExampleBot", path)


def test_the_api_reference_loads_nothing_from_other_sites(client):
    response = client.get("/docs")
    assert response.status_code == 200
    page = etree.HTML(response.text)
    loaded = page.xpath("//script/@src | //link/@href | //img/@src")
    assert loaded and all(not urlsplit(url).netloc for url in loaded)
    assert not [script for script in page.xpath("//script") if (script.text or "").strip()]  # no inline script
    for url in loaded:
        assert client.get(url).status_code == 200, url


def test_the_api_reference_has_the_strict_content_security_policy(client):
    policy = client.get("/docs").headers["content-security-policy"]
    assert "script-src 'self';" in policy and "default-src 'self';" in policy
