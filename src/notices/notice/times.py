"""Reading and showing instants at the edges: site wall time in, site wall time out.

Inside, every instant is an aware UTC datetime.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from notices.core.i18n import lazy_gettext


class TimeInputError(ValueError):
    """The text is not a usable instant; the message says why, for a user (a LazyText: translated where shown)."""

    @property
    def problem(self) -> str:
        problem: str = self.args[0]
        return problem


_RELATIVE = re.compile(r"^\+(\d+)\s*([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_HAS_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)


def parse_instant(text: str, *, zone: ZoneInfo, now: datetime) -> datetime:
    """Parse ISO 8601 (with an offset, or wall time in `zone`), 'now' or '+5m'.

    A wall time that does not exist in `zone` (the spring-forward gap) is
    refused; one that exists twice (the autumn fold) needs an explicit offset,
    because guessing would publish a notice an hour early or late.
    """
    text = text.strip()
    if not text:
        raise TimeInputError(lazy_gettext("is empty"))
    if text.lower() == "now":
        return now
    relative = _RELATIVE.match(text.lower())
    if relative:
        try:
            return now + timedelta(seconds=int(relative.group(1)) * _UNIT_SECONDS[relative.group(2)])
        except OverflowError:
            raise TimeInputError(lazy_gettext("%(text)s is too far from now", text=repr(text))) from None
    try:
        parsed = datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
    except ValueError:
        raise TimeInputError(
            lazy_gettext(
                "%(text)s is not a time; use ISO 8601 like 2026-11-14T16:00 (site time) "
                "or 2026-11-14T16:00+01:00, 'now' or '+30m'",
                text=repr(text),
            )
        ) from None
    if parsed.tzinfo is None and not _looks_like_datetime(text):
        raise TimeInputError(no_time_of_day(text, shown=repr(text)))
    return to_utc(parsed, zone)


def to_utc(moment: datetime, zone: ZoneInfo) -> datetime:
    """An aware instant as UTC, or a naive wall time read in `zone` (see localize).

    Times at the very edge of the calendar (year 1, 9999-12-31 with a negative
    offset) have no UTC equivalent that Python can hold: a clear error, not a crash.
    """
    try:
        return moment.astimezone(UTC) if moment.tzinfo is not None else localize(moment, zone)
    except OverflowError:
        raise TimeInputError(
            lazy_gettext("%(time)s is outside the range of dates this service can store", time=moment.isoformat())
        ) from None


def check_window(instant: datetime, *, earliest: datetime, latest: datetime, zone: ZoneInfo) -> datetime:
    """Refuse instants whose date in the site zone is outside [earliest, latest): a typo like 9999
    or 0026 is not a plan. The window is of dates, as the site's calendar has them (as the error
    says them, and as the person typing the time reads it): 1970-01-01T00:00 in the site zone is
    in it, 2100-01-01T00:00 is not, whatever their UTC dates.

    Far-off years also overflow calendar and time zone arithmetic further down
    the line (VTIMEZONE ranges, reminders, wording), so they stop here.
    """
    try:
        day = instant.astimezone(zone).date()
    except OverflowError:  # the first or last hours a datetime can hold: far outside any window
        day = instant.date()
    if not earliest.date() <= day < latest.date():
        raise TimeInputError(
            lazy_gettext(
                "%(date)s is outside the accepted range %(earliest)s to %(latest)s",
                date=day.isoformat(),
                earliest=earliest.date().isoformat(),
                latest=(latest - timedelta(days=1)).date().isoformat(),
            )
        )
    return instant


def no_time_of_day(day: str, *, shown: str | None = None) -> str:
    """The problem with a date given where a time is needed, with the example to copy."""
    return lazy_gettext(
        "%(date)s has no time of day; add one, e.g. %(example)s", date=shown or day, example=f"{day}T00:00"
    )


def _looks_like_datetime(text: str) -> bool:
    return "T" in text.upper() or " " in text.strip() or bool(_HAS_OFFSET.search(text))


def localize(wall: datetime, zone: ZoneInfo) -> datetime:
    """Attach `zone` to a naive wall time, refusing DST gaps and folds."""
    early = wall.replace(tzinfo=zone, fold=0)
    late = wall.replace(tzinfo=zone, fold=1)
    if early.utcoffset() != late.utcoffset():
        # Either the gap (the wall time does not exist) or the fold (it exists twice).
        round_trip = early.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
        shown = wall.strftime("%Y-%m-%d %H:%M")
        if round_trip != wall:
            raise TimeInputError(
                lazy_gettext(
                    "%(time)s does not exist in %(zone)s (the clocks skip that hour for daylight saving time)",
                    time=shown,
                    zone=zone.key,
                )
            )
        offsets = lazy_gettext(
            "%(first)s or %(second)s", first=format_offset(early.utcoffset()), second=format_offset(late.utcoffset())
        )
        raise TimeInputError(
            lazy_gettext(
                "%(time)s happens twice in %(zone)s (the clocks go back); add the offset, %(offsets)s",
                time=shown,
                zone=zone.key,
                offsets=offsets,
            )
        )
    return early.astimezone(UTC)


def is_ambiguous(local: datetime) -> bool:
    """True for a wall time in the autumn fold (it happens twice)."""
    return local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset()


def format_offset(offset: timedelta | None) -> str:
    minutes = int((offset or timedelta()).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def isoformat_site(instant: datetime, zone: ZoneInfo) -> str:
    """ISO 8601 with the site offset: unambiguous and readable (CLI, JSON)."""
    return instant.astimezone(zone).isoformat(timespec="seconds")


def form_value(instant: datetime | None, zone: ZoneInfo) -> str:
    """An instant as a form field shows it: site wall time, with the offset only where it is ambiguous."""
    if instant is None:
        return ""
    local = instant.astimezone(zone)
    text = local.strftime("%Y-%m-%d %H:%M")
    if is_ambiguous(local):
        text += format_offset(local.utcoffset())
    return text
