"""Files to upload in the attachment tests, made here with Pillow (no binary fixtures in the repo)."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

# Leiden Bio Science Park, as a phone would write it into a photo.
GPS_LATITUDE = (52.0, 9.0, 4.0)
GPS_LONGITUDE = (4.0, 28.0, 44.0)


def jpeg_with_gps(size: tuple[int, int] = (640, 480), orientation: int = 1) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    for x in range(0, size[0], 2):
        image.putpixel((x, 0), (0, 0, 255))  # a blue top row, to see that orientation is applied
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 12"  # Model
    exif[0x0112] = orientation
    gps = {1: "N", 2: GPS_LATITUDE, 3: "E", 4: GPS_LONGITUDE}
    exif[0x8825] = gps  # GPSInfo
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=85)
    return out.getvalue()


def png(size: tuple[int, int] = (300, 200), transparent: bool = True) -> bytes:
    image = Image.new("RGBA" if transparent else "RGB", size, (10, 120, 10, 128) if transparent else (10, 120, 10))
    out = io.BytesIO()
    info = {"pnginfo": _png_text()} if not transparent else {}
    image.save(out, format="PNG", **info)
    return out.getvalue()


def _png_text():
    from PIL.PngImagePlugin import PngInfo

    text = PngInfo()
    text.add_text("Comment", "taken at home, Rijnsburgerweg 10")
    return text


def webp(size: tuple[int, int] = (400, 300)) -> bytes:
    image = Image.new("RGB", size, (30, 30, 200))
    out = io.BytesIO()
    image.save(out, format="WEBP", quality=80)
    return out.getvalue()


def pdf() -> bytes:
    """A small valid PDF (one empty page)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def executable() -> bytes:
    """A real program (ELF), to be renamed photo.jpg."""
    return Path("/bin/true").read_bytes()


def exif_of(data: bytes) -> dict:
    image = Image.open(io.BytesIO(data))
    return dict(image.getexif())


def gps_of(data: bytes) -> dict:
    return dict(Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825))
