"""A VEVENT's bytes as icalendar's Event.to_ical writes them, without building an Event.

An icalendar Event is a dictionary of property objects, written through several layers: the type
looked up by name, the equivalent time-zone ids of each date-time's zone sorted three times
(twice when it is added, once when it is written), a parameter dictionary per property and a
content-line object per line. That came to about 0.28 ms an event, most of a calendar render with
nothing stored. EventLines writes each property once when it is added. Written here: dates and
date-times (digits, a TZID looked up once per zone and a Z for UTC), TEXT values and lists of them
(CATEGORIES), escaped as vText escapes them, and URIs as they are. Any other value (GEO, SEQUENCE,
RRULE, EXDATE, a vText with parameters of its own) is written by icalendar's own value type for
the property's name (the type that Event.add would choose), and parameters by icalendar's
Parameters. The lines go in the order icalendar puts them in (Event.canonical_order, then by
name) and are folded by ical_lines.fold_line.
tests/feeds/test_ical_event.py checks the bytes against Event.to_ical for random events. The one
difference on purpose: a backslash followed by N in a text is written as text (see escaped_text).
A value left to icalendar (a vText in another encoding than UTF-8, a str subclass, a list of
anything but strings) is escaped by icalendar: the calendar makes none.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Hashable, Mapping, Sequence
from datetime import UTC, date, datetime, tzinfo
from typing import Any, NamedTuple

from icalendar import Event, Parameters, vDDDLists, vText, vUri
from icalendar.caselessdict import canonsort_keys
from icalendar.parser_tools import to_unicode
from icalendar.timezone import tzid_from_tzinfo

from notices.feeds.ical_lines import fold_line

_TYPES = Event.types_factory
_UTC = "UTC"
_UTF_8 = "utf-8"  # what a calendar is written in, and a vText's encoding unless it was given another
# Event.add writes these in UTC (RFC 5545 3.8.7), whatever zone the time is given in.
_UTC_ONLY = frozenset({"DTSTAMP", "CREATED", "LAST-MODIFIED"})
_DATE_LISTS = frozenset({"RDATE", "EXDATE"})


class _Line(NamedTuple):
    text: str  # the content line, unfolded
    tzid: str | None  # the zone its TZID names (UTC, which needs none, is not named)


class EventLines:
    """One VEVENT, written property by property.

    `add` takes what Event.add takes for the values a calendar of notices has: text, integers,
    URIs, GEO (latitude, longitude), CATEGORIES (a list), an RRULE (vRecur), text values of
    icalendar's (vText with parameters), a date or a date-time (floating, UTC or in a zone) and, for
    EXDATE and RDATE, a list of date-times. Anything else (a date-time as icalendar's own value, a
    list of dates) is refused with a TypeError rather than written in another way than Event's.
    Text is written as Event writes it, but for a backslash followed by N (escaped_text).
    """

    def __init__(self) -> None:
        self._lines: dict[str, list[_Line]] = {}

    @property
    def tzids(self) -> set[str]:
        """The zones the event's date-times name in a TZID: each needs a VTIMEZONE in the calendar."""
        return {line.tzid for lines in self._lines.values() for line in lines if line.tzid}

    def add(self, name: str, value: Any, parameters: Mapping[str, str] | None = None) -> None:
        """Event.add(name, value, parameters), written at once."""
        name = name.upper()
        if isinstance(value, datetime) and name in _UTC_ONLY and value.tzinfo is not UTC:
            value = value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
        kind = type(value)
        if kind is str and _value_type(name) is vText:
            # Most properties (UID, SUMMARY, DESCRIPTION...): a string, written as Event.add writes
            # it (escaped_text), without the checks _value_line makes.
            line = _Line(f"{name}{_given(parameters)}:{escaped_text(value)}", None)
        elif kind is vText and value.encoding == _UTF_8:
            # X-ALT-DESC: icalendar's TEXT value, its own parameters (if any) under the given ones.
            written = _parameters(_merged(value.params, parameters)) if value.params else _given(parameters)
            line = _Line(f"{name}{written}:{escaped_text(value)}", None)
        elif kind is str and _value_type(name) is vUri and not _LINE_BREAKS.search(value):
            # URL: a URI is written as it is (vUri.to_ical); one with a line break is vUri's to refuse.
            line = _Line(f"{name}{_given(parameters)}:{value}", None)
        elif isinstance(value, date):
            if name in _DATE_LISTS:
                raise TypeError(f"{name} takes a list of date-times")
            line = self._moment(name, value, parameters)
        elif name == "CATEGORIES" and kind in (list, tuple) and all(type(item) is str for item in value):
            # Each category a TEXT value, written as vCategory writes them (escaped_text).
            line = _Line(f"{name}{_given(parameters)}:{','.join(map(escaped_text, value))}", None)
        elif parameters is None and _recurs(name, value):
            line = _recurring_line(name, value)
        else:
            line = _value_line(name, value, parameters)
        self._lines.setdefault(name, []).append(line)

    def add_from(self, name: str, source: EventLines) -> None:
        """The property `name` as `source` has it (nothing if it has none): Event.add(name, source[name])."""
        name = name.upper()
        if name in source._lines:
            self._lines.setdefault(name, []).extend(source._lines[name])

    def ical(self) -> bytes:
        """Event.to_ical(): BEGIN, the properties in icalendar's order, END, each line folded and ended with CRLF."""
        names = _in_canonical_order(tuple(self._lines))
        lines = ["BEGIN:VEVENT", *(line.text for name in names for line in self._lines[name]), "END:VEVENT", ""]
        return b"\r\n".join(map(fold_line, lines))  # (the empty last line ends END:VEVENT with CRLF)

    def _moment(self, name: str, value: date, parameters: Mapping[str, str] | None) -> _Line:
        """A DATE or DATE-TIME value and its parameters, as icalendar's vDDDTypes writes them."""
        # (printf-style formatting: half the time of the f-strings of six fields)
        if not isinstance(value, datetime):
            digits = "%04d%02d%02d" % (value.year, value.month, value.day)  # noqa: UP031 (see above)
            return _Line(f"{name}{_parameters(_merged({'VALUE': 'DATE'}, parameters))}:{digits}", None)
        digits = "%04d%02d%02dT%02d%02d%02d" % (  # noqa: UP031 (see above)
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
        )
        if value.tzinfo is UTC:  # DTSTAMP, CREATED, LAST-MODIFIED (see add): no TZID to look up
            return _Line(f"{name}{_given(parameters)}:{digits}Z", None)
        tzid = None if value.tzinfo is None else _tzid(_zone_key(value.tzinfo), value.tzinfo) or value.tzname()
        if tzid is None or tzid == _UTC:  # a floating time (no zone at all), or one in UTC
            return _Line(f"{name}{_given(parameters)}:{digits}{'Z' if tzid else ''}", None)
        return _Line(f"{name}{_parameters(_merged({'TZID': tzid}, parameters))}:{digits}", tzid)


