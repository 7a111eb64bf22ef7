"""Sanitised notice HTML to readable plain text: the text part of an email, a calendar DESCRIPTION.

The input is what markup.markdown_to_html lets through (paragraphs,
headings, lists, quotes, code, tables, struck text, links, and definition
lists in bodies rendered before GitHub-flavoured Markdown), so a small
converter covers it. Link targets are shown after their text, as
"text <https://...>", so a text-only reader can still follow them.
(inscriptis, the library for this, joins the lines of a <pre><code> block,
which is how Markdown writes code and preformatted instructions.)

The sanitiser writes HTML of a small grammar: tags with double-quoted attributes, text with
character references, no comments, declarations or raw-text elements. HTML of that grammar is
read with one regular expression (html.parser took half of the conversion, and a calendar converts
every body it holds); anything else is read by html.parser. Both give the writer the same calls:
tests/notice/test_html_text.py compares them on random Markdown and random HTML.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

_BLOCKS = {
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "blockquote",
    "pre",
    "table",
    "tr",
    "dl",
    "dt",
    "dd",
    "hr",
}
_ROWS = {"li", "tr", "dt", "dd"}
_CONTAINERS = {"ul", "ol", "table", "dl"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
# Struck text (~~Monday~~ Tuesday) keeps its marks: without them a text reader would take
# "Monday Tuesday" at face value.
_STRUCK = "~~"
# A superscript (a footnote's number, m<sup>2</sup>) is marked with a caret, the plain-text habit:
# "Tuesday^1", not "Tuesday1", which reads as a different word.
_RAISED = "^"
_BREAK = "\x00"  # stands for a <br> until whitespace is folded (sanitised text never holds a NUL)
# Text up to the next "<", or a tag as the sanitiser writes it (a name, attributes with
# double-quoted values or none, "/>" or ">"), or a "<" that starts neither (the HTML is then not
# of the sanitiser's grammar). Within a tag only HTML's whitespace separates (not the regular
# expression's \s, which takes U+00A0 and the like: html.parser reads those as part of a name).
_TOKEN = re.compile(
    r"([^<]+)"  # text
    r'|<(/?)([a-zA-Z][a-zA-Z0-9]*)((?:[\t\n\r\f ]+[^\s"\'<>/=]+(?:="[^"]*")?)*)[\t\n\r\f ]*(/?)>'  # a tag
    r"|<"  # neither
)
_ATTRIBUTE = re.compile(r'([^\s"\'<>/=]+)(?:="([^"]*)")?')
# Elements whose content HTML parsers read as text, not markup (and whose handling html.parser
# versions differ in): the sanitiser lets none through; where one is, html.parser reads the HTML.
_RAW_TEXT_ELEMENTS = frozenset(
    {"script", "style", "xmp", "iframe", "noembed", "noframes", "noscript", "plaintext", "textarea", "title"}
)


class _TextWriter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        # Finished blocks (prefixed and indented), each with the list, table or definition list it is a row of:
        # rows of one follow each other without a blank line.
        self.blocks: list[tuple[str, int | None]] = []
        self.in_row = False
        self.containers = 0  # open lists, tables and definition lists
        self.group = 0  # counts outermost containers
        self.line: list[str] = []  # the inline text of the block being written
        self.lists: list[list[int]] = []  # per open list: [next number], or [0] for bullets
        self.quote_depth = 0
        self.pre_depth = 0
        self.links: list[str | None] = []  # hrefs of the open <a> elements
        self.link_text_start: list[int] = []
        self.raised_start: list[int] = []  # where the text of each open <sup> begins
        self.row: list[str] | None = None
        self.item_marker = ""  # "- " or "1. " for the first line of a list item
        self.indent = ""  # for definition descriptions

    # Blocks -------------------------------------------------------------

    def _flush(self) -> None:
        if not self.line and not self.pre_depth:  # (every block's start tag flushes: most often nothing)
            return
        text = "".join(self.line)
        self.line = []
        if self.pre_depth:
            lines = ["    " + line for line in text.strip("\n").split("\n")]  # set apart as code, as Markdown does
        else:
            # Whitespace folds as in a browser; only a <br> (written as _BREAK) breaks the line.
            lines = [_folded(piece) for piece in text.split(_BREAK)]
            while lines and not lines[-1]:
                lines.pop()
            while lines and not lines[0]:
                lines.pop(0)
        if not lines:
            return
        depth = max(len(self.lists) - 1, 0)
        prefix = "  " * depth + self.indent
        continuation = prefix + " " * len(self.item_marker)
        written = [prefix + self.item_marker + lines[0]] + [continuation + line for line in lines[1:]]
        self.item_marker = ""
        if self.quote_depth:
            written = [("> " * self.quote_depth) + line for line in written]
        self.blocks.append(("\n".join(written), self.group if self.in_row else None))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self._flush()
            self.in_row = tag in _ROWS
        if tag in _CONTAINERS:
            self.containers += 1
            self.group += self.containers == 1
        if tag in ("ul", "ol"):
            self.lists.append([1 if tag == "ol" else 0])
        elif tag == "li":
            counter = self.lists[-1] if self.lists else [0]
            if counter[0]:
                self.item_marker = f"{counter[0]}. "
                counter[0] += 1
            else:
                self.item_marker = "- "
        elif tag == "blockquote":
            self.quote_depth += 1
        elif tag == "pre":
            self.pre_depth += 1
        elif tag == "dd":
            self.indent = "  "
        elif tag == "hr":
            self.blocks.append(("----", None))
        elif tag == "br":
            self.line.append("\n" if self.pre_depth else _BREAK)
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.line = []
        elif tag == "a":
            self.links.append(dict(attrs).get("href"))
            self.link_text_start.append(len(self.line))
        elif tag == "del":
            self.line.append(_STRUCK)
        elif tag == "sup":
            self.raised_start.append(len(self.line))

    def handle_endtag(self, tag: str) -> None:
        if tag == "del":
            self.line.append(_STRUCK)
            return
        if tag == "sup" and self.raised_start:
            start = self.raised_start.pop()
            raised = _folded("".join(self.line[start:]))
            if raised:  # "x^(n + 1)": more than one word is kept together
                self.line[start:] = [_RAISED + (f"({raised})" if " " in raised else raised)]
            return
        if tag == "a" and self.links:
            href, start = self.links.pop(), self.link_text_start.pop()
            text = _folded("".join(self.line[start:]))
            if href and href not in (text, f"mailto:{text}"):
                self.line.append(f" <{href}>" if text else f"<{href}>")
            return
        if tag in ("td", "th") and self.row is not None:
            self.row.append(_folded("".join(self.line)))
            self.line = []
            return
        if tag == "tr" and self.row is not None:
            self.line = [" | ".join(self.row)]
            self.row = None
            self._flush()
            return
        if tag in _BLOCKS:
            heading = tag in _HEADINGS
            if heading:
                title = _folded("".join(self.line).replace(_BREAK, " "))
                written = len(self.blocks)
                self._flush()
                if title and len(self.blocks) > written:  # a heading of nothing but a <br> writes no block
                    block, row = self.blocks[-1]
                    self.blocks[-1] = (block + "\n" + "-" * min(len(title), 76), row)
            else:
                self._flush()
        if tag in _CONTAINERS:
            self.containers = max(self.containers - 1, 0)
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        elif tag == "blockquote":
            self.quote_depth = max(self.quote_depth - 1, 0)
        elif tag == "pre":
            self.pre_depth = max(self.pre_depth - 1, 0)
        elif tag == "dd":
            self.indent = ""

    def handle_data(self, data: str) -> None:
        self.line.append(data.replace(_BREAK, ""))

    def text(self) -> str:
        self._flush()
        parts: list[str] = []
        previous: int | None = None
        for block, group in self.blocks:
            if parts:
                parts.append("\n" if group is not None and group == previous else "\n\n")
            parts.append(block)
            previous = group
        return "".join(parts)


def _folded(text: str) -> str:
    """Each run of HTML whitespace as one space, and none at the ends (whitespace there as
    str.strip() takes it), as a browser shows text. (re.sub(r"[ \t\r\n\f]+", " ", text).strip() does
    the same, replacing every single space one by one: a third of converting a paragraph.)"""
    text = text.replace("\n", " ").replace("\t", " ").replace("\r", " ").replace("\f", " ")
    return " ".join(filter(None, text.split(" "))).strip()


def html_to_text(html: str) -> str:
    """Plain text that says what the HTML says: one blank line between blocks, links as "text <url>"."""
    writer = _TextWriter()
    if _read_sanitised(html, writer):
        return writer.text()
    return text_by_html_parser(html)


def text_by_html_parser(html: str) -> str:
    """html_to_text(), with html.parser reading the HTML whatever it is."""
    writer = _TextWriter()
    writer.feed(html)
    writer.close()
    return writer.text()


def _read_sanitised(html: str, writer: _TextWriter) -> bool:
    """Give `writer` the calls html.parser would give it for `html`, if it is of the sanitiser's
    grammar; False as soon as it is not (the writer then holds part of the text)."""
    for text, closing, name, attributes, self_closing in _TOKEN.findall(html):
        if text:
            writer.handle_data(unescape(text))
            continue
        name = name.lower()
        # Not a tag (a comment, a declaration, a "<" as text), or one whose content is not markup.
        if not name or name in _RAW_TEXT_ELEMENTS:
            return False
        if closing:
            if attributes or self_closing:
                return False
            writer.handle_endtag(name)
        else:
            # As html.parser gives them: names in lower case, values unescaped, None without a value.
            pairs = (
                [
                    (found[1].lower(), None if found[2] is None else unescape(found[2]))
                    for found in _ATTRIBUTE.finditer(attributes)
                ]
                if attributes
                else []
            )
            writer.handle_starttag(name, pairs)
            if self_closing:  # html.parser's handle_startendtag
                writer.handle_endtag(name)
    return True
