"""Keys chosen from a known list (categories, locations, severities, frequencies, languages).

One validator for every input path: case and surrounding spaces do not
matter, a list may be given as "a,b", repeats are dropped, and an unknown
value is an InvalidField that names the field and lists the valid values.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from notices.core.errors import InvalidField
from notices.core.i18n import lazy_gettext


def choose(value: Any, name: str, valid: Collection[str]) -> str:
    """`value` as one of `valid`, or InvalidField(name)."""
    key = str(value).strip().lower() if value is not None else ""
    if key not in valid:
        raise InvalidField(
            name,
            lazy_gettext(
                "unknown value %(value)s; valid values are %(valid)s", value=repr(value), valid=", ".join(valid)
            ),
        )
    return key


def choose_many(value: Any, name: str, valid: Collection[str]) -> tuple[str, ...]:
    """A list (or "a,b") of keys from `valid`, in the order given, each once; nothing for None or ""."""
    if value is None or value == "":
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise InvalidField(name, lazy_gettext("must be a list"))
    keys: list[str] = []
    for item in items:
        key = choose(item, name, valid)
        if key not in keys:
            keys.append(key)
    return tuple(keys)
