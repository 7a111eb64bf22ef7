"""Notices and lifecycle events to Atom and RSS bytes (feedgen). No queries, no clock.

Identical input gives identical bytes: every date in a feed comes from the
data (or the `now` passed in), never from the time of rendering.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from datetime import datetime
from typing import NamedTuple, TypedDict, TypeVar

from feedgen.feed import FeedGenerator  # feedgen ships no type hints
from lxml import etree

from notices.core.config import Settings
from notices.core.models import Notice
from notices.feeds.entry_text import Enclosure, enclosures_key, enclosures_of, entry_html, entry_title, summary_html
from notices.feeds.fragments import Fragments, notice_key, view_of
from notices.feeds.places import georss
from notices.notice.languages import reader_language
from notices.notice.markup import (
    RenderableNotice,
    render_each,
    renderable_instant,
    safe_output_text,
)
from notices.notice.wording import Words

ATOM = "http://www.w3.org/2005/Atom"
# A fixed date for a feed that has never had any content (RSS/Atom need one).
EPOCH = datetime.fromisoformat("2000-01-01T00:00:00+00:00")


def feed_generator(
    settings: Settings, *, title: str, subtitle: str, self_url: str, updated: datetime | None, language: str
) -> FeedGenerator:
    generator = FeedGenerator()
    self_url = safe_output_text(self_url)
    generator.id(self_url)
    generator.title(safe_output_text(title))
    generator.subtitle(subtitle)
    generator.author({"name": safe_output_text(settings.site_name)})
    # feedgen takes the RSS <channel><link> from the link added last: the
    # website, so a reader's "open website" opens the site, not this XML.
    generator.link(href=self_url, rel="self")
    generator.link(href=settings.absolute_url("/"), rel="alternate")
    # RSS <language>, Atom xml:lang on the feed: the reader's language (fallback text is marked).
    generator.language(language)
    generator.updated(renderable_instant(updated) or EPOCH)
    generator.generator("notices")
    generator.load_extension("geo")  # GeoRSS Simple: georss:point, georss:line, georss:polygon
    return generator


class EntryValues(TypedDict):
    """What an entry shows (_add_entry), besides the generator and the settings."""

    view: RenderableNotice
    entry_id: str
    title: str
    summary: str
    content: str
    published: datetime
    updated: datetime
    place: tuple[str, str] | None
    enclosures: list[Enclosure]


def _add_entry(
    generator: FeedGenerator,
    settings: Settings,
    view: RenderableNotice,
    *,
    entry_id: str,
    title: str,
    summary: str,
    content: str,
    published: datetime,
    updated: datetime,
    place: tuple[str, str] | None,
    enclosures: list[Enclosure],
    fmt: str,
) -> None:
    entry = generator.add_entry(order="append")
    entry.id(entry_id)
    entry.title(title)
    entry.link(href=view.url, rel="alternate")
    entry.published(published)
    entry.updated(updated)
    entry.author(generator.author()[0])
    entry.summary(summary, type="html")
    entry.content(content, type="html")
    entry.category(term=view.category, label=view.category_label)
    for key, label in zip(view.locations, view.places, strict=True):
        entry.category(term=key, scheme=settings.absolute_url("/locations"), label=label)
    if place is not None:
        kind, text = place
        getattr(entry.geo, kind)(text)
        if view.where:
            entry.geo.featurename(view.where)
    if fmt == "rss" and enclosures:
        # An RSS item has at most one enclosure: the first attachment. (Atom's, all of them, are
        # added by _with_atom_enclosures: feedgen 1.0 drops rel, type and length of an Atom entry's links.)
        first = enclosures[0]
        entry.enclosure(url=first["url"], length=str(first["length"]), type=first["type"])


def _serialise(generator: FeedGenerator, fmt: str, enclosures: dict[str, list[Enclosure]] | None = None) -> bytes:
    if fmt == "atom":
        body: bytes = generator.atom_str(pretty=True)  # feedgen writes UTF-8 bytes
        body = _with_atom_enclosures(body, enclosures or {})
    elif fmt == "rss":
        body = generator.rss_str(pretty=True)
    else:
        raise ValueError(f"unknown feed format {fmt!r}")
    return body


def _with_atom_enclosures(body: bytes, enclosures: dict[str, list[Enclosure]]) -> bytes:
    """Each entry's <link rel="enclosure" href type length/>, after its other links (by entry id)."""
    if not any(enclosures.values()):
        return body  # feedgen's bytes as they were
    root = etree.fromstring(body)
    for entry in root.iterfind(f"{{{ATOM}}}entry"):
        wanted = enclosures.get(entry.findtext(f"{{{ATOM}}}id") or "", [])
        links = entry.findall(f"{{{ATOM}}}link")
        at = entry.index(links[-1]) + 1 if links else len(entry)
        for offset, enclosure in enumerate(wanted):
            link = etree.Element(f"{{{ATOM}}}link")
            link.attrib.update(
                {
                    "rel": "enclosure",
                    "href": enclosure["url"],
                    "type": enclosure["type"],
                    "length": str(enclosure["length"]),
                }
            )
            entry.insert(at + offset, link)
    etree.indent(root, space="  ")
    return etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8")


