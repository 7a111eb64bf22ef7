"""The console for facility managers: dashboard, notice form with live preview, update, cancel, duplicate,
start from a template."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from notices.core import config, cursors
from notices.core.errors import Conflict, InvalidField, NoticesError
from notices.core.i18n import lazy_gettext
from notices.core.models import Notice, User
from notices.hooks import enqueue as hook_queue
from notices.mail import outbox, staff
from notices.notice import approval, history, lifecycle, recurrence, series, store
from notices.notice.languages import TEXT_FIELDS as LANGUAGE_FIELDS
from notices.notice.lifecycle import Status
from notices.notice.times import form_value
from notices.notice.validation import NoticeFields, parse_changes, parse_new_notice
from notices.people.roles import Actor
from notices.runtime import bookkeeping
from notices.web.console import outbox_chart, repeat_form
from notices.web.console.preview import previews
from notices.web.console.templates import form_values_of as template_form_values
from notices.web.console.templates import template_choice
from notices.web.deps import (
    CsrfForm,
    Ctx,
    CurrentStaff,
    CurrentWriter,
    Now,
    ReadSession,
    Settings,
    Templates,
    WriteSession,
    app_context,
)
from notices.web.html import page
from notices.web.languages import page_language

router = APIRouter(prefix="/admin", tags=["console"], include_in_schema=False)
ENDED_PAGE = 50
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


def form_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {name: str(form.get(name, "") or "") for name in TEXT_FIELDS}
    values["locations"] = [str(value) for value in form.getlist("locations")]
    # The other languages' text: title.nl, body.nl, ... (a fieldset per language; see nested()).
    for name in form:
        field, dot, language = name.partition(".")
        if dot and field in LANGUAGE_FIELDS:
            values[name] = str(form.get(name, "") or "")
    # A form without the field (an old page still open) leaves the notice's shapes as they are.
    if "geometry" in form:
        values["geometry"] = str(form.get("geometry") or "")
    # The "Repeats" fieldset (repeat_form): kept apart, turned into the rule by with_series.
    values["series"] = repeat_form.values_from_form(form)
    return values


def with_series(
    raw: dict[str, Any], values: dict[str, Any], settings: config.Settings, now: datetime
) -> dict[str, Any]:
    """The validation input with the series built from the "Repeats" fieldset (recurrence, occurrence_minutes)."""
    raw = {key: value for key, value in raw.items() if key != "series"}
    return raw | repeat_form.raw_series(
        values["series"], starts_at=str(values.get("starts_at", "")), zone=settings.timezone, now=now
    )


def with_skipped(fields: NoticeFields, values: dict[str, Any]) -> NoticeFields:
    """The series with the fieldset's skip list applied: dates listed are cancelled occurrences, dates
    removed since the form was opened are reinstated (notice.series.edit_skipped; its end follows)."""
    if not values["series"].get("repeat") or not fields.recurrence:
        return fields
    return series.edit_skipped(
        fields,
        listed=repeat_form.skipped_dates(values["series"].get("repeat_skip", ""), "repeat_skip"),
        shown=repeat_form.skipped_dates(values["series"].get("repeat_skip_shown", ""), "repeat_skip_shown"),
        zone=ZoneInfo(fields.recurrence_zone),
        field="repeat_skip",
    )


def nested(values: dict[str, Any], settings: config.Settings) -> dict[str, Any]:
    """The form's values as validation takes them: {"title": {"en": ..., "nl": ...}} when the form
    has other languages' fields (validation refuses a language the site does not have)."""
    raw = {key: value for key, value in values.items() if "." not in key}
    for field in LANGUAGE_FIELDS:
        texts = {key.partition(".")[2]: value for key, value in values.items() if key.startswith(f"{field}.")}
        if texts:
            raw[field] = {settings.language: values.get(field, ""), **texts}
    return raw


