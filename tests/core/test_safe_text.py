"""strip_unsafe, the one filter of input and output text: it removes exactly the characters of
UNSAFE_CHARACTERS (in quicker steps than one scan with that class) and turns CR and CRLF into LF."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from notices.core.safe_text import UNSAFE_CHARACTERS, clean_text, strip_unsafe

# Every kind of character the filter decides on, and its neighbours, besides ordinary text.
EDGES = (
    "\x00\x08\t\n\x0b\r\x1f\x20\x7e\x7f\x9f\xa0\xe9"
    "\u061b\u061c\u200d\u200e\u200f\u2029\u202a\u202e\u202f\u2065\u2066\u2069\u206a"
    "\ud7ff\ud800\udfff\ue000\ufdcf\ufdd0\ufdef\ufdf0\ufffd\ufffe\uffff"
    "\U00010000\U0001f600\U0001fffd\U0001fffe\U0001ffff\U00020000\U0010fffd\U0010fffe\U0010ffff"
)

# The same within ASCII, which is filtered in a step of its own.
ASCII_EDGES = "\x00\x08\t\n\x0b\x0c\r\x0e\x1f\x20a~\x7f"


@settings(max_examples=500, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(EDGES), max_size=40)
    | st.text(alphabet=st.sampled_from(ASCII_EDGES), max_size=40)
    | st.text(max_size=40)
)
def test_it_removes_exactly_the_unsafe_characters_and_ends_lines_with_lf(text):
    assert strip_unsafe(text) == UNSAFE_CHARACTERS.sub("", re.sub("\r\n?", "\n", text))


def test_the_characters_that_break_or_disguise_output_are_gone():
    text = "a\x00b\ufffe\U0001fffe\U0010ffff\u202eé\U0001f600\r\nc\rd"
    assert strip_unsafe(text) == "abé\U0001f600\nc\nd"
    assert strip_unsafe(None) == ""
    assert clean_text("  one \u2066two\n three ", one_line=True) == "one two three"


def test_every_character_it_removes_or_changes_is_unprintable():
    # strip_unsafe returns printable text as it is, after one scan: this is why it may. (What it
    # removes or changes, as the first test has it: UNSAFE_CHARACTERS, and CR.)
    changed = [code for code in range(0x110000) if UNSAFE_CHARACTERS.match(chr(code)) or chr(code) == "\r"]
    assert len(changed) > 2_000  # the controls, surrogates, noncharacters and bidi controls, CR
    assert [hex(code) for code in changed if chr(code).isprintable()] == []
