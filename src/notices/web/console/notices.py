"""The console for facility managers: dashboard, notice form with live preview, update, cancel, duplicate."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from notices.core.errors import InvalidField
from notices.core.models import User
from notices.core.states import Role
from notices.mail import outbox
from notices.notice import lifecycle, store
from notices.notice.lifecycle import Status
from notices.notice.times import form_value
from notices.notice.validation import parse_changes, parse_new_notice
from notices.runtime import bookkeeping
from notices.web import csrf
from notices.web.console.auth import require
from notices.web.console.preview import previews
from notices.web.html import page

router = APIRouter(prefix="/admin", tags=["console"], include_in_schema=False)
manager = require(Role.MANAGER, Role.ADMIN)
TEXT_FIELDS = (
    "title",
    "summary",
    "body",
    "category",
    "severity",
    "location_detail",
    "starts_at",
    "ends_at",
    "expected_end",
    "publish_at",
)


def _actor(user: User) -> str:
    return f"console:{user.email}"


def form_values(form) -> dict:
    values = {name: str(form.get(name, "") or "") for name in TEXT_FIELDS}
    values["locations"] = [str(value) for value in form.getlist("locations")]
    return values


def values_of(notice, zone) -> dict:
    values = {
        name: getattr(notice, name) or ""
        for name in ("title", "summary", "body", "category", "severity", "location_detail", "expected_end")
    }
    values["locations"] = list(notice.locations or ())
    for name in ("starts_at", "ends_at", "publish_at"):
        values[name] = form_value(getattr(notice, name), zone)
    return values


def raw_for_new(values: dict, action: str) -> dict:
    raw = {key: value for key, value in values.items() if value not in ("", None)}
    raw["locations"] = values["locations"]
    if action == "draft":
        raw.pop("publish_at", None)
        raw["draft"] = True
    elif action == "publish":
        raw.pop("publish_at", None)  # now
    elif action == "schedule" and not values.get("publish_at"):
        raise InvalidField("publish_at", "give the time at which to publish")
    return raw


@router.get("", response_class=HTMLResponse)
def dashboard(request: Request, user: User = Depends(manager)) -> HTMLResponse:
    ctx = request.app.state.ctx
    now = ctx.clock.now()
    with ctx.db.session() as session:
        groups = {
            status: store.list_notices(session, now, {status})
            for status in (Status.ACTIVE, Status.UPCOMING, Status.SCHEDULED, Status.DRAFT)
        }
        ended = store.recently_ended(session, now, within=timedelta(days=7))
        mail = outbox.status_counts(session)
        scheduler_seen = bookkeeping.scheduler_seen_at(session)
        return page(
            request,
            "admin/dashboard.html",
            groups=groups,
            ended=ended,
            mail=mail,
            now=now,
            scheduler_seen=scheduler_seen,
            Status=Status,
        )


def _form_page(request, status_code=200, **context) -> HTMLResponse:
    return page(request, "admin/notice_form.html", status_code, **context)


@router.get("/notices/new", response_class=HTMLResponse)
def new_notice(request: Request, duplicate: str | None = None, user: User = Depends(manager)) -> HTMLResponse:
    ctx = request.app.state.ctx
    values = dict.fromkeys(TEXT_FIELDS, "") | {"locations": [], "severity": "info"}
    if duplicate:
        with ctx.db.session() as session:
            try:
                source = store.get_notice(session, duplicate)
            except store.NoticeNotFound:
                raise HTTPException(status_code=404, detail="No such notice.") from None
            values = values_of(source, ctx.settings.timezone) | {"publish_at": ""}
            values["title"] = f"{source.title} (copy)"[:200]
    return _form_page(request, values=values, notice=None)


@router.post("/notices", response_class=HTMLResponse)
async def create_notice(request: Request, user: User = Depends(manager)):
    form = await csrf.verify(request)
    ctx = request.app.state.ctx
    values, action = form_values(form), str(form.get("action", "publish"))
    now = ctx.clock.now()
    try:
        fields = parse_new_notice(raw_for_new(values, action), settings=ctx.settings, now=now)
    except InvalidField as error:
        return _form_page(request, 400, values=values, notice=None, error=error)
    with ctx.db.session() as session, session.begin():
        notice = store.create_notice(session, fields, now=now, author=_actor(user))
        uid = notice.uid
    return RedirectResponse(f"/admin/notices/{uid}?saved=1", status_code=303)


def _load(session, uid: str, *, for_update: bool = False):
    try:
        return store.get_notice(session, uid, with_history=True, for_update=for_update)
    except store.NoticeNotFound:
        raise HTTPException(status_code=404, detail="No such notice.") from None


class EditConflict(Exception):
    """The notice got a newer version after the form was opened: saving would silently undo it."""

    def __init__(self, opened: int) -> None:
        super().__init__(f"changed since version {opened}")
        self.opened = opened


def opened_version(form) -> int | None:
    """The version the form was opened at (hidden field); None from a form that does not say."""
    raw = str(form.get("version", "") or "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise InvalidField("version", "the form is damaged; reload the notice and make your change again")
    return int(raw)


def _conflict_page(request, uid: str, conflict: EditConflict, **context) -> HTMLResponse:
    """The form again with the user's own values, and what changed meanwhile, by whom."""
    ctx = request.app.state.ctx
    with ctx.db.session() as session:
        notice = _load(session, uid)
        newer = [revision for revision in notice.revisions if revision.version > conflict.opened]
        # Saving this form again replaces the current version: the user has now seen it.
        return _form_page(
            request,
            409,
            notice=notice,
            conflict=conflict,
            newer=newer,
            version=notice.version,
            status=lifecycle.status_at(notice, ctx.clock.now()),
            **context,
        )


