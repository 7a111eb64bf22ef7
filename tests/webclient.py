"""Helpers to read what a feed reader or calendar app would read."""

from __future__ import annotations

import feedparser
from lxml import etree


def parse_feed(response):
    assert response.status_code == 200, response.text
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    etree.fromstring(response.content)  # well-formed for strict XML readers too
    return parsed
