"""Public HTML pages: the list of notices and one notice with its history."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from notices.core.errors import NotFound
from notices.notice import lifecycle, store
from notices.notice.languages import notice_for_reader
from notices.web.deps import Now, ReadSession, Settings
from notices.web.feeds.query import canonical_query, filters_from_query
from notices.web.html import page

router = APIRouter(tags=["pages"])


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: ReadSession, settings: Settings, now: Now) -> HTMLResponse:
    filters = filters_from_query(request.query_params, settings)
    query = canonical_query(filters)
    return page(
        request,
        "web/index.html",
        cache_control=None,  # the same for everyone
        notices=[
            notice_for_reader(notice, filters.language, settings)
            for notice in store.visible_notices(session, now, filters)
        ],
        now=now,
        filters=filters,
        feed_query=f"?{query}" if query else "",
        status_at=lifecycle.status_at,
    )


@router.get("/notices/{uid}", response_class=HTMLResponse)
def notice_page(request: Request, uid: str, session: ReadSession, settings: Settings, now: Now) -> HTMLResponse:
    notice = store.find_notice(session, uid, with_history=True)
    if notice is None or not lifecycle.is_public(notice, now):
        raise NotFound("No such notice")
    # The notice text in the ?lang= language (a missing translation: the default's, marked).
    shown = notice_for_reader(notice, request.query_params.get("lang"), settings)
    return page(
        request, "web/notice.html", cache_control=None, notice=shown, now=now, status=lifecycle.status_at(notice, now)
    )
