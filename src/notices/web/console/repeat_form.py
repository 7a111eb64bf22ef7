"""The console's "Repeats" fieldset: form fields to an RRULE and back.

The server builds the rule, so the form works without JavaScript and the same validation
applies as for the API (notice.validation): the builder only turns choices into RRULE text,
occurrence_minutes and skipped dates. A rule the builder cannot express (BYMONTH, several
ordinals...) is shown as RRULE text in the "advanced" choice, still editable.

Fields: repeat (none, daily, weekly, monthly, advanced), repeat_interval, repeat_weekdays (MO..SU,
several), repeat_monthly (day, weekday), repeat_month_day, repeat_ordinal (1..4, -1),
repeat_weekday, repeat_end (never, count, until), repeat_count, repeat_until (a date),
repeat_skip (dates; notice.series.edit_skipped applies them), repeat_skip_shown (hidden: the
skip list as opened), occurrence_end (a time of day) or occurrence_minutes, recurrence (advanced).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData

from notices.core.errors import InvalidField
from notices.notice import recurrence
from notices.notice.recurrence_wording import WEEKDAYS, rule_parts
from notices.notice.times import TimeInputError, parse_instant

CHOICES = ("none", "daily", "weekly", "monthly", "advanced")
ORDINALS = ("1", "2", "3", "4", "-1")
SCALAR_FIELDS = (
    "repeat",
    "repeat_interval",
    "repeat_monthly",
    "repeat_month_day",
    "repeat_ordinal",
    "repeat_weekday",
    "repeat_end",
    "repeat_count",
    "repeat_until",
    "repeat_skip",
    # The skip list as the form was opened (hidden): removing a date from it reinstates that
    # occurrence; a cancellation made elsewhere meanwhile was never in it, so it stays.
    "repeat_skip_shown",
    "occurrence_end",
    "occurrence_minutes",
    "recurrence",
)
_TIME = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# What the builder can re-fill from a rule; anything else is "advanced".
_BUILDER_PARTS = frozenset({"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY"})


def blank_values() -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(SCALAR_FIELDS, "")
    values |= {"repeat": "none", "repeat_interval": "1", "repeat_end": "never", "repeat_weekdays": []}
    values |= {"repeat_monthly": "day", "repeat_ordinal": "1", "repeat_weekday": "MO"}
    return values


def values_from_form(form: FormData) -> dict[str, Any]:
    values = blank_values()
    if "repeat" not in form:
        # A form without the fieldset (an old page still open) leaves the series as it is.
        values["repeat"] = ""
    for name in SCALAR_FIELDS:
        if name in form:
            values[name] = str(form.get(name) or "").strip()
    values["repeat_weekdays"] = [str(value) for value in form.getlist("repeat_weekdays")]
    return values


def raw_series(values: Mapping[str, Any], *, starts_at: str, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    """The validation input for the series part of the form: {"recurrence": ..., "occurrence_minutes": ...};
    {"recurrence": ""} for "none"; {} for a form without the fieldset. InvalidField names the form field."""
    choice = values.get("repeat", "")
    if not choice:
        return {}
    if choice not in CHOICES:
        raise InvalidField("repeat", f"choose one of {', '.join(CHOICES)}")
    if choice == "none":
        return {"recurrence": ""}
    if choice == "advanced":
        rule = str(values.get("recurrence", ""))
        if not rule.strip():
            raise InvalidField("recurrence", "give the rule (RRULE text, e.g. FREQ=WEEKLY;BYDAY=TU) or choose a repeat")
    else:
        rule = _built_rule(values, choice)
    return {"recurrence": rule, "occurrence_minutes": _minutes(values, starts_at, zone, now)}


def _built_rule(values: Mapping[str, Any], choice: str) -> str:
    interval = _whole(values.get("repeat_interval") or "1", "repeat_interval", 1, recurrence.MAX_INTERVAL)
    parts = [f"FREQ={choice.upper()}"]
    if interval != 1:
        parts.append(f"INTERVAL={interval}")
    if choice == "weekly":
        days = [day for day in WEEKDAYS if day in values.get("repeat_weekdays", [])]
        unknown = set(values.get("repeat_weekdays", [])) - set(WEEKDAYS)
        if unknown or not days:
            raise InvalidField("repeat_weekdays", "tick the days of the week it happens on")
        parts.append(f"BYDAY={','.join(days)}")
    elif choice == "monthly":
        if values.get("repeat_monthly") == "weekday":
            ordinal, weekday = values.get("repeat_ordinal", ""), values.get("repeat_weekday", "")
            if ordinal not in ORDINALS:
                raise InvalidField("repeat_ordinal", "choose first, second, third, fourth or last")
            if weekday not in WEEKDAYS:
                raise InvalidField("repeat_weekday", "choose a day of the week")
            parts.append(f"BYDAY={ordinal}{weekday}")
        else:
            parts.append(f"BYMONTHDAY={_whole(values.get('repeat_month_day', ''), 'repeat_month_day', 1, 31)}")
    end = values.get("repeat_end") or "never"
    if end == "count":
        parts.append(f"COUNT={_whole(values.get('repeat_count', ''), 'repeat_count', 1, recurrence.MAX_COUNT)}")
    elif end == "until":
        parts.append(f"UNTIL={_date(values.get('repeat_until', ''), 'repeat_until').strftime('%Y%m%d')}")
    elif end != "never":
        raise InvalidField("repeat_end", "choose never, after a number of times, or on a date")
    return ";".join(parts)


def _minutes(values: Mapping[str, Any], starts_at: str, zone: ZoneInfo, now: datetime) -> int | str:
    """Each occurrence's length: from its end time (the next day if not after the start) or in minutes."""
    end_text = str(values.get("occurrence_end", "")).strip()
    if not end_text:
        minutes = str(values.get("occurrence_minutes", "")).strip()
        if not minutes:
            raise InvalidField(
                "occurrence_end", "give the time each occurrence ends (e.g. 09:00), or its length in minutes"
            )
        return minutes  # validation checks the number
    match = _TIME.match(end_text)
    if not match:
        raise InvalidField("occurrence_end", "give a time of day like 09:00")
    start = _start_wall(starts_at, zone, now)
    end = time(int(match.group(1)), int(match.group(2)))
    difference = (datetime.combine(date.min, end) - datetime.combine(date.min, start.time())) // timedelta(minutes=1)
    if difference == 0:
        raise InvalidField("occurrence_end", "must differ from the start time (for a whole day, give 1440 minutes)")
    return difference % (24 * 60)


