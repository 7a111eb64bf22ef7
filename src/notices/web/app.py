"""The FastAPI application: built by create_app(settings), nothing global."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from notices.core.clock import Clock
from notices.core.config import Settings
from notices.core.context import AppContext
from notices.core.db import ping
from notices.core.resources import templates_dir
from notices.notice.templating import make_environment
from notices.runtime.health import scheduler_health
from notices.runtime.scheduler import LeaderElectedScheduler
from notices.web import outage
from notices.web import pages as page_routes
from notices.web import subscribe as subscribe_routes
from notices.web.api import docs as api_docs
from notices.web.api import routes as api_routes
from notices.web.api.errors import ApiError, api_error, validation_error
from notices.web.console import auth as console_auth
from notices.web.console import notices as admin_routes
from notices.web.console import people as admin_people_routes
from notices.web.feeds.cache import FeedCache
from notices.web.feeds.fast_path import FeedFastPath
from notices.web.feeds.query import BadFilter
from notices.web.http_methods import MethodSupport
from notices.web.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from notices.web.metrics import Metrics
from notices.web.request_guards import RefuseNul
from notices.web.security_headers import SecurityHeaders

log = logging.getLogger(__name__)

ROBOTS_TXT = """\
User-agent: *
Disallow: /admin
Disallow: /preferences/
Disallow: /unsubscribe/
Disallow: /subscribe/confirm/
Allow: /
"""


def create_app(
    settings: Settings, *, clock: Clock | None = None, run_scheduler: bool = False, ctx: AppContext | None = None
) -> FastAPI:
    """The web app; with run_scheduler=True the jobs run in this process too."""
    ctx = ctx or AppContext.from_settings(settings, clock)
    ctx.require_secret_key()

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
        title=f"{settings.site_name} API",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
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
            return JSONResponse(
                {"error": {"field": None, "message": str(error.detail)}},
                status_code=error.status_code,
                headers=error.headers,
            )
        return PlainTextResponse(f"{error.detail}\n", status_code=error.status_code, headers=error.headers)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    outage.install(app)

    @app.exception_handler(BadFilter)
    async def bad_filter(_request: Request, error: BadFilter):
        return PlainTextResponse(str(error) + "\n", status_code=400)

    @app.get("/healthz", tags=["operations"])
    def healthz():
        """200 while publishing works: the database answers and a scheduler completed a run
        recently with no failing job; 503 otherwise, saying what is wrong (for uptime monitors)."""
        try:
            with ctx.db.session() as session:
                ping(session)
                scheduler = scheduler_health(session, settings=settings, now=ctx.clock.now())
        except Exception as error:  # any database failure means "not healthy"
            log.warning("health check failed: %s", error)
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        body = {"status": "ok" if scheduler.ok else "error", "database": "ok", **scheduler.as_dict()}
        return JSONResponse(body, status_code=200 if scheduler.ok else 503)

    @app.get("/livez", tags=["operations"])
    def livez():
        """200 while this web process and its database answer, whatever the schedulers do
        (for a load balancer or container health check: restarting a web process cannot fix a scheduler)."""
        try:
            with ctx.db.session() as session:
                ping(session)
        except Exception as error:  # any database failure means "not live"
            log.warning("liveness check failed: %s", error)
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return {"status": "ok", "database": "ok"}

    app.include_router(api_routes.router)
    api_routes.describe_site_choices(app, settings)
    app.include_router(console_auth.router)
    app.include_router(admin_routes.router)
    app.include_router(admin_people_routes.router)
    api_docs.install(app)  # /docs and Swagger UI's files, mounted before /static
    app.mount("/static", StaticFiles(directory=templates_dir() / "static"), name="static")
    app.include_router(page_routes.router)
    app.include_router(subscribe_routes.router)
    app.state.feed_cache = FeedCache(ctx, version_check_seconds=settings.feed_change_check_seconds)
    app.state.metrics = Metrics(ctx, app.state.feed_cache)
    # Innermost: HEAD/OPTIONS/405 answers get the security headers too; feeds answer HEAD in the fast path.
    app.add_middleware(MethodSupport)
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
