"""Console pages for notice templates: the list (/admin/templates), "Save as template" on a
notice's page, rename and delete (managers and admins), and the new-notice form prefilled from one."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from notices.core.config import Settings as SiteSettings
from notices.core.errors import InvalidField
from notices.core.models import NoticeTemplate
from notices.notice import store
from notices.notice import templates_store as templates
from notices.notice.languages import TEXT_FIELDS
from notices.people.roles import Actor
from notices.web.console import repeat_form
from notices.web.deps import CsrfForm, CurrentManager, CurrentWriter, Now, ReadSession, Settings, WriteSession
from notices.web.html import page

router = APIRouter(prefix="/admin", tags=["console"], include_in_schema=False)


def form_values_of(template: NoticeTemplate, settings: SiteSettings) -> dict[str, Any]:
    """The new-notice form's values from a template: its fields, no times (the person picks them)."""
    fields = template.fields or {}
    values: dict[str, Any] = dict.fromkeys(("starts_at", "ends_at", "publish_at"), "")
    for name, value in fields.items():
        if name == "translations":
            for language, texts in (value or {}).items():
                if language in settings.languages and language != settings.language:
                    values |= {f"{field}.{language}": text for field, text in texts.items() if field in TEXT_FIELDS}
        elif name == "geometry":
            values[name] = json.dumps(value, ensure_ascii=False) if value else ""
        elif name == "locations":
            values[name] = list(value or ())
        elif name == "recurrence":
            # The Repeats builder, filled from the template's rule and occurrence length.
            values["series"] = repeat_form.values_of_rule(
                value or "", fields.get("occurrence_minutes"), settings.timezone
            )
        elif name == "occurrence_minutes":
            continue  # part of the series above
        else:
            # Fields the form shows under their own names (a later field, such as a recurrence
            # rule, comes along the same way).
            values[name] = value if value is not None else ""
    return values


def _list_page(request: Request, session: Session, status_code: int = 200, **context: Any) -> HTMLResponse:
    return page(request, "admin/templates.html", status_code, templates=templates.list_templates(session), **context)


@router.get("/templates", response_class=HTMLResponse)
def list_templates(
    request: Request, user: CurrentWriter, session: ReadSession, saved: str = "", deleted: str = ""
) -> HTMLResponse:
    return _list_page(request, session, saved=saved[:100], deleted=deleted[:100])


@router.post("/notices/{uid}/template", response_class=HTMLResponse)
def save_as_template(
    request: Request,
    uid: str,
    user: CurrentManager,
    form: CsrfForm,
    writing: WriteSession,
    reading: ReadSession,
    settings: Settings,
    now: Now,
) -> Response:
    """The notice's saved fields (not unsaved edits in its form) under a new template name."""
    name, description = str(form.get("template_name", "")), str(form.get("template_description", ""))
    try:
        with writing.begin():
            notice = store.get_notice(writing, uid)
            saved = templates.save_template(
                writing,
                name=name,
                description=description,
                fields=templates.stored_fields(notice),
                actor=Actor.of(user, "console"),
                now=now,
                source=notice.uid,
            )
            shown = saved.name
    except (InvalidField, templates.TemplateNameTaken) as error:
        from notices.web.console.notices import edit_page

        field = getattr(error, "field", "name")
        problem = error.problem if isinstance(error, InvalidField) else str(error)
        return edit_page(
            request,
            reading,
            uid,
            user,
            settings,
            now,
            status_code=400,
            template_error={"field": "template_name" if field == "name" else f"template_{field}", "problem": problem},
            template_values={"name": name, "description": description},
        )
    return RedirectResponse(f"/admin/templates?saved={_quoted(shown)}", status_code=303)


def _quoted(text: str) -> str:
    return quote(text, safe="")


def _template(session: Session, template_id: int) -> NoticeTemplate:
    return templates.get_template(session, str(template_id))


@router.post("/templates/{template_id}/rename", response_class=HTMLResponse)
def rename_template(
    request: Request,
    template_id: int,
    user: CurrentManager,
    form: CsrfForm,
    writing: WriteSession,
    reading: ReadSession,
    now: Now,
) -> Response:
    new_name = str(form.get("name", ""))
    try:
        with writing.begin():
            found = _template(writing, template_id)
            templates.rename_template(writing, found, name=new_name, actor=Actor.of(user, "console"), now=now)
            shown = found.name
    except (InvalidField, templates.TemplateNameTaken) as error:
        problem = error.problem if isinstance(error, InvalidField) else str(error)
        return _list_page(
            request,
            reading,
            400,
            error={"field": "name", "problem": problem, "template_id": template_id, "value": new_name},
        )
    return RedirectResponse(f"/admin/templates?saved={_quoted(shown)}", status_code=303)


@router.post("/templates/{template_id}/delete")
def delete_template(
    template_id: int, user: CurrentManager, form: CsrfForm, session: WriteSession, now: Now
) -> Response:
    with session.begin():
        found = _template(session, template_id)
        shown = found.name
        templates.delete_template(session, found, actor=Actor.of(user, "console"), now=now)
    return RedirectResponse(f"/admin/templates?deleted={_quoted(shown)}", status_code=303)


def template_choice(session: Session, key: str | None) -> tuple[list[NoticeTemplate], NoticeTemplate | None]:
    """The templates to offer on the new-notice page, and the one asked for (?template=), if any."""
    chosen = templates.get_template(session, key) if key else None  # unknown: 404, named
    return templates.list_templates(session), chosen
