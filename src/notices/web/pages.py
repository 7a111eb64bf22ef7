"""Public HTML pages: the list of notices and one notice with its history."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import QueryParams

from notices.core.errors import NotFound
from notices.notice import lifecycle, store
from notices.notice.languages import notice_for_reader
from notices.web.deps import Now, ReadSession, Settings
from notices.web.feeds.query import canonical_query, filters_from_query
from notices.web.html import page
from notices.web.languages import page_language

router = APIRouter(tags=["pages"])


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: ReadSession, settings: Settings, now: Now) -> HTMLResponse:
    # The page's language (?lang=, then Accept-Language) is the notice text's too, and the
    # feeds it links are in it; an unknown ?lang= is ignored here, as on every page.
    language = page_language(request, settings)
    filters = replace(
        filters_from_query(_without_lang(request.query_params), settings),
        language=None if language == settings.language else language,  # the feeds' plain URLs
    )
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
    # The notice text in the page's language (a missing translation: the default's, marked).
    shown = notice_for_reader(notice, page_language(request, settings), settings)
    return page(
        request, "web/notice.html", cache_control=None, notice=shown, now=now, status=lifecycle.status_at(notice, now)
    )


def _without_lang(params: QueryParams) -> QueryParams:
    return QueryParams([(key, value) for key, value in params.multi_items() if key != "lang"])
