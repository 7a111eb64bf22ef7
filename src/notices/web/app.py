"""The FastAPI application: built by create_app(settings), nothing global."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles

from notices.core import change_signal, heap
from notices.core.clock import Clock
from notices.core.config import Settings
from notices.core.context import AppContext
from notices.core.resources import templates_dir
from notices.feeds.catalog import FEED_PATHS
from notices.notice.templating import make_environment
from notices.runtime.scheduler import LeaderElectedScheduler
from notices.web import attachments as attachment_routes
from notices.web import cap_documents as cap_routes
from notices.web import errors, maps, ops, outage, vendor
from notices.web import pages as page_routes
from notices.web import subscribe as subscribe_routes
from notices.web.api import approvals as api_approvals
from notices.web.api import attachments as api_attachments
from notices.web.api import docs as api_docs
from notices.web.api import hooks as api_hooks
from notices.web.api import routes as api_routes
from notices.web.api import templates as api_templates
from notices.web.api.errors import validation_error
from notices.web.console import approvals as admin_approval_routes
from notices.web.console import attachments as admin_attachment_routes
from notices.web.console import auth as console_auth
from notices.web.console import integrations as admin_integration_routes
from notices.web.console import notices as admin_routes
from notices.web.console import occurrences as admin_occurrence_routes
from notices.web.console import people as admin_people_routes
from notices.web.console import templates as admin_template_routes
from notices.web.feeds.cache import FeedCache
from notices.web.feeds.fast_path import FeedFastPath
from notices.web.http_methods import MethodSupport
from notices.web.map_sketch import sketch
from notices.web.metrics import Metrics
from notices.web.request_guards import RefuseNul
from notices.web.security_headers import SecurityHeaders, content_security_policy

log = logging.getLogger(__name__)

# How long a stopping process waits for the rendered feed pieces it has yet to store.
STORING_WAIT_SECONDS = 30


class NoticesApp(FastAPI):
    """FastAPI with the feed fast path in front of Starlette's middleware stack.

    Feed readers make most of the requests, nearly all answered from the cache: they go straight
    to the fast path (web.feeds.fast_path) without the error, security-header and method
    middleware or the router, none of which a cached feed needs. Everything else is FastAPI's.
    """

    feed_fast_path: FeedFastPath | None = None

    async def __call__(self, scope, receive, send) -> None:
        fast_path = self.feed_fast_path
        if fast_path is not None and scope["type"] == "http" and scope["path"] in FEED_PATHS:
            await fast_path.serve(scope, send)
            return
        await super().__call__(scope, receive, send)


def create_app(
    settings: Settings, *, clock: Clock | None = None, run_scheduler: bool = False, ctx: AppContext | None = None
) -> NoticesApp:
    """The web app; with run_scheduler=True the jobs run in this process too."""
    ctx = ctx or AppContext.from_settings(settings, clock)
    ctx.require_secret_key()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Before the scheduler's thread starts: what a job has under way is not startup's.
        heap.settle_startup_objects()
        scheduler: LeaderElectedScheduler | None = None
        try:
            if run_scheduler:
                scheduler = LeaderElectedScheduler(ctx)
                scheduler.start()
            app.state.scheduler = scheduler
            # On PostgreSQL, writes elsewhere are heard at once (feeds, and the scheduler's change check).
            listener = change_signal.listener_for(settings.database_url)
            app.state.change_listener = listener
            if listener is not None:
                listener.subscribe(app.state.feed_cache.heard)
                if scheduler:
                    listener.subscribe(scheduler.heard)
                listener.start()
        except BaseException:
            # A start that failed leaves no scheduler running (it would compete for the lead in a
            # process that serves nothing) and the collector as it found it; the error is the
            # start's, whatever stopping meets.
            try:
                if scheduler is not None:
                    scheduler.shutdown()
            except Exception:  # noqa: BLE001 - logged; the start's own error follows
                log.exception("the scheduler did not stop cleanly after a failed start")
            finally:
                heap.unsettle()
            raise
        try:
            yield
        finally:
            heap.unsettle()
            if listener is not None:
                listener.stop()
            if scheduler:
                scheduler.shutdown()
            # Off the event loop, and not for ever: storing is a cache fill.
            if not await anyio.to_thread.run_sync(app.state.feed_cache.wait_stored, STORING_WAIT_SECONDS):
                log.warning("stopped without storing every rendered feed piece (the database did not answer)")
            ctx.db.dispose()

    app = NoticesApp(
        title=f"{settings.site_name} API",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        description="Notices with effective dates. Reading is public; changing needs a Bearer token "
        "(`notices token create --user EMAIL`). Errors are JSON: "
        '`{"error": {"field": "starts_at", "message": "..."}}`.',
    )
    # Routes reach these through notices.web.deps, never directly.
    app.state.ctx = ctx
    app.state.templates = make_environment(settings)
    map_settings = maps.MapSettings.of(settings)
    errors.install(app)
    app.add_exception_handler(RequestValidationError, errors.handler(validation_error))
    outage.install(app)

    app.include_router(ops.router)
    app.include_router(api_routes.router)
    app.include_router(api_hooks.router)
    app.include_router(api_approvals.router)
    app.include_router(api_templates.router)
    app.include_router(api_attachments.router)
    api_routes.describe_site_choices(app, settings)
    app.include_router(console_auth.router)
    app.include_router(admin_routes.router)
    app.include_router(admin_occurrence_routes.router)
    app.include_router(admin_people_routes.router)
    app.include_router(admin_approval_routes.router)
    app.include_router(admin_attachment_routes.router)
    app.include_router(admin_integration_routes.router)
    app.include_router(admin_template_routes.router)
    api_docs.install(app)  # /docs and Swagger UI's files, mounted before /static
    # The maps' library and drawing tools; without them the pages show the server's outline.
    map_assets = {"leaflet": vendor.mount(app, vendor.LEAFLET), "geoman": vendor.mount(app, vendor.GEOMAN)}
    app.state.templates.globals.update(
        map_settings=map_settings,
        map_assets=map_assets,
        map_features=lambda notices: maps.collection(notices, settings)["features"],
        map_sketch=sketch,
        map_places=maps.places(settings),
    )
    app.mount("/static", StaticFiles(directory=templates_dir() / "static"), name="static")
    app.include_router(page_routes.router)
    app.include_router(cap_routes.router)
    app.include_router(attachment_routes.router)
    app.include_router(subscribe_routes.router)
    app.state.feed_cache = FeedCache(ctx, version_check_seconds=settings.feed_change_check_seconds)
    app.state.metrics = Metrics(ctx, app.state.feed_cache)
    # Innermost: HEAD/OPTIONS/405 answers get the security headers too; feeds answer HEAD in the fast path.
    app.add_middleware(MethodSupport)
    app.add_middleware(SecurityHeaders, policy=content_security_policy(extra_image_origin=map_settings.tile_origin))
    # In front of everything: feed requests skip the middleware stack and routing altogether.
    app.feed_fast_path = FeedFastPath(cache=app.state.feed_cache, settings=settings, metrics=app.state.metrics)
    app.add_middleware(RefuseNul)  # outermost of all: no handler ever sees a NUL in the URL

    return app
