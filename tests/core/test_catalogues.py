"""The gettext catalogues: every interface text extracted, committed and translated into Dutch."""

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "locale" / "messages.pot"
DUTCH = ROOT / "locale" / "nl" / "LC_MESSAGES" / "messages.po"


def read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale=locale)


def ids(catalog: Catalog) -> set[object]:
    return {message.id for message in catalog if message.id}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> Catalog:
    """The messages in the sources now, extracted as `make messages` does (babel.cfg)."""
    output = tmp_path_factory.mktemp("messages") / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(
        [str(pybabel), "extract", "-F", "babel.cfg", "--no-location", "--sort-output", "-o", str(output), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return read(output)


def test_the_committed_catalogue_holds_exactly_the_messages_in_the_sources(extracted):
    """A text added, changed or removed without `make messages` fails here."""
    committed = ids(read(TEMPLATE))
    assert sorted(map(str, ids(extracted) - committed)) == [], "not in locale/messages.pot: run `make messages`"
    assert sorted(map(str, committed - ids(extracted))) == [], "no longer in the sources: run `make messages`"


def test_every_message_has_a_dutch_translation_that_is_not_fuzzy(extracted):
    dutch = read(DUTCH, "nl")
    untranslated = []
    for message in extracted:
        if not message.id:
            continue
        translation = dutch.get(message.id)
        strings = (
            () if translation is None else (translation.string if translation.pluralizable else (translation.string,))
        )
        if translation is None or translation.fuzzy or not strings or not all(strings):
            untranslated.append(str(message.id))
    assert untranslated == [], "translate these in locale/nl/LC_MESSAGES/messages.po"


def test_dutch_translations_keep_the_placeholders_of_their_message():
    """'%(time)s' in the English text must be in the Dutch, or formatting fails at run time."""
    dutch = read(DUTCH, "nl")
    problems = [(str(message.id), [str(error) for error in errors]) for message, errors in dutch.check() if errors]
    assert problems == []
