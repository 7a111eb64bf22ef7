"""The notice page's attachments in the console: upload (streamed, CSRF-checked) and remove."""

from __future__ import annotations

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from notices.core.context import AppContext
from notices.core.errors import InvalidField, NoticesError
from notices.core.models import User
from notices.notice import store
from notices.notice.attachments import service
from notices.notice.attachments.blobstore import StoreUnavailable, open_store
from notices.web import csrf
from notices.web.console.notices import error_page
from notices.web.deps import CsrfForm, Ctx, CurrentWriter, Now, WriteSession
from notices.web.uploads import Upload, read_upload

router = APIRouter(prefix="/admin", tags=["console"], include_in_schema=False)


def _actor(user: User) -> str:
    return f"console:{user.email}"


def _saved(uid: str) -> RedirectResponse:
    return RedirectResponse(f"/admin/notices/{uid}?saved=1#attachments", status_code=303)


@router.post("/notices/{uid}/attachments")
async def upload(request: Request, uid: str, user: CurrentWriter, ctx: Ctx) -> Response:
    csrf.check_origin(request, ctx.settings)  # a foreign page's upload is not even read
    try:
        received = await read_upload(request, max_bytes=ctx.settings.attachments_max_bytes)
    except InvalidField as error:
        # The token is in the part of the form that was not read: the page is only shown again.
        return await to_thread.run_sync(_shown_with, request, ctx, uid, error)
    csrf.check(request, ctx.settings, received.fields.get(csrf.FIELD))
    return await to_thread.run_sync(_attach, request, ctx, uid, received, user)


def _attach(request: Request, ctx: AppContext, uid: str, received: Upload, user: User) -> Response:
    now = ctx.clock.now()
    try:
        with ctx.db.writing() as session, session.begin():
            notice = store.get_notice(session, uid, for_update=True)
            service.attach(
                session,
                open_store(ctx.settings),
                notice,
                data=received.data or b"",
                filename=received.filename,
                title=received.fields.get("title"),
                actor=_actor(user),
                now=now,
            )
    except (InvalidField, StoreUnavailable) as error:  # nothing was written
        return _shown_with(request, ctx, uid, error)
    return _saved(uid)


def _shown_with(request: Request, ctx: AppContext, uid: str, error: NoticesError) -> Response:
    with ctx.db.session() as session:
        notice = store.get_notice(session, uid, with_history=True)
        shown = error_page(request, notice, _as_field(error), ctx.settings, ctx.clock.now())
        shown.status_code = error.status if error.status in (413, 503) else 400
        return shown


def _as_field(error: NoticesError) -> InvalidField:
    return error if isinstance(error, InvalidField) else InvalidField("file", str(error))


@router.post("/notices/{uid}/attachments/{attachment_id}/remove")
def remove(
    uid: str, attachment_id: int, user: CurrentWriter, form: CsrfForm, session: WriteSession, now: Now
) -> Response:
    with session.begin():
        notice = store.get_notice(session, uid, for_update=True)
        service.detach(session, notice, attachment_id, actor=_actor(user), now=now)
    return _saved(uid)
