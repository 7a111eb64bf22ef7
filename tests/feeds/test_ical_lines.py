"""The calendar's lines are folded exactly as icalendar folds them (feeds/ical_lines.py does it in
slices, icalendar one character at a time)."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st
from icalendar import Event
from icalendar.parser import Contentline

from notices.feeds.ical_lines import fold_line, folded_ical

# Characters of one to four UTF-8 octets, and the two that start an escape, often enough that
# pieces end on every kind of boundary; and any text without a line break.
LINES = st.text(alphabet=st.sampled_from("a,;\\^ é€𝄞\u0600"), max_size=400) | st.text(
    alphabet=st.characters(blacklist_characters="\r\n", codec="utf-8"), max_size=400
)


@settings(max_examples=400, deadline=None)
@given(LINES)
@example("a" * 73 + "\\,b")  # an escape across the first fold
@example("a" * 73 + "^nb")  # an RFC 6868 one
@example("é" * 36 + "a\\,b")  # the same after two-octet characters
@example("\\" * 200)  # a line of escapes
def test_a_line_is_folded_as_icalendar_folds_it(line):
    assert fold_line(line) == Contentline(line).to_ical()


def test_an_event_is_the_bytes_icalendar_writes():
    event = Event()
    event.add("uid", "a@notices")
    event.add("summary", "Road closure: Plesmanlaan, Einsteinweg; between the roundabouts (until further notice)")
    event.add("description", "Diversion via the Einsteinweg, \\ and ; all day.\n\n" + "Omleiding é€ " * 40)
    event.add("x-alt-desc", "<p>" + "x" * 73 + "\\,</p>", parameters={"FMTTYPE": "text/html"})
    assert folded_ical(event) == event.to_ical()
