"""A component's iCalendar bytes as icalendar writes them (Component.to_ical), folded in slices.

icalendar (7.3 on) folds each content line one character at a time in Python (it dropped its
ASCII shortcut when it learnt not to split an escape), which was a third of a calendar's
render time: every event has a DESCRIPTION and an X-ALT-DESC hundreds of characters long. Here
the same rule folds the UTF-8 bytes: of the lines a component builds and escapes
(Component.content_lines: the calendar's head and time zones), and of the events' lines
(feeds/ical_event.py). tests/feeds/test_ical_lines.py checks that it gives icalendar's bytes for
any line.
"""

from __future__ import annotations

from icalendar import Component

# RFC 5545 3.1: lines SHOULD NOT be longer than 75 octets; icalendar keeps each at most 74.
_LINE_OCTETS = 74
_FOLD = b"\r\n "
# A UTF-8 continuation byte (10xxxxxx): a line may not end just before one.
_CONTINUATION_MASK, _CONTINUATION = 0xC0, 0x80
# An escape's first character (a TEXT "\," or an RFC 6868 "^n") is not left at the end of a line:
# some clients read a fold inside an escape wrongly (icalendar issue 1501).
_ESCAPES = b"\\^"


def folded_ical(component: Component) -> bytes:
    """component.to_ical(): each content line folded, each ended with CRLF."""
    return b"".join(fold_line(line) + b"\r\n" for line in component.content_lines() if line)


def fold_line(line: str) -> bytes:
    """One content line (no line break in it) as folded UTF-8: each piece at most 74 octets, cut
    between characters, the next piece starting with a space."""
    data = line.encode()
    if len(data) <= _LINE_OCTETS:
        return data
    pieces = []
    start = 0
    while len(data) - start > _LINE_OCTETS:
        end = start + _LINE_OCTETS
        while data[end] & _CONTINUATION_MASK == _CONTINUATION:
            end -= 1
        if data[end - 1] in _ESCAPES:  # (a piece holds at least 70 octets: this never empties it)
            end -= 1
        pieces.append(data[start:end])
        start = end
    pieces.append(data[start:])
    return _FOLD.join(pieces)
