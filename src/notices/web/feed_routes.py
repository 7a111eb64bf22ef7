"""Feed URLs: /feeds/notices.atom and /feeds/notices.rss, filtered by query string."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from notices import feeds, store
from notices.web.query_filters import canonical_query, filters_from_query

router = APIRouter(tags=["feeds"])

MEDIA_TYPES = {"atom": "application/atom+xml; charset=utf-8", "rss": "application/rss+xml; charset=utf-8"}


def render_notice_feed(request: Request, fmt: str) -> Response:
    ctx = request.app.state.ctx
    settings = ctx.settings
    filters = filters_from_query(request.query_params, settings)
    now = ctx.clock.now()
    with ctx.db.session() as session:
        notices = store.visible_notices(session, now, filters)
        updated = store.last_change_at_or_before(session, now)
    query = canonical_query(filters)
    self_url = settings.absolute_url(f"/feeds/notices.{fmt}") + (f"?{query}" if query else "")
    body = feeds.build_feed(notices, settings=settings, fmt=fmt, self_url=self_url, updated=updated, now=now)
    return Response(
        body, media_type=MEDIA_TYPES[fmt],
        headers={"Cache-Control": f"public, max-age={settings.feed_max_age}"},
    )


@router.get("/feeds/notices.atom")
def notices_atom(request: Request) -> Response:
    """Upcoming and active notices as Atom. Filters: category, location, severity (minimum)."""
    return render_notice_feed(request, "atom")


@router.get("/feeds/notices.rss")
def notices_rss(request: Request) -> Response:
    """Upcoming and active notices as RSS 2.0. Filters: category, location, severity (minimum)."""
    return render_notice_feed(request, "rss")
