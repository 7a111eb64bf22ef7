"""Attached files, served: GET /attachments/{sha256}/{filename} (a file or a thumbnail).

The address names the bytes (their SHA-256), so they never change: a strong ETag from the hash and
a year's immutable caching. A file is public while a notice it is attached to is; a draft's files
need a console login (or an API token) and are not cached by shared caches.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from notices.core.errors import NotFound
from notices.notice.attachments import service
from notices.notice.attachments.blobstore import SHA256_SHAPE, open_store
from notices.notice.attachments.names import safe_filename
from notices.people.roles import STAFF
from notices.web.deps import ConsoleUser, Now, OptionalApiUser, ReadSession, Settings

router = APIRouter(tags=["attachments"], include_in_schema=False)
PUBLIC_CACHE = "public, max-age=31536000, immutable"
PRIVATE_CACHE = "private, no-store"


@router.get("/attachments/{sha256}/{filename}")
def serve(
    request: Request,
    sha256: str,
    filename: str,
    session: ReadSession,
    settings: Settings,
    now: Now,
    console_user: ConsoleUser,
    api_user: OptionalApiUser,
) -> Response:
    if not SHA256_SHAPE.fullmatch(sha256):
        raise NotFound("no such file")
    blob, notices = service.blob_and_notices(session, sha256)
    public = service.is_public(notices, now)
    staff = any(user is not None and user.role in STAFF for user in (console_user, api_user))
    if not public and not staff:
        raise NotFound("no such file")  # a draft's file: as if it did not exist
    kind = service.kind_of(blob)
    etag = f'"{blob.sha256}"'
    headers = {
        "ETag": etag,
        "Cache-Control": PUBLIC_CACHE if public else PRIVATE_CACHE,
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": content_disposition(safe_filename(filename, kind.extension)),
    }
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    data = open_store(settings).get(blob.sha256)
    return Response(data, media_type=kind.content_type, headers=headers)


def _matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match: weak comparison, "*" or a list of tags."""
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


def content_disposition(filename: str) -> str:
    """Inline (images and PDFs open in the browser), with the name for saving: an ASCII fallback
    and the exact UTF-8 name (RFC 6266, RFC 8187 filename*)."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\%' else "_" for ch in filename)
    if fallback == filename:
        return f'inline; filename="{filename}"'
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
