"""An event written by feeds/ical_event.EventLines is byte for byte the event icalendar writes
(Event.add of the same properties, then Event.to_ical), for random events of the properties a
calendar of notices uses."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import vobject
from hypothesis import example, given, settings
from hypothesis import strategies as st
from icalendar import Calendar, Event, vCategory, vDatetime, vDDDTypes, vRecur, vText

from notices.feeds.ical_event import EventLines, events_ical

ZONES = [UTC, ZoneInfo("Europe/Amsterdam"), ZoneInfo("America/New_York"), ZoneInfo("Etc/UTC"), ZoneInfo("UTC")]
# Text with what TEXT escapes (, ; \\ and line breaks, CR and CRLF too), parameter values' special
# characters and characters of every UTF-8 length, long enough to be folded.
ANY_TEXT = st.text(alphabet=st.sampled_from('aN ,;\\:\n\r"^é€𝄞'), max_size=300) | st.text(
    alphabet=st.characters(codec="utf-8"), max_size=200
)
# A backslash followed by N is left out here: EventLines writes it as text, where icalendar writes
# a line break (test_a_backslash_followed_by_n_is_text).
TEXTS = ANY_TEXT.filter(lambda text: "\\N" not in text)
LANGUAGES = st.sampled_from(["en", "nl", "en-GB", "x;y", 'a"b', "a:b,c"])
# What the calendar can be given: rows written before input was bounded are shown at the limits
# of notice.markup (EARLIEST_RENDERABLE, LATEST_RENDERABLE), years 1 to 9999.
EARLIEST, LATEST = datetime(1, 1, 3), datetime(9999, 12, 29)
MOMENTS = st.one_of(
    st.builds(
        lambda instant, zone: instant.replace(tzinfo=UTC).astimezone(zone),
        st.datetimes(min_value=EARLIEST, max_value=LATEST),
        st.sampled_from(ZONES),
    ),
    st.dates(min_value=EARLIEST.date(), max_value=LATEST.date()),
    st.datetimes(min_value=EARLIEST, max_value=LATEST),  # floating
    st.builds(
        lambda minutes: datetime(2026, 3, 29, 12, tzinfo=timezone(timedelta(minutes=minutes))), st.integers(-600, 600)
    ),
)

# (name, value, parameters) as feeds/ical.py adds them; each drawn a few times over.
PROPERTIES = st.one_of(
    st.tuples(
        st.sampled_from(["summary", "description", "location"]),
        TEXTS,
        st.none() | st.builds(lambda code: {"LANGUAGE": code}, LANGUAGES),
    ),
    st.tuples(st.just("x-alt-desc"), TEXTS.map(vText), st.just({"FMTTYPE": "text/html"})),
    st.tuples(  # a text value with a parameter of its own
        st.just("x-alt-desc"),
        st.builds(lambda text, code: vText(text, params={"LANGUAGE": code}), TEXTS, LANGUAGES),
        st.none() | st.just({"FMTTYPE": "text/html"}),
    ),
    st.tuples(
        st.sampled_from(["uid", "status", "transp", "x-microsoft-cdo-busystatus", "x-other"]),
        TEXTS.filter(lambda text: "\n" not in text),
        st.none(),
    ),
    st.tuples(st.just("sequence"), st.integers(0, 10**6), st.none()),
    st.tuples(st.just("url"), st.from_regex(r"https://example\.org/[a-z0-9/%?=&;,]{0,60}", fullmatch=True), st.none()),
    st.tuples(st.just("geo"), st.tuples(st.floats(-90, 90), st.floats(-180, 180)), st.none()),
    st.tuples(
        st.just("categories"),
        st.lists(TEXTS, max_size=3) | st.lists(TEXTS, max_size=3).map(tuple),
        st.none() | st.builds(lambda code: {"LANGUAGE": code}, LANGUAGES),
    ),
    st.tuples(
        st.sampled_from(["dtstart", "dtend", "dtstamp", "created", "last-modified", "recurrence-id"]),
        MOMENTS,
        st.none() | st.just({"X-WHY": "moved; by the council"}),  # (the calendar gives none, but Event takes them)
    ),
    st.tuples(
        st.just("rrule"),
        st.sampled_from(["FREQ=WEEKLY;BYDAY=MO,WE", "FREQ=DAILY;COUNT=5", "FREQ=MONTHLY;UNTIL=20270101T000000Z"]).map(
            vRecur.from_ical
        ),
        st.none(),
    ),
    st.tuples(
        st.just("exdate"),
        st.sampled_from(ZONES).flatmap(
            lambda zone: st.lists(
                st.datetimes(min_value=EARLIEST, max_value=LATEST).map(
                    lambda instant: instant.replace(tzinfo=UTC).astimezone(zone)
                ),
                min_size=1,
                max_size=4,
            )
        ),
        st.none(),
    ),
)


def both(properties):
    """The properties added to an Event and to EventLines, each its own copy of the values
    (Event.add sets the parameters on a value of icalendar's that it is given: shared, they
    would hide parameters that EventLines left out)."""
    event, lines = Event(), EventLines()
    for name, value, parameters in properties:
        lines.add(name, copy.deepcopy(value), parameters)
        event.add(name, copy.deepcopy(value), parameters=dict(parameters) if parameters else None)
    return event, lines


def zones_named(event: Event) -> set[str]:
    named = {value.params.get("TZID") for _, value in event.property_items() if hasattr(value, "params")}
    return named - {None, "UTC"}


@settings(max_examples=500, deadline=None)
@given(st.lists(PROPERTIES, max_size=12))
@example([("summary", "Road closure: Plesmanlaan, Einsteinweg; (until further notice)", {"LANGUAGE": "nl"})])
@example([("dtstart", date(2026, 11, 14), None), ("dtend", date(2027, 11, 30), None)])
@example([("dtstart", datetime(9999, 12, 29, tzinfo=UTC).astimezone(ZoneInfo("Europe/Amsterdam")), None)])
@example([("dtstamp", datetime(1, 1, 3, tzinfo=ZoneInfo("America/New_York")), None)])
def test_an_event_is_the_bytes_icalendar_writes(properties):
    event, lines = both(properties)
    assert lines.ical() == event.to_ical()


@settings(max_examples=200, deadline=None)
@given(st.lists(PROPERTIES, max_size=12))
def test_the_zones_named_are_those_icalendar_finds(properties):
    event, lines = both(properties)
    assert lines.tzids == zones_named(event)


@settings(max_examples=200, deadline=None)
@given(
    # Each property once: icalendar itself writes a CATEGORIES given twice, then added from the
    # event, as the repr of its list.
    st.lists(PROPERTIES, min_size=1, max_size=8, unique_by=lambda drawn: drawn[0]),
    st.lists(st.sampled_from(["summary", "dtstart", "dtend", "geo", "categories", "x-alt-desc", "sequence"])),
)
def test_a_property_taken_from_another_event_is_written_as_icalendar_writes_it(properties, names):
    event, lines = both(properties)
    override, override_lines = Event(), EventLines()
    override.add("uid", "a@notices")
    override_lines.add("uid", "a@notices")
    for name in names:
        if name in event:
            override.add(name, event[name])
        override_lines.add_from(name, lines)
    assert events_ical([lines, override_lines]) == event.to_ical() + override.to_ical()
    assert override_lines.tzids == zones_named(override)  # a zoned time taken over needs its VTIMEZONE too


def test_fixed_offsets_of_other_names_are_named_each_as_icalendar_names_them():
    named, unnamed = timezone(timedelta(hours=1), "CET"), timezone(timedelta(hours=1))
    properties = [
        ("dtstart", datetime(2026, 11, 14, 16, tzinfo=named), None),
        ("dtend", datetime(2026, 11, 14, 18, tzinfo=unnamed), None),
    ]
    event, lines = both(properties)
    assert lines.ical() == event.to_ical()
    assert lines.tzids == {"CET", "UTC+01:00"}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("exdate", [date(2026, 11, 14)]),  # Event writes VALUE=DATE for a list of dates
        ("exdate", datetime(2026, 11, 14, tzinfo=UTC)),  # one date-time, not a list
        ("dtstart", vDDDTypes(datetime(2026, 11, 14, tzinfo=ZoneInfo("Europe/Amsterdam")))),
        ("dtend", vDatetime(datetime(2026, 11, 14, tzinfo=ZoneInfo("Europe/Amsterdam")))),
    ],
)
def test_a_value_it_would_write_otherwise_than_icalendar_is_refused(name, value):
    with pytest.raises(TypeError, match=name.upper()):
        EventLines().add(name, value)


def test_values_that_compare_equal_but_are_written_differently_are_each_written_as_icalendar_writes_them():
    # Lines of recurring values are kept: a kept line must never stand for an equal value of
    # another type or sign (1 == 1.0 == True, 0.0 == -0.0, ["a"] and ("a",)).
    values = [
        ("geo", (0.0, 4.5)),
        ("geo", (-0.0, 4.5)),
        ("geo", (0, 4.5)),
        ("geo", (1, 4.5)),
        ("geo", (1.0, 4.5)),
        ("sequence", 1),
        ("categories", ["Roads"]),
        ("categories", ("Roads",)),
        ("categories", ["Roads", "Works"]),
        ("x-microsoft-cdo-busystatus", "FREE"),
    ]
    for _ in range(2):  # the second time from what was kept
        for name, value in values:
            lines, event = EventLines(), Event()
            lines.add(name, value)
            event.add(name, value)
            assert lines.ical() == event.to_ical(), (name, value)


@pytest.mark.parametrize("url", ["https://example.org/a\nb", "https://example.org/a\rb"])
def test_a_uri_with_a_line_break_is_refused_as_icalendar_refuses_it(url):
    # (A URI is written as it is, but only one that vUri would write.)
    with pytest.raises(ValueError, match="CR or LF"):
        Event().add("url", url)
    with pytest.raises(ValueError, match="CR or LF"):
        EventLines().add("url", url)


@pytest.mark.parametrize("encoding", ["latin-1", "ascii"])
@pytest.mark.parametrize("text", ["Road works all week", "Café works, all week"])
def test_a_text_value_of_another_encoding_is_written_as_icalendar_writes_it(encoding, text):
    def written(add):
        try:
            return add()
        except UnicodeError as error:  # (é in ASCII)
            return type(error)

    event, lines = Event(), EventLines()
    expected = written(lambda: (event.add("x-alt-desc", vText(text, encoding)), event.to_ical())[1])
    assert written(lambda: (lines.add("x-alt-desc", vText(text, encoding)), lines.ical())[1]) == expected


def read_back(lines: EventLines) -> tuple[dict[str, object], dict[str, object]]:
    """The event's text properties as two calendar parsers read them, icalendar and vobject
    (icalendar gives an X- property as it is written, unescaped: X-ALT-DESC as vobject reads it)."""
    ical = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + lines.ical() + b"END:VCALENDAR\r\n"
    event = Calendar.from_ical(ical).walk("VEVENT")[0]
    by_icalendar: dict[str, object] = {name: str(event[name]) for name in ("SUMMARY", "DESCRIPTION", "LOCATION")}
    categories = event["CATEGORIES"]
    assert isinstance(categories, vCategory)
    by_icalendar["CATEGORIES"] = list(categories.cats)
    parsed = vobject.readOne(ical.decode()).vevent
    by_vobject: dict[str, object] = {
        name: parsed.contents[name.lower()][0].value for name in ("SUMMARY", "DESCRIPTION", "LOCATION", "X-ALT-DESC")
    }
    by_vobject["CATEGORIES"] = parsed.categories.value
    return by_icalendar, by_vobject


def test_a_backslash_followed_by_n_is_text():
    # A folder on the park's file server, in each text property: icalendar itself would write the
    # backslash and N as a line break ("C:" and "ieuwe map" on two lines).
    folder = "S:\\Nieuwe map\\Notices, week 48; see \\\\server\\N"
    lines = EventLines()
    lines.add("uid", "a@notices")
    lines.add("summary", f"Moved to {folder}", parameters={"LANGUAGE": "nl"})
    lines.add("description", f"Files:\n{folder}")
    lines.add("location", folder)
    lines.add("x-alt-desc", vText(f"<p>{folder}</p>"), parameters={"FMTTYPE": "text/html"})
    lines.add("categories", [folder, "Roads"])
    by_icalendar, by_vobject = read_back(lines)
    expected = {
        "SUMMARY": f"Moved to {folder}",
        "DESCRIPTION": f"Files:\n{folder}",
        "LOCATION": folder,
        "CATEGORIES": [folder, "Roads"],
    }
    assert by_icalendar == expected
    assert by_vobject == {**expected, "X-ALT-DESC": f"<p>{folder}</p>"}
    assert b"\\\\Nieuwe" in lines.ical()  # (the backslash escaped, as RFC 5545 3.3.11 has it)


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT, ANY_TEXT)
def test_any_text_is_read_back_as_it_was_written(text, other):
    lines = EventLines()
    lines.add("uid", "a@notices")
    for name in ("summary", "description", "location"):
        lines.add(name, text)
    lines.add("x-alt-desc", vText(other), parameters={"FMTTYPE": "text/html"})
    lines.add("categories", [text, other])
    by_icalendar, by_vobject = read_back(lines)
    # (Every line break is written as one: CR and CRLF are read back as LF.)
    text, other = (value.replace("\r\n", "\n").replace("\r", "\n") for value in (text, other))
    assert by_icalendar == {"SUMMARY": text, "DESCRIPTION": text, "LOCATION": text, "CATEGORIES": [text, other]}
    del by_vobject["CATEGORIES"]  # (vobject reads "CATEGORIES:," as one empty category)
    assert by_vobject == {"SUMMARY": text, "DESCRIPTION": text, "LOCATION": text, "X-ALT-DESC": other}