# The characters TEXT escaping changes (icalendar's vText.to_ical: backslashes, semicolons, commas
# and line breaks). Most short values have none: they are written as they are.
_TEXT_SPECIALS = re.compile(r"[\\;,\r\n]")
_LINE_BREAKS = re.compile(r"[\r\n]")


def escaped_text(value: str) -> str:
    """A TEXT value escaped (RFC 5545 3.3.11) as vText writes it, but for one thing: icalendar
    takes a backslash followed by N in the text it is given for an escaped line break, and writes
    a line break there, so a body that names the folder C:\\Nieuwe map showed "C:" and "ieuwe
    map" on two lines in every calendar. Here every backslash is text. Each line break is written
    as an escaped one, CRLF and a lone CR included, as icalendar writes them."""
    if _TEXT_SPECIALS.search(value) is None:
        return value
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _value_line(name: str, value: Any, parameters: Mapping[str, str] | None) -> _Line:
    """Any value but a date or date-time, written by icalendar's value type for it."""
    # (icalendar's date and time values carry a .dt: vDDDTypes, vDatetime, vDate, vPeriod...)
    if hasattr(value, "dt") or (name in _DATE_LISTS and not _all_date_times(value)):
        raise TypeError(f"{name}: {type(value).__name__} is not a value EventLines writes as Event does")
    prop = value if hasattr(value, "to_ical") else _value_type(name)(value)
    own = getattr(prop, "params", {})
    written = prop.to_ical()
    value_text = to_unicode(written)  # as Event.to_ical reads a value's bytes (of a vText's own encoding too)
    text = f"{name}{_parameters(_merged(own, parameters))}:{value_text}"
    tzid = own.get("TZID") if isinstance(prop, vDDDLists) else None  # (a list in UTC has none)
    return _Line(text, tzid if tzid != _UTC else None)


