"""What a notice's feed entry says, in the reader's language: its title with the phrase of when,
its HTML body and summary, its attachments as enclosures. Shared by the Atom and RSS feeds, the
calendar's HTML description and the console's preview. No queries, no clock.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import TypedDict

from notices.core.config import Settings
from notices.notice import recurrence, recurrence_wording
from notices.notice.attachments.links import attachments_of
from notices.notice.markup import NoticeLike, RenderableNotice, renderable_notice
from notices.notice.wording import Words


def words_for(settings: Settings, view: RenderableNotice) -> Words:
    """The phrases in the reader's language (the view's), like the notice text."""
    return Words(view.language, settings)


def entry_title(settings: Settings, notice: NoticeLike, now: datetime) -> str:
    """E.g. 'Road closure: Plesmanlaan (until further notice, expected approximately Q3 2027)'."""
    view = renderable_notice(notice, settings)
    words = words_for(settings, view)
    # A series says where its occurrences are as of `now`: 'next Tue 1 Dec 07:00'. The phrase
    # changes only at occurrence boundaries, and with it the feed's bytes.
    when = recurrence_wording.next_phrase(view, words, now) if recurrence.is_recurring(view) else words.when(view, now)
    return f"{view.category_label}: {view.title} ({when})"


def when_line(words: Words, view: RenderableNotice) -> str:
    """The 'When' of a notice: its period; for a series the rule in words ('every first Tuesday, ...')."""
    if recurrence.is_recurring(view):
        return recurrence_wording.summary(view, words)
    return words.period(view)


def entry_html(settings: Settings, notice: NoticeLike, *, note: str = "") -> str:
    """The entry body: when, where, severity, summary, the sanitised Markdown body.

    `note` must already have passed safe_output_text (it is an event's detail).
    """
    view = renderable_notice(notice, settings)
    words = words_for(settings, view)
    lines = []
    if note:
        lines.append(f"<p><strong>{escape(note)}</strong></p>")
    lines.append(f"<p><strong>{escape(words.gettext('When'))}:</strong> {escape(when_line(words, view))}</p>")
    if view.where:
        lines.append(f"<p><strong>{escape(words.gettext('Where'))}:</strong> {escape(view.where)}</p>")
    lines.append(f"<p><strong>{escape(words.gettext('Severity'))}:</strong> {escape(view.severity)}</p>")
    if view.cancelled_at is not None:
        lines.append(f"<p><strong>{escape(words.gettext('Cancelled'))}:</strong> {escape(view.cancel_reason)}</p>")
    if view.summary:
        lines.append(f"<p>{escape(view.summary)}</p>")
    lines.append(view.body_html)
    return "\n".join(lines)


def summary_html(settings: Settings, view: RenderableNotice, *, first_line: str = "") -> str:
    """The summary with its When and Where lines, as HTML-escaped text.

    Readers that show only atom:summary or the RSS description (rss2email
    and the like) still learn when and where. Escaped, because RSS readers
    treat a description as HTML: '<b>' typed in a summary must show as typed.
    """
    words = words_for(settings, view)
    lines = [first_line, view.summary, f"{words.gettext('When')}: {when_line(words, view)}"]
    if view.where:
        lines.append(f"{words.gettext('Where')}: {view.where}")
    return "<br>\n".join(escape(line) for line in lines if line)


class Enclosure(TypedDict):
    url: str
    length: int
    type: str


def enclosures_of(settings: Settings, notice: object) -> list[Enclosure]:
    """The notice's attachments as enclosures (absolute URL, size in bytes, media type)."""
    return [
        {"url": settings.absolute_url(file.path), "length": file.size, "type": file.content_type}
        for file in attachments_of(notice)
    ]


def enclosures_key(enclosures: list[Enclosure]) -> tuple[tuple[str, int, str], ...]:
    """The enclosures as part of a kept entry's key (feeds.fragments): the entry shows them all."""
    return tuple((file["url"], file["length"], file["type"]) for file in enclosures)
