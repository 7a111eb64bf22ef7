"""/docs: Swagger UI served from this site (the pinned npm package swagger-ui-dist), not a CDN.

So the API reference works on an intranet with no way out, and under the same strict
Content-Security-Policy as every other page (its start-up script is a file, not inline).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

import notices
from notices.core.resources import templates_dir
from notices.web.html import page

ASSETS_URL = "/static/swagger-ui"
# Only what the page loads; the package also carries demo pages and source maps.
ASSET_FILES = ("swagger-ui-bundle.js", "swagger-ui.css")


def swagger_ui_dir() -> Path | None:
    """Where Swagger UI's files are: copied into the package (the Docker image), or
    node_modules/ of a checkout (`make install` runs `npm ci`); None when neither has them."""
    candidates = (
        templates_dir() / "static" / "swagger-ui",
        Path(notices.__file__).resolve().parent.parent.parent / "node_modules" / "swagger-ui-dist",
    )
    for candidate in candidates:
        if all((candidate / name).is_file() for name in ASSET_FILES):
            return candidate
    return None


def install(app: FastAPI) -> None:
    """Add /docs and its assets; call before the generic /static mount, which would shadow them."""
    assets = swagger_ui_dir()
    if assets is not None:
        app.mount(ASSETS_URL, StaticFiles(directory=assets), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        return page(
            request,
            "web/api_docs.html",
            cache_control=None,
            title=app.title,
            openapi_url=app.openapi_url,
            assets_url=ASSETS_URL if assets else None,
        )
