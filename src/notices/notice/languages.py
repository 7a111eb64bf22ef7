"""A notice's text per language: which text a reader of a language gets, and when it is a fallback.

The notice's own columns (title, summary, body, location_detail, expected_end)
hold the site's default language; `translations` holds the other configured
languages, only the fields given. A field missing in the reader's language
falls back to the default language's text, and says so with a marker in that
text's own language, "(in English)", so nobody takes it for a translation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from babel import Locale

from notices.core.config import Settings

# The fields that exist per language; the rest of a notice (times, places, severity) has none.
TEXT_FIELDS = ("title", "summary", "body", "location_detail", "expected_end")

# A language's name in itself: the marker next to text shown in place of a missing translation.
_MARKERS = {"en": "(in English)", "nl": "(in het Nederlands)"}


def fallback_marker(language: str) -> str:
    """What marks text in `language` shown to a reader of another language."""
    return _MARKERS.get(language, f"({language})")


def translations_of(notice: Any) -> Mapping[str, Mapping[str, str]]:
    """The other languages' text of a notice row, a revision snapshot or a preview ({} for older rows)."""
    translations = getattr(notice, "translations", None)
    return translations if isinstance(translations, Mapping) else {}


def text_in(notice: Any, field: str, language: str, settings: Settings) -> tuple[str, bool]:
    """The text of `field` for a reader of `language`, and whether it is the default language's instead."""
    default_text: str = getattr(notice, field, "") or ""
    if language == settings.language or language not in settings.languages:
        return default_text, False
    translated = translations_of(notice).get(language, {}).get(field, "")
    if isinstance(translated, str) and translated:
        return translated, False
    return default_text, bool(default_text)


def texts_by_language(notice: Any, settings: Settings) -> dict[str, dict[str, str]]:
    """Every configured language's own text (no fallback): empty where not given."""
    translations = translations_of(notice)
    texts: dict[str, dict[str, str]] = {}
    for language in settings.languages:
        if language == settings.language:
            texts[language] = {field: getattr(notice, field, "") or "" for field in TEXT_FIELDS}
        else:
            own = translations.get(language, {})
            texts[language] = {field: str(own.get(field, "") or "") for field in TEXT_FIELDS}
    return texts


def reader_language(requested: str | None, settings: Settings) -> str:
    """The language a reader asked for (e.g. `?lang=nl`) if the site has it, else the default."""
    if requested:
        wanted = requested.strip().lower()
        if wanted in settings.languages:
            return wanted
    return settings.language


def shown_text(notice: Any, field: str, language: str, settings: Settings) -> tuple[str, bool]:
    """`text_in`, with the marker added where the text fell back (the body, Markdown, gets it as
    its own first paragraph). The one place that decides how a fallback looks."""
    text, fell_back = text_in(notice, field, language, settings)
    if not fell_back:
        return text, False
    marker = fallback_marker(settings.language)
    return (f"{marker}\n\n{text}" if field == "body" else f"{text} {marker}"), True


class InLanguage:
    """A notice read in one language: the text fields as `shown_text` gives them, everything
    else (times, places, geometry, uid) the notice's own. What email templates get."""

    def __init__(self, notice: Any, language: str, settings: Settings) -> None:
        self._notice = notice
        self.language = language if language in settings.languages else settings.language
        fallen: set[str] = set()
        for field in TEXT_FIELDS:
            text, fell_back = shown_text(notice, field, self.language, settings)
            setattr(self, field, text)
            if fell_back:
                fallen.add(field)
        self.fallback_fields = frozenset(fallen)

    def __getattr__(self, name: str) -> Any:
        # Only called for what __init__ did not set: the notice's other attributes.
        return getattr(self._notice, name)


def in_language(notice: Any, language: str, settings: Settings) -> Any:
    """The notice as a reader of `language` sees it; the notice itself where nothing changes."""
    if language == settings.language or language not in settings.languages:
        return notice
    return InLanguage(notice, language, settings)


def language_name(language: str) -> str:
    """A language's name in itself, for the console's fieldsets and choices."""
    return (Locale.parse(language).get_display_name(language) or language).capitalize()


def notice_for_reader(notice: Any, requested: str | None, settings: Settings) -> Any:
    """The notice in the language a reader asked for (`?lang=`), for pages: one call to swap
    when page language negotiation arrives."""
    return in_language(notice, reader_language(requested, settings), settings)


# The console's labels of a language's own fields, in that language: the manager writes that
# language there (and the fields stay distinct from the default language's for assistive tech).
_FIELD_LABELS = {
    "en": {
        "title": "Title",
        "summary": "Summary",
        "body": "Details",
        "location_detail": "Where exactly",
        "expected_end": "Expected end",
    },
    "nl": {
        "title": "Titel",
        "summary": "Samenvatting",
        "body": "Toelichting",
        "location_detail": "Waar precies",
        "expected_end": "Verwacht einde",
    },
}


def field_label(language: str, field: str) -> str:
    return _FIELD_LABELS.get(language, _FIELD_LABELS["en"]).get(field, field)