@router.get("/notices/{uid}", response_class=HTMLResponse)
def edit_notice(request: Request, uid: str, saved: str | None = None, user: User = Depends(manager)) -> HTMLResponse:
    ctx = request.app.state.ctx
    with ctx.db.session() as session:
        notice = _load(session, uid)
        return _form_page(
            request,
            values=values_of(notice, ctx.settings.timezone),
            notice=notice,
            status=lifecycle.status_at(notice, ctx.clock.now()),
            saved=bool(saved),
        )


def _problem(error: Exception) -> InvalidField:
    return error if isinstance(error, InvalidField) else InvalidField("notice", str(error))


def _error_page(request, uid: str, error: Exception, **context) -> HTMLResponse:
    ctx = request.app.state.ctx
    with ctx.db.session() as session:
        notice = _load(session, uid)
        context.setdefault("values", values_of(notice, ctx.settings.timezone))
        # Keep the version the user opened, so a change made meanwhile is still noticed at the next save.
        context.setdefault("version", notice.version)
        return _form_page(
            request,
            400,
            notice=notice,
            error=_problem(error),
            status=lifecycle.status_at(notice, ctx.clock.now()),
            **context,
        )


@router.post("/notices/{uid}", response_class=HTMLResponse)
async def update_notice(request: Request, uid: str, user: User = Depends(manager)):
    form = await csrf.verify(request)
    ctx = request.app.state.ctx
    values, note = form_values(form), str(form.get("note", "")).strip()
    now = ctx.clock.now()
    raw = dict(values)
    if not raw["publish_at"]:
        raw.pop("publish_at")  # blank keeps the publication time (publishing has its own button)
    opened = None
    try:
        opened = opened_version(form)
        if not note:
            raise InvalidField("note", "describe the change, e.g. 'closure extended to 12 December'")
        with ctx.db.writing() as session, session.begin():
            # Locked until the commit, so the version compared is the version replaced.
            notice = _load(session, uid, for_update=True)
            if opened is not None and notice.version != opened:
                raise EditConflict(opened)
            fields = parse_changes(raw, current=store.fields_of(notice), settings=ctx.settings, now=now)
            store.update_notice(session, notice, fields, note=note, now=now, author=_actor(user))
    except EditConflict as conflict:  # nothing was written
        return _conflict_page(request, uid, conflict, values=values, note=note)
    except (InvalidField, store.NoticeConflict) as error:  # nothing was written: the transaction rolled back
        extra = {"version": opened} if opened is not None else {}
        return _error_page(request, uid, error, values=values, note=note, **extra)
    return RedirectResponse(f"/admin/notices/{uid}?saved=1", status_code=303)


@router.post("/notices/{uid}/publish")
async def publish_notice(request: Request, uid: str, user: User = Depends(manager)):
    await csrf.verify(request)
    ctx = request.app.state.ctx
    now = ctx.clock.now()
    with ctx.db.writing() as session, session.begin():
        notice = _load(session, uid, for_update=True)
        if notice.publish_at is not None and notice.publish_at <= now:
            raise HTTPException(status_code=409, detail="The notice is already published.")
        fields = parse_changes({"publish_at": "now"}, current=store.fields_of(notice), settings=ctx.settings, now=now)
        store.update_notice(session, notice, fields, note="published", now=now, author=_actor(user))
    return RedirectResponse(f"/admin/notices/{uid}?saved=1", status_code=303)


@router.post("/notices/{uid}/cancel", response_class=HTMLResponse)
async def cancel_notice(request: Request, uid: str, user: User = Depends(manager)):
    form = await csrf.verify(request)
    ctx = request.app.state.ctx
    reason = str(form.get("reason", "")).strip()
    try:
        if not reason:
            raise InvalidField("reason", "tell readers why the notice is cancelled")
        with ctx.db.writing() as session, session.begin():
            store.cancel_notice(
                session, _load(session, uid, for_update=True), reason=reason, now=ctx.clock.now(), author=_actor(user)
            )
    except (InvalidField, store.NoticeConflict) as error:
        return _error_page(request, uid, error)
    return RedirectResponse(f"/admin/notices/{uid}?saved=1", status_code=303)


@router.post("/preview")
async def preview(request: Request, user: User = Depends(manager)) -> JSONResponse:
    """The page, the feed entry and the email as they would look, for the form's live preview."""
    form = await csrf.verify(request)
    ctx = request.app.state.ctx
    values = form_values(form)
    try:
        fields = parse_new_notice(raw_for_new(values, "publish"), settings=ctx.settings, now=ctx.clock.now())
    except InvalidField as error:
        return JSONResponse({"error": {"field": error.field, "message": error.problem}})
    return JSONResponse(previews(request, fields))
