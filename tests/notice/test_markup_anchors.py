"""markdown_to_html skips parsing its output when every anchor surely has a target
(_all_anchors_live): the shortcut must give exactly what the parse gives."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notices.notice import markup

BASE = "https://site.example/park/"
PIECES = [
    "[site](https://example.org/a)",
    "[relative](/notices/1)",
    "[empty]()",
    "[script](javascript:alert(1))",
    "[data](data:text/html,x)",
    '<a href="https://example.org">raw</a>',
    '<a title="href=" href="https://example.org">title first</a>',
    '<a name="x">no target</a>',
    "<a>bare</a>",
    '<a href="">empty raw</a>',
    "<abbr title='x'>abbr</abbr>",
    'text &lt;a href="x"&gt; escaped',
    "`<a href=x>` in code",
    "*emphasis*",
    "plain words",
    '<abbr title="<a x">attribute with an anchor</abbr>',
    "[reference][ref]\n\n[ref]: https://example.org/r",
    "[dead reference][bad]\n\n[bad]: javascript:alert(1)",
    "<https://example.org/auto>",
    "<mailto:someone@example.org>",
    '<A HREF="https://example.org">upper case</A>',
    "\n\n",
]


def parse_always(monkeypatch) -> None:
    """markdown_to_html as before the shortcut: its output parsed whenever it has an anchor."""
    monkeypatch.setattr(markup, "_all_anchors_live", lambda html: "<a" not in html)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=6).map(" ".join))
def test_the_shortcut_gives_what_parsing_gives(text):
    shortcut = markup.markdown_to_html(text, base_url=BASE)
    with pytest.MonkeyPatch.context() as monkeypatch:
        parse_always(monkeypatch)
        assert shortcut == markup.markdown_to_html(text, base_url=BASE)


def test_dead_anchors_are_still_unlinked():
    html = markup.markdown_to_html("[a](javascript:x) and [b](/b)", base_url="https://site.example/")
    assert html == '<p>a and <a href="https://site.example/b" rel="noopener noreferrer nofollow">b</a></p>'