def build_feed(
    entries: Sequence[KeyedEntry],
    *,
    settings: Settings,
    fmt: str,
    self_url: str,
    updated: datetime | None,
    now: datetime,
    skipped: list[tuple[str, str]] | None = None,
    language: str | None = None,
    fragments: Fragments | None = None,
) -> bytes:
    """Upcoming and active notices (already chosen and ordered, as keyed_entries gives them), one
    entry per notice, in `language` (default: the site's).

    With `fragments`, entries rendered before (the same notice, version, language and title) are
    reused and only the others are rendered; the bytes are the same either way.
    """
    language = reader_language(language, settings)
    words = Words(language, settings)
    generator = feed_generator(
        settings,
        title=words.gettext("%(site)s: notices") % {"site": settings.site_name},
        self_url=self_url,
        updated=updated,
        subtitle=words.gettext("Road closures, works, outages and other notices, upcoming and active."),
        language=language,
    )

    def entry(item: KeyedEntry) -> EntryValues:
        view = item.view
        return {
            "view": view,
            "entry_id": f"urn:uuid:{view.uid}",
            "title": item.title,
            "summary": summary_html(settings, view),
            "content": entry_html(settings, view),
            "published": view.publish_at or view.created_at,
            "updated": max(view.updated_at, view.publish_at or view.updated_at),
            "place": georss(item.notice, settings),
            "enclosures": item.enclosures,
        }

    return assemble_feed(
        generator,
        entries,
        entry,
        settings=settings,
        fmt=fmt,
        key_of=lambda item: item.key,
        describe=lambda item: f"notice {item.notice.uid}",
        skipped=skipped,
        fragments=fragments,
    )


Item = TypeVar("Item")


