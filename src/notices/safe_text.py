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

_UNSAFE = re.compile(
    "["
    "\x00-\x08\x0b\x0c\x0e-\x1f"  # C0 controls except tab, newline, carriage return
    "\x7f-\x9f"  # DEL and C1 controls
    "\ud800-\udfff"  # lone surrogates (JSON can carry them as \\ud800 escapes)
    "\ufdd0-\ufdef\ufffe\uffff"  # noncharacters of the BMP
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidirectional controls
    "]"
    # Noncharacters at the end of every other plane (U+1FFFE, ..., U+10FFFF).
    "|[\U0001fffe\U0001ffff\U0002fffe\U0002ffff\U0003fffe\U0003ffff\U0004fffe\U0004ffff"
    "\U0005fffe\U0005ffff\U0006fffe\U0006ffff\U0007fffe\U0007ffff\U0008fffe\U0008ffff"
    "\U0009fffe\U0009ffff\U000afffe\U000affff\U000bfffe\U000bffff\U000cfffe\U000cffff"
    "\U000dfffe\U000dffff\U000efffe\U000effff\U000ffffe\U000fffff\U0010fffe\U0010ffff]"
)


def clean_text(value: str, *, one_line: bool = False) -> str:
    """`value` without unsafe characters, with line ends normalised; one line if asked."""
    value = _UNSAFE.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    if one_line:
        value = " ".join(value.split())
    return value.strip()
