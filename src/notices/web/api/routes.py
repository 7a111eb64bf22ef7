"""The JSON API /api/v1: public reads, token-authenticated writes. OpenAPI at /docs.

Optimistic concurrency: every response with one notice carries its version as a strong
ETag ("3"); PATCH and cancel honour If-Match, so a client that read version 3 cannot
overwrite a version 4 it never saw (412). Without If-Match, writers of one notice take
turns (the row is locked for the write) and each change makes the next version.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, Query, Request, Response
from sqlalchemy.orm import Session

from notices.core import config, cursors
from notices.core.config import SEVERITIES
from notices.core.context import AppContext
from notices.core.errors import InvalidField
from notices.core.i18n import LazyText, lazy_gettext
from notices.core.models import Notice, NoticeTemplate, User
from notices.hooks import enqueue as hook_queue
from notices.mail import staff, subscriptions
from notices.notice import approval, history, lifecycle, series_changes, store, templates_store
from notices.notice.languages import TEXT_FIELDS
from notices.notice.lifecycle import Status
from notices.notice.presenters import notice_data
from notices.notice.times import TimeInputError, parse_instant
from notices.notice.validation import parse_changes, parse_new_notice, parse_time
from notices.people.roles import Actor
from notices.web.api.errors import ApiError
from notices.web.api.models import (
    SITE_CHOICES,
    ErrorOut,
    NoticeCancel,
    NoticeCreate,
    NoticeList,
    NoticeOut,
    NoticeUpdate,
    OccurrenceCancel,
    OccurrenceMove,
    SubscriberCounts,
    site_choices,
)
from notices.web.deps import (
    BEARER_CHALLENGE,
    ApiManager,
    ApiUser,
    Ctx,
    Now,
    OptionalApiUser,
    ReadSession,
    Settings,
    WriteSession,
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

# Free-text query parameters say in the schema what RefuseNul enforces before any handler: no NUL
# (a 400 naming the parameter), so clients and fuzzers know a NUL is not a valid value.
NO_NUL = r"^[^\x00]*$"

router = APIRouter(prefix="/api/v1", tags=["api"], responses={400: ERRORS[400], 422: ERRORS[422]})
# Reads are public; a token (optional) also shows drafts and scheduled notices.
OPTIONAL_TOKEN: dict[str, Any] = {"security": [{}]}
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='Change only if the notice is still this version: its ETag, e.g. "3" (or *). '
        "A stale version gets 412 and nothing changes.",
    ),
]


def describe_site_choices(app: FastAPI, settings: config.Settings) -> None:
    """Fill this site's categories and locations into the OpenAPI schema as enums.

    They come from the configuration, so the models can only mark where they go;
    clients and schema-driven tools then see the values the server accepts.
    """
    build = app.openapi
    choices = {
        "categories": list(settings.categories),
        "locations": list(settings.locations),
        "languages": list(settings.languages),
    }

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

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            fill(build())
        assert app.openapi_schema is not None  # build() sets it
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def etag(notice: Notice) -> str:
    return f'"{notice.version}"'


def _out(
    response: Response, notice: Notice, *, settings: config.Settings, now: datetime, language: str | None = None
) -> dict:
    response.headers["ETag"] = etag(notice)
    return notice_data(notice, zone=settings.timezone, now=now, settings=settings, language=language)


Lang = Annotated[
    str | None,
    Query(
        description="The language of the text fields (default: the site's); `languages` has them all",
        json_schema_extra={SITE_CHOICES: "languages"},
    ),
]


def _language(lang: str | None, settings: config.Settings) -> str | None:
    if lang is not None and lang not in settings.languages:
        raise _bad_query(lang, settings.languages, "lang")
    return lang


def _unknown(value: str, valid, field: str) -> LazyText:
    return lazy_gettext(
        "unknown %(field)s %(value)s; valid values are %(valid)s",
        field=field,
        value=repr(value),
        valid=", ".join(valid),
    )


def _bad_query(value: str, valid, field: str) -> ApiError:
    # A query parameter, not a body field: 400, as on the feeds.
    return ApiError(400, _unknown(value, valid, field), field=field)


@router.get(
    "/notices",
    response_model=NoticeList,
    summary="List notices",
    openapi_extra=OPTIONAL_TOKEN,
    responses={401: ERRORS[401]},
)
def list_notices(
    request: Request,
    response: Response,
    session: ReadSession,
    settings: Settings,
    now: Now,
    viewer: OptionalApiUser,
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
        str | None, Query(description="Minimum severity", json_schema_extra={"enum": list(SEVERITIES)})
    ] = None,
    since: Annotated[
        str | None,
        Query(
            description="Only notices not yet ended at this time: ISO 8601 with an offset, or site time",
            examples=["2026-11-01T00:00+01:00"],
            pattern=NO_NUL,
        ),
    ] = None,
    until: Annotated[
        str | None,
        Query(description="Only notices that start before this time (ISO 8601, as `since`)", pattern=NO_NUL),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=history.MAX_LIMIT, description="Notices per page (the `next` link gives the rest)")
    ] = history.DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(
            description="Where the page starts: from the `next` link of the page before",
            max_length=200,
            pattern=NO_NUL,
        ),
    ] = None,
    lang: Lang = None,
) -> dict:
    """Upcoming and active notices by default; `status` picks others. Filters as on the feeds,
    each value spelled exactly as listed (unknown values are a 400 naming the parameter).

    A page at a time, soonest start first (ties by creation): `next` in the body and a
    `Link: <...>; rel="next"` header give the following page until the last one (`next` null).
    Pages follow each other exactly: a notice added meanwhile never shows twice."""
    valid = [item.value for item in Status]
    for value in status:
        if value not in valid:
            raise _bad_query(value, valid, "status")
    for name, values, choices in (
        ("category", category, settings.categories),
        ("location", location, settings.locations),
    ):
        for value in values:
            if value not in choices:
                raise _bad_query(value, choices, name)
    if severity is not None and severity not in SEVERITIES:
        raise _bad_query(severity, SEVERITIES, "severity")
    language = _language(lang, settings)
    wanted = {Status(value) for value in status} or set(lifecycle.VISIBLE_STATUSES)
    if wanted & UNPUBLISHED and viewer is None:
        raise ApiError(
            401,
            lazy_gettext("drafts and scheduled notices are listed only with a Bearer token"),
            field="status",
            headers=BEARER_CHALLENGE,
        )
    criteria = history.Criteria(
        statuses=frozenset(wanted),
        categories=frozenset(category),
        locations=frozenset(location),
        min_severity=severity,
        since=_instant(since, "since", settings, now),
        until=_instant(until, "until", settings, now),
        public_only=viewer is None,
    )
    after = cursors.decode(cursor) if cursor is not None else None
    found = history.page(session, criteria, now=now, limit=limit, after=after)
    items = [
        notice_data(notice, zone=settings.timezone, now=now, settings=settings, language=language)
        for notice in found.notices
    ]
    next_url = None
    if found.next is not None:
        following = request.url.include_query_params(cursor=cursors.encode(found.next))
        next_url = settings.absolute_url(f"{following.path}?{following.query}")
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return {"count": len(items), "notices": items, "next": next_url}


def _instant(text: str | None, field: str, settings: config.Settings, now: datetime) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_instant(text, zone=settings.timezone, now=now)
    except TimeInputError as error:
        raise InvalidField(field, error.problem) from None


@router.get(
    "/notices/{uid}",
    response_model=NoticeOut,
    summary="Get one notice",
    openapi_extra=OPTIONAL_TOKEN,
    responses={200: {"headers": ETAG_HEADER}, 401: ERRORS[401], 404: ERRORS[404]},
)
def get_notice(
    response: Response,
    uid: str,
    session: ReadSession,
    settings: Settings,
    now: Now,
    viewer: OptionalApiUser,
    lang: Lang = None,
) -> dict:
    """Drafts and scheduled notices are found only with a token."""
    language = _language(lang, settings)
    notice = _find(session, uid)
    if viewer is None and not lifecycle.is_public(notice, now):
        raise _no_such_notice(uid)
    return _out(response, notice, settings=settings, now=now, language=language)


def _no_such_notice(uid: str) -> ApiError:
    return ApiError(404, lazy_gettext("no notice with uid %(uid)s", uid=repr(uid)), field="uid")


def _find(session: Session, uid: str, *, for_update: bool = False) -> Notice:
    # The uid is a UUID; checking its shape first keeps odd bytes (NUL) away from the database.
    notice = store.find_notice(session, uid, for_update=for_update) if UID_SHAPE.fullmatch(uid) else None
    if notice is None:
        raise _no_such_notice(uid)
    return notice


# For the approval and attachment endpoints (web.api.approvals, web.api.attachments).
find_for_api = _find
no_such_notice = _no_such_notice


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
        lazy_gettext(
            "the notice was changed by someone else since you read it: it is now version %(version)s "
            "(ETag %(current)s), not %(sent)s. Nothing was changed; GET the notice, apply your change to "
            "the current version and send If-Match: %(current)s",
            version=notice.version,
            current=current,
            sent=if_match[:100],
        ),
        field="If-Match",
        headers={"ETag": current},
    )


def _check_choices(values: dict, settings: config.Settings) -> None:
    """The schema lists the valid spellings; the API takes exactly those (the CLI and forms are lenient)."""
    if values.get("category") is not None and values["category"] not in settings.categories:
        raise InvalidField("category", _unknown(values["category"], settings.categories, "category"))
    if values.get("severity") is not None and values["severity"] not in SEVERITIES:
        raise InvalidField("severity", _unknown(values["severity"], SEVERITIES, "severity"))
    for value in values.get("locations") or ():
        if value not in settings.locations:
            raise InvalidField("locations", _unknown(value, settings.locations, "locations"))
    for name in TEXT_FIELDS:
        texts = values.get(name)
        for language in texts if isinstance(texts, dict) else ():
            if language not in settings.languages:
                raise InvalidField(f"{name}.{language}", _unknown(language, settings.languages, "language"))


def _required_text(value: str, field: str) -> str:
    # PostgreSQL cannot store NUL; a note of nothing but blanks tells nobody anything.
    text = value.replace("\x00", "").strip()
    if not text:
        raise InvalidField(field, "is required")
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
    response: Response,
    body: NoticeCreate,
    user: ApiManager,
    ctx: Ctx,
    session: WriteSession,
    settings: Settings,
    now: Now,
) -> dict:
    """A notice whose severity needs approval is created as a draft and submitted (see `approval`).
    With `template`, the template's fields are the defaults under the fields given."""
    raw = body.model_dump(exclude_unset=True)
    template_name = raw.pop("template", None)
    with session.begin():
        if template_name is not None:
            raw = templates_store.with_defaults(_template(session, template_name), raw, settings)
        _check_choices(raw, settings)
        fields = parse_new_notice(raw, settings=settings, now=now)
        notice, waiting = approval.create(session, fields, actor=Actor.of(user, "api"), settings=settings, now=now)
        response.headers["Location"] = f"{router.prefix}/notices/{notice.uid}"
        data = _out(response, notice, settings=settings, now=now)
        if waiting is not None:
            data["approval"] = approval.describe(session, notice, now)
    staff.notify(ctx, waiting, now=now)
    return data