def _start_wall(starts_at: str, zone: ZoneInfo, now: datetime) -> datetime:
    try:
        return parse_instant(starts_at, zone=zone, now=now).astimezone(zone)
    except TimeInputError as error:
        raise InvalidField("starts_at", str(error)) from None


def values_of_series(notice: Any) -> dict[str, Any]:
    """The builder re-filled from a stored series (a rule it cannot express: "advanced", as text)."""
    values = blank_values()
    if not getattr(notice, "recurrence", ""):
        return values
    zone = ZoneInfo(notice.recurrence_zone)
    first = notice.starts_at.astimezone(zone)
    minutes = notice.occurrence_minutes or 0
    values["recurrence"] = notice.recurrence
    if minutes < 24 * 60:
        values["occurrence_end"] = (first.replace(tzinfo=None) + timedelta(minutes=minutes)).strftime("%H:%M")
    else:
        values["occurrence_minutes"] = str(minutes)
    values["repeat_skip"] = " ".join(
        recurrence.parse_occurrence_id(key).astimezone(zone).date().isoformat()
        for key, change in sorted((notice.occurrence_changes or {}).items())
        if change.get("cancelled")
    )
    values["repeat_skip_shown"] = values["repeat_skip"]
    values |= _builder_values(rule_parts(notice.recurrence), zone) or {"repeat": "advanced"}
    return values


def values_of_rule(rule: str, minutes: int | None, zone: ZoneInfo) -> dict[str, Any]:
    """The builder filled from a rule and a length alone (a template: no start, so the length
    stays in minutes rather than an end time of day)."""
    values = blank_values()
    if not rule:
        return values
    values |= {"recurrence": rule, "occurrence_minutes": str(minutes or "")}
    values |= _builder_values(rule_parts(rule), zone) or {"repeat": "advanced"}
    return values


def _builder_values(parts: Mapping[str, str], zone: ZoneInfo) -> dict[str, Any] | None:
    if set(parts) - _BUILDER_PARTS or parts.get("FREQ") not in ("DAILY", "WEEKLY", "MONTHLY"):
        return None
    values: dict[str, Any] = {"repeat": parts["FREQ"].lower(), "repeat_interval": parts.get("INTERVAL", "1")}
    byday = parts.get("BYDAY", "")
    if parts["FREQ"] == "DAILY" and (byday or "BYMONTHDAY" in parts):
        return None
    if parts["FREQ"] == "WEEKLY":
        days = byday.split(",") if byday else []
        if "BYMONTHDAY" in parts or not days or any(day not in WEEKDAYS for day in days):
            return None  # a weekly rule without BYDAY is re-saved with the day ticked: not the same text
        values["repeat_weekdays"] = days
    if parts["FREQ"] == "MONTHLY":
        match = re.fullmatch(r"([+-]?\d)(MO|TU|WE|TH|FR|SA|SU)", byday)
        if byday and match and match.group(1).lstrip("+") in ORDINALS and "BYMONTHDAY" not in parts:
            values |= {"repeat_monthly": "weekday", "repeat_ordinal": match.group(1).lstrip("+")}
            values["repeat_weekday"] = match.group(2)
        elif not byday and parts.get("BYMONTHDAY", "").isdigit():
            values |= {"repeat_monthly": "day", "repeat_month_day": parts["BYMONTHDAY"]}
        else:
            return None
    if "COUNT" in parts:
        values |= {"repeat_end": "count", "repeat_count": parts["COUNT"]}
    elif "UNTIL" in parts:
        until = datetime.strptime(parts["UNTIL"], recurrence.OCCURRENCE_ID_FORMAT).replace(tzinfo=UTC).astimezone(zone)
        if until.time() != time(23, 59, 59):
            return None  # an UNTIL at a time of day: the builder's dates mean the whole day
        values |= {"repeat_end": "until", "repeat_until": until.date().isoformat()}
    return values


def _whole(text: str, field: str, lowest: int, highest: int) -> int:
    text = str(text).strip()
    if not text.isdigit() or not lowest <= int(text) <= highest:
        raise InvalidField(field, f"give a whole number from {lowest} to {highest}")
    return int(text)


def skipped_dates(text: str, field: str) -> list[date]:
    """The dates of a skip list as typed (2026-12-22, 2026-12-29: spaces, commas or semicolons between);
    notice.series checks that the series has an occurrence on each."""
    return [_date(item, field) for item in re.split(r"[\s,;]+", text.strip()) if item]


def _date(text: str, field: str) -> date:
    text = str(text).strip()
    try:
        if not _DATE.fullmatch(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidField(field, f"{text[:40]!r} is not a date like 2027-06-30") from None
