"""Bodies that would make the sanitiser walk thousands of nested elements (its time grows with the
square of the depth: a minute for one body) render with their nesting bounded."""

from __future__ import annotations

import lxml.html

from notices.notice.markup import markdown_to_html

BASE = "https://park.example/"


def depth(html: str, tag: str) -> int:
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    return max((len(element.xpath(f"ancestor-or-self::{tag}")) for element in root.iter(tag)), default=0)


def test_quotes_nest_at_most_8_deep_and_keep_their_text():
    for text in (">" * 100_000 + " deep", "> " * 50_000 + "deep", "- " + ">" * 99_000 + "deep"):
        html = markdown_to_html(text, base_url=BASE)
        assert depth(html, "blockquote") == 8
        assert "deep" in html
    assert depth(markdown_to_html("> > > three", base_url=BASE), "blockquote") == 3
    assert depth(markdown_to_html("> " * 8 + "eight", base_url=BASE), "blockquote") == 8


def test_a_body_with_thousands_of_angle_brackets_renders_without_its_raw_html():
    text = "<b>raw</b> **strong** " + "<a>" * 30_000
    html = markdown_to_html(text, base_url=BASE)
    assert "<b>" not in html and "<a" not in html
    assert "<strong>strong</strong>" in html
    # Up to 2,000 of them, raw HTML is kept (and sanitised) as usual.
    assert "<b>raw</b>" in markdown_to_html("<b>raw</b> " + "a < b " * 1_998, base_url=BASE)
