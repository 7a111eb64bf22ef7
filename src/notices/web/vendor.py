"""Browser libraries from npm (package.json, pinned in package-lock.json), served from this site.

Nothing is loaded from a CDN: the pages work on an intranet with no way out and under a strict
Content-Security-Policy. In a checkout the files are in node_modules/ (`make install` runs
`npm ci`); the Docker image copies them into the package's templates/static/<name>/ instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

import notices
from notices.core.resources import templates_dir

_NODE_MODULES = Path(notices.__file__).resolve().parent.parent.parent / "node_modules"


@dataclass(frozen=True)
class Assets:
    name: str  # the folder under templates/static/ in an image, and the URL /static/<name>
    npm_dir: str  # where the files are under node_modules/
    files: tuple[str, ...]  # what the pages load: all must be there, or the library is missing

    @property
    def url(self) -> str:
        return f"/static/{self.name}"

    def directory(self) -> Path | None:
        """Where the files are (copied into the package, or node_modules/); None when neither has them."""
        for candidate in (templates_dir() / "static" / self.name, _NODE_MODULES / self.npm_dir):
            if all((candidate / name).is_file() for name in self.files):
                return candidate
        return None


SWAGGER_UI = Assets("swagger-ui", "swagger-ui-dist", ("swagger-ui-bundle.js", "swagger-ui.css"))
LEAFLET = Assets("leaflet", "leaflet/dist", ("leaflet.js", "leaflet.css"))
# The drawing tools of the console's notice form (line and polygon, edit, remove).
GEOMAN = Assets(
    "leaflet-geoman", "@geoman-io/leaflet-geoman-free/dist", ("leaflet-geoman.min.js", "leaflet-geoman.css")
)


def mount(app: FastAPI, assets: Assets) -> bool:
    """Serve the library's files at its URL; False (nothing mounted) when they are not installed.
    Mount before the generic /static, which would shadow it."""
    directory = assets.directory()
    if directory is None:
        return False
    app.mount(assets.url, StaticFiles(directory=directory), name=assets.name)
    return True