def values_of(notice: Notice, zone) -> dict:
    values = {
        name: getattr(notice, name) or ""
        for name in ("title", "summary", "body", "category", "severity", "location_detail", "expected_end")
    }
    for language, texts in (notice.translations or {}).items():
        values |= {f"{field}.{language}": text for field, text in texts.items()}
    values["locations"] = list(notice.locations or ())
    for name in ("starts_at", "ends_at", "publish_at"):
        values[name] = form_value(getattr(notice, name), zone)
    values["geometry"] = json.dumps(notice.geometry, ensure_ascii=False) if notice.geometry else ""
    values["series"] = repeat_form.values_of_series(notice)
    if notice.recurrence:
        values["ends_at"] = ""  # a series ends with its rule (the builder's "ends" choice)
    return values


def raw_for_new(values: dict, action: str, settings: config.Settings, now: datetime) -> dict:
    given = {key: value for key, value in values.items() if value not in ("", None) and key != "series"}
    raw = with_series(nested(given, settings), values, settings, now)
    if not raw.get("recurrence"):
        raw.pop("recurrence", None)
    raw["locations"] = values["locations"]
    if action == "draft":
        raw.pop("publish_at", None)
        raw["draft"] = True
    elif action == "publish":
        raw.pop("publish_at", None)  # now
    elif action == "schedule" and not values.get("publish_at"):
        raise InvalidField("publish_at", lazy_gettext("give the time at which to publish"))
    return raw


@router.get("", response_class=HTMLResponse)
def dashboard(request: Request, user: CurrentStaff, session: ReadSession, settings: Settings, now: Now) -> HTMLResponse:
    groups = {
        status: store.list_notices(session, now, {status})
        for status in (Status.ACTIVE, Status.UPCOMING, Status.SCHEDULED, Status.DRAFT)
    }
    return page(
        request,
        "admin/dashboard.html",
        groups=groups,
        ended=store.recently_ended(session, now, within=timedelta(days=7)),
        mail=outbox.status_counts(session),
        chart=outbox_chart.build(outbox.hourly_outcomes(session, now=now, zone=settings.timezone), now=now),
        now=now,
        scheduler_seen=bookkeeping.scheduler_seen_at(session),
        Status=Status,
        queue=approval.queue(session),
    )


@router.get("/ended", response_class=HTMLResponse)
def ended_notices(
    request: Request, user: CurrentStaff, session: ReadSession, now: Now, cursor: str = ""
) -> HTMLResponse:
    """Every ended notice, latest start first, a page at a time (the dashboard shows the last 7 days)."""
    found = history.page(
        session,
        history.Criteria(statuses=frozenset({Status.ENDED}), newest_first=True),
        now=now,
        limit=ENDED_PAGE,
        after=cursors.decode(cursor) if cursor else None,
    )
    older = f"/admin/ended?cursor={cursors.encode(found.next)}" if found.next else None
    return page(request, "admin/ended.html", notices=found.notices, older=older, paged=bool(cursor))


def _form_page(request: Request, status_code: int = 200, **context) -> HTMLResponse:
    notice = context.get("notice")
    if notice is not None and recurrence.is_recurring(notice):
        # Imported here: the occurrences' console module builds on this one.
        from notices.web.console.occurrences import coming

        context.setdefault("occurrences", coming(notice, app_context(request).clock.now()))
    return page(request, "admin/notice_form.html", status_code, **context)


def _load(session: Session, uid: str, *, for_update: bool = False) -> Notice:
    """The notice, with its history; NoticeNotFound (404) if there is none."""
    return store.get_notice(session, uid, with_history=True, for_update=for_update)


@router.get("/notices/new", response_class=HTMLResponse)
def new_notice(
    request: Request,
    user: CurrentWriter,
    session: ReadSession,
    settings: Settings,
    duplicate: str | None = None,
    template: str | None = None,
) -> HTMLResponse:
    """The empty form, or prefilled: a copy of a notice (?duplicate=uid) or a template's fields
    (?template=id or name); either way a new notice, with the times for the person to pick."""
    values = dict.fromkeys(TEXT_FIELDS, "") | {
        "locations": [],
        "severity": "info",
        "series": repeat_form.blank_values(),
    }
    offered, chosen = template_choice(session, template)
    if duplicate:
        source = store.get_notice(session, duplicate)
        values = values_of(source, settings.timezone) | {"publish_at": ""}
        values["title"] = f"{source.title} (copy)"[:200]
    elif chosen is not None:
        values |= template_form_values(chosen, settings)
    return _form_page(request, values=values, notice=None, offered_templates=offered, chosen_template=chosen)


