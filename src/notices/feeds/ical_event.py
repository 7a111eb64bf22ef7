"""A VEVENT's bytes as icalendar's Event.to_ical writes them, without building an Event.

An icalendar Event is a dictionary of property objects, written through several layers: the type
looked up by name, the equivalent time-zone ids of each date-time's zone sorted three times
(twice when it is added, once when it is written), a parameter dictionary per property and a
content-line object per line. That came to about 0.28 ms an event, most of a calendar render with
nothing stored. EventLines writes each property once when it is added, with icalendar's own
value type for the property's name (the type that Event.add would choose, which escapes the text)
and icalendar's Parameters for the parameters. Only date-times and dates are written here
(digits, a TZID looked up once per zone and a Z for UTC). The lines go in the order icalendar
puts them in (Event.canonical_order, then by name) and are folded by ical_lines.fold_line.
tests/feeds/test_ical_event.py checks the bytes against Event.to_ical for random events.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from icalendar import Event, Parameters, vDDDLists
from icalendar.caselessdict import canonsort_keys
from icalendar.timezone import tzid_from_tzinfo

from notices.feeds.ical_lines import fold_line

_TYPES = Event.types_factory
_UTC = "UTC"
_UTC_ONLY = frozenset({"DTSTAMP", "CREATED", "LAST-MODIFIED"})


class EventLines:
    """One VEVENT, written property by property: `add` takes what Event.add takes for the
    properties a calendar of notices uses (text, integers, URIs, GEO, CATEGORIES, RRULE, dates,
    date-times and a list of date-times for EXDATE)."""

    def __init__(self) -> None:
        self._lines: dict[str, list[str]] = {}
        # The zones the event's date-times name in a TZID (UTC needs none): each must have a VTIMEZONE.
        self.tzids: set[str] = set()

    def add(self, name: str, value: Any, parameters: Mapping[str, str] | None = None) -> None:
        """Event.add(name, value, parameters), written at once."""
        name = name.upper()
        if isinstance(value, datetime) and name in _UTC_ONLY:
            # As Event.add does (RFC 5545 3.8.7): these are in UTC, a time without a zone taken as one.
            value = value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
        if isinstance(value, date) and name not in ("RDATE", "EXDATE"):
            params, text = self._moment(value, parameters)
        else:
            prop = value if hasattr(value, "to_ical") else _value_type(name)(value)
            if isinstance(prop, vDDDLists):
                # (Parameters.tzid, not .get("TZID"): a list of UTC date-times carries "UTC" as
                # its TZID, which is not written.)
                self.tzids.update(tzid for tzid in [prop.params.tzid] if tzid and tzid != _UTC)
            params = _parameters(_merged(getattr(prop, "params", {}), parameters))
            written = prop.to_ical()
            text = written.decode() if isinstance(written, bytes) else written
        self._lines.setdefault(name, []).append(f"{name}{params}:{text}")

    def copy(self, name: str, source: EventLines) -> None:
        """The property `name` as `source` has it (nothing if it has none), as Event.add(name, source[name])."""
        name = name.upper()
        if name in source._lines:
            self._lines.setdefault(name, []).extend(source._lines[name])

    def __contains__(self, name: str) -> bool:
        return name.upper() in self._lines

    def ical(self) -> bytes:
        """Event.to_ical(): BEGIN, the properties in icalendar's order, END, each line folded and ended with CRLF."""
        names = canonsort_keys(self._lines.keys(), Event.canonical_order)
        lines = ["BEGIN:VEVENT", *(line for name in names for line in self._lines[name]), "END:VEVENT"]
        return b"".join(fold_line(line) + b"\r\n" for line in lines)

    def _moment(self, value: date, parameters: Mapping[str, str] | None) -> tuple[str, str]:
        """A DATE or DATE-TIME value and its parameters, as icalendar's vDDDTypes writes them."""
        digits = f"{value.year:04}{value.month:02}{value.day:02}"
        if not isinstance(value, datetime):
            return _parameters(_merged({"VALUE": "DATE"}, parameters)), digits
        digits += f"T{value.hour:02}{value.minute:02}{value.second:02}"
        tzid = (_tzid(value.tzinfo) or value.tzname()) if value.tzinfo is not None else None
        if tzid is None:  # a floating time: no zone at all
            return _parameters(_merged({}, parameters)), digits
        if tzid == _UTC:
            return _parameters(_merged({}, parameters)), digits + "Z"
        self.tzids.add(tzid)
        return _parameters(_merged({"TZID": tzid}, parameters)), digits


def events_ical(events: Sequence[EventLines]) -> bytes:
    """The events one after the other, as a calendar holds them."""
    return b"".join(event.ical() for event in events)


@functools.lru_cache(maxsize=128)
def _value_type(name: str) -> type:
    """The value type Event.add gives a property of this name when no VALUE is given."""
    return _TYPES.for_property(name.lower())


@functools.lru_cache(maxsize=64)
def _tzid(zone: tzinfo) -> str | None:
    """The TZID icalendar gives a date-time in `zone` (its tzid_from_dt, less the tzname fallback,
    which a zone without an id gets below)."""
    return tzid_from_tzinfo(zone)


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
