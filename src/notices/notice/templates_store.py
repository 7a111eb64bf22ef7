"""Notice templates: a notice's reusable fields kept under a name, to start new notices from.

A template has no times and is never published: starting a notice from one gives the fields
of a new notice's input (a draft form, an API body's defaults), and the person picks the
times. The fields are kept as the notice keeps them (`TEMPLATE_FIELDS`), and validated on the
way in exactly like a notice's, so what a template holds is always a valid start.
(Not to be confused with notice.templating, the Jinja environment.)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from notices.core.config import Settings
from notices.core.db import insert_ignoring_duplicates
from notices.core.errors import Conflict, InvalidField, NotFound
from notices.core.models import NoticeTemplate, table_of
from notices.core.safe_text import UNSAFE_CHARACTERS, clean_text
from notices.notice.languages import TEXT_FIELDS
from notices.notice.validation import KNOWN_KEYS, NoticeFields, parse_new_notice
from notices.people import audit
from notices.people.roles import Actor

# The notice fields a template carries: everything a person edits except the times and the
# publication state (those belong to each notice). A field notices gain later is carried by
# adding its name here, e.g. "recurrence", "occurrence_minutes".
TEMPLATE_FIELDS = (
    "title",
    "summary",
    "body",
    "location_detail",
    "expected_end",
    "translations",
    "category",
    "severity",
    "locations",
    "geometry",
    # A series' rule and occurrence length (its zone is the site's; its exceptions are one notice's dates).
    "recurrence",
    "occurrence_minutes",
)
# What a template must not have: each notice started from one gets its own.
NOTICE_ONLY_KEYS = ("starts_at", "ends_at", "publish_at", "draft")
# The fields above whose validity does not depend on the start; and how far to look for a start
# that suits the others (a yearly rule has one within a year).
_START_FREE = frozenset(TEXT_FIELDS) | {"translations", "category", "severity", "locations", "geometry"}
_STAND_IN_DAYS = 367
NAME_LIMIT = 100
DESCRIPTION_LIMIT = 2_000


class TemplateNotFound(NotFound):
    field = "template"


class TemplateNameTaken(Conflict):
    field = "name"

    def __init__(self, name: str) -> None:
        super().__init__(f"a template named {name!r} already exists; choose another name or delete that one first")


def parse_name(value: Any, field: str = "name") -> str:
    """A template's name: one line of visible text, at most NAME_LIMIT characters, not only digits."""
    if not isinstance(value, str):
        raise InvalidField(field, f"must be text, got {type(value).__name__}")
    if UNSAFE_CHARACTERS.search(value):
        # A name is typed again to find the template: invisible characters would make two
        # names look alike, so they are refused rather than silently dropped.
        raise InvalidField(field, "contains control or invisible formatting characters; type the name plainly")
    name = clean_text(value, one_line=True)
    if not name:
        raise InvalidField(field, "is required")
    if len(name) > NAME_LIMIT:
        raise InvalidField(field, f"is {len(name)} characters long; at most {NAME_LIMIT} are allowed")
    if name.isdigit():
        raise InvalidField(field, "cannot be only digits (a number finds a template by its id)")
    return name


