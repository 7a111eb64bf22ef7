"""Uploaded file names made safe to store, show and send in a Content-Disposition header."""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePath

MAX_LENGTH = 120
# Control characters, bidi controls (which can disguise "exe.jpg" as "gpj.exe"), and characters
# that mean something to file systems or headers.
_UNSAFE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufff0-\uffff\"*:<>?|;\\/]"
)
_SPACES = re.compile(r"\s+")


def safe_filename(raw: str | None, extension: str) -> str:
    """The last path part of `raw` without unsafe characters, at most MAX_LENGTH characters, ending in
    the extension of the sniffed type (a PDF called photo.jpg becomes photo.jpg.pdf)."""
    name = unicodedata.normalize("NFC", raw or "")
    name = PurePath(name.replace("\\", "/")).name  # C:\\Users\\x\\a.png and ../../a.png alike
    name = _UNSAFE.sub("", name)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cs", "Co", "Cn"))
    name = _SPACES.sub(" ", name).strip(" .")
    stem = name
    if stem.lower().endswith("." + extension) or (extension == "jpg" and stem.lower().endswith(".jpeg")):
        stem = stem.rsplit(".", 1)[0]
    suffix = "." + extension
    stem = stem[: MAX_LENGTH - len(suffix)].strip(" .") or "attachment"
    return stem + suffix
