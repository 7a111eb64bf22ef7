"""Type by content, safe names, and images cleaned of their metadata."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from notices.core.errors import InvalidField
from notices.notice.attachments import images, kinds
from notices.notice.attachments.names import safe_filename
from tests.attachment_samples import executable, exif_of, jpeg_with_gps, pdf, png, webp


@pytest.mark.parametrize(
    ("data", "kind"), [(png(), kinds.PNG), (jpeg_with_gps(), kinds.JPEG), (webp(), kinds.WEBP), (pdf(), kinds.PDF)]
)
def test_accepted_kinds_are_told_by_their_first_bytes(data, kind):
    assert kinds.require_accepted(data[: kinds.HEAD_BYTES]) is kind


@pytest.mark.parametrize(
    ("data", "seems"),
    [
        (executable(), "an executable program (ELF)"),
        (b"MZ\x90\x00" + b"\x00" * 60, "a Windows program (PE/EXE)"),
        (b"PK\x03\x04rest", "a ZIP archive"),
        (b"  <SVG width='1'>", "an SVG image"),
        (b"\x00\x01\x02", "not of an accepted type"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "not of an accepted type"),
    ],
)
def test_other_kinds_are_refused_saying_what_they_seem_to_be(data, seems):
    with pytest.raises(InvalidField) as refused:
        kinds.require_accepted(data[: kinds.HEAD_BYTES], "file")
    assert refused.value.field == "file"
    assert seems in refused.value.problem


@pytest.mark.parametrize(
    ("raw", "extension", "safe"),
    [
        ("photo.JPG", "jpg", "photo.jpg"),
        ("photo.jpeg", "jpg", "photo.jpg"),
        ("C:\\Users\\ann\\Desktop\\plan.pdf", "pdf", "plan.pdf"),
        ("../../etc/passwd", "pdf", "passwd.pdf"),
        ("evil\u202egpj.exe", "jpg", "evilgpj.exe.jpg"),
        ("nul\x00and\x07bell\ufffe.png", "png", "nulandbell.png"),
        ('quote"semi;colon.pdf', "pdf", "quotesemicolon.pdf"),
        ("", "pdf", "attachment.pdf"),
        ("...", "png", "attachment.png"),
        ("Plattegrond – één.png", "png", "Plattegrond – één.png"),
        ("x" * 500 + ".pdf", "pdf", "x" * 116 + ".pdf"),
    ],
)
def test_file_names_are_made_safe(raw, extension, safe):
    assert safe_filename(raw, extension) == safe


def test_a_cleaned_jpeg_has_no_exif_and_is_upright():
    cleaned = images.clean(jpeg_with_gps(size=(64, 32), orientation=6), kinds.JPEG)
    assert exif_of(cleaned.data) == {}
    assert (cleaned.width, cleaned.height) == (32, 64)
    image = Image.open(io.BytesIO(cleaned.data))
    assert image.size == (32, 64)
    assert not {"exif", "xmp", "comment"} & set(image.info)


def test_cleaning_is_repeatable_so_the_same_upload_has_the_same_hash():
    data = jpeg_with_gps()
    assert images.clean(data, kinds.JPEG).data == images.clean(data, kinds.JPEG).data


def test_a_palette_png_with_transparency_keeps_it():
    image = Image.new("P", (20, 20), 0)
    image.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    out = io.BytesIO()
    image.save(out, format="PNG", transparency=0)
    cleaned = images.clean(out.getvalue(), kinds.PNG)
    assert Image.open(io.BytesIO(cleaned.data)).mode == "RGBA"
    thumbnail = images.thumbnail(cleaned)
    assert thumbnail.kind is kinds.PNG


def test_a_truncated_image_is_refused():
    data = png()
    with pytest.raises(InvalidField, match="damaged"):
        images.clean(data[: len(data) // 2], kinds.PNG)


def test_a_file_that_lies_about_its_kind_is_refused():
    # A JPEG signature in front of PNG data.
    with pytest.raises(InvalidField, match="damaged"):
        images.clean(b"\xff\xd8\xff" + png(), kinds.JPEG)
