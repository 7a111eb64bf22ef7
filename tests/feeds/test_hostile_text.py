"""Any text a manager can type gives well-formed feeds and pages with nothing executable."""

import pytest
from icalendar import Calendar
from lxml import etree

from notices.runtime import jobs
from tests.factories import add_notice
from tests.webclient import parse_feed

HOSTILE = {
    "title": 'Closure ]]> <script>alert(1)</script> "quoted" \u202eRTL \u05e9\u05dc\u05d5\u05dd \U0001f6a7',
    "summary": "bad \x00\x01\x1f chars \ufffe\uffff and ]]> <b onmouseover=alert(1)>x</b>",
    "body": (
        "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[click](javascript:alert(1))\n\n"
        '<a href="data:text/html,<script>alert(1)</script>">data</a>\n\n<iframe src=//evil></iframe>\n\n'
        "<svg onload=alert(1)></svg> ]]> \x0b\x0c"
    ),
    "location_detail": "between <em>here</em> & there \x07",
    "expected_end": "]]> <script>",
}


# The site's own map parts: its script files, the GeoJSON data block and the outline the server draws.
SITE_MAP_PARTS = (
    "//script[starts-with(@src, '/static/')] | //script[@type='application/geo+json'] | "
    "//svg[@class='map-sketch']/descendant-or-self::*"
)


def assert_nothing_executable(html_root):
    own = set(html_root.xpath(SITE_MAP_PARTS))
    assert [script for script in html_root.xpath("//script") if script not in own] == []
    for element in html_root.iter():
        if not isinstance(element.tag, str) or element in own:
            continue
        assert element.tag not in ("iframe", "svg", "img", "object", "embed")
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (element.tag, name)
            assert not value.strip().lower().startswith(("javascript:", "data:")), (element.tag, value)


@pytest.mark.parametrize(
    "path", ["/feeds/notices.atom", "/feeds/notices.rss", "/feeds/events.atom", "/feeds/events.rss"]
)
def test_feeds_stay_well_formed_and_inert(ctx, clock, client, path):
    add_notice(ctx, **HOSTILE, ends_at=None)
    jobs.record_transitions(ctx, now=clock.now())
    feed = parse_feed(client.get(path))
    (entry,) = feed.entries
    assert "\U0001f6a7" in entry.title and "\u05e9\u05dc\u05d5\u05dd" in entry.title
    assert_nothing_executable(etree.HTML(entry.content[0].value))


def test_calendar_stays_readable(ctx, client):
    add_notice(ctx, **HOSTILE)
    response = client.get("/calendar/notices.ics")
    assert response.status_code == 200
    (event,) = Calendar.from_ical(response.content).walk("VEVENT")
    assert "\U0001f6a7" in str(event["summary"])


@pytest.mark.parametrize("page", ["/", "/notices/{uid}"])
def test_pages_escape_everything(ctx, client, page):
    notice = add_notice(ctx, **HOSTILE)
    response = client.get(page.format(uid=notice.uid))
    assert response.status_code == 200
    root = etree.HTML(response.text)
    assert_nothing_executable(root)
    assert "<script>alert(1)</script>" in "".join(root.itertext())  # shown as text, not run


def test_a_ten_thousand_character_body(ctx, client):
    body = ("Closure details with **bold** text and a [link](https://example.org). " * 200)[:10_000]
    add_notice(ctx, body=body)
    feed = parse_feed(client.get("/feeds/notices.atom"))
    assert feed.entries[0].content[0].value.count("example.org") > 100
    assert client.get("/").status_code == 200