def _template(session: Session, name: str) -> NoticeTemplate:
    try:
        return templates_store.get_template(session, name)
    except templates_store.TemplateNotFound as error:
        raise InvalidField("template", str(error)) from None


def _change_notice(
    response: Response,
    session: Session,
    uid: str,
    change: Callable[[Notice], approval.Notification | None],
    *,
    ctx: AppContext,
    if_match: str | None,
    now: datetime,
) -> dict:
    """Apply `change` to the notice `uid`, locked until the commit (a concurrent change waits, then
    starts from this one's version), with its hook deliveries in the same transaction; 202 with the
    approval when it is held, the approvers told after the commit."""
    settings = ctx.settings
    with session.begin():
        notice = _find(session, uid, for_update=True)
        _check_if_match(if_match, notice)
        waiting = change(notice)
        hook_queue.enqueue_new_events(session, settings=settings, now=now)
        data = _out(response, notice, settings=settings, now=now)
        if waiting is not None:
            response.status_code = 202
            data["approval"] = approval.describe(session, notice, now)
    staff.notify(ctx, waiting, now=now)
    return data


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
    response: Response,
    uid: str,
    body: NoticeUpdate,
    user: ApiManager,
    ctx: Ctx,
    session: WriteSession,
    settings: Settings,
    now: Now,
    if_match: IfMatch = None,
) -> dict:
    """A change that needs approval is held (202, the notice unchanged) until approved."""
    changes = body.model_dump(exclude_unset=True)
    note = _required_text(changes.pop("note"), "note")
    minor = bool(changes.pop("minor", False))
    if not changes:
        raise InvalidField("body", "give at least one field to change")
    _check_choices(changes, settings)
    if "ends_at" in changes and changes["ends_at"] is None:
        changes["ends_at"] = ""  # null: until further notice

    def change(notice: Notice) -> approval.Notification | None:
        fields = parse_changes(changes, current=store.fields_of(notice), settings=settings, now=now)
        return approval.update(
            session, notice, fields, note=note, minor=minor, actor=Actor.of(user, "api"), settings=settings, now=now
        )

    return _change_notice(response, session, uid, change, ctx=ctx, if_match=if_match, now=now)


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
    response: Response,
    uid: str,
    body: NoticeCancel,
    user: ApiManager,
    session: WriteSession,
    settings: Settings,
    now: Now,
    if_match: IfMatch = None,
) -> dict:
    reason = _required_text(body.reason, "reason")
    with session.begin():
        notice = _find(session, uid, for_update=True)
        _check_if_match(if_match, notice)
        store.cancel_notice(session, notice, reason=reason, now=now, author=_actor(user))
        hook_queue.enqueue_new_events(session, settings=settings, now=now)
        return _out(response, notice, settings=settings, now=now)