def assemble_feed(
    generator: FeedGenerator,
    items: Sequence[Item],
    values_of: Callable[[Item], EntryValues],
    *,
    settings: Settings,
    fmt: str,
    key_of: Callable[[Item], Hashable],
    describe: Callable[[Item], str],
    skipped: list[tuple[str, str]] | None,
    fragments: Fragments | None,
) -> bytes:
    """The feed of `generator` with an entry for each of `items`, in their order.

    With `fragments`, an item's entry kept under key_of(item) is used as it is; the others are
    rendered (values_of) into one document, serialised as a whole would be, cut out of it and
    kept. The head and tail come from that same document, so the bytes are those of a whole render.
    An item that cannot be rendered is logged, noted in `skipped` and left out (render_each).
    """
    keys = [key_of(item) for item in items]
    pieces: dict[Hashable, bytes] = {}
    if fragments is not None:
        pieces = {key: piece for key in keys if (piece := fragments.get(key)) is not None}
    rendered: list[Hashable] = []
    enclosures: dict[str, list[Enclosure]] = {}
    missing = [(key, item) for key, item in zip(keys, items, strict=True) if key not in pieces]

    def keyed_values(pair: tuple[Hashable, Item]) -> tuple[Hashable, EntryValues]:
        return pair[0], values_of(pair[1])

    def described(pair: tuple[Hashable, Item]) -> str:
        return describe(pair[1])

    for key, values in render_each(missing, keyed_values, describe=described, skipped=skipped):
        _add_entry(generator, settings, fmt=fmt, **values)
        enclosures[values["entry_id"]] = values["enclosures"]
        rendered.append(key)
    head, serialised, tail = split_feed(_serialise(generator, fmt, enclosures), fmt)
    for key, piece in zip(rendered, serialised, strict=True):
        pieces[key] = fragments.put(key, piece, len(piece)) if fragments else piece
    return b"".join([head, *(pieces[key] for key in keys if key in pieces), tail])


class KeyedEntry(NamedTuple):
    """A notice on its way into a feed: what its entry is kept under, and what renders it."""

    notice: Notice
    view: RenderableNotice
    title: str
    enclosures: list[Enclosure]
    key: tuple[object, ...]


def _keyed(
    notice: Notice, *, settings: Settings, fmt: str, language: str, now: datetime, fragments: Fragments | None
) -> KeyedEntry:
    # Cheap for a notice seen before: its view is kept, and the title is one phrase.
    view = view_of(fragments, notice, settings, language)
    title = entry_title(settings, view, now)
    enclosures = enclosures_of(settings, notice)
    files = enclosures_key(enclosures)
    key = ("entry", fmt, *notice_key(notice), language, title, files)
    return KeyedEntry(notice, view, title, enclosures, key)


def keyed_entries(
    notices: Sequence[Notice],
    *,
    settings: Settings,
    fmt: str,
    now: datetime,
    language: str | None,
    fragments: Fragments | None,
    skipped: list[tuple[str, str]] | None = None,
) -> list[KeyedEntry]:
    """Each notice with the key its entry is kept under as of `now` (feeds.fragments,
    feeds.stored_pieces), for build_feed. Views are made (and kept) without their bodies, which a
    key does not need; a notice that cannot be keyed is logged, noted in `skipped` and left out."""
    language = reader_language(language, settings)
    return list(
        render_each(
            notices,
            lambda notice: _keyed(notice, settings=settings, fmt=fmt, language=language, now=now, fragments=fragments),
            describe=lambda notice: f"notice {notice.uid}",
            skipped=skipped,
        )
    )


# Where each entry of a serialised feed begins (pretty-printed: one element per line, entries
# last in their parent) and what closes the document. Text is escaped, so these bytes cannot
# occur inside an entry.
_ENTRY_STARTS = {"atom": b"  <entry>\n", "rss": b"    <item>\n"}
_TAILS = {"atom": b"</feed>\n", "rss": b"  </channel>\n</rss>\n"}


def split_feed(document: bytes, fmt: str) -> tuple[bytes, list[bytes], bytes]:
    """A serialised feed as (head, [entry, ...], tail); joined again they are the document."""
    start, tail = _ENTRY_STARTS[fmt], _TAILS[fmt]
    if not document.endswith(tail):
        raise ValueError(f"a {fmt} document that does not end with {tail!r}")
    body = document[: -len(tail)]
    marker = b"\n" + start
    cuts = []
    at = body.find(marker)
    while at >= 0:
        cuts.append(at + 1)
        at = body.find(marker, at + 1)
    if not cuts:
        return body, [], tail
    bounds = [*cuts, len(body)]
    return body[: cuts[0]], [body[begin:end] for begin, end in zip(bounds, bounds[1:], strict=False)], tail
