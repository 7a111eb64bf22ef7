"""Notices and lifecycle events to Atom and RSS bytes (feedgen). No queries, no clock.

Identical input gives identical bytes: every date in a feed comes from the
data (or the `now` passed in), never from the time of rendering.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from html import escape
from types import SimpleNamespace

from feedgen.feed import FeedGenerator

from notices.config import Settings
from notices.models import Notice, NoticeEvent
from notices.rendering import markdown_to_html, xml_safe
from notices.wording import period, when_phrase

# A fixed date for a feed that has never had any content (RSS/Atom need one).
EPOCH = datetime.fromisoformat("2000-01-01T00:00:00+00:00")
# Event entry ids are UUIDs derived from (notice, kind, version): stable forever.
EVENT_NAMESPACE = uuid.UUID("5b0f3c1e-4a8e-4f4b-9f7e-6f1c2d3e4a5b")

EVENT_LABELS = {
    "published": "New",
    "started": "Now in effect",
    "updated": "Updated",
    "rescheduled": "Rescheduled",
    "ended": "Ended",
    "cancelled": "Cancelled",
    "reminder": "Reminder",
}


def notice_url(settings: Settings, notice: Notice) -> str:
    return settings.absolute_url(f"/notices/{notice.uid}")


def entry_title(settings: Settings, notice: Notice, now: datetime) -> str:
    """E.g. 'Road closure: Plesmanlaan (until further notice, expected approximately Q3 2027)'."""
    label = settings.categories.get(notice.category, notice.category)
    return xml_safe(f"{label}: {notice.title} ({when_phrase(notice, settings.timezone, now)})")


def entry_html(settings: Settings, notice: Notice, *, note: str = "") -> str:
    """The entry body: when, where, severity, summary, the sanitised Markdown body."""
    places = ", ".join(settings.locations.get(key, key) for key in notice.locations)
    lines = []
    if note:
        lines.append(f"<p><strong>{escape(xml_safe(note))}</strong></p>")
    lines.append(f"<p><strong>When:</strong> {escape(period(notice, settings.timezone))}</p>")
    if places or notice.location_detail:
        where = "; ".join(part for part in (places, notice.location_detail) if part)
        lines.append(f"<p><strong>Where:</strong> {escape(xml_safe(where))}</p>")
    lines.append(f"<p><strong>Severity:</strong> {escape(notice.severity)}</p>")
    if notice.cancelled_at is not None:
        lines.append(f"<p><strong>Cancelled:</strong> {escape(xml_safe(notice.cancel_reason))}</p>")
    if notice.summary:
        lines.append(f"<p>{escape(xml_safe(notice.summary))}</p>")
    lines.append(markdown_to_html(notice.body))
    return "\n".join(lines)


def _generator(settings: Settings, *, title: str, subtitle: str, self_url: str, updated: datetime | None) -> FeedGenerator:
    generator = FeedGenerator()
    generator.id(self_url)
    generator.title(xml_safe(title))
    generator.subtitle(xml_safe(subtitle))
    generator.author({"name": xml_safe(settings.site_name)})
    generator.link(href=settings.absolute_url("/"), rel="alternate")
    generator.link(href=self_url, rel="self")
    generator.language(settings.language)
    generator.updated(updated or EPOCH)
    generator.generator("notices")
    return generator


def _add_categories(entry, settings: Settings, notice: Notice) -> None:
    entry.category(term=notice.category, label=xml_safe(settings.categories.get(notice.category, notice.category)))
    for key in notice.locations:
        entry.category(term=key, scheme=settings.absolute_url("/locations"), label=xml_safe(settings.locations.get(key, key)))


def _serialise(generator: FeedGenerator, fmt: str) -> bytes:
    if fmt == "atom":
        return generator.atom_str(pretty=True)
    if fmt == "rss":
        return generator.rss_str(pretty=True)
    raise ValueError(f"unknown feed format {fmt!r}")


def build_feed(
    notices: Sequence[Notice], *, settings: Settings, fmt: str, self_url: str, updated: datetime | None, now: datetime
) -> bytes:
    """Upcoming and active notices (already chosen and ordered), one entry per notice."""
    generator = _generator(
        settings, title=f"{settings.site_name}: notices", self_url=self_url, updated=updated,
        subtitle="Road closures, works, outages and other notices, upcoming and active.",
    )
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
        _add_categories(entry, settings, notice)
    return _serialise(generator, fmt)


def as_of_event(event: NoticeEvent):
    """The notice as it was when the event happened (its revision), else as it is now.

    An old "rescheduled" entry should keep saying what was announced then,
    not what the notice says after later changes.
    """
    notice = event.notice
    revision = next((r for r in notice.revisions if r.version == event.version), None)
    if revision is None:
        return notice
    data = dict(revision.snapshot)
    for name in ("publish_at", "starts_at", "ends_at", "cancelled_at"):
        data[name] = datetime.fromisoformat(data[name]) if data.get(name) else None
    data.setdefault("location_detail", "")
    data.setdefault("cancel_reason", "")
    return SimpleNamespace(**data, uid=notice.uid, updated_at=revision.changed_at)


def event_entry_id(event: NoticeEvent) -> str:
    return f"urn:uuid:{uuid.uuid5(EVENT_NAMESPACE, f'{event.notice.uid}/{event.kind}/{event.version}')}"


def build_event_feed(
    events: Sequence[NoticeEvent], *, settings: Settings, fmt: str, self_url: str, now: datetime
) -> bytes:
    """One entry per lifecycle event, newest first, each with its own stable id.

    Readers that never show an edited item again still surface every change.
    """
    updated = max((event.occurred_at for event in events), default=None)
    generator = _generator(
        settings, title=f"{settings.site_name}: notice updates", self_url=self_url, updated=updated,
        subtitle="Every change to a notice: new, in effect, updated, rescheduled, ended, cancelled.",
    )
    for event in events:
        notice = as_of_event(event)
        label = settings.categories.get(notice.category, notice.category)
        entry = generator.add_entry(order="append")
        entry.id(event_entry_id(event))  # from the event itself: stable whatever the snapshot says
        entry.title(xml_safe(f"{EVENT_LABELS.get(event.kind, event.kind)}: {label}: {notice.title}"))
        entry.link(href=notice_url(settings, notice), rel="alternate")
        entry.published(event.occurred_at)
        entry.updated(event.occurred_at)
        entry.author({"name": xml_safe(settings.site_name)})
        entry.summary(xml_safe(f"{EVENT_LABELS.get(event.kind, event.kind)}: {when_phrase(notice, settings.timezone, event.occurred_at)}"))
        entry.content(entry_html(settings, notice, note=event.detail), type="html")
        _add_categories(entry, settings, notice)
    return _serialise(generator, fmt)
