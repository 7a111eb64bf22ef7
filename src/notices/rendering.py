"""Notice text to safe output: Markdown to sanitised HTML, any text to XML-safe text."""

from __future__ import annotations

import re

import markdown
import nh3

# Characters XML 1.0 forbids (lxml refuses them; readers choke on them):
# C0 controls except tab/newline/CR, surrogates, U+FFFE and U+FFFF.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h2", "h3", "h4",
    "hr", "i", "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody", "td", "th",
    "thead", "tr", "ul",
}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "td": {"align"}, "th": {"align"}}


def xml_safe(text: str | None) -> str:
    return _XML_INVALID.sub("", text or "")


def markdown_to_html(text: str) -> str:
    """Render a notice body; the result contains nothing executable."""
    html = markdown.markdown(xml_safe(text), extensions=["extra", "sane_lists"], output_format="html")
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