@router.post("/notices", response_class=HTMLResponse)
def create_notice(
    request: Request,
    user: CurrentWriter,
    form: CsrfForm,
    ctx: Ctx,
    session: WriteSession,
    settings: Settings,
    now: Now,
) -> Response:
    values, action = form_values(form), str(form.get("action", "publish"))
    try:
        fields = parse_new_notice(raw_for_new(values, action, settings, now), settings=settings, now=now)
        fields = with_skipped(fields, values)
    except InvalidField as error:
        return _form_page(request, 400, values=values, notice=None, error=error)
    with session.begin():
        notice, waiting = approval.create(session, fields, actor=Actor.of(user, "console"), settings=settings, now=now)
        uid = notice.uid
    staff.notify(ctx, waiting, now=now)
    return RedirectResponse(f"/admin/notices/{uid}?saved=1", status_code=303)


class EditConflict(Conflict):
    """The notice got a newer version after the form was opened: saving would silently undo it."""

    def __init__(self, opened: int) -> None:
        super().__init__(f"changed since version {opened}")
        self.opened = opened


def opened_version(form: FormData) -> int | None:
    """The version the form was opened at (hidden field); None from a form that does not say."""
    raw = str(form.get("version", "") or "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise InvalidField("version", lazy_gettext("the form is damaged; reload the notice and make your change again"))
    return int(raw)


def _conflict_page(request: Request, notice: Notice, conflict: EditConflict, now: datetime, **context) -> HTMLResponse:
    """The form again with the user's own values, and what changed meanwhile, by whom."""
    newer = [revision for revision in notice.revisions if revision.version > conflict.opened]
    # Saving this form again replaces the current version: the user has now seen it.
    return _form_page(
        request,
        409,
        notice=notice,
        conflict=conflict,
        newer=newer,
        version=notice.version,
        status=lifecycle.status_at(notice, now),
        **context,
    )


@router.get("/notices/{uid}", response_class=HTMLResponse)
def edit_notice(
    request: Request,
    uid: str,
    user: CurrentStaff,
    session: ReadSession,
    settings: Settings,
    now: Now,
    saved: str | None = None,
) -> HTMLResponse:
    return edit_page(request, session, uid, user, settings, now, saved=bool(saved))


def edit_page(
    request: Request,
    session: Session,
    uid: str,
    user: User,
    settings: config.Settings,
    now: datetime,
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    """A notice's page in the console, with `extra` for the template (e.g. an error of a form on it)."""
    from notices.web.console.approvals import context_for

    notice = _load(session, uid)
    return _form_page(
        request,
        status_code,
        values=values_of(notice, settings.timezone),
        notice=notice,
        status=lifecycle.status_at(notice, now),
        **context_for(session, notice, user, settings, now),
        **extra,
    )


def _problem(error: NoticesError) -> InvalidField:
    # The message as raised (a LazyText stays one), so the page shows it in its own language.
    return error if isinstance(error, InvalidField) else InvalidField("notice", error.args[0] if error.args else "")


def error_page(
    request: Request, notice: Notice, error: NoticesError, settings: config.Settings, now: datetime, **context
) -> HTMLResponse:
    """The form again with what is wrong; nothing was written."""
    context.setdefault("values", values_of(notice, settings.timezone))
    # Keep the version the user opened, so a change made meanwhile is still noticed at the next save.
    context.setdefault("version", notice.version)
    return _form_page(
        request, 400, notice=notice, error=_problem(error), status=lifecycle.status_at(notice, now), **context
    )


@router.post("/notices/{uid}", response_class=HTMLResponse)
def update_notice(
    request: Request,
    uid: str,
    user: CurrentWriter,
    form: CsrfForm,
    ctx: Ctx,
    writing: WriteSession,
    reading: ReadSession,
    settings: Settings,
    now: Now,
) -> Response:
    values, note = form_values(form), str(form.get("note", "")).strip()
    waiting = None
    raw = nested({key: value for key, value in values.items() if key != "series"}, settings)
    if not raw["publish_at"]:
        raw.pop("publish_at")  # blank keeps the publication time (publishing has its own button)
    opened = None
    try:
        raw = with_series(raw, values, settings, now)
        opened = opened_version(form)
        if not note:
            raise InvalidField("note", lazy_gettext("describe the change, e.g. 'closure extended to 12 December'"))
        with writing.begin():
            # Locked until the commit, so the version compared is the version replaced.
            notice = _load(writing, uid, for_update=True)
            if opened is not None and notice.version != opened:
                raise EditConflict(opened)
            fields = parse_changes(raw, current=store.fields_of(notice), settings=settings, now=now)
            fields = with_skipped(fields, values)
            waiting = approval.update(
                writing,
                notice,
                fields,
                note=note,
                minor=bool(form.get("minor")),
                actor=Actor.of(user, "console"),
                settings=settings,
                now=now,
            )
            hook_queue.enqueue_new_events(writing, settings=settings, now=now)  # with the event, in its transaction
    except EditConflict as conflict:  # nothing was written
        return _conflict_page(request, _load(reading, uid), conflict, now, values=values, note=note)
    except (InvalidField, Conflict) as error:  # nothing was written: the transaction rolled back
        extra = {"version": opened} if opened is not None else {}
        return error_page(request, _load(reading, uid), error, settings, now, values=values, note=note, **extra)
    staff.notify(ctx, waiting, now=now)
    return RedirectResponse(f"/admin/notices/{uid}?saved=1", status_code=303)


@router.post("/notices/{uid}/publish")
def publish_notice(
    uid: str, user: CurrentWriter, form: CsrfForm, ctx: Ctx, session: WriteSession, settings: Settings, now: Now
) -> Response:
    """Publish a draft now; one whose severity needs approval is submitted instead."""
    with session.begin():
        notice = _load(session, uid, for_update=True)
        if notice.publish_at is not None and notice.publish_at <= now:
            raise Conflict(lazy_gettext("The notice is already published."))
        fields = parse_changes({"publish_at": "now"}, current=store.fields_of(notice), settings=settings, now=now)
        waiting = approval.update(
            session,
            notice,
            fields,
            note="published",
            minor=False,
            actor=Actor.of(user, "console"),
            settings=settings,
            now=now,
        )
    staff.notify(ctx, waiting, now=now)
    return RedirectResponse(f"/admin/notices/{uid}?saved=1", status_code=303)


@router.post("/notices/{uid}/cancel", response_class=HTMLResponse)
def cancel_notice(
    request: Request,
    uid: str,
    user: CurrentWriter,
    form: CsrfForm,
    writing: WriteSession,
    reading: ReadSession,
    settings: Settings,
    now: Now,
) -> Response:
    reason = str(form.get("reason", "")).strip()
    try:
        if not reason:
            raise InvalidField("reason", lazy_gettext("tell readers why the notice is cancelled"))
        with writing.begin():
            store.cancel_notice(
                writing, _load(writing, uid, for_update=True), reason=reason, now=now, author=_actor(user)
            )
            hook_queue.enqueue_new_events(writing, settings=settings, now=now)
    except (InvalidField, Conflict) as error:
        return error_page(request, _load(reading, uid), error, settings, now)
    return RedirectResponse(f"/admin/notices/{uid}?saved=1", status_code=303)


@router.post("/preview")
def preview(
    request: Request, user: CurrentWriter, form: CsrfForm, settings: Settings, templates: Templates, now: Now
) -> JSONResponse:
    """The page, the feed entry and the email as they would look, for the form's live preview,
    in the language chosen beside it (`preview_language`; default the site's)."""
    language = str(form.get("preview_language", "") or "") or settings.language
    values = form_values(form)
    try:
        fields = parse_new_notice(raw_for_new(values, "publish", settings, now), settings=settings, now=now)
        fields = with_skipped(fields, values)
    except InvalidField as error:
        # The message in the console's language (the page's), not the preview's.
        message = error.problem_in(page_language(request, settings))
        return JSONResponse({"error": {"field": error.field, "message": message}})
    return JSONResponse(previews(fields, settings=settings, templates=templates, now=now, language=language))
