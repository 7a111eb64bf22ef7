"""A row written before input was checked (old data, a hand-made SQL fix) cannot put in a page what
the output filter takes out of every other output: controls, noncharacters, bidi controls (one
U+202E reverses the rest of a heading). Every value a template prints goes through the filter."""

import json
from datetime import timedelta

import lxml.html

from tests.factories import add_notice, write_old_row_text

HOSTILE = "X\x01\x08\x0b\x0c\x1b\x7f\x85\x9f\ufffe\uffff\U0001fffe\u202e\u2066\u200f\u061cY"
UNSAFE = set(HOSTILE) - {"X", "Y"}


def test_an_old_rows_unsafe_characters_are_on_no_page(ctx, client):
    notice = add_notice(ctx, starts_at=ctx.clock.now() - timedelta(minutes=5), ends_at=None)
    write_old_row_text(ctx, notice, HOSTILE)
    for path in ("/", f"/notices/{notice.uid}"):
        response = client.get(path)
        assert response.status_code == 200
        html = response.text
        assert "Plesmanlaan XY closed" in html, path
        assert "Q3 XY 2027" in html, path
        assert [hex(ord(character)) for character in html if character in UNSAFE] == [], path
        # The map's features are JSON in the page, with escapes (\u202e) no scan of the HTML sees.
        (features,) = lxml.html.fromstring(html).xpath('//script[@id="map-features"]/text()')
        titles = [feature["properties"]["title"] for feature in json.loads(features)["features"]]
        assert titles and set(titles) == {"Plesmanlaan XY closed"}, path