# Occurrences of a series ------------------------------------------------------------------------


OCCURRENCE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"headers": ETAG_HEADER},
    202: {"description": "Held for approval: the notice is unchanged until approved", "model": NoticeOut},
    401: ERRORS[401],
    403: ERRORS[403],
    404: ERRORS[404],
    409: ERRORS[409],
    412: ERRORS[412],
}


@router.post(
    "/notices/{uid}/occurrences/{occurrence_id}/cancel",
    response_model=NoticeOut,
    summary="Cancel one occurrence of a series",
    responses=OCCURRENCE_RESPONSES,
)
def cancel_occurrence(
    response: Response,
    uid: str,
    occurrence_id: str,
    body: OccurrenceCancel,
    user: ApiManager,
    ctx: Ctx,
    session: WriteSession,
    now: Now,
    if_match: IfMatch = None,
) -> dict:
    """The series goes on without this occurrence; its readers and subscribers are told once.
    `occurrence_id` is the occurrence's original start in UTC, as `upcoming_occurrences` lists it."""
    reason = _required_text(body.reason, "reason")
    actor = Actor.of(user, "api")
    return _change_notice(
        response,
        session,
        uid,
        lambda notice: series_changes.cancel_occurrence(
            session, notice, occurrence_id, reason=reason, actor=actor, settings=ctx.settings, now=now
        ),
        ctx=ctx,
        if_match=if_match,
        now=now,
    )


