"""HTML to plain text (notice.html_text): the sanitiser's HTML is read without html.parser, and
gives the same text as html.parser's reading, for what Markdown and the sanitiser write and for
any other HTML (which html.parser then reads)."""

from __future__ import annotations

import re

from hypothesis import example, given
from hypothesis import strategies as st

from notices.notice.html_text import _read_sanitised, _TextWriter, html_to_text, text_by_html_parser
from notices.notice.markup import markdown_to_html

BASE_URL = "https://park.example/notices/"

# Markdown's pieces: blocks, inline marks, links, raw HTML (which the sanitiser cleans), character
# references (named, numeric, unsafe and broken), footnotes, tables, and whitespace of every kind.
MARKDOWN_PIECES = st.sampled_from(
    [
        "\n\n",
        "\n",
        "  \n",
        "# ",
        "## ",
        "- ",
        "1. ",
        "> ",
        "    ",
        "```\n",
        "~~",
        "**",
        "_",
        "`",
        "[link](/map)",
        "[mail](mailto:ceo@example.org)",
        "<https://example.org/a?b=1&c=2>",
        "https://example.org/x",
        "ceo@example.org",
        "[^1]",
        "\n\n[^1]: Note.\n",
        "| a | b |\n|---|---|\n| 1 | 2 |\n",
        "Term\n: Meaning\n",
        "<b>bold</b>",
        "<sup>2</sup>",
        "<a href='/x'>single</a>",
        '<a title="a>b" href="/y">q</a>',
        "<a>none</a>",
        "<br>",
        "<br/>",
        "<hr>",
        "<script>alert(1)</script>",
        "<style>p{}</style>",
        "<!-- note -->",
        "<textarea>x</textarea>",
        "&amp;",
        "&lt;p&gt;",
        "&nbsp;",
        "&#x202E;",
        "&#xFFFE;",
        "&copy",
        "&bogus;",
        "a < b > c",
        "\t",
        "\u00a0",
        "word",
        "Einsteinweg",
        "é€",
    ]
)
MARKDOWN = st.lists(MARKDOWN_PIECES, max_size=30).map("".join)

# HTML of any grammar: tags written in several ways (as the sanitiser does and not), text with
# references, and what html.parser reads specially (comments, declarations, raw-text elements).
TAG_NAMES = st.sampled_from(["a", "A", "p", "li", "ul", "ol", "pre", "br", "hr", "td", "tr", "th", "table", "sup"])
HTML_PIECES = st.one_of(
    st.builds("<{}>".format, TAG_NAMES),
    st.builds("</{}>".format, TAG_NAMES),
    st.builds("<{}/>".format, TAG_NAMES),
    st.builds("<{} />".format, TAG_NAMES),
    st.builds('<a href="{}">'.format, st.sampled_from(["", "/x", "https://e.org/?a=1&amp;b=2", "&quot;q&quot;"])),
    st.sampled_from(
        [
            "<a href>",
            '<A HREF="/up">',
            "<a href='/single'>",
            "<a href=/bare>",
            '<a href = "/spaced">',
            '<a href="/x"title="t">',
            "</p >",
            '</p class="x">',
            "<p<",
            "< p>",
            "<!-- c -->",
            "<!DOCTYPE html>",
            "<?pi?>",
            "<script>1 < 2</script>",
            "<title>&amp;</title>",
            "<",
            ">",
            "&amp;",
            "&#169;",
            "&amp",
            "&#x202e;",
            "\n",
            " ",
            "\u00a0",
            "text",
            "x&y",
            "<p\xa0>",
            '<a\xa0href="/nbsp">',
            "<br\x0b/>",
            '<a href="/x"\x1c>',
        ]
    ),
)
HTML = st.lists(HTML_PIECES, max_size=25).map("".join)


@given(MARKDOWN)
@example("Detour via [the map](/map) on **Tuesday**[^1].\n\n[^1]: Or Wednesday.\n")
@example("| a | b |\n|---|---|\n| 1 <br> 2 | 3 |\n")
@example("See <https://example.org/a?b=1&c=2> or [the list](https://example.org/?a=1&b=2).")
def test_the_sanitisers_html_is_read_without_html_parser_and_gives_the_same_text(markdown):
    html = markdown_to_html(markdown, base_url=BASE_URL)
    assert _read_sanitised(html, _TextWriter()), html  # read by the quick reader, not html.parser
    assert html_to_text(html) == text_by_html_parser(html)


@given(HTML)
@example('<p>a <a href="/x">b</a></p><!-- c --><p>d</p>')
@example("<script>1 < 2</script><p>x</p>")
@example("<p>a</p><script>b &amp; c</script><textarea>&lt;d&gt;</textarea>")
@example('<a href="/x"/>')
@example('<P>Go <A HREF="/up">up</A></P>')
@example('a<p\xa0>b</p><a\u3000href="/x">l</a><br\x0b/>c<a\x85href="/y">m</a>')
@example('<p><a href="https://e.org/?a=1&amp;b=&quot;2&quot;">map</a> &amp; more</p>')
@example("<ul><li>one<li>two</ul>")
def test_any_html_gives_the_text_html_parser_reads_in_it(html):
    assert html_to_text(html) == text_by_html_parser(html)


def test_html_the_quick_reader_does_not_know_is_read_by_html_parser():
    # A comment is no text, and a raw-text element's content is text, not markup.
    assert html_to_text("<p>a<!-- b --></p>") == "a"
    assert html_to_text("<p>1 &lt; 2</p><script>if (a<b) x()</script>") == text_by_html_parser(
        "<p>1 &lt; 2</p><script>if (a<b) x()</script>"
    )
    assert not _read_sanitised("<p>a<!-- b --></p>", _TextWriter())
    assert not _read_sanitised("<p>1 &lt; 2</p><script>x</script>", _TextWriter())
    assert not _read_sanitised('<p>a</p><a\xa0href="/x">b</a>', _TextWriter())


def test_a_heading_of_nothing_but_a_line_break_is_left_out_and_breaks_nothing():
    # First in a body it raised IndexError (the calendar left the notice out, and its alert was not
    # written); after another block it underlined that block.
    assert html_to_text(markdown_to_html("Before\n\n## <br>\n\nAfter", base_url=BASE_URL)) == "Before\n\nAfter"
    assert html_to_text(markdown_to_html("## <br>Works", base_url=BASE_URL)) == "Works\n-----"


# Whitespace of HTML, of other kinds (what str.split() and str.strip() take too) and letters.
WHITESPACE_TEXT = st.text(alphabet=st.sampled_from(" \t\n\r\f\x0b\x1c\x1f\x85\xa0\u2003\u3000ab\xe9"), max_size=30)


@given(WHITESPACE_TEXT, WHITESPACE_TEXT)
@example("\xa0 a \t b \xa0", "\u3000")
def test_text_is_folded_as_a_browser_folds_html_whitespace(before, after):
    # As a browser shows it: each run of HTML whitespace one space, other whitespace (a no-break
    # space) kept inside the text and left out only at the ends of a line.
    folded = re.sub(r"[ \t\r\n\f]+", " ", before + "x" + after).strip()
    assert html_to_text(f"<p>{before}x{after}</p>") == folded
    assert html_to_text(f"<ul><li>{before}x{after}</li></ul>") == f"- {folded}"
