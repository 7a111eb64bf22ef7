"""Notice text to safe output: one text filter, Markdown to sanitised HTML and to plain text,
and the renderable view of a notice that every feed and calendar renders from."""

from __future__ import annotations

import functools
import importlib.metadata
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime
from functools import cached_property
from html import unescape
from typing import Any, Protocol, TypeVar, overload

import cmarkgfm
import lxml.html
import nh3
from cmarkgfm.cmark import Options as CmarkOptions

from notices.core.config import Settings
from notices.core.safe_text import strip_unsafe
from notices.notice.html_text import html_to_text
from notices.notice.languages import TEXT_FIELDS, reader_language, shown_text
from notices.notice.lifecycle import Timed

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")

_ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "dl",
    "dt",
    "em",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "td": {"align"}, "th": {"align"}}
_LINK_REL = "noopener noreferrer nofollow"
_URL_SCHEMES = {"http", "https", "mailto"}
# GitHub-flavoured Markdown (CommonMark and GitHub's extensions), through cmark-gfm in C: what
# managers know from everywhere else (a list may follow its lead-in line, nested items need two
# spaces, ~~struck~~, bare links), and about twenty times faster than Python-Markdown, which
# rendered notices before and took most of a whole feed's render time. Raw HTML passes (UNSAFE):
# nh3 below is the one sanitiser, as for every other input. Not GitHub's tagfilter, which would
# show "<script>" as text, and not tasklist, whose checkboxes the sanitiser would remove, leaving
# the item without its "[ ]". Footnotes are kept as numbers and a list under a rule, without their
# links (_plain_footnotes): those point inside a page that feeds, calendars and mail do not have.
_MARKDOWN_EXTENSIONS = ["table", "autolink", "strikethrough"]
_MARKDOWN_OPTIONS = CmarkOptions.CMARK_OPT_UNSAFE | CmarkOptions.CMARK_OPT_FOOTNOTES
# cmark-gfm is not safe to run in two threads at once (it keeps its extensions' special characters
# in one table that every parse changes: a render beside another loses a link or a strike now and
# then), and feeds render in worker threads beside the scheduler's. A body takes about 10 us.
_CMARK_LOCK = threading.Lock()
# How deep the sanitiser has to look is what costs it: its parser takes time in the square of the
# nesting, and a body of 100,000 ">" (each a quote inside the one before) took a minute. Runs of
# more than 8 quote markers keep their first 8: deeper, a page indents the text off a phone's
# screen (also in text and code, where 9 ">" in a row are an arrow at most). cmark-gfm itself
# stops lists at 100 levels. A body with more than 2,000 "<" may be thousands of nested HTML tags
# ("<a>" * 30,000 took 7 s): its raw HTML is left out, as cmark-gfm does when raw HTML is not
# allowed, and its Markdown still renders.
_QUOTES_KEPT = 8
_DEEP_QUOTES = re.compile(rf"((?:>[ \t]*){{{_QUOTES_KEPT}}})(?:>[ \t]*)+")
_MOST_ANGLE_BRACKETS_WITH_HTML = 2_000
# A character reference to U+FFFE or U+FFFF (&#xFFFE;, &#65535;): cmark-gfm writes either as one
# byte that is not UTF-8 (its encoder keeps them as byte-order marks), and the output then cannot
# be read at all. Both are characters the output filter removes anyway, so they go first.
_NONCHARACTER_REFERENCE = re.compile(r"&#(?:[xX]0*[fF]{3}[eEfF]|0*6553[45]);")
# A heading as the sanitiser writes it (headings do not nest), with the line break that follows
# it; any tag within it.
_HEADING = re.compile(r"<(h[1-6])>(.*?)</\1>\n?", re.DOTALL)
# A heading's tag of levels 1 to 5, as Markdown ("# Diversion") or raw HTML writes it. The page's own
# <h1> is the notice's title, so a body's headings start at <h2> (which the sanitiser allows; an
# <h1> would lose its tag and leave its text as a bare line): a body with a level-1 heading has
# each of its headings a level lower ("#" and "##" stay apart as <h2> and <h3>; <h6> stays).
_HEADING_TAG = re.compile(r"<(/?)h([1-5])(?=[\s/>])", re.IGNORECASE)
_LEVEL_ONE_HEADING_TAG = re.compile(r"<h1[\s/>]", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
# Raise when markdown_to_html gives other HTML for the same text and site URL in a way the
# fingerprint below cannot see (a change to _unlink_dead_anchors, say): stored bodies
# (notice.rendered_bodies) are found by the fingerprint, so the old ones are then not used.
_RENDERER_REVISION = 4  # 3: headings without text are left out; 4: "# Heading" is an <h2>, "##" an <h3>

# Instants this far inside what a datetime can hold survive a shift into any
# time zone (at most a day) and a day's arithmetic either side; rows beyond
# them (written before input was bounded) are shown at these limits.
EARLIEST_RENDERABLE = datetime(1, 1, 3, tzinfo=UTC)
LATEST_RENDERABLE = datetime(9999, 12, 29, tzinfo=UTC)


def render_each(
    items: Iterable[T],
    build: Callable[[T], R],
    *,
    describe: Callable[[T], str],
    skipped: list[tuple[str, str]] | None = None,
) -> Iterator[R]:
    """`build(item)` for each item; one that cannot be built is logged, noted in `skipped` and left out.

    Input is checked, and every renderer filters text again, but a row can
    still be wrong in ways no filter foresaw (a hand edit, an old version):
    one such notice must cost its own entry, never the whole feed.
    """
    for item in items:
        try:
            yield build(item)
        except Exception as error:  # noqa: BLE001 - any fault of one entry is logged and reported
            log.exception("left %s out: it cannot be rendered", describe(item))
            if skipped is not None:
                skipped.append((describe(item), f"{type(error).__name__}: {error}"[:300]))


def safe_output_text(text: str | None) -> str:
    """The one filter for text on its way into an output (feed, calendar, export, page, email).

    Removes what XML 1.0 forbids or discourages and every bidi control (the
    same characters input drops, see safe_text), and turns CR and CRLF into
    LF, so stored text can neither break a parser nor reverse the rest of a
    line a reader shows.
    """
    return strip_unsafe(text)


@overload
def renderable_instant(instant: datetime) -> datetime: ...
@overload
def renderable_instant(instant: datetime | None) -> datetime | None: ...
def renderable_instant(instant: datetime | None) -> datetime | None:
    """`instant`, moved inside [EARLIEST_RENDERABLE, LATEST_RENDERABLE] if it lies beyond."""
    if instant is None:
        return None
    return min(max(instant, EARLIEST_RENDERABLE), LATEST_RENDERABLE)


def markdown_to_html(text: str, *, base_url: str) -> str:
    """Render a notice body: nothing executable, every link absolute against `base_url`.

    Links leave the site (feeds, calendars, emails), where a relative link is
    dead or resolves against the wrong document, so they are resolved here
    (RFC 3986, with the base URL as the site's folder). A link whose target
    the sanitiser refused (javascript:, data:) becomes its text.
    """
    markdown_text = _NONCHARACTER_REFERENCE.sub("", safe_output_text(text))
    if markdown_text.count(">") > _QUOTES_KEPT:  # else no quote is too deep (and the scan costs a fifth of a render)
        markdown_text = _DEEP_QUOTES.sub(r"\1", markdown_text)
    options = _MARKDOWN_OPTIONS
    if markdown_text.count("<") > _MOST_ANGLE_BRACKETS_WITH_HTML:
        options &= ~CmarkOptions.CMARK_OPT_UNSAFE
    with _CMARK_LOCK:
        html = cmarkgfm.markdown_to_html_with_extensions(
            markdown_text, options=options, extensions=_MARKDOWN_EXTENSIONS
        )
    if "data-footnotes" in html:
        html = _plain_footnotes(html)
    html = html.rstrip("\n")  # cmark ends every block with a line break; pages and mail put it where they need it
    if ("h1" in html or "H1" in html) and _LEVEL_ONE_HEADING_TAG.search(html):
        html = _HEADING_TAG.sub(lambda tag: f"<{tag[1]}h{int(tag[2]) + 1}", html)
    html = _sanitiser(base_url.rstrip("/") + "/").clean(html)
    # Character references (&#xFFFE;, &#x202E;) come out of the sanitiser as
    # the characters themselves: filter again.
    html = safe_output_text(html)
    if "<h" in html:
        html = _without_empty_headings(html)
    return html if _all_anchors_live(html) else _unlink_dead_anchors(html)


def _without_empty_headings(html: str) -> str:
    """`html` without its headings that hold no text ("##" alone, "## <br>"): on a page each is a
    blank gap that a screen reader announces as an empty heading, and in plain text nothing."""
    # (The line break after one that is left out goes with it; one that ended the body leaves its
    # line break behind, which markdown_to_html's output never ends with.)
    kept = _HEADING.sub(lambda found: found[0] if unescape(_TAG.sub("", found[2])).strip() else "", html)
    return kept.strip("\n")


@functools.lru_cache(maxsize=8)
def _sanitiser(base_url: str) -> nh3.Cleaner:
    """The sanitiser for a site's folder URL, built once: nh3.clean converts its rules anew at
    every call, which cost more than sanitising a notice's body."""
    return nh3.Cleaner(
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        url_relative=("rewrite_with_base", base_url),
        link_rel=_LINK_REL,
    )


def _all_anchors_live(html: str) -> bool:
    """True when every anchor in the sanitiser's output surely has a target, without parsing it:
    each one then starts with a non-empty href (Markdown writes href first, the sanitiser keeps the
    order and escapes every "<" of text). False means "maybe not": _unlink_dead_anchors looks."""
    anchors = html.count("<a ") + html.count("<a>")
    return anchors == html.count('<a href="') and '<a href=""' not in html


@functools.cache
def renderer_fingerprint() -> str:
    """Everything besides the text and the site's URL that markdown_to_html's output depends on:
    the libraries' versions, the sanitiser's rules, the Markdown extensions."""
    rules = (
        _RENDERER_REVISION,
        importlib.metadata.version("cmarkgfm"),
        importlib.metadata.version("nh3"),
        sorted(_ALLOWED_TAGS),
        sorted((tag, sorted(names)) for tag, names in _ALLOWED_ATTRIBUTES.items()),
        sorted(_URL_SCHEMES),
        _LINK_REL,
        _MARKDOWN_EXTENSIONS,
        _MARKDOWN_OPTIONS,
        _QUOTES_KEPT,
        _MOST_ANGLE_BRACKETS_WITH_HTML,
    )
    return repr(rules)


def _parse_fragment(html: str) -> lxml.html.HtmlElement:
    # huge_tree: without it libxml2 silently drops a text node over 10 MB.
    # A parser per call: lxml serialises threads that share one.
    return lxml.html.fragment_fromstring(html, create_parent="div", parser=lxml.html.HTMLParser(huge_tree=True))


def _plain_footnotes(html: str) -> str:
    """cmark-gfm's footnotes without their links: each reference a superscript number, the notes a
    numbered list under a rule, without the back links. (What the sanitiser then makes of the
    tree is all that is kept, as for any other input.)"""
    root = _parse_fragment(html)
    for anchor in root.xpath("//sup[@class='footnote-ref']/a"):
        anchor.drop_tag()  # keeps the number
    for back in root.xpath("//a[@class='footnote-backref']"):
        back.drop_tree()  # keeps the text after it
    for section in root.xpath("//section[@class='footnotes']"):
        section.addprevious(lxml.html.Element("hr"))
        section.drop_tag()
    serialised: str = lxml.html.tostring(root, encoding="unicode")
    return serialised[len("<div>") : -len("</div>")]


def _unlink_dead_anchors(html: str) -> str:
    # The tree holds only what nh3 allowed, and lxml escapes text and
    # attribute values when it writes it back, so nothing new can appear.
    root = _parse_fragment(html)
    dead = [anchor for anchor in root.iter("a") if not anchor.get("href")]
    if not dead:
        return html
    for anchor in dead:
        anchor.drop_tag()  # keeps the text and any children
    serialised: str = lxml.html.tostring(root, encoding="unicode")  # text, not bytes, with encoding="unicode"
    return serialised[len("<div>") : -len("</div>")]


def markdown_to_text(text: str, *, base_url: str) -> str:
    """A notice body as plain text with its link targets (for iCalendar DESCRIPTION and text mail)."""
    return html_to_text(markdown_to_html(text, base_url=base_url))


@dataclass(frozen=True)
class RenderableNotice:
    """A notice as the renderers see it: built once, every text through safe_output_text and
    every instant renderable, so no renderer can forget a field. Build with `renderable_notice`."""

    uid: str
    url: str
    version: int
    title: str
    summary: str
    body: str
    category: str
    category_label: str
    severity: str
    locations: tuple[str, ...]
    places: tuple[str, ...]  # location labels
    location_detail: str
    expected_end: str
    cancel_reason: str
    publish_at: datetime | None
    starts_at: datetime
    ends_at: datetime | None
    cancelled_at: datetime | None
    created_at: datetime
    updated_at: datetime
    base_url: str
    # The reader's language, and the text fields shown in the default language instead
    # (each carries the marker, e.g. "(in English)", already: no renderer can forget it).
    language: str = "en"
    fallback_fields: frozenset[str] = frozenset()
    text_language: str = "en"  # the title's language: the reader's own, or the default's
    # A series (notice.recurrence): "" and empty for a single notice. Read by recurrence_wording
    # and the outputs, which show the occurrences rather than the series' first start and last end.
    recurrence: str = ""
    occurrence_minutes: int | None = None
    recurrence_zone: str = ""
    occurrence_changes: Mapping[str, Mapping[str, Any]] = dataclass_field(default_factory=dict)

    @property
    def fallback(self) -> bool:
        """True when the title (the notice as a whole) is shown in the default language."""
        return "title" in self.fallback_fields

    @cached_property  # (read several times for every entry and event)
    def where(self) -> str:
        """E.g. 'Plesmanlaan, Einsteinweg; between the roundabouts' (empty when nowhere is given)."""
        return "; ".join(part for part in (", ".join(self.places), self.location_detail) if part)

    @cached_property
    def body_html(self) -> str:
        return markdown_to_html(self.body, base_url=self.base_url)

    @property
    def body_rendered(self) -> bool:
        """True once body_html was rendered or given (take_body_html)."""
        return "body_html" in self.__dict__

    def take_body_html(self, html: str) -> None:
        """Use `html` as body_html: what markdown_to_html gave for this body and base URL before
        (notice.rendered_bodies), so the Markdown is not rendered again."""
        # cached_property keeps its value in the instance's __dict__, which a frozen dataclass
        # leaves writable: this is the value body_html would have cached.
        self.__dict__["body_html"] = html

    @cached_property
    def body_text(self) -> str:
        return html_to_text(self.body_html)


class NoticeLike(Timed, Protocol):
    """What a renderable view is built from: a notice row, a revision as it was
    (feeds.event_feed: its snapshot) or an unsaved preview. Optional extras (location_detail,
    cancel_reason, created_at) are read when present."""

    @property
    def uid(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def locations(self) -> Sequence[str]: ...
    @property
    def expected_end(self) -> str: ...
    @property
    def updated_at(self) -> datetime: ...


def renderable_notice(notice: NoticeLike, settings: Settings, language: str | None = None) -> RenderableNotice:
    """The renderable view of a notice, a revision snapshot or an unsaved preview (idempotent),
    for a reader of `language` (default: the site's): text missing in it is the default
    language's, marked as such."""
    language = reader_language(language, settings)
    if isinstance(notice, RenderableNotice):
        return notice
    text = safe_output_text
    fallback_fields: set[str] = set()

    texts: dict[str, str] = {}
    for field in TEXT_FIELDS:
        value, fell_back = shown_text(notice, field, language, settings)
        texts[field] = text(value)
        if fell_back:
            fallback_fields.add(field)
    locations = tuple(text(key) for key in notice.locations)
    updated_at = renderable_instant(notice.updated_at)
    uid = text(str(notice.uid))
    return RenderableNotice(
        uid=uid,
        url=settings.absolute_url(f"/notices/{uid}"),
        version=notice.version,
        title=texts["title"],
        summary=texts["summary"],
        body=texts["body"],
        category=text(notice.category),
        category_label=text(settings.label("categories", notice.category, language)),
        severity=text(notice.severity),
        locations=locations,
        places=tuple(text(settings.label("locations", key, language)) for key in notice.locations),
        location_detail=texts["location_detail"],
        expected_end=texts["expected_end"],
        cancel_reason=text(getattr(notice, "cancel_reason", "")),
        publish_at=renderable_instant(notice.publish_at),
        starts_at=renderable_instant(notice.starts_at),
        ends_at=renderable_instant(notice.ends_at),
        cancelled_at=renderable_instant(notice.cancelled_at),
        created_at=renderable_instant(getattr(notice, "created_at", None)) or updated_at,
        updated_at=updated_at,
        base_url=settings.base_url,
        language=language,
        fallback_fields=frozenset(fallback_fields),
        text_language=settings.language if "title" in fallback_fields else language,
        recurrence=str(getattr(notice, "recurrence", "") or ""),
        occurrence_minutes=getattr(notice, "occurrence_minutes", None),
        recurrence_zone=str(getattr(notice, "recurrence_zone", "") or settings.timezone.key),
        occurrence_changes=dict(getattr(notice, "occurrence_changes", None) or {}),
    )
