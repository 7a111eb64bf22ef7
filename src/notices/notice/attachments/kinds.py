"""What a file is, from its first bytes (magic numbers), never from its name or a client's word."""

from __future__ import annotations

from dataclasses import dataclass

from notices.core.errors import InvalidField

# Enough for every signature below.
HEAD_BYTES = 16


@dataclass(frozen=True)
class FileKind:
    content_type: str
    label: str  # for messages: "PNG image"
    extension: str
    is_image: bool


PNG = FileKind("image/png", "PNG image", "png", True)
JPEG = FileKind("image/jpeg", "JPEG image", "jpg", True)
WEBP = FileKind("image/webp", "WebP image", "webp", True)
PDF = FileKind("application/pdf", "PDF document", "pdf", False)
ACCEPTED = (PNG, JPEG, WEBP, PDF)
BY_CONTENT_TYPE = {kind.content_type: kind for kind in ACCEPTED}
ACCEPTED_TEXT = "PNG, JPEG or WebP images and PDF documents"

# Types people try that are refused, so the message can say what the file really is.
_REFUSED = (
    (b"\x7fELF", "an executable program (ELF)"),
    (b"MZ", "a Windows program (PE/EXE)"),
    (b"\xca\xfe\xba\xbe", "an executable program (Mach-O)"),
    (b"\xcf\xfa\xed\xfe", "an executable program (Mach-O)"),
    (b"#!", "a script"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"BM", "a BMP image"),
    (b"\xd0\xcf\x11\xe0", "an old Office document"),
    (b"<svg", "an SVG image (it may hold scripts)"),
    (b"<?xml", "an XML document"),
    (b"<!DOCTYPE", "an HTML document"),
    (b"<html", "an HTML document"),
)


def sniff(head: bytes) -> FileKind | None:
    """The accepted kind whose signature `head` starts with, else None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    return None


def require_accepted(head: bytes, field: str = "file") -> FileKind:
    """The file's kind, or InvalidField saying what it seems to be and what is accepted."""
    if not head:
        raise InvalidField(field, "the file is empty")
    kind = sniff(head)
    if kind is not None:
        return kind
    stripped = head.lstrip()
    seems = next((what for magic, what in _REFUSED if stripped[: len(magic)].lower() == magic.lower()), None)
    what = f"the file is {seems}" if seems else "the file is not of an accepted type"
    raise InvalidField(field, f"{what}; accepted are {ACCEPTED_TEXT} (checked by content, not by the name)")
