"""Public HTML pages: the list of notices and one notice with its history."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from notices.notice import lifecycle, store
from notices.web.feeds.query import canonical_query, filters_from_query

router = APIRouter(tags=["pages"])


def render(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    html = request.app.state.templates.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code)


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    ctx = request.app.state.ctx
    filters = filters_from_query(request.query_params, ctx.settings)
    now = ctx.clock.now()
    with ctx.db.session() as session:
        notices = store.visible_notices(session, now, filters)
    query = canonical_query(filters)
    return render(
        request,
        "web/index.html",
        notices=notices,
        now=now,
        filters=filters,
        feed_query=f"?{query}" if query else "",
        status_at=lifecycle.status_at,
    )


@router.get("/notices/{uid}", response_class=HTMLResponse)
def notice_page(request: Request, uid: str) -> HTMLResponse:
    ctx = request.app.state.ctx
    now = ctx.clock.now()
    with ctx.db.session() as session:
        try:
            notice = store.get_notice(session, uid, with_history=True) if len(uid) == 36 else None
        except store.NoticeNotFound:
            notice = None
        if notice is None or not lifecycle.is_public(notice, now):
            raise HTTPException(status_code=404, detail="No such notice")
        return render(request, "web/notice.html", notice=notice, now=now, status=lifecycle.status_at(notice, now))