_PLAIN = (str, int, float)


def _recurs(name: str, value: Any) -> bool:
    """True for a value _recurring_line may keep: a plain number or string, or a list or tuple of
    them (GEO), of a property that is not a list of dates (whose refusal is _value_line's)."""
    kind = type(value)
    if kind in _PLAIN:
        return True
    return kind in (list, tuple) and name not in _DATE_LISTS and all(type(item) in _PLAIN for item in value)


# Lines of values without parameters, by property name and the value's repr (which tells 1 from
# 1.0 and "1", 0.0 from -0.0, a list from a tuple, as the written value does): most events share
# their SEQUENCE, GEO and X- flags. Started over when full; a thread that reads it
# meanwhile writes its line anew.
_RECURRING_LINES: dict[tuple[str, str], _Line] = {}
_MOST_RECURRING_LINES = 1024


def _recurring_line(name: str, value: Any) -> _Line:
    """_value_line(name, value, None), kept."""
    key = (name, repr(value))
    line = _RECURRING_LINES.get(key)
    if line is None:
        line = _value_line(name, value, None)
        if len(_RECURRING_LINES) >= _MOST_RECURRING_LINES:
            _RECURRING_LINES.clear()
        _RECURRING_LINES[key] = line
    return line


def events_ical(events: Sequence[EventLines]) -> bytes:
    """The events one after the other, as a calendar holds them."""
    return b"".join(event.ical() for event in events)


def _all_date_times(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, datetime) for item in value)


@functools.lru_cache(maxsize=128)
def _value_type(name: str) -> type:
    """The value type Event.add gives a property of this name when no VALUE is given."""
    return _TYPES.for_property(name.lower())


def _zone_key(zone: tzinfo) -> Hashable:
    """What tells zones apart for _tzid: fixed offsets with different names compare equal."""
    return type(zone), getattr(zone, "key", None) or zone.tzname(None)


@functools.lru_cache(maxsize=64)
def _tzid(key: Hashable, zone: tzinfo) -> str | None:
    """The TZID icalendar gives a date-time in `zone` (found once per zone: icalendar sorts the
    zone's equivalent ids each time). The tzname fallback of icalendar's tzid_from_dt depends
    on the date-time: the caller applies it."""
    return tzid_from_tzinfo(zone)


@functools.lru_cache(maxsize=256)
def _in_canonical_order(names: tuple[str, ...]) -> list[str]:
    """Property names in the order Event.to_ical writes them (events share a handful of name sets)."""
    return canonsort_keys(names, Event.canonical_order)


def _given(parameters: Mapping[str, str] | None) -> str:
    """The parameters of a value that has none of its own, written (_parameters)."""
    if not parameters:
        return ""
    if len(parameters) == 1:  # LANGUAGE, FMTTYPE: one look-up
        ((key, value),) = parameters.items()
        return _one_parameter(key, value)
    return _parameters(tuple((key.upper(), value) for key, value in parameters.items()))


@functools.lru_cache(maxsize=256)
def _one_parameter(key: str, value: str) -> str:
    return _parameters(((key.upper(), value),))


def _merged(own: Mapping[str, str], given: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    """The value's own parameters with the given ones over them (as Component.add sets them), as a
    hashable key for _parameters. Icalendar's names are caseless: kept in capitals here."""
    merged = {key.upper(): value for key, value in own.items()}
    if given:
        merged.update((key.upper(), value) for key, value in given.items())
    return tuple(merged.items())


@functools.lru_cache(maxsize=256)
def _parameters(items: tuple[tuple[str, str], ...]) -> str:
    """ ";KEY=value..." as icalendar writes the parameters (quoted where they must be), or ""."""
    written = Parameters(dict(items)).to_ical()
    return f";{written.decode()}" if written else ""