@router.patch(
    "/notices/{uid}/occurrences/{occurrence_id}",
    response_model=NoticeOut,
    summary="Move one occurrence of a series",
    responses=OCCURRENCE_RESPONSES,
)
def move_occurrence(
    response: Response,
    uid: str,
    occurrence_id: str,
    body: OccurrenceMove,
    user: ApiManager,
    ctx: Ctx,
    session: WriteSession,
    settings: Settings,
    now: Now,
    if_match: IfMatch = None,
) -> dict:
    """This occurrence happens at another time (the others stay where the rule puts them);
    without `ends_at` it keeps its length. Told once, as rescheduled."""
    note = _required_text(body.note, "note")
    starts_at = parse_time(body.starts_at, "starts_at", settings=settings, now=now)
    ends_at = None if body.ends_at is None else parse_time(body.ends_at, "ends_at", settings=settings, now=now)
    actor = Actor.of(user, "api")
    return _change_notice(
        response,
        session,
        uid,
        lambda notice: series_changes.move_occurrence(
            session,
            notice,
            occurrence_id,
            starts_at=starts_at,
            ends_at=ends_at,
            note=note,
            actor=actor,
            settings=settings,
            now=now,
        ),
        ctx=ctx,
        if_match=if_match,
        now=now,
    )


@router.get(
    "/subscribers/counts",
    response_model=SubscriberCounts,
    summary="Subscriber counts per topic",
    responses={401: ERRORS[401]},
)
def subscriber_counts(user: ApiUser, session: ReadSession, settings: Settings) -> dict:
    return subscriptions.subscriber_counts(session, settings)
