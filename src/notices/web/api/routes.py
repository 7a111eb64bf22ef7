"""The JSON API /api/v1: public reads, token-authenticated writes. OpenAPI at /docs.

Optimistic concurrency: every response with one notice carries its version as a strong
ETag ("3"); PATCH and cancel honour If-Match, so a client that read version 3 cannot
overwrite a version 4 it never saw (412). Without If-Match, writers of one notice take
turns (the row is locked for the write) and each change makes the next version.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from notices.core.config import SEVERITIES, Settings
from notices.core.errors import InvalidField
from notices.core.models import Notice, User
from notices.core.states import Role
from notices.mail import subscriptions
from notices.notice import lifecycle, store
from notices.notice.lifecycle import Filters, Status
from notices.notice.presenters import notice_data
from notices.notice.validation import parse_changes, parse_new_notice
from notices.people import accounts
from notices.web.api.errors import ApiError
from notices.web.api.models import (
    SITE_CHOICES,
    ErrorOut,
    NoticeCancel,
    NoticeCreate,
    NoticeList,
    NoticeOut,
    NoticeUpdate,
    SubscriberCounts,
    site_choices,
)

ERRORS = {status: {"model": ErrorOut} for status in (400, 401, 403, 404, 409, 412, 422)}
ETAG_HEADER = {
    "ETag": {
        "description": 'The notice\'s version as a strong entity tag, e.g. "3"; '
        "send it back in If-Match to change exactly this version",
        "schema": {"type": "string"},
    }
}
UNPUBLISHED = {Status.DRAFT, Status.SCHEDULED}
# The uid is a UUID; checking its shape first keeps odd bytes (NUL) away from the database.
UID_SHAPE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)

router = APIRouter(prefix="/api/v1", tags=["api"], responses={400: ERRORS[400], 422: ERRORS[422]})
bearer = HTTPBearer(auto_error=False, description="An API token from `notices token create --user EMAIL`")
# Reads are public; a token (optional) also shows drafts and scheduled notices.
OPTIONAL_TOKEN = {"security": [{}]}
IfMatch = Annotated[
    str,
    Header(
        alias="If-Match",
        description='Change only if the notice is still this version: its ETag, e.g. "3" (or *). '
        "A stale version gets 412 and nothing changes.",
    ),
]


def describe_site_choices(app: FastAPI, settings: Settings) -> None:
    """Fill this site's categories and locations into the OpenAPI schema as enums.

    They come from the configuration, so the models can only mark where they go;
    clients and schema-driven tools then see the values the server accepts.
    """
    build = app.openapi
    choices = {"categories": list(settings.categories), "locations": list(settings.locations)}

    def fill(node: Any) -> None:
        if isinstance(node, dict):
            name = node.pop(SITE_CHOICES, None)
            if name:
                node["enum"] = choices[name]
            for value in node.values():
                fill(value)
        elif isinstance(node, list):
            for value in node:
                fill(value)

    def openapi() -> dict:
        if app.openapi_schema is None:
            fill(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def optional_user(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> User | None:
    """The token's user, None without a Bearer token. One answer for an unknown or revoked token: nothing to probe."""
    if credentials is None:
        return None
    ctx = request.app.state.ctx
    with ctx.db.session() as session, session.begin():
        user = accounts.token_user(session, credentials.credentials, now=ctx.clock.now())
        if user is None:
            raise ApiError(401, "the token is not valid", headers={"WWW-Authenticate": "Bearer"})
        session.expunge(user)
    return user


