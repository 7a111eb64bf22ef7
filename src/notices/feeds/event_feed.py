"""Lifecycle events to Atom and RSS bytes: one entry per event, each saying what the notice said
then. No queries, no clock.

An event's entry never changes once written, but for the notice's attachments (the files it has
now) and, for an occurrence's own event, the phrase of when in its title. So with Fragments an
entry is kept under the event, the version of the notice it shows, those files and that title,
and a write or the feed's five-minute refresh renders only the events that are new.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import NamedTuple, Protocol

from notices.core.config import Settings
from notices.core.models import NoticeEvent, NoticeRevision
from notices.feeds.atom import EntryValues, assemble_feed, feed_generator
from notices.feeds.entry_text import Enclosure, enclosures_key, enclosures_of, entry_html, summary_html
from notices.feeds.fragments import Fragments, notice_key
from notices.feeds.places import georss
from notices.notice import recurrence, recurrence_wording
from notices.notice.geometry import Placed
from notices.notice.languages import reader_language
from notices.notice.lifecycle import Status, status_at
from notices.notice.markup import (
    NoticeLike,
    RenderableNotice,
    render_each,
    renderable_instant,
    renderable_notice,
    safe_output_text,
)
from notices.notice.wording import Words

# Event entry ids are UUIDs derived from (notice, kind, version): stable forever.
EVENT_NAMESPACE = uuid.UUID("5b0f3c1e-4a8e-4f4b-9f7e-6f1c2d3e4a5b")
# What a kept view of a past notice is counted as besides its text (feeds.fragments).
_VIEW_OVERHEAD = 2048


class PastNotice(NoticeLike, Placed, Protocol):
    """A notice as it was at one of its versions: what a feed renders and where it was."""


def _state_of(event: NoticeEvent) -> tuple[NoticeRevision | None, tuple[object, ...]]:
    """The revision the event shows (None: rows from before every version had one) and the key of
    that state of the notice: a revision never changes once written, the notice itself changes
    with its version (fragments.notice_key)."""
    notice = event.notice
    revision = next((r for r in notice.revisions if r.version == event.version), None)
    if revision is None:
        return None, ("now", *notice_key(notice))
    return revision, ("revision", str(notice.uid), revision.version)


def _past(event: NoticeEvent, revision: NoticeRevision | None) -> PastNotice:
    """The notice as it was when the event happened (its revision), else as it is now.

    An old "rescheduled" entry should keep saying what was announced then,
    not what the notice says after later changes.
    """
    notice = event.notice
    if revision is None:
        return notice
    data = dict(revision.snapshot)
    for name in ("publish_at", "starts_at", "ends_at", "cancelled_at"):
        data[name] = datetime.fromisoformat(data[name]) if data.get(name) else None
    data.setdefault("location_detail", "")
    data.setdefault("cancel_reason", "")
    data.setdefault("geometry", None)  # revisions from before notices had shapes
    data.setdefault("translations", {})  # revisions from before notices had languages
    return SimpleNamespace(**data, uid=notice.uid, updated_at=revision.changed_at)


def event_entry_id(event: NoticeEvent) -> str:
    key = f"{event.notice.uid}/{event.kind}/{event.version}"
    if occurrence := getattr(event, "occurrence", ""):
        key += f"/{occurrence}"  # one entry per occurrence; series-level ids stay as they were
    return f"urn:uuid:{uuid.uuid5(EVENT_NAMESPACE, key)}"


def _occurrence_of(event: NoticeEvent, view: RenderableNotice) -> recurrence.Occurrence | None:
    occurrence = getattr(event, "occurrence", "")
    if not occurrence or not recurrence.is_recurring(view):
        return None
    try:
        return recurrence.find_occurrence(view, occurrence)
    except (recurrence.RuleError, ValueError):
        return None


def _described(event: NoticeEvent) -> str:
    return f"event {event.kind} of notice {event.notice.uid}"


class KeyedEvent(NamedTuple):
    """An event on its way into a feed: what its entry is kept under, and what renders it."""

    event: NoticeEvent
    past: PastNotice
    view: RenderableNotice
    label: str
    title: str
    enclosures: list[Enclosure]
    key: tuple[object, ...]


def _keyed(
    event: NoticeEvent, *, settings: Settings, fmt: str, words: Words, now: datetime, fragments: Fragments | None
) -> KeyedEvent:
    # Cheap for an event seen before: the notice as it was and its view are kept (the body, rendered
    # from Markdown, only once an entry is rendered), and the title is a few phrases.
    revision, state = _state_of(event)
    view_key = ("event view", *state, words.language)
    kept: tuple[PastNotice, RenderableNotice] | None = fragments.get(view_key) if fragments is not None else None
    if kept is None:
        past = _past(event, revision)
        kept = (past, renderable_notice(past, settings, words.language))
        if fragments is not None:
            fragments.put(view_key, kept, _VIEW_OVERHEAD + 2 * len(kept[1].body))
    past, view = kept
    label = safe_output_text(words.event(event.kind))
    title = f"{label}: {view.category_label}: {view.title}"
    if (occurrence := _occurrence_of(event, view)) is not None:
        # An occurrence's own event ([feeds] occurrence_events): which one, in the title.
        title += f" ({recurrence_wording.occurrence_span(occurrence, words, now)})"
    enclosures = enclosures_of(settings, event.notice)  # the files the notice has now
    files = enclosures_key(enclosures)
    key = ("event entry", fmt, event.id, *state, words.language, title, files)
    return KeyedEvent(event, past, view, label, title, enclosures, key)


def _first_line(item: KeyedEvent, words: Words, occurred_at: datetime) -> str:
    """What happened, first in an entry's summary: 'Rescheduled: until Fri 12 Dec 17:00'; for a
    cancellation its reason ('Cancelled: works postponed'), where 'cancelled' would only repeat it."""
    view = item.view
    if status_at(view, occurred_at) is Status.CANCELLED:
        return f"{item.label}: {view.cancel_reason}" if view.cancel_reason else item.label
    return f"{item.label}: {words.when(view, occurred_at)}"


def keyed_events(
    events: Sequence[NoticeEvent],
    *,
    settings: Settings,
    fmt: str,
    now: datetime,
    language: str | None,
    fragments: Fragments | None,
    skipped: list[tuple[str, str]] | None = None,
) -> list[KeyedEvent]:
    """Each event with the key its entry is kept under as of `now` (feeds.fragments,
    feeds.stored_pieces), for build_event_feed; an event that cannot be keyed is logged, noted in
    `skipped` and left out."""
    words = Words(reader_language(language, settings), settings)
    return list(
        render_each(
            events,
            lambda event: _keyed(event, settings=settings, fmt=fmt, words=words, now=now, fragments=fragments),
            describe=_described,
            skipped=skipped,
        )
    )


def build_event_feed(
    events: Sequence[NoticeEvent],
    keyed: Sequence[KeyedEvent],
    *,
    settings: Settings,
    fmt: str,
    self_url: str,
    skipped: list[tuple[str, str]] | None = None,
    language: str | None = None,
    fragments: Fragments | None = None,
) -> bytes:
    """One entry per lifecycle event, newest first, each with its own stable id, in `language`:
    `events` (the feed's date is the newest one's) as keyed_events gave them in `keyed`.

    Readers that never show an edited item again still surface every change. With `fragments`,
    the entries of events rendered before are reused; the bytes are the same either way.
    """
    language = reader_language(language, settings)
    updated = max((event.occurred_at for event in events), default=None)
    words = Words(language, settings)
    generator = feed_generator(
        settings,
        title=words.gettext("%(site)s: notice updates") % {"site": settings.site_name},
        self_url=self_url,
        updated=updated,
        subtitle=words.gettext("Every change to a notice: new, in effect, updated, rescheduled, ended, cancelled."),
        language=language,
    )

    def entry(item: KeyedEvent) -> EntryValues:
        event, view = item.event, item.view
        occurred_at = renderable_instant(event.occurred_at)
        return {
            "view": view,
            "entry_id": event_entry_id(event),  # from the event itself: stable whatever the snapshot says
            "title": item.title,
            "summary": summary_html(settings, view, first_line=_first_line(item, words, occurred_at)),
            "content": entry_html(settings, view, note=safe_output_text(event.detail)),
            "published": occurred_at,
            "updated": occurred_at,
            "place": georss(item.past, settings),
            "enclosures": item.enclosures,
        }

    return assemble_feed(
        generator,
        keyed,
        entry,
        settings=settings,
        fmt=fmt,
        key_of=lambda item: item.key,
        describe=lambda item: _described(item.event),
        skipped=skipped,
        fragments=fragments,
    )
