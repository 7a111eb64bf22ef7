"""/api/v1/notices/{uid}/attachments: list, upload (multipart/form-data, field `file`) and remove."""

from __future__ import annotations

from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from notices.core.config import Settings as SiteSettings
from notices.core.context import AppContext
from notices.core.models import NoticeAttachment, User
from notices.notice import lifecycle
from notices.notice.attachments import links, service
from notices.notice.attachments.blobstore import open_store
from notices.notice.attachments.kinds import ACCEPTED
from notices.web.api.models import ErrorOut
from notices.web.api.routes import ERRORS, OPTIONAL_TOKEN, find_for_api, no_such_notice
from notices.web.deps import ApiManager, Ctx, Now, OptionalApiUser, ReadSession, Settings, WriteSession
from notices.web.uploads import Upload, read_upload

router = APIRouter(prefix="/api/v1", tags=["api"], responses={400: ERRORS[400], 422: ERRORS[422]})


class AttachmentOut(BaseModel):
    id: int
    filename: str
    title: str
    content_type: Annotated[str, Field(json_schema_extra={"enum": [kind.content_type for kind in ACCEPTED]})]
    size: int = Field(description="In bytes, as served (images without their metadata)")
    sha256: str
    url: str
    thumbnail_url: str | None = Field(description="Images only: a small JPEG or PNG copy")
    width: int | None
    height: int | None


class AttachmentList(BaseModel):
    count: int
    attachments: list[AttachmentOut]


def attachment_data(attachment: NoticeAttachment, settings: SiteSettings) -> dict[str, Any]:
    shown = links.shown(attachment)
    return {
        "id": shown.id,
        "filename": shown.filename,
        "title": shown.title,
        "content_type": shown.content_type,
        "size": shown.size,
        "sha256": attachment.blob_sha256,
        "url": settings.absolute_url(shown.path),
        "thumbnail_url": settings.absolute_url(shown.thumbnail_path) if shown.thumbnail_path else None,
        "width": attachment.blob.width,
        "height": attachment.blob.height,
    }


UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    # `title` (optional text, at most 200 characters) is described in words only: as a
                    # schema property, fuzzers take the multipart text "false" for a boolean.
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "PNG, JPEG, WebP or PDF"},
                    },
                }
            }
        },
    }
}


@router.get(
    "/notices/{uid}/attachments",
    response_model=AttachmentList,
    summary="List a notice's attachments",
    openapi_extra=OPTIONAL_TOKEN,
    responses={401: ERRORS[401], 404: ERRORS[404]},
)
def list_attachments(uid: str, session: ReadSession, settings: Settings, now: Now, viewer: OptionalApiUser) -> dict:
    notice = find_for_api(session, uid)
    if viewer is None and not lifecycle.is_public(notice, now):
        raise no_such_notice(uid)
    items = [attachment_data(attachment, settings) for attachment in notice.attachments]
    return {"count": len(items), "attachments": items}


@router.post(
    "/notices/{uid}/attachments",
    response_model=AttachmentOut,
    status_code=201,
    summary="Attach a file",
    openapi_extra=UPLOAD_BODY,
    responses={
        200: {"description": "That file was attached to the notice already"},
        401: ERRORS[401],
        403: ERRORS[403],
        404: ERRORS[404],
        413: {"model": ErrorOut, "description": "The file is larger than [attachments] max_bytes"},
        503: {"model": ErrorOut, "description": "The attachment store cannot be written"},
    },
)
async def upload_attachment(request: Request, response: Response, uid: str, user: ApiManager, ctx: Ctx) -> dict:
    """An image (PNG, JPEG, WebP) or a PDF in the form field `file`, told by its content; images lose
    their metadata (EXIF: location, camera). An optional form field `title` (at most 200 characters)
    describes it (an image's alternative text). The file is read as it arrives and refused (413) once
    past the limit."""
    upload = await read_upload(request, max_bytes=ctx.settings.attachments_max_bytes)
    # Checking, cleaning, storing and the database: in a worker thread, off the event loop.
    return await to_thread.run_sync(_attach, ctx, uid, upload, user, response)


def _attach(ctx: AppContext, uid: str, upload: Upload, user: User, response: Response) -> dict:
    now = ctx.clock.now()
    with ctx.db.writing() as session, session.begin():
        notice = find_for_api(session, uid, for_update=True)
        attachment, created = service.attach(
            session,
            open_store(ctx.settings),
            notice,
            data=upload.data or b"",
            filename=upload.filename,
            title=upload.fields.get("title"),
            actor=f"api:{user.email}",
            now=now,
        )
        data = attachment_data(attachment, ctx.settings)
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"{router.prefix}/notices/{uid}/attachments/{data['id']}"
    return data


@router.delete(
    "/notices/{uid}/attachments/{attachment_id}",
    status_code=204,
    summary="Remove an attachment",
    responses={401: ERRORS[401], 403: ERRORS[403], 404: ERRORS[404]},
)
def delete_attachment(uid: str, attachment_id: int, user: ApiManager, session: WriteSession, now: Now) -> Response:
    with session.begin():
        notice = find_for_api(session, uid, for_update=True)
        service.detach(session, notice, attachment_id, actor=f"api:{user.email}", now=now)
    return Response(status_code=204)
