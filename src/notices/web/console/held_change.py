"""A change waiting for approval, side by side with the published notice, field by field.

The approver decides on what would change, so every field a reader sees is listed (the text in
each of the site's languages, category, severity, places, times, the series rule and the map
shapes) with the published value beside the proposed one and the changed ones marked in words,
not only in colour. The values stay as they are (times, keys) for the template to show in the
page's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from notices.core.config import Settings
from notices.core.i18n import lazy_gettext
from notices.notice.approval import HeldChange
from notices.notice.languages import TEXT_FIELDS
from notices.notice.validation import NoticeFields

# The order of the rows: what a reader sees first, then when and where, then the series.
_TEXT_LABELS = {
    "title": lazy_gettext("Title"),
    "summary": lazy_gettext("Summary"),
    "body": lazy_gettext("Details"),
    "location_detail": lazy_gettext("Where exactly"),
    "expected_end": lazy_gettext("Expected end"),
}
_OTHER_FIELDS = (
    ("category", "category", lazy_gettext("Category")),
    ("severity", "severity", lazy_gettext("Severity")),
    ("locations", "places", lazy_gettext("Places")),
    ("geometry", "shapes", lazy_gettext("Map shapes")),
    ("publish_at", "time", lazy_gettext("Publish at")),
    ("starts_at", "time", lazy_gettext("Starts")),
    ("ends_at", "time", lazy_gettext("Ends")),
)
_SERIES_FIELDS = (
    ("recurrence", "text", lazy_gettext("Rule")),
    ("occurrence_minutes", "number", lazy_gettext("Minutes each time")),
)


@dataclass(frozen=True)
class Row:
    field: str  # the field's name, as the API spells it (title.nl for another language's text)
    label: str  # a LazyText: the template shows it in the page's language
    kind: str  # text, time, category, severity, places, shapes, number: how the template shows a value
    language: str | None  # the language of a text field's values (their lang attribute)
    published: Any
    proposed: Any

    @property
    def changed(self) -> bool:
        return self.published != self.proposed


def rows(change: HeldChange, settings: Settings) -> list[Row]:
    """Every field of the published notice beside the proposed one, in the order the form has them."""
    published, proposed = change.published, change.proposed
    found = [
        Row(
            field if language == settings.language else f"{field}.{language}",
            _TEXT_LABELS[field],
            "text",
            language,
            _text(published, field, language, settings),
            _text(proposed, field, language, settings),
        )
        for language in settings.languages
        for field in TEXT_FIELDS
    ]
    found += [
        Row(field, label, kind, None, getattr(published, field), getattr(proposed, field))
        for field, kind, label in _OTHER_FIELDS
    ]
    if published.recurrence or proposed.recurrence:
        found += [
            Row(field, label, kind, None, getattr(published, field) or "", getattr(proposed, field) or "")
            for field, kind, label in _SERIES_FIELDS
        ]
    return found


def _text(fields: NoticeFields, field: str, language: str, settings: Settings) -> str:
    """The language's own text (no fallback: a missing translation is a difference worth seeing)."""
    if language == settings.language:
        return getattr(fields, field) or ""
    return fields.translations.get(language, {}).get(field, "")
