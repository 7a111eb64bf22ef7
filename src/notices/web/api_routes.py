"""The JSON API /api/v1: public reads, token-authenticated writes. OpenAPI at /docs."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from notices import accounts, lifecycle, store, subscriptions
from notices.errors import InvalidField
from notices.lifecycle import Status
from notices.models import User
from notices.notice_input import parse_changes, parse_new_notice
from notices.presenters import notice_data
from notices.web.api_errors import ApiError
from notices.web.api_models import (
    ErrorOut, NoticeCancel, NoticeCreate, NoticeList, NoticeOut, NoticeUpdate, SubscriberCounts,
)
from notices.web.query_filters import BadFilter, filters_from_query

ERRORS = {status: {"model": ErrorOut} for status in (400, 401, 403, 404, 409, 422)}
router = APIRouter(prefix="/api/v1", tags=["api"], responses={400: ERRORS[400], 422: ERRORS[422]})
bearer = HTTPBearer(auto_error=False, description="An API token from `notices token create --user EMAIL`")


def api_user(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> User:
    """The token's user. One answer for a missing, unknown or revoked token: nothing to probe."""
    ctx = request.app.state.ctx
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "a Bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    with ctx.db.session() as session, session.begin():
        user = accounts.token_user(session, credentials.credentials, now=ctx.clock.now())
        if user is None:
            raise ApiError(401, "the token is not valid", headers={"WWW-Authenticate": "Bearer"})
        session.expunge(user)
    return user


def notice_manager(user: User = Depends(api_user)) -> User:
    if user.role not in ("manager", "admin"):
        raise ApiError(403, "your role may not change notices")
    return user


def _out(request: Request, notice) -> dict:
    ctx = request.app.state.ctx
    return notice_data(notice, zone=ctx.settings.timezone, now=ctx.clock.now())


@router.get("/notices", response_model=NoticeList, summary="List notices")
def list_notices(request: Request, status: list[str] | None = None) -> dict:
    """Upcoming and active notices by default; `status` (repeatable) picks others.
    Filters: `category`, `location`, `severity` (minimum), as on the feeds."""
    ctx = request.app.state.ctx
    try:
        filters = filters_from_query(request.query_params, ctx.settings)
    except BadFilter as error:
        raise ApiError(400, str(error), field=str(error).split()[1]) from None
    valid = [item.value for item in Status]
    wanted = set()
    for value in status or []:
        if value not in valid:
            raise ApiError(400, f"unknown status {value!r}; valid values are {', '.join(valid)}", field="status")
        wanted.add(Status(value))
    # Drafts and scheduled notices are not public.
    wanted = (wanted or set(lifecycle.VISIBLE_STATUSES)) - {Status.DRAFT, Status.SCHEDULED}
    now = ctx.clock.now()
    with ctx.db.session() as session:
        notices = [n for n in store.list_notices(session, now, wanted) if filters.matches(n)]
        items = [_out(request, notice) for notice in notices]
    return {"count": len(items), "notices": items}


@router.get("/notices/{uid}", response_model=NoticeOut, summary="Get one notice", responses={404: ERRORS[404]})
def get_notice(request: Request, uid: str) -> dict:
    ctx = request.app.state.ctx
    with ctx.db.session() as session:
        notice = _find(session, uid)
        if lifecycle.status_at(notice, ctx.clock.now()) in (Status.DRAFT, Status.SCHEDULED):
            raise ApiError(404, f"no notice with uid {uid!r}", field="uid")
        return _out(request, notice)


def _find(session, uid: str):
    try:
        if len(uid) != 36:
            raise store.NoticeNotFound(uid)
        return store.get_notice(session, uid)
    except store.NoticeNotFound:
        raise ApiError(404, f"no notice with uid {uid!r}", field="uid") from None


def _actor(user: User) -> str:
    return f"api:{user.email}"


@router.post("/notices", response_model=NoticeOut, status_code=201, summary="Create a notice",
             responses={401: ERRORS[401], 403: ERRORS[403]})
def create_notice(request: Request, body: NoticeCreate, user: User = Depends(notice_manager)) -> dict:
    ctx = request.app.state.ctx
    now = ctx.clock.now()
    try:
        fields = parse_new_notice(body.model_dump(exclude_unset=True), settings=ctx.settings, now=now)
    except InvalidField as error:
        raise ApiError(422, error.problem, field=error.field) from None
    with ctx.db.session() as session, session.begin():
        notice = store.create_notice(session, fields, now=now, author=_actor(user))
        return _out(request, notice)


@router.patch("/notices/{uid}", response_model=NoticeOut, summary="Change a notice",
              responses={401: ERRORS[401], 403: ERRORS[403], 404: ERRORS[404], 409: ERRORS[409]})
def update_notice(request: Request, uid: str, body: NoticeUpdate, user: User = Depends(notice_manager)) -> dict:
    ctx = request.app.state.ctx
    now = ctx.clock.now()
    changes = body.model_dump(exclude_unset=True)
    note = changes.pop("note").strip()
    if not changes:
        raise ApiError(422, "give at least one field to change", field="body")
    if "ends_at" in changes and changes["ends_at"] is None:
        changes["ends_at"] = ""  # null: until further notice
    with ctx.db.writing() as session, session.begin():
        notice = _find(session, uid)
        try:
            fields = parse_changes(changes, current=store.fields_of(notice), settings=ctx.settings, now=now)
            store.update_notice(session, notice, fields, note=note, now=now, author=_actor(user))
        except InvalidField as error:
            raise ApiError(422, error.problem, field=error.field) from None
        except store.NoticeConflict as error:
            raise ApiError(409, str(error)) from None
        return _out(request, notice)


@router.post("/notices/{uid}/cancel", response_model=NoticeOut, summary="Cancel a notice",
             responses={401: ERRORS[401], 403: ERRORS[403], 404: ERRORS[404], 409: ERRORS[409]})
def cancel_notice(request: Request, uid: str, body: NoticeCancel, user: User = Depends(notice_manager)) -> dict:
    ctx = request.app.state.ctx
    with ctx.db.writing() as session, session.begin():
        notice = _find(session, uid)
        try:
            store.cancel_notice(session, notice, reason=body.reason.strip(), now=ctx.clock.now(), author=_actor(user))
        except store.NoticeConflict as error:
            raise ApiError(409, str(error)) from None
        return _out(request, notice)


@router.get("/subscribers/counts", response_model=SubscriberCounts, summary="Subscriber counts per topic",
            responses={401: ERRORS[401]})
def subscriber_counts(request: Request, user: User = Depends(api_user)) -> dict:
    ctx = request.app.state.ctx
    with ctx.db.session() as session:
        return subscriptions.subscriber_counts(session, ctx.settings)