def api_user(user: User | None = Depends(optional_user)) -> User:
    if user is None:
        raise ApiError(401, "a Bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    return user


def notice_manager(user: User = Depends(api_user)) -> User:
    if user.role not in (Role.MANAGER, Role.ADMIN):
        raise ApiError(403, "your role may not change notices")
    return user


def etag(notice: Notice) -> str:
    return f'"{notice.version}"'


def _out(request: Request, response: Response, notice: Notice) -> dict:
    ctx = request.app.state.ctx
    response.headers["ETag"] = etag(notice)
    return notice_data(notice, zone=ctx.settings.timezone, now=ctx.clock.now())


def _unknown(value: str, valid, field: str, status: int) -> ApiError:
    return ApiError(status, f"unknown {field} {value!r}; valid values are {', '.join(valid)}", field=field)


@router.get(
    "/notices",
    response_model=NoticeList,
    summary="List notices",
    openapi_extra=OPTIONAL_TOKEN,
    responses={401: ERRORS[401]},
)
def list_notices(
    request: Request,
    status: Annotated[
        list[str],
        Query(
            description="Repeat for several. Default: upcoming and active. draft and scheduled need a token.",
            json_schema_extra={"items": {"type": "string", "enum": [item.value for item in Status]}},
        ),
    ] = [],  # noqa: B006
    category: Annotated[
        list[str],
        Query(
            description="Repeat for several; any of them matches",
            json_schema_extra={"items": site_choices("categories")},
        ),
    ] = [],  # noqa: B006
    location: Annotated[
        list[str],
        Query(
            description="Repeat for several; any of them matches",
            json_schema_extra={"items": site_choices("locations")},
        ),
    ] = [],  # noqa: B006
    severity: Annotated[
        str, Query(description="Minimum severity", json_schema_extra={"enum": list(SEVERITIES)})
    ] = None,
    viewer: User | None = Depends(optional_user),
) -> dict:
    """Upcoming and active notices by default; `status` picks others. Filters as on the feeds,
    each value spelled exactly as listed (unknown values are a 400 naming the parameter)."""
    ctx = request.app.state.ctx
    valid = [item.value for item in Status]
    for value in status:
        if value not in valid:
            raise _unknown(value, valid, "status", 400)
    for name, values, choices in (
        ("category", category, ctx.settings.categories),
        ("location", location, ctx.settings.locations),
    ):
        for value in values:
            if value not in choices:
                raise _unknown(value, choices, name, 400)
    if severity is not None and severity not in SEVERITIES:
        raise _unknown(severity, SEVERITIES, "severity", 400)
    wanted = {Status(value) for value in status} or set(lifecycle.VISIBLE_STATUSES)
    if wanted & UNPUBLISHED and viewer is None:
        raise ApiError(
            401,
            "drafts and scheduled notices are listed only with a Bearer token",
            field="status",
            headers={"WWW-Authenticate": "Bearer"},
        )
    filters = Filters(categories=frozenset(category), locations=frozenset(location), min_severity=severity)
    now = ctx.clock.now()
    with ctx.db.session() as session:
        notices = [
            n
            for n in store.list_notices(session, now, wanted)
            # Without a token: only what was announced (a notice cancelled before that never was).
            if filters.matches(n) and (viewer is not None or lifecycle.is_public(n, now))
        ]
        items = [notice_data(notice, zone=ctx.settings.timezone, now=now) for notice in notices]
    return {"count": len(items), "notices": items}


@router.get(
    "/notices/{uid}",
    response_model=NoticeOut,
    summary="Get one notice",
    openapi_extra=OPTIONAL_TOKEN,
    responses={200: {"headers": ETAG_HEADER}, 401: ERRORS[401], 404: ERRORS[404]},
)
def get_notice(request: Request, response: Response, uid: str, viewer: User | None = Depends(optional_user)) -> dict:
    """Drafts and scheduled notices are found only with a token."""
    ctx = request.app.state.ctx
    with ctx.db.session() as session:
        notice = _find(session, uid)
        if viewer is None and not lifecycle.is_public(notice, ctx.clock.now()):
            raise ApiError(404, f"no notice with uid {uid!r}", field="uid")
        return _out(request, response, notice)


def _find(session, uid: str, *, for_update: bool = False) -> Notice:
    try:
        if not UID_SHAPE.fullmatch(uid):
            raise store.NoticeNotFound(uid)
        return store.get_notice(session, uid, for_update=for_update)
    except store.NoticeNotFound:
        raise ApiError(404, f"no notice with uid {uid!r}", field="uid") from None


def _check_if_match(if_match: str | None, notice: Notice) -> None:
    """RFC 9110 If-Match with strong comparison: "*" or a list of tags, one of them the current one."""
    if if_match is None:
        return
    current = etag(notice)
    tags = [tag.strip() for tag in if_match.split(",")]
    if "*" in tags or current in tags:
        return
    raise ApiError(
        412,
        f"the notice was changed by someone else since you read it: it is now version {notice.version} "
        f"(ETag {current}), not {if_match[:100]}. Nothing was changed; GET the notice, apply your change to "
        f"the current version and send If-Match: {current}",
        field="If-Match",
        headers={"ETag": current},
    )


def _check_choices(values: dict, settings: Settings) -> None:
    """The schema lists the valid spellings; the API takes exactly those (the CLI and forms are lenient)."""
    if values.get("category") is not None and values["category"] not in settings.categories:
        raise _unknown(values["category"], settings.categories, "category", 422)
    if values.get("severity") is not None and values["severity"] not in SEVERITIES:
        raise _unknown(values["severity"], SEVERITIES, "severity", 422)
    for value in values.get("locations") or ():
        if value not in settings.locations:
            raise _unknown(value, settings.locations, "locations", 422)


def _required_text(value: str, field: str) -> str:
    # PostgreSQL cannot store NUL; a note of nothing but blanks tells nobody anything.
    text = value.replace("\x00", "").strip()
    if not text:
        raise ApiError(422, "is required", field=field)
    return text


def _actor(user: User) -> str:
    return f"api:{user.email}"


@router.post(
    "/notices",
    response_model=NoticeOut,
    status_code=201,
    summary="Create a notice",
    responses={
        201: {
            "headers": {
                **ETAG_HEADER,
                "Location": {"description": "The new notice's URL", "schema": {"type": "string"}},
            }
        },
        401: ERRORS[401],
        403: ERRORS[403],
    },
)
def create_notice(
    request: Request, response: Response, body: NoticeCreate, user: User = Depends(notice_manager)
) -> dict:
    ctx = request.app.state.ctx
    now = ctx.clock.now()
    raw = body.model_dump(exclude_unset=True)
    _check_choices(raw, ctx.settings)
    try:
        fields = parse_new_notice(raw, settings=ctx.settings, now=now)
    except InvalidField as error:
        raise ApiError(422, error.problem, field=error.field) from None
    with ctx.db.session() as session, session.begin():
        notice = store.create_notice(session, fields, now=now, author=_actor(user))
        response.headers["Location"] = f"{router.prefix}/notices/{notice.uid}"
        return _out(request, response, notice)


@router.patch(
    "/notices/{uid}",
    response_model=NoticeOut,
    summary="Change a notice",
    responses={
        200: {"headers": ETAG_HEADER},
        401: ERRORS[401],
        403: ERRORS[403],
        404: ERRORS[404],
        409: ERRORS[409],
        412: ERRORS[412],
    },
)
def update_notice(
    request: Request,
    response: Response,
    uid: str,
    body: NoticeUpdate,
    if_match: IfMatch = None,
    user: User = Depends(notice_manager),
) -> dict:
    ctx = request.app.state.ctx
    now = ctx.clock.now()
    changes = body.model_dump(exclude_unset=True)
    note = _required_text(changes.pop("note"), "note")
    if not changes:
        raise ApiError(422, "give at least one field to change", field="body")
    _check_choices(changes, ctx.settings)
    if "ends_at" in changes and changes["ends_at"] is None:
        changes["ends_at"] = ""  # null: until further notice
    with ctx.db.writing() as session, session.begin():
        # Locked until the commit: a concurrent change waits, then starts from this one's version.
        notice = _find(session, uid, for_update=True)
        _check_if_match(if_match, notice)
        try:
            fields = parse_changes(changes, current=store.fields_of(notice), settings=ctx.settings, now=now)
            store.update_notice(session, notice, fields, note=note, now=now, author=_actor(user))
        except InvalidField as error:
            raise ApiError(422, error.problem, field=error.field) from None
        except store.NoticeConflict as error:
            raise ApiError(409, str(error)) from None
        return _out(request, response, notice)


@router.post(
    "/notices/{uid}/cancel",
    response_model=NoticeOut,
    summary="Cancel a notice",
    responses={
        200: {"headers": ETAG_HEADER},
        401: ERRORS[401],
        403: ERRORS[403],
        404: ERRORS[404],
        409: ERRORS[409],
        412: ERRORS[412],
    },
)
def cancel_notice(
    request: Request,
    response: Response,
    uid: str,
    body: NoticeCancel,
    if_match: IfMatch = None,
    user: User = Depends(notice_manager),
) -> dict:
    ctx = request.app.state.ctx
    reason = _required_text(body.reason, "reason")
    with ctx.db.writing() as session, session.begin():
        notice = _find(session, uid, for_update=True)
        _check_if_match(if_match, notice)
        try:
            store.cancel_notice(session, notice, reason=reason, now=ctx.clock.now(), author=_actor(user))
        except InvalidField as error:
            raise ApiError(422, error.problem, field=error.field) from None
        except store.NoticeConflict as error:
            raise ApiError(409, str(error)) from None
        return _out(request, response, notice)


@router.get(
    "/subscribers/counts",
    response_model=SubscriberCounts,
    summary="Subscriber counts per topic",
    responses={401: ERRORS[401]},
)
def subscriber_counts(request: Request, user: User = Depends(api_user)) -> dict:
    ctx = request.app.state.ctx
    with ctx.db.session() as session:
        return subscriptions.subscriber_counts(session, ctx.settings)
