"""/docs: Swagger UI served from this site (the pinned npm package swagger-ui-dist), not a CDN.

So the API reference works on an intranet with no way out, and under the same strict
Content-Security-Policy as every other page (its start-up script is a file, not inline).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from notices.web import vendor
from notices.web.html import page


def install(app: FastAPI) -> None:
    """Add /docs and its assets; call before the generic /static mount, which would shadow them."""
    available = vendor.mount(app, vendor.SWAGGER_UI)

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        return page(
            request,
            "web/api_docs.html",
            cache_control=None,
            title=app.title,
            openapi_url=app.openapi_url,
            assets_url=vendor.SWAGGER_UI.url if available else None,
        )
