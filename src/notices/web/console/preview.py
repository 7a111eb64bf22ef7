"""What a notice will look like before it is saved: on its page, in a feed reader, in an email."""

from __future__ import annotations

from datetime import datetime
from html import escape
from types import SimpleNamespace

from jinja2 import Environment

from notices.core.config import Settings
from notices.feeds.entry_text import entry_html, entry_title
from notices.mail.compose import preview_alert
from notices.notice import recurrence_wording
from notices.notice.languages import in_language
from notices.notice.lifecycle import status_at
from notices.notice.markup import renderable_notice
from notices.notice.validation import NoticeFields
from notices.notice.wording import Words


def _transient_notice(fields: NoticeFields, now):
    """An unsaved notice with the attributes templates and feeds read."""
    return SimpleNamespace(
        **fields.as_dict() | {"locations": list(fields.locations)},
        uid="preview",
        version=1,
        cancelled_at=None,
        cancel_reason="",
        created_at=now,
        updated_at=now,
        revisions=[],
        events=[],
    )


def previews(
    fields: NoticeFields, *, settings: Settings, templates: Environment, now: datetime, language: str | None = None
) -> dict:
    """The notice's page, feed entry (HTML) and alert email (subject and HTML), as they would be
    for a reader of `language` (default: the site's; missing text falls back, marked, as it will)."""
    language = language if language in settings.languages else settings.language
    notice = _transient_notice(fields, now)
    shown = in_language(notice, language, settings)
    page_html = templates.get_template("web/notice.html").render(
        notice=shown, now=now, status=status_at(notice, now), sandboxed=True
    )
    view = renderable_notice(notice, settings, language)
    feed_html = f"<h2>{escape(entry_title(settings, view, now))}</h2>" + entry_html(settings, view)
    mail = preview_alert(templates, settings, shown, now=now, language=language)
    # A series' rule in words, for the "Repeats" fieldset (the same sentence the page shows).
    repeats = recurrence_wording.summary(notice, Words(language, settings)) if fields.recurrence else ""
    return {"page": page_html, "feed": feed_html, "email": mail.html, "email_subject": mail.subject, "repeats": repeats}
