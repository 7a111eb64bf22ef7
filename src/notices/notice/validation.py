"""Turning user input (CLI options, import files, API bodies, forms) into valid notice fields.

Every problem raises InvalidField naming the field, so each front end can
show one clear line and write nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from notices.core.choices import choose, choose_many
from notices.core.config import SEVERITIES, Settings
from notices.core.errors import InvalidField
from notices.core.i18n import lazy_gettext
from notices.core.safe_text import clean_text
from notices.notice import recurrence
from notices.notice.geometry import parse_geometry
from notices.notice.languages import TEXT_FIELDS
from notices.notice.times import TimeInputError, check_window, no_time_of_day, parse_instant, to_utc

TIME_FIELDS = ("publish_at", "starts_at", "ends_at")
TEXT_LIMITS = {"title": 200, "summary": 2_000, "body": 100_000, "expected_end": 200, "location_detail": 2_000}
# An RRULE value: the longest sensible one (every weekday listed, BYMONTHDAY lists) is far shorter.
RULE_LIMIT = 500
# Change notes and cancel reasons: shown in the history, the event feed and alerts.
NOTE_LIMIT = 2_000


@dataclass(frozen=True)
class NoticeFields:
    """A notice's editable fields, validated. publish_at None means draft."""

    title: str
    category: str
    starts_at: datetime
    severity: str = "info"
    summary: str = ""
    body: str = ""
    locations: tuple[str, ...] = ()
    location_detail: str = ""
    publish_at: datetime | None = None
    ends_at: datetime | None = None
    expected_end: str = ""
    geometry: dict[str, Any] | None = field(default=None)
    # The other languages' text, only the fields given: {"nl": {"title": "..."}} (see notice.languages).
    translations: dict[str, dict[str, str]] = field(default_factory=dict)
    # A series (notice.recurrence): the RRULE value, each occurrence's length, the zone whose wall
    # clock the rule follows (the site's, set here), and the per-occurrence exceptions. For a
    # series ends_at is derived: the last occurrence's end (None for a rule without an end).
    recurrence: str = ""
    occurrence_minutes: int | None = None
    recurrence_zone: str = ""
    occurrence_changes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {item.name: getattr(self, item.name) for item in fields(self)}


# Other languages come inside the text fields ({"title": {"nl": ...}}), never as a key of their own;
# the zone of a series is the site's, and its exceptions change through their own operations
# (cancelling or moving one occurrence), not as a field.
KNOWN_KEYS = {item.name for item in fields(NoticeFields)} - {
    "translations",
    "recurrence_zone",
    "occurrence_changes",
} | {"draft", "skip"}
# The fields that say when a notice happens: a change to any of them is a new schedule
# (announced as rescheduled, held for approval where approval applies).
SCHEDULE_FIELDS = (*TIME_FIELDS, "recurrence", "occurrence_minutes", "occurrence_changes")


def parse_new_notice(raw: Mapping[str, Any], *, settings: Settings, now: datetime) -> NoticeFields:
    """Validate the fields of a new notice. Not a draft: publish_at defaults to now."""
    _refuse_unknown_keys(raw)
    if isinstance(raw.get("title"), Mapping) and _blank(raw["title"].get(settings.language)):
        raise InvalidField(f"title.{settings.language}", lazy_gettext("is required (the default language's title)"))
    for required in ("title", "category", "starts_at"):
        if _blank(raw.get(required)):
            raise InvalidField(required, lazy_gettext("is required"))
    draft = _boolean(raw.get("draft", False), "draft")
    if draft and not _blank(raw.get("publish_at")):
        raise InvalidField(
            "publish_at", lazy_gettext("a draft has no publication time; leave out one of draft and publish_at")
        )
    values = _parse_present(raw, settings=settings, now=now)
    if not values.get("title"):
        raise InvalidField(
            _title_name(raw, settings), lazy_gettext("is required (only invisible characters were given)")
        )
    if "translations" in values:
        values["translations"] = _merged({}, values["translations"])
    if not draft and values.get("publish_at") is None:
        values["publish_at"] = now
    if values.get("recurrence") and values.get("ends_at") is not None:
        raise InvalidField("ends_at", _SERIES_ENDS_BY_RULE)
    notice = _settle_series(NoticeFields(**values), settings)
    skipped = raw.get("skip")
    if not _blank(skipped) and skipped not in ([], ()):
        # Imported here: notice.series builds on this module.
        from notices.notice import series

        items = skipped.split(",") if isinstance(skipped, str) else skipped
        if not isinstance(items, list | tuple):
            raise InvalidField("skip", lazy_gettext("must be a list of dates (2026-12-08) or occurrence ids"))
        notice = series.skip(notice, items, zone=settings.timezone)
    check_consistent(notice)
    return notice


