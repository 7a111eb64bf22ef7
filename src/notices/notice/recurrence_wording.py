"""A series' rule in plain words, in the reader's language: "every first Tuesday, 07:00–09:00,
until 30 June 2027, not on 22 December".

Pages, emails, feeds, calendars and the console say what a rule means with these; nobody should
have to read RRULE text. Weekday and month names, lists ("Monday and Thursday") and dates come
from Babel in the reader's language; the sentences are gettext messages (Dutch in the catalogue).
A rule these sentences cannot express (BYDAY in a YEARLY rule without a month, several
ordinals...) is still described, less elegantly: "repeats by the rule FREQ=...". Pure functions:
no database; `now` is passed in where the answer depends on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_day_names, get_month_names
from babel.lists import format_list
from babel.units import format_unit

from notices.core.i18n import N_
from notices.notice import recurrence
from notices.notice.recurrence import Occurrence, Recurring
from notices.notice.wording import SHORT, Words

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
ORDINALS = {
    1: N_("first"),
    2: N_("second"),
    3: N_("third"),
    4: N_("fourth"),
    5: N_("fifth"),
    -1: N_("last"),
    -2: N_("second to last"),
}
# More skipped dates than this are counted rather than listed: a summary is one line.
LISTED_SKIPS = 6
# How many coming occurrences a page lists under the summary.
SHOWN_OCCURRENCES = 5


class _Unexpressed(Exception):
    """The rule has a shape the sentences below do not cover."""


def rule_parts(rule: str) -> dict[str, str]:
    """A normalised RRULE value as {NAME: VALUE}."""
    return dict(item.split("=", 1) for item in rule.split(";") if "=" in item)


def summary(notice: Recurring, words: Words, now: datetime | None = None) -> str:
    """The whole series in one line: pattern, times of day, end, skipped dates.

    With `now`, skipped dates already past are left out (they no longer matter to a reader).
    """
    zone = ZoneInfo(notice.recurrence_zone)
    first = notice.starts_at.astimezone(zone)
    parts = rule_parts(notice.recurrence)
    try:
        pattern = _pattern(parts, first, words)
    except _Unexpressed:
        pattern = words.gettext("repeats by the rule %(rule)s") % {"rule": notice.recurrence}
    pieces = [pattern, _times_of_day(first, notice.occurrence_minutes or 0, words), _end(parts, zone, words)]
    skipped = _skipped(notice, zone, first.year, words, now)
    if skipped:
        pieces.append(skipped)
    return ", ".join(pieces)


def next_phrase(notice: Recurring, words: Words, now: datetime) -> str:
    """The part of a title that says when, for a series as of `now`: 'until Tue 1 Dec 09:00' while an
    occurrence is under way, 'next Tue 1 Dec 07:00' before one, 'ended ...' after the last."""
    current = recurrence.next_occurrence(notice, now)
    if current is None:
        last = notice_end(notice)
        if last is None:
            return words.gettext("ended")
        return words.gettext("ended %(time)s") % {"time": words.short(last, now)}
    if current.starts_at <= now:
        return words.gettext("until %(time)s") % {"time": words.short(current.ends_at, now)}
    return words.gettext("next %(time)s") % {"time": words.short(current.starts_at, now)}


def notice_end(notice: Recurring) -> datetime | None:
    return getattr(notice, "ends_at", None) or recurrence.series_end(notice)


def coming(notice: Recurring, now: datetime, limit: int = SHOWN_OCCURRENCES) -> list[Occurrence]:
    """The occurrence under way and the next ones, cancelled ones included (a page strikes them through)."""
    found: list[Occurrence] = []
    for occurrence in recurrence.occurrences(notice, after=now, include_cancelled=True):
        found.append(occurrence)
        if len(found) >= limit:
            break
    return found


def occurrence_span(occurrence: Occurrence, words: Words, now: datetime | None = None) -> str:
    """'Tue 1 Dec 07:00–09:00' (the end's date too when it falls on another day)."""
    start = words.short(occurrence.starts_at, now)
    zone = words.zone
    if occurrence.ends_at.astimezone(zone).date() == occurrence.starts_at.astimezone(zone).date():
        end = words.time(occurrence.ends_at, "HH:mm")
    else:
        end = words.time(occurrence.ends_at, SHORT)
    return f"{start}–{end}"


# The pattern ---------------------------------------------------------------------------------


def _pattern(parts: Mapping[str, str], first: datetime, words: Words) -> str:
    frequency = parts["FREQ"]
    interval = int(parts.get("INTERVAL", "1"))
    if frequency == "DAILY":
        if set(parts) & {"BYDAY", "BYMONTHDAY", "BYSETPOS"}:
            raise _Unexpressed
        if interval == 1:
            text = words.gettext("daily")
        else:
            text = words.ngettext("every %(num)d day", "every %(num)d days", interval) % {"num": interval}
    elif frequency == "WEEKLY":
        if set(parts) & {"BYMONTHDAY", "BYSETPOS"}:
            raise _Unexpressed
        days = _weekdays(parts.get("BYDAY") or WEEKDAYS[first.weekday()], words)
        if interval == 1:
            text = words.gettext("every %(days)s") % {"days": days}
        else:
            text = words.ngettext("every %(num)d week on %(days)s", "every %(num)d weeks on %(days)s", interval) % {
                "num": interval,
                "days": days,
            }
    elif frequency == "MONTHLY":
        text = _monthly(parts, first, interval, words)
    else:
        return _yearly(parts, first, interval, words)
    if "BYMONTH" in parts:
        text += " " + words.gettext("in %(months)s") % {"months": _months(parts["BYMONTH"], words)}
    return text


def _monthly(parts: Mapping[str, str], first: datetime, interval: int, words: Words) -> str:
    if "BYDAY" in parts:
        position = _positions(parts["BYDAY"], parts.get("BYSETPOS"), words)
        if "BYMONTHDAY" in parts:
            raise _Unexpressed
        if interval == 1:
            return words.gettext("every %(position)s") % {"position": position}
        return words.ngettext(
            "every %(num)d month on the %(position)s", "every %(num)d months on the %(position)s", interval
        ) % {"num": interval, "position": position}
    if "BYSETPOS" in parts:
        raise _Unexpressed
    days = _month_days(parts.get("BYMONTHDAY") or str(first.day), words)
    if interval == 1:
        return words.gettext("monthly on %(days)s") % {"days": days}
    return words.ngettext("every %(num)d month on %(days)s", "every %(num)d months on %(days)s", interval) % {
        "num": interval,
        "days": days,
    }


def _yearly(parts: Mapping[str, str], first: datetime, interval: int, words: Words) -> str:
    if "BYSETPOS" in parts and "BYDAY" not in parts:
        raise _Unexpressed
    if "BYDAY" in parts:
        if "BYMONTH" not in parts or "BYMONTHDAY" in parts:
            raise _Unexpressed
        when = words.gettext("the %(position)s of %(months)s") % {
            "position": _positions(parts["BYDAY"], parts.get("BYSETPOS"), words),
            "months": _months(parts["BYMONTH"], words),
        }
    else:
        months = [int(month) for month in parts.get("BYMONTH", str(first.month)).split(",")]
        month_days = [int(day) for day in parts.get("BYMONTHDAY", str(first.day)).split(",")]
        if any(day < 1 for day in month_days):
            raise _Unexpressed
        # A leap year, so that 29 February can be named.
        dates = [date(2024, month, day) for month in months for day in month_days if _valid(2024, month, day)]
        if not dates:
            raise _Unexpressed
        when = format_list([format_date(day, "d MMMM", locale=words.language) for day in dates], locale=words.language)
    if interval == 1:
        return words.gettext("every year on %(date)s") % {"date": when}
    return words.ngettext("every %(num)d year on %(date)s", "every %(num)d years on %(date)s", interval) % {
        "num": interval,
        "date": when,
    }


def _valid(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _weekday_name(code: str, words: Words) -> str:
    if code not in WEEKDAYS:
        raise _Unexpressed
    return str(get_day_names("wide", locale=words.language)[WEEKDAYS.index(code)])


def _weekdays(byday: str, words: Words) -> str:
    """'Monday and Thursday' from 'MO,TH' (no ordinals: those are monthly or yearly)."""
    codes = byday.split(",")
    if any(code[:-2] for code in codes):
        raise _Unexpressed
    ordered = sorted(codes, key=lambda code: WEEKDAYS.index(code) if code in WEEKDAYS else 99)
    return format_list([_weekday_name(code, words) for code in ordered], locale=words.language)


def _positions(byday: str, bysetpos: str | None, words: Words) -> str:
    """'first Tuesday', 'last Friday', 'first Monday and third Monday' from 1TU / TU+BYSETPOS=1 / -1FR."""
    codes = byday.split(",")
    if bysetpos is not None:
        # BYSETPOS picks among all the BYDAY days of the period: only a single weekday reads as "the Nth".
        if len(codes) != 1 or codes[0][:-2] or "," in bysetpos:
            raise _Unexpressed
        codes = [f"{bysetpos}{codes[0]}"]
    named = []
    for code in codes:
        ordinal, weekday = code[:-2], code[-2:]
        if not ordinal or int(ordinal.lstrip("+")) not in ORDINALS:
            raise _Unexpressed
        named.append(
            words.gettext("%(ordinal)s %(weekday)s")
            % {"ordinal": words.gettext(ORDINALS[int(ordinal.lstrip("+"))]), "weekday": _weekday_name(weekday, words)}
        )
    return format_list(named, locale=words.language)


def _month_days(bymonthday: str, words: Words) -> str:
    days = []
    for text in bymonthday.split(","):
        day = int(text)
        if day == -1:
            days.append(words.gettext("the last day"))
        elif day < 1:
            raise _Unexpressed
        else:
            days.append(words.gettext("day %(num)d") % {"num": day})
    return format_list(days, locale=words.language)


def _months(bymonth: str, words: Words) -> str:
    names = get_month_names("wide", locale=words.language)
    return format_list([str(names[int(month)]) for month in bymonth.split(",")], locale=words.language)


# Times of day, the end, the skipped dates ---------------------------------------------------------


def _times_of_day(first: datetime, minutes: int, words: Words) -> str:
    """'07:00–09:00' (an overnight one too: '22:00–06:00'); '07:00 for 3 days' from a day's length on."""
    start = format_time(first, "HH:mm", locale=words.language)
    if minutes < 24 * 60:
        end = format_time(
            (first.replace(tzinfo=None) + timedelta(minutes=minutes)).time(), "HH:mm", locale=words.language
        )
        return f"{start}–{end}"
    duration = _duration(minutes, words)
    return words.gettext("%(time)s for %(duration)s") % {"time": start, "duration": duration}


def _duration(minutes: int, words: Words) -> str:
    """'3 days', '36 hours', '1,530 minutes': exact, in the largest unit that divides it."""
    if minutes % (24 * 60) == 0:
        return format_unit(minutes // (24 * 60), "duration-day", "long", locale=words.language)
    if minutes % 60 == 0:
        return format_unit(minutes // 60, "duration-hour", "long", locale=words.language)
    return format_unit(minutes, "duration-minute", "long", locale=words.language)


def _end(parts: Mapping[str, str], zone: ZoneInfo, words: Words) -> str:
    if "COUNT" in parts:
        count = int(parts["COUNT"])
        return words.ngettext("%(num)d time", "%(num)d times", count) % {"num": count}
    if "UNTIL" in parts:
        until = datetime.strptime(parts["UNTIL"], recurrence.OCCURRENCE_ID_FORMAT).replace(tzinfo=UTC)
        day = format_date(until.astimezone(zone).date(), "d MMMM y", locale=words.language)
        return words.gettext("until %(date)s") % {"date": day}
    return words.gettext("until further notice")


def _skipped(notice: Recurring, zone: ZoneInfo, first_year: int, words: Words, now: datetime | None) -> str:
    days: list[date] = []
    for key, change in sorted((notice.occurrence_changes or {}).items()):
        if not change.get("cancelled"):
            continue
        try:
            original = recurrence.parse_occurrence_id(key)
        except recurrence.RuleError:
            continue
        if now is not None and original + timedelta(minutes=notice.occurrence_minutes or 0) <= now:
            continue
        days.append(original.astimezone(zone).date())
    if not days:
        return ""
    named = [
        format_date(day, "d MMMM" if day.year == first_year else "d MMMM y", locale=words.language)
        for day in days[:LISTED_SKIPS]
    ]
    if len(days) > LISTED_SKIPS:
        more = len(days) - LISTED_SKIPS
        named.append(words.ngettext("%(num)d other date", "%(num)d other dates", more) % {"num": more})
    return words.gettext("not on %(dates)s") % {"dates": format_list(named, locale=words.language)}
