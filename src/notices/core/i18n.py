"""The interface's words in each language: gettext catalogues (locale/<language>/LC_MESSAGES/messages.mo).

English is the source language: the message ids are the English texts, so English needs no
catalogue. Every other language we have texts for (config.LANGUAGES) must have its compiled
catalogue: a missing .mo is an error here rather than a page silently in English. In a checkout
`make install` compiles them (`make translations` after editing a .po); a wheel carries them
(hatch_build.py).
"""

from __future__ import annotations

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