def parse_changes(raw: Mapping[str, Any], *, current: NoticeFields, settings: Settings, now: datetime) -> NoticeFields:
    """Apply a partial update to `current`; only keys present in `raw` change."""
    # Skipped dates of an existing series are cancelled occurrences: their own operation.
    _refuse_unknown_keys(raw, allowed=KNOWN_KEYS - {"draft", "skip"})
    title = raw.get("title")
    if isinstance(title, Mapping) and settings.language in title and _blank(title[settings.language]):
        raise InvalidField(f"title.{settings.language}", lazy_gettext("cannot be empty (the default language's title)"))
    for required in ("title", "category", "starts_at"):
        if required in raw and _blank(raw[required]):
            raise InvalidField(required, lazy_gettext("cannot be empty"))
    values = _parse_present(raw, settings=settings, now=now, clearable=True)
    if "title" in values and not values["title"]:
        raise InvalidField(
            _title_name(raw, settings), lazy_gettext("cannot be empty (only invisible characters were given)")
        )
    if "translations" in values:
        values["translations"] = _merged(current.translations, values["translations"])
    if values.get("ends_at") is not None and (
        values.get("recurrence") or (current.recurrence and "recurrence" not in values)
    ):
        raise InvalidField("ends_at", _SERIES_ENDS_BY_RULE)
    changed = replace(current, **values)
    if current.recurrence and not changed.recurrence and values.get("ends_at") is None:
        # No longer a series: what is left is the first occurrence, unless an end is given.
        changed = replace(changed, ends_at=changed.starts_at + timedelta(minutes=current.occurrence_minutes or 0))
    changed = _settle_series(changed, settings)
    check_consistent(changed)
    return changed


_SERIES_ENDS_BY_RULE = lazy_gettext(
    "a series ends with its rule (COUNT or UNTIL); give occurrence_minutes for the length of each occurrence"
)


def _settle_series(notice: NoticeFields, settings: Settings) -> NoticeFields:
    """A series' rule checked and normalised, its zone set, and its end derived from the rule."""
    if not notice.recurrence:
        return replace(notice, occurrence_minutes=None, recurrence_zone="", occurrence_changes={})
    zone = notice.recurrence_zone or settings.timezone.key
    try:
        rule = recurrence.parse_rule(notice.recurrence, starts_at=notice.starts_at, zone=ZoneInfo(zone))
    except recurrence.RuleError as error:
        raise InvalidField("recurrence", str(error)) from None
    series = replace(notice, recurrence=rule, recurrence_zone=zone)
    if series.occurrence_minutes is None:
        raise InvalidField(
            "occurrence_minutes", lazy_gettext("is required for a series (the length of each occurrence)")
        )
    try:
        recurrence.check_series(series)
    except recurrence.RuleError as error:
        field_name = "occurrence_minutes" if "duration" in str(error) or "overlap" in str(error) else "recurrence"
        raise InvalidField(field_name, str(error)) from None
    ends_at = recurrence.series_end(series)
    if ends_at is not None:
        try:
            check_window(ends_at, earliest=settings.earliest, latest=settings.latest, zone=settings.timezone)
        except TimeInputError as error:
            raise InvalidField(
                "recurrence", lazy_gettext("its last occurrence: %(problem)s", problem=error.args[0])
            ) from None
    return replace(series, ends_at=ends_at)


def check_consistent(notice: NoticeFields) -> None:
    if notice.ends_at is not None and notice.ends_at <= notice.starts_at:
        raise InvalidField("ends_at", lazy_gettext("must be after starts_at"))
    if notice.ends_at is not None and notice.publish_at is not None and notice.publish_at >= notice.ends_at:
        raise InvalidField("publish_at", lazy_gettext("must be before ends_at, or the notice would never be shown"))


