"""For operators and robots: /healthz, /livez, /metrics, /robots.txt and /favicon.ico."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from notices.core.db import ping
from notices.runtime.health import attachment_store_problem, scheduler_health
from notices.web.deps import Ctx, Metrics, Now
from notices.web.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE

log = logging.getLogger(__name__)
router = APIRouter(tags=["operations"])

ROBOTS_TXT = """\
User-agent: *
Disallow: /admin
Disallow: /preferences/
Disallow: /unsubscribe/
Disallow: /subscribe/confirm/
Allow: /
"""


# The checks open their session inside the try (not a ReadSession): whatever fails, closing
# a broken connection included, the answer is their own 503.


@router.get("/healthz")
def healthz(ctx: Ctx, now: Now) -> JSONResponse:
    """200 while publishing works: the database answers and a scheduler completed a run
    recently with no failing job; 503 otherwise, saying what is wrong (for uptime monitors)."""
    try:
        with ctx.db.session() as session:
            ping(session)
            scheduler = scheduler_health(session, settings=ctx.settings, now=now)
    except Exception as error:  # any database failure means "not healthy"
        log.warning("health check failed: %s", error)
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
    store_problem = attachment_store_problem(ctx.settings)
    healthy = scheduler.ok and store_problem is None
    body = {
        "status": "ok" if healthy else "error",
        "database": "ok",
        **scheduler.as_dict(),
        "attachment_store": store_problem or "ok",
    }
    return JSONResponse(body, status_code=200 if healthy else 503)


@router.get("/livez")
def livez(ctx: Ctx) -> JSONResponse:
    """200 while this web process and its database answer, whatever the schedulers do
    (for a load balancer or container health check: restarting a web process cannot fix a scheduler)."""
    try:
        with ctx.db.session() as session:
            ping(session)
    except Exception as error:  # any database failure means "not live"
        log.warning("liveness check failed: %s", error)
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


@router.get("/metrics", include_in_schema=False)
def metrics(registry: Metrics) -> Response:
    # Plain def: a scrape reads the shared state from the database.
    return Response(registry.render(), media_type=METRICS_CONTENT_TYPE)


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    # Browsers ask for it on every site; "no content" instead of a 404 in every console.
    return Response(status_code=204, headers={"Cache-Control": "public, max-age=86400"})


@router.get("/robots.txt", include_in_schema=False)
def robots() -> Response:
    # Pages behind personal links (sent by email) and the console stay out of search engines.
    return PlainTextResponse(ROBOTS_TXT, headers={"Cache-Control": "public, max-age=86400"})
