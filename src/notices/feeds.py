"""Notices to Atom and RSS bytes (feedgen). No queries, no clock: `now` is passed in.

Identical input gives identical bytes: every date in the feed comes from the
data, never from the time of rendering.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from feedgen.feed import FeedGenerator

from notices.config import Settings
from notices.models import Notice
from notices.rendering import markdown_to_html, xml_safe
from notices.wording import period, when_phrase

# A fixed date for a feed that has never had any content (RSS/Atom need one).
EPOCH = datetime.fromisoformat("2000-01-01T00:00:00+00:00")


def notice_url(settings: Settings, notice: Notice) -> str:
    return settings.absolute_url(f"/notices/{notice.uid}")


def entry_title(settings: Settings, notice: Notice, now: datetime) -> str:
    label = settings.categories.get(notice.category, notice.category)
    return xml_safe(f"{label}: {notice.title} ({when_phrase(notice, settings.timezone, now)})")


def entry_html(settings: Settings, notice: Notice) -> str:
    places = ", ".join(settings.locations.get(key, key) for key in notice.locations)
    lines = [f"<p><strong>When:</strong> {escape(period(notice, settings.timezone))}</p>"]
    if places or notice.location_detail:
        where = "; ".join(part for part in (places, notice.location_detail) if part)
        lines.append(f"<p><strong>Where:</strong> {escape(xml_safe(where))}</p>")
    lines.append(f"<p><strong>Severity:</strong> {escape(notice.severity)}</p>")
    if notice.summary:
        lines.append(f"<p>{escape(xml_safe(notice.summary))}</p>")
    lines.append(markdown_to_html(notice.body))
    return "\n".join(lines)


def build_feed(
    notices: Sequence[Notice],
    *,
    settings: Settings,
    fmt: str,
    self_url: str,
    updated: datetime | None,
    now: datetime,
) -> bytes:
    """Render `notices` (already chosen and ordered) as an 'atom' or 'rss' document."""
    generator = FeedGenerator()
    generator.id(self_url)
    generator.title(xml_safe(f"{settings.site_name}: notices"))
    generator.subtitle("Road closures, works, outages and other notices, upcoming and active.")
    generator.author({"name": xml_safe(settings.site_name)})
    generator.link(href=settings.absolute_url("/"), rel="alternate")
    generator.link(href=self_url, rel="self")
    generator.language(settings.language)
    generator.updated(updated or EPOCH)
    generator.generator("notices")
    for notice in notices:
        entry = generator.add_entry(order="append")
        entry.id(f"urn:uuid:{notice.uid}")
        entry.title(entry_title(settings, notice, now))
        entry.link(href=notice_url(settings, notice), rel="alternate")
        entry.published(notice.publish_at)
        entry.updated(max(notice.updated_at, notice.publish_at))
        entry.author({"name": xml_safe(settings.site_name)})
        if notice.summary:
            entry.summary(xml_safe(notice.summary))
        entry.content(entry_html(settings, notice), type="html")
        entry.category(term=notice.category, label=xml_safe(settings.categories.get(notice.category, notice.category)))
        for key in notice.locations:
            entry.category(
                term=key, scheme=settings.absolute_url("/locations"),
                label=xml_safe(settings.locations.get(key, key)),
            )
    if fmt == "atom":
        return generator.atom_str(pretty=True)
    if fmt == "rss":
        return generator.rss_str(pretty=True)
    raise ValueError(f"unknown feed format {fmt!r}")
