"""The FastAPI application: built by create_app(settings), nothing global."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy import text

from notices import store
from notices.clock import Clock
from notices.config import Settings
from notices.context import AppContext
from notices.scheduler import LeaderElectedScheduler
from notices.templating import make_environment
from notices.resources import templates_dir
from notices.web import (admin_people_routes, admin_routes, api_docs, api_routes, console_auth, outage, page_routes,
                         subscribe_routes)
from notices.web.api_errors import ApiError, api_error, validation_error
from notices.web.fast_feeds import FeedFastPath
from notices.web.feed_cache import FeedCache
from notices.web.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from notices.web.metrics import Metrics
from notices.web.security_headers import SecurityHeaders
from notices.web.query_filters import BadFilter
from notices.web.request_guards import RefuseNul

log = logging.getLogger(__name__)

ROBOTS_TXT = """\
User-agent: *
Disallow: /admin
Disallow: /preferences/
Disallow: /unsubscribe/
Disallow: /subscribe/confirm/
Allow: /
"""


def create_app(settings: Settings, *, clock: Clock | None = None, run_scheduler: bool = False,
               ctx: AppContext | None = None) -> FastAPI:
    """The web app; with run_scheduler=True the jobs run in this process too."""
    ctx = ctx or AppContext.from_settings(settings, clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        scheduler = LeaderElectedScheduler(ctx) if run_scheduler else None
        if scheduler:
            scheduler.start()
        app.state.scheduler = scheduler
        try:
            yield
        finally:
            if scheduler:
                scheduler.shutdown()
            ctx.db.dispose()

    app = FastAPI(
        title=f"{settings.site_name} API", lifespan=lifespan, docs_url=None, redoc_url=None,
        description="Notices with effective dates. Reading is public; changing needs a Bearer token "
                    "(`notices token create --user EMAIL`). Errors are JSON: "
                    '`{"error": {"field": "starts_at", "message": "..."}}`.',
    )
    app.state.ctx = ctx
    app.state.templates = make_environment(settings)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        # Plain text for people; the JSON API answers in its own error shape.
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": {"field": None, "message": str(error.detail)}}, status_code=error.status_code,
                                headers=error.headers)
        return PlainTextResponse(f"{error.detail}\n", status_code=error.status_code, headers=error.headers)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    outage.install(app)

    @app.exception_handler(BadFilter)
    async def bad_filter(_request: Request, error: BadFilter):
        return PlainTextResponse(str(error) + "\n", status_code=400)

    @app.get("/healthz", tags=["operations"])
    def healthz():
        """200 while the database answers; also tells how long ago a scheduler last ran."""
        try:
            with ctx.db.session() as session:
                session.execute(text("SELECT 1"))
                seen = store.scheduler_seen_at(session)
        except Exception as error:  # any database failure means "not healthy"
            log.warning("health check failed: %s", error)
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        age = (ctx.clock.now() - seen).total_seconds() if seen else None
        # A web replica is healthy without a scheduler; the age is for the operator to watch.
        stale_after = 3 * settings.safety_tick_seconds
        scheduler = "never ran" if age is None else "ok" if age <= stale_after else "stale"
        return {"status": "ok", "database": "ok", "scheduler": scheduler,
                "scheduler_last_run_seconds_ago": round(age, 1) if age is not None else None}

    app.include_router(api_routes.router)
    app.include_router(console_auth.router)
    app.include_router(admin_routes.router)
    app.include_router(admin_people_routes.router)
    api_docs.install(app)  # /docs and Swagger UI's files, mounted before /static
    app.mount("/static", StaticFiles(directory=templates_dir() / "static"), name="static")
    app.include_router(page_routes.router)
    app.include_router(subscribe_routes.router)
    app.state.feed_cache = FeedCache(ctx, version_check_seconds=settings.feed_change_check_seconds)
    app.state.metrics = Metrics(ctx, app.state.feed_cache)
    app.add_middleware(SecurityHeaders)
    # Outermost, so feed requests skip routing altogether.
    app.add_middleware(FeedFastPath, cache=app.state.feed_cache, settings=settings, metrics=app.state.metrics)
    app.add_middleware(RefuseNul)  # outermost of all: no handler ever sees a NUL in the URL

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        # Browsers ask for it on every site; "no content" instead of a 404 in every console.
        return Response(status_code=204, headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/robots.txt", include_in_schema=False)
    def robots() -> Response:
        # Pages behind personal links (sent by email) and the console stay out of search engines.
        return PlainTextResponse(ROBOTS_TXT, headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    def metrics() -> Response:
        return Response(app.state.metrics.render(), media_type=METRICS_CONTENT_TYPE)
    return app
