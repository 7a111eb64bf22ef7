"""Hatch build hook: compile the gettext catalogues (locale/*/LC_MESSAGES/*.po) into .mo files.

A wheel carries the .mo files inside the package (notices/locale/...); an editable install reads
them from locale/ in the checkout, so they are compiled there (they are not committed: .gitignore).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def compile_catalogues(root: Path) -> list[Path]:
    """Every locale/<language>/LC_MESSAGES/<domain>.po compiled to the .mo beside it; fuzzy entries left out."""
    compiled = []
    for po in sorted((root / "locale").glob("*/LC_MESSAGES/*.po")):
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parent.parent.name)
        mo = po.with_suffix(".mo")
        with mo.open("wb") as target:
            write_mo(target, catalog, use_fuzzy=False)
        compiled.append(mo)
    return compiled


class CatalogueHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        for mo in compile_catalogues(root):
            if version != "editable":
                build_data["force_include"][str(mo)] = f"notices/{mo.relative_to(root).as_posix()}"
