"""/api/v1/templates: notice templates (notices.notice.templates_store) over the JSON API.

Any staff token reads them; managers and admins save and delete them. A new notice starts from
one with `"template": "<name>"` in POST /api/v1/notices (see api.routes).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from notices.core.errors import Forbidden, InvalidField
from notices.core.i18n import lazy_gettext
from notices.core.models import User
from notices.notice import store
from notices.notice import templates_store as templates
from notices.people.roles import STAFF, Actor
from notices.web.api.models import ErrorOut
from notices.web.deps import ApiUser, Now, ReadSession, Settings, WriteSession

ERRORS: dict[int | str, dict[str, Any]] = {status: {"model": ErrorOut} for status in (400, 401, 403, 404, 409, 422)}
router = APIRouter(prefix="/api/v1/templates", tags=["templates"], responses=ERRORS)

EXAMPLE_FIELDS: dict[str, Any] = {
    "title": {"en": "Road closed", "nl": "Weg afgesloten"},
    "summary": {"en": "Follow the diversion signs.", "nl": "Volg de omleidingsborden."},
    "category": "road-closure",
    "severity": "major",
    "locations": ["plesmanlaan"],
}


class TemplateCreate(BaseModel):
    """A new template: from a notice (`notice`: its uid) or from `fields` (a new notice's fields
    without times: text fields as a string or {"en": ..., "nl": ...}). Give one of the two."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            # From a notice: {"name": "Road closure", "notice": "<its uid>"}.
            "examples": [{"name": "Road closure", "description": "Any road of the park", "fields": EXAMPLE_FIELDS}]
        },
    )

    name: str = Field(min_length=1, max_length=templates.NAME_LIMIT, description="Unique; not only digits")
    description: str = Field(default="", max_length=templates.DESCRIPTION_LIMIT)
    notice: str | None = Field(default=None, max_length=36, description="Save this notice's fields")
    fields: dict[str, Any] | None = Field(default=None, description="The fields, validated as a notice's")


class TemplateOut(BaseModel):
    id: int
    name: str
    description: str
    fields: dict[str, Any] = Field(
        description="The notice fields as a notice keeps them: text fields in the site's default language, "
        "`translations` for the others, category, severity, locations, location_detail, geometry"
    )
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str


class TemplateList(BaseModel):
    count: int
    templates: list[TemplateOut]


def _staff(user: User) -> None:
    if user.role not in STAFF:
        raise Forbidden(lazy_gettext("your role may not see templates"))


@router.get("", response_model=TemplateList, summary="List the templates")
def list_templates(user: ApiUser, session: ReadSession) -> dict:
    _staff(user)
    items = [templates.template_data(template) for template in templates.list_templates(session)]
    return {"count": len(items), "templates": items}


@router.get("/{key}", response_model=TemplateOut, summary="Get one template by its name or id")
def get_template(key: str, user: ApiUser, session: ReadSession) -> dict:
    _staff(user)
    return templates.template_data(templates.get_template(session, key))


@router.post("", response_model=TemplateOut, status_code=201, summary="Save a template (managers and admins)")
def save_template(
    body: TemplateCreate, response: Response, user: ApiUser, session: WriteSession, settings: Settings, now: Now
) -> dict:
    actor = Actor.of(user, "api")
    actor.require_template_keeper()
    if (body.notice is None) == (body.fields is None):
        raise InvalidField("fields", "give either `notice` (a notice's uid) or `fields`, not both or neither")
    fields = templates.parse_fields(body.fields, settings=settings, now=now) if body.fields is not None else None
    with session.begin():
        if fields is None:
            assert body.notice is not None
            found = store.find_notice(session, body.notice)
            if found is None:
                raise InvalidField("notice", f"no notice with uid {body.notice!r}")
            fields, source = templates.stored_fields(found), found.uid
        else:
            source = "api"
        saved = templates.save_template(
            session, name=body.name, description=body.description, fields=fields, actor=actor, now=now, source=source
        )
        response.headers["Location"] = f"{router.prefix}/{saved.id}"
        return templates.template_data(saved)


@router.delete("/{key}", status_code=204, summary="Delete a template (managers and admins)")
def delete_template(key: str, user: ApiUser, session: WriteSession, now: Now) -> Response:
    actor = Actor.of(user, "api")
    actor.require_template_keeper()
    with session.begin():
        templates.delete_template(session, templates.get_template(session, key), actor=actor, now=now)
    return Response(status_code=204)
