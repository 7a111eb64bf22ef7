"""Text people type, made safe to keep: nothing invisible that breaks or disguises output.

Applied once at input (notice fields, change notes, cancel reasons). What is
removed has no visible meaning in a notice, and each kind breaks someone:
- C0/C1 control characters and NUL: XML 1.0 forbids most of them (one in a
  feed makes the whole feed unreadable), PostgreSQL refuses NUL in text;
- lone surrogates and the noncharacters U+FFFE/U+FFFF (and the other
  noncharacters): not text at all, and XML-illegal where they are in the BMP;
- bidirectional controls (U+202A-U+202E, U+2066-U+2069, U+200E/U+200F, U+061C):
  one U+202E reverses the rest of a heading, a subject line or a file name
  ("Trojan Source"); scripts written right to left display correctly without them.
"""

from __future__ import annotations

import re

# What is unsafe among the characters of the Basic Multilingual Plane (every script, and most text
# has nothing beyond it).
_UNSAFE_IN_BMP = (
    "\x00-\x08\x0b\x0c\x0e-\x1f"  # C0 controls except tab, newline, carriage return
    "\x7f-\x9f"  # DEL and C1 controls
    "\ud800-\udfff"  # lone surrogates (JSON can carry them as \\ud800 escapes)
    "\ufdd0-\ufdef\ufffe\uffff"  # noncharacters of the BMP
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidirectional controls
)
# Noncharacters at the end of every other plane (U+1FFFE, ..., U+10FFFF).
_UNSAFE_BEYOND_BMP = "".join(f"{chr(plane << 16 | 0xFFFE)}-{chr(plane << 16 | 0xFFFF)}" for plane in range(1, 17))
UNSAFE_CHARACTERS = re.compile(f"[{_UNSAFE_IN_BMP}{_UNSAFE_BEYOND_BMP}]")
# The same, in steps that are quick to scan: a character class that holds characters beyond the
# BMP is checked item by item, about ten times slower than one within it, and every renderer
# filters every text it writes (a thousand-entry feed filters some 15,000 strings).
_UNSAFE_IN_BMP_CHARACTERS = re.compile(f"[{_UNSAFE_IN_BMP}]")
# Those of ASCII: most text is ASCII (str.isascii is a flag, not a scan), and a class of ASCII
# characters only is scanned quicker still.
_UNSAFE_ASCII_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BEYOND_BMP = re.compile("[\U00010000-\U0010ffff]")
_UNSAFE_BEYOND_BMP_CHARACTERS = re.compile(f"[{_UNSAFE_BEYOND_BMP}]")
_LINE_BREAK = re.compile("\r\n?")


def strip_unsafe(text: str | None) -> str:
    """`text` without unsafe characters (UNSAFE_CHARACTERS) and with LF line ends; nothing else changes.

    Input cleans with it (clean_text) and every renderer filters with it
    again (rendering.safe_output_text), for rows stored before input did.
    """
    text = text or ""
    if text.isprintable():
        # Nothing to remove or change: every unsafe character, CR and LF are unprintable (Unicode's
        # categories Cc, Cf, Cs and Cn; tests/core/test_safe_text.py checks each one). One scan in C,
        # for most one-line text (titles, labels, ids), of which a feed filters thousands.
        return text
    if "\r" in text:
        text = _LINE_BREAK.sub("\n", text)
    if text.isascii():
        return _UNSAFE_ASCII_CHARACTERS.sub("", text)
    text = _UNSAFE_IN_BMP_CHARACTERS.sub("", text)
    if _BEYOND_BMP.search(text):  # an emoji, say
        text = _UNSAFE_BEYOND_BMP_CHARACTERS.sub("", text)
    return text


def clean_text(value: str, *, one_line: bool = False) -> str:
    """`value` without unsafe characters, with line ends normalised; one line if asked."""
    value = strip_unsafe(value)
    if one_line:
        value = " ".join(value.split())
    return value.strip()