def parse_description(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidField("description", f"must be text, got {type(value).__name__}")
    text = clean_text(value)
    if len(text) > DESCRIPTION_LIMIT:
        raise InvalidField("description", f"is {len(text)} characters long; at most {DESCRIPTION_LIMIT} are allowed")
    return text


def stored_fields(source: NoticeFields | Any) -> dict[str, Any]:
    """The template fields of a notice (row or validated fields), as JSON-ready values."""
    values: dict[str, Any] = {}
    for name in TEMPLATE_FIELDS:
        value = getattr(source, name)
        if name == "locations":
            value = list(value or ())
        elif name == "translations":
            value = {language: dict(texts) for language, texts in (value or {}).items()}
        values[name] = value
    return values


def parse_fields(raw: Any, *, settings: Settings, now: datetime) -> dict[str, Any]:
    """Validate a template's fields given as JSON: a new notice's input without times (text fields
    as a string or {"en": ..., "nl": ...}), or a template's `fields` as shown (with `translations`)."""
    if not isinstance(raw, Mapping):
        raise InvalidField("fields", f"must be an object of notice fields, got {type(raw).__name__}")
    for key in NOTICE_ONLY_KEYS:
        if key in raw:
            raise InvalidField(key, "a template has no times or publication; each notice started from it gets its own")
    values = _folded(raw, settings, strict=True)
    # Validated as a draft notice would be, with a stand-in start that is not kept. A field that
    # depends on the start (a series rule such as "every first Tuesday") is checked against the
    # first day from today, at noon site time, that suits it; the others fail at once.
    today = now.astimezone(settings.timezone).date()
    first_problem: InvalidField | None = None
    for day in range(_STAND_IN_DAYS):
        start = datetime.combine(today + timedelta(days=day), time(12), tzinfo=settings.timezone)
        try:
            fields = parse_new_notice({**values, "starts_at": start, "draft": True}, settings=settings, now=now)
        except InvalidField as problem:
            name = problem.field.partition(".")[0]
            if name in _START_FREE or name not in KNOWN_KEYS:
                raise
            first_problem = first_problem or problem
            continue
        return stored_fields(fields)
    assert first_problem is not None
    raise first_problem


def notice_input(template: NoticeTemplate, settings: Settings) -> dict[str, Any]:
    """A new notice's input from a template, to which the caller adds times (and may override any
    field). Languages or fields this site no longer has are left out rather than refused."""
    return _folded(template.fields or {}, settings, strict=False)


def with_defaults(template: NoticeTemplate, raw: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
    """The request's own fields over the template's: a field given replaces the template's whole
    field, in every language (a new English title keeps no stale Dutch one)."""
    return {**notice_input(template, settings), **raw}


def _folded(stored: Mapping[str, Any], settings: Settings, *, strict: bool) -> dict[str, Any]:
    """`translations` folded into per-language text fields, the shape notice input takes."""
    known = KNOWN_KEYS if strict else set(TEMPLATE_FIELDS) & KNOWN_KEYS
    raw = {key: value for key, value in stored.items() if key != "translations" and (strict or key in known)}
    if not strict:
        raw = {key: value for key, value in raw.items() if value is not None}
    translations = stored.get("translations") or {}
    if not isinstance(translations, Mapping):
        raise InvalidField("translations", 'must be an object by language, e.g. {"nl": {"title": "..."}}')
    for language, texts in translations.items():
        if not strict and (language not in settings.languages or language == settings.language):
            continue
        if not isinstance(texts, Mapping):
            raise InvalidField(f"translations.{language}", 'must be an object of texts, e.g. {"title": "..."}')
        for field, text in texts.items():
            if field not in TEXT_FIELDS:
                if not strict:
                    continue
                raise InvalidField(f"translations.{language}.{field}", f"unknown; texts are {', '.join(TEXT_FIELDS)}")
            if not strict and not text:
                continue
            current = raw.get(field)
            if not isinstance(current, Mapping):
                current = {settings.language: current if current is not None else ""}
            raw[field] = {**current, language: text}
    return raw


def list_templates(session: Session) -> list[NoticeTemplate]:
    return list(session.scalars(select(NoticeTemplate).order_by(func.lower(NoticeTemplate.name), NoticeTemplate.id)))


def get_template(session: Session, key: str) -> NoticeTemplate:
    """A template by its id (digits) or its name (exact, else the one whose name differs only in case)."""
    wanted = key.strip() if isinstance(key, str) else ""
    # Checked before any query: odd bytes (NUL) never reach the database.
    if wanted and len(wanted) <= NAME_LIMIT and not UNSAFE_CHARACTERS.search(wanted):
        if wanted.isascii() and wanted.isdigit():
            found = session.get(NoticeTemplate, int(wanted)) if len(wanted) <= 18 else None
        else:
            found = session.scalars(select(NoticeTemplate).where(NoticeTemplate.name == wanted)).first()
            if found is None:
                alike = session.scalars(
                    select(NoticeTemplate).where(func.lower(NoticeTemplate.name) == wanted.lower()).limit(2)
                ).all()
                found = alike[0] if len(alike) == 1 else None
        if found is not None:
            return found
    raise TemplateNotFound(f"no template {wanted[:NAME_LIMIT]!r}; `notices template list` shows them")


def _name_taken(session: Session, name: str, *, other_than: int | None = None) -> bool:
    query = select(NoticeTemplate.id).where(func.lower(NoticeTemplate.name) == name.lower())
    if other_than is not None:
        query = query.where(NoticeTemplate.id != other_than)
    return session.scalar(query.limit(1)) is not None


def save_template(
    session: Session,
    *,
    name: str,
    description: str = "",
    fields: Mapping[str, Any],
    actor: Actor,
    now: datetime,
    source: str = "",
) -> NoticeTemplate:
    """Keep validated `fields` (stored_fields / parse_fields) under a new name. `source` says where
    they came from (a notice's uid) for the audit log."""
    actor.require_template_keeper()
    name, description = parse_name(name), parse_description(description)
    if _name_taken(session, name):
        raise TemplateNameTaken(name)
    values = {
        "name": name,
        "description": description,
        "fields": {key: fields[key] for key in TEMPLATE_FIELDS if key in fields},
        "created_at": now,
        "created_by": actor.label,
        "updated_at": now,
        "updated_by": actor.label,
    }
    # Two people saving the same name at once: the unique key decides, the loser is told.
    if not insert_ignoring_duplicates(session, table_of(NoticeTemplate), values):
        raise TemplateNameTaken(name)
    audit.record(
        session,
        actor=actor.label,
        action="template.save",
        target=name,
        detail=f"from {source}" if source else "",
        now=now,
    )
    return get_template(session, name)


def rename_template(session: Session, template: NoticeTemplate, *, name: str, actor: Actor, now: datetime) -> None:
    actor.require_template_keeper()
    new_name = parse_name(name)
    if new_name == template.name:
        return
    if _name_taken(session, new_name, other_than=template.id):
        raise TemplateNameTaken(new_name)
    old_name = template.name
    template.name, template.updated_at, template.updated_by = new_name, now, actor.label
    session.flush()
    audit.record(
        session, actor=actor.label, action="template.rename", target=new_name, detail=f"was {old_name}", now=now
    )


def delete_template(session: Session, template: NoticeTemplate, *, actor: Actor, now: datetime) -> None:
    """Remove a template; notices started from it keep their fields (they were copied)."""
    actor.require_template_keeper()
    audit.record(session, actor=actor.label, action="template.delete", target=template.name, now=now)
    session.delete(template)
    session.flush()


def template_data(template: NoticeTemplate) -> dict[str, Any]:
    """A template as the API and `--json` show it."""
    return {
        "id": template.id,
        "name": template.name,
        "description": template.description,
        "fields": template.fields,
        "created_at": template.created_at.isoformat(),
        "created_by": template.created_by,
        "updated_at": template.updated_at.isoformat(),
        "updated_by": template.updated_by,
    }
