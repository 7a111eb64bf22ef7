"""The interface's words in each language: gettext catalogues (locale/<language>/LC_MESSAGES/messages.mo).

English is the source language: the message ids are the English texts, so English needs no
catalogue. Every other language we have texts for (config.LANGUAGES) must have its compiled
catalogue: a missing .mo is an error here rather than a page silently in English. In a checkout
`make install` compiles them (`make translations` after editing a .po); a wheel carries them
(hatch_build.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from gettext import NullTranslations

from babel.support import Translations

from notices.core.resources import locale_dir

DOMAIN = "messages"
SOURCE_LANGUAGE = "en"


class MissingCatalogue(RuntimeError):
    """A language's compiled catalogue is not where it should be."""


@lru_cache(maxsize=16)
def translations(language: str) -> NullTranslations:
    """The catalogue of `language` (gettext, ngettext, pgettext); English: the message ids as they are."""
    if language == SOURCE_LANGUAGE:
        return NullTranslations()
    directory = locale_dir()
    compiled = directory / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not compiled.is_file():
        raise MissingCatalogue(
            f"no compiled catalogue for {language!r} at {compiled}: run `make translations` (or `make install`)"
        )
    return Translations.load(str(directory), [language], DOMAIN)


def N_(message: str) -> str:  # noqa: N802 (the name pybabel extracts by default)
    """Marks a message for extraction where it is defined; it is translated where it is shown."""
    return message


class LazyText(str):
    """A message translated where it is shown, not where it is raised.

    The domain layer (validation, time parsing) does not know who will read its errors: a Dutch
    console form, an API client asking for English, the command line in the site's language. It
    raises a LazyText; each front end calls `translate(text, language)`. As a plain str it is the
    English text (the message id with its values), so logs, `str(error)` and older callers work.
    The values may be LazyTexts themselves: they are translated into the same language.
    """

    message: str
    values: Mapping[str, object]

    def __new__(cls, message: str, values: Mapping[str, object]) -> LazyText:
        text = super().__new__(cls, _filled(message, values, SOURCE_LANGUAGE))
        text.message, text.values = message, dict(values)
        return text

    def in_language(self, language: str) -> str:
        return _filled(translations(language).gettext(self.message), self.values, language)


def lazy_gettext(message: str, /, **values: object) -> LazyText:
    """`message` (with `%(name)s` placeholders filled from `values`), translated when shown (`translate`)."""
    return LazyText(message, values)


def translate(text: object, language: str) -> str:
    """Any text in `language`: a LazyText translated, anything else as it is (user input, older messages)."""
    return text.in_language(language) if isinstance(text, LazyText) else str(text)


def _filled(message: str, values: Mapping[str, object], language: str) -> str:
    if not values:
        return message
    return message % {
        name: translate(value, language) if isinstance(value, LazyText) else value for name, value in values.items()
    }
