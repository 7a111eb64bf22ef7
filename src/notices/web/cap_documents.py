"""/cap/<uid>.xml: one notice's current CAP 1.2 message, with ETag and 304s.

The message of a version (or of a series' occurrence boundary) never changes (see feeds.cap), so
its identifier is a strong ETag.
Drafts and scheduled notices are not public and have none (404).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from notices.core.errors import NotFound
from notices.feeds import cap
from notices.notice import lifecycle, store
from notices.web.deps import Now, ReadSession, Settings
from notices.web.feeds.fast_path import etag_matches

router = APIRouter(tags=["feeds"])
SUFFIX = ".xml"


@router.get("/cap/{name}", response_class=Response, summary="A notice's current CAP 1.2 alert message")
def cap_document(request: Request, name: str, session: ReadSession, settings: Settings, now: Now) -> Response:
    uid = name.removesuffix(SUFFIX) if name.endswith(SUFFIX) else ""
    notice = store.find_notice(session, uid, with_history=True) if uid else None
    if notice is None or not lifecycle.is_public(notice, now):
        raise NotFound("No such notice")
    current = cap.messages(notice, now)[-1]
    etag = f'"{current.identifier(notice.uid).removeprefix("urn:uuid:")}"'
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={settings.feed_max_age}",
        "Access-Control-Allow-Origin": "*",
    }
    if etag_matches(request.headers.get("if-none-match", ""), etag.strip('"')):
        return Response(status_code=304, headers=headers)
    body = cap.build_alert(notice, settings=settings, now=now)
    return Response(body, media_type=f"{cap.MEDIA_TYPE}; charset=utf-8", headers=headers)
