"""Images made safe to publish: decoded, checked, re-encoded without metadata; and their thumbnails.

A photo from a phone carries EXIF: where it was taken (GPS), when, the device's serial number.
Re-encoding only the pixels leaves all of that (EXIF, XMP, IPTC, comments) behind. The
orientation EXIF gave is applied to the pixels first, so the picture stays upright.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from notices.core.errors import InvalidField
from notices.notice.attachments.kinds import JPEG, PNG, WEBP, FileKind

# An image larger than this (in pixels) is refused before its pixels are decoded: a small file can
# describe a huge image (a "decompression bomb") that would take gigabytes of memory.
MAX_PIXELS = 50_000_000
THUMBNAIL_SIZE = (320, 320)
_PILLOW_FORMATS = {PNG: "PNG", JPEG: "JPEG", WEBP: "WEBP"}


@dataclass(frozen=True)
class EncodedImage:
    data: bytes
    kind: FileKind
    width: int
    height: int


def clean(data: bytes, kind: FileKind, field: str = "file") -> EncodedImage:
    """The image re-encoded in its own format from its pixels alone (upright), or InvalidField."""
    image = _open(data, kind, field)
    fmt = _PILLOW_FORMATS[kind]
    icc_profile = image.info.get("icc_profile")  # colours, not whereabouts: kept
    upright = _pixels_only(ImageOps.exif_transpose(image), kind)
    return EncodedImage(_encode(upright, fmt, icc_profile), kind, upright.width, upright.height)


def thumbnail(cleaned: EncodedImage) -> EncodedImage:
    """A small copy for pages and emails: JPEG, or PNG where the image has transparency
    (what every mail program shows; WebP is not)."""
    image = Image.open(io.BytesIO(cleaned.data))
    image.thumbnail(THUMBNAIL_SIZE, Image.Resampling.LANCZOS)
    has_alpha = image.mode in ("RGBA", "LA") or "transparency" in image.info
    if has_alpha:
        small = image.convert("RGBA")
        return EncodedImage(_encode(small, "PNG", None), PNG, small.width, small.height)
    small = image.convert("RGB")
    return EncodedImage(_encode(small, "JPEG", None), JPEG, small.width, small.height)


def _open(data: bytes, kind: FileKind, field: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[kind]])
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise InvalidField(
                    field,
                    f"the image is too large: {width} × {height} pixels; at most {MAX_PIXELS // 1_000_000} "
                    "megapixels are accepted",
                )
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidField(field, "the image is too large to decode safely") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise InvalidField(field, f"the {kind.label} is damaged or incomplete and cannot be read") from None
    return image


def _pixels_only(image: Image.Image, kind: FileKind) -> Image.Image:
    """A new image holding only `image`'s pixels, in a mode its format can store."""
    if image.mode == "P" or image.mode == "PA":
        image = image.convert("RGBA" if "transparency" in image.info or image.mode == "PA" else "RGB")
    elif image.mode not in ("RGB", "RGBA", "L", "LA") and not (kind is JPEG and image.mode == "CMYK"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    if kind is JPEG and image.mode in ("RGBA", "LA"):
        image = image.convert("RGB")
    # frombytes: nothing of the original's info (EXIF, XMP, text chunks, comments) comes along.
    return Image.frombytes(image.mode, image.size, image.tobytes())


def _encode(image: Image.Image, fmt: str, icc_profile: bytes | None) -> bytes:
    out = io.BytesIO()
    options: dict[str, object] = {"icc_profile": icc_profile} if icc_profile else {}
    if fmt == "JPEG":
        options |= {"quality": 90, "optimize": True}
    elif fmt == "WEBP":
        options |= {"quality": 90, "method": 4}
    image.save(out, format=fmt, **options)
    return out.getvalue()