def _refuse_unknown_keys(raw: Mapping[str, Any], allowed: set[str] = KNOWN_KEYS) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise InvalidField(
            unknown[0], lazy_gettext("unknown field; known fields are %(fields)s", fields=", ".join(sorted(allowed)))
        )


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _parse_present(
    raw: Mapping[str, Any], *, settings: Settings, now: datetime, clearable: bool = False
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    translated: dict[str, dict[str, str]] = {}
    for name in TEXT_FIELDS:
        if name not in raw or raw[name] is None:
            continue
        one_line = name in ("title", "expected_end")
        if not isinstance(raw[name], Mapping):
            values[name] = _text(raw[name], name, one_line=one_line)
            continue
        for language, value in _per_language(raw[name], name, settings).items():
            text = _text(
                "" if value is None else value, f"{name}.{language}", one_line=one_line, limit=TEXT_LIMITS[name]
            )
            if language == settings.language:
                values[name] = text
            else:
                translated.setdefault(language, {})[name] = text
    if translated:
        values["translations"] = translated
    if "category" in raw:
        values["category"] = choose(raw["category"], "category", settings.categories)
    if raw.get("severity") is not None:
        values["severity"] = choose(raw["severity"], "severity", SEVERITIES)
    if raw.get("locations") is not None:
        values["locations"] = choose_many(raw["locations"], "locations", settings.locations)
    for name in TIME_FIELDS:
        if name not in raw:
            continue
        if _blank(raw[name]):
            if name == "starts_at" or not clearable:
                continue
            values[name] = None  # an update that clears ends_at makes it open-ended
        else:
            values[name] = _instant(raw[name], name, settings=settings, now=now)
    if "recurrence" in raw:
        # Checked against the start once every field is known (_settle_series); "" or null stops a series.
        values["recurrence"] = (
            "" if _blank(raw["recurrence"]) else _text(raw["recurrence"], "recurrence", one_line=True, limit=RULE_LIMIT)
        )
    if "occurrence_minutes" in raw and raw["occurrence_minutes"] is not None:
        values["occurrence_minutes"] = _whole_number(raw["occurrence_minutes"], "occurrence_minutes")
    if "geometry" in raw and (clearable or raw["geometry"] is not None):
        # In a change, null or "" removes the notice's own shapes (its locations' apply again).
        values["geometry"] = parse_geometry(raw["geometry"], settings)
    return values


def _per_language(value: Mapping[Any, Any], name: str, settings: Settings) -> Mapping[str, Any]:
    """`{"en": "...", "nl": "..."}`: every key one of the site's languages, or the whole input is refused."""
    for language in value:
        if not isinstance(language, str) or language not in settings.languages:
            raise InvalidField(
                f"{name}.{language}",
                lazy_gettext(
                    "unknown language; this site's languages are %(languages)s", languages=", ".join(settings.languages)
                ),
            )
    return value


def _merged(
    current: Mapping[str, Mapping[str, str]], changes: Mapping[str, Mapping[str, str]]
) -> dict[str, dict[str, str]]:
    """`current` with `changes` applied; an empty text removes that field, an empty language goes."""
    merged = {language: dict(texts) for language, texts in current.items()}
    for language, texts in changes.items():
        own = merged.setdefault(language, {})
        for name, text in texts.items():
            if text:
                own[name] = text
            else:
                own.pop(name, None)
    return {language: texts for language, texts in merged.items() if texts}


def _title_name(raw: Mapping[str, Any], settings: Settings) -> str:
    return f"title.{settings.language}" if isinstance(raw.get("title"), Mapping) else "title"


def _text(value: Any, name: str, *, one_line: bool, limit: int | None = None) -> str:
    if not isinstance(value, str):
        raise InvalidField(name, lazy_gettext("must be text, got %(type)s", type=type(value).__name__))
    # Invisible characters that break feeds or disguise text are dropped (see safe_text).
    text = clean_text(value, one_line=one_line)
    limit = limit or TEXT_LIMITS[name.partition(".")[0]]
    if len(text) > limit:
        raise InvalidField(
            name,
            lazy_gettext("is %(length)d characters long; at most %(limit)d are allowed", length=len(text), limit=limit),
        )
    return text


def parse_note(value: Any, name: str = "note") -> str:
    """A change note or cancel reason: required, cleaned like notice text, bounded."""
    text = _text(value if value is not None else "", name, one_line=False, limit=NOTE_LIMIT)
    if not text:
        raise InvalidField(name, lazy_gettext("is required"))
    return text


def parse_time(value: Any, name: str, *, settings: Settings, now: datetime) -> datetime:
    """One time input (as the notice fields take them) in aware UTC; InvalidField naming `name`."""
    if _blank(value):
        raise InvalidField(name, lazy_gettext("is required"))
    return _instant(value, name, settings=settings, now=now)


def _instant(value: Any, name: str, *, settings: Settings, now: datetime) -> datetime:
    try:
        if isinstance(value, datetime):  # YAML parses unquoted timestamps itself
            instant = to_utc(value, settings.timezone)
        elif isinstance(value, date):
            raise TimeInputError(no_time_of_day(value.isoformat()))
        elif not isinstance(value, str):
            raise TimeInputError(lazy_gettext("must be a time as text, got %(type)s", type=type(value).__name__))
        else:
            instant = parse_instant(value, zone=settings.timezone, now=now)
        return check_window(instant, earliest=settings.earliest, latest=settings.latest, zone=settings.timezone)
    except TimeInputError as error:
        raise InvalidField(name, error.problem) from None


def _whole_number(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidField(name, lazy_gettext("must be a whole number, got %(type)s", type=type(value).__name__))
    text = str(value).strip()
    if not text.isdigit():
        raise InvalidField(name, lazy_gettext("must be a whole number, got %(value)s", value=repr(value)))
    return int(text)


def _boolean(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "false", "no", "0", ""):
        return value.strip().lower() in ("true", "yes", "1")
    raise InvalidField(name, lazy_gettext("must be true or false, got %(value)s", value=repr(value)))
