"""A multipart/form-data upload read as it arrives, stopping at the size limit.

Starlette's form parser (and so FastAPI's UploadFile) first copies the whole body to a temporary
file, however large: a client could make the server write gigabytes before any limit is looked at.
Here the body is parsed chunk by chunk and reading stops as soon as the file passes `max_bytes`
(413): what is held is never more than the limit plus one chunk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header

from notices.core.errors import InvalidField

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

# Room for the other fields (title, CSRF token) and the multipart framing around the file.
FORM_OVERHEAD = 64 * 1024
# A text field longer than this is refused (titles are at most 200 characters).
MAX_FIELD_BYTES = 8 * 1024


class TooLarge(InvalidField):
    """The file passed the limit; the rest of it was not read."""

    status = 413

    def __init__(self, field_name: str, limit: int) -> None:
        super().__init__(field_name, f"the file is larger than {_size(limit)}, the most accepted")


def _size(count: int) -> str:
    return f"{count / 1024 / 1024:.1f} MB" if count >= 1024 * 1024 else f"{count / 1024:.0f} kB"


@dataclass
class Upload:
    fields: dict[str, str] = field(default_factory=dict)
    filename: str | None = None
    data: bytes | None = None
    # How many bytes of the request body were read (the tests check that it stops early).
    bytes_read: int = 0


async def read_upload(request: Request, *, file_field: str = "file", max_bytes: int) -> Upload:
    """The form's text fields and its one file (`file_field`), or TooLarge / InvalidField."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise InvalidField(file_field, "send the file as multipart/form-data")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + FORM_OVERHEAD:
        # Refused from its header alone: not one byte of the body is read.
        raise TooLarge(file_field, max_bytes)
    reader = _Reader(file_field, max_bytes)
    parser = MultipartParser(boundary, reader.callbacks())
    upload = reader.upload
    async for chunk in request.stream():
        upload.bytes_read += len(chunk)
        if upload.bytes_read > max_bytes + FORM_OVERHEAD:
            raise TooLarge(file_field, max_bytes)
        try:
            parser.write(chunk)
        except (TooLarge, InvalidField):
            raise
        except Exception as error:  # python-multipart's errors for a malformed body (or headers too long)
            raise InvalidField(file_field, f"the upload is not valid multipart/form-data ({error})") from None
        if reader.done:
            break
    if not reader.done:
        raise InvalidField(file_field, "the upload ended before it was complete")
    if reader.file is None:
        raise InvalidField(file_field, "no file was sent")
    upload.data = bytes(reader.file)
    return upload


class _Reader:
    """The parser's callbacks: collect headers per part, text fields, and the file up to the limit."""

    def __init__(self, file_field: str, max_bytes: int) -> None:
        self.file_field, self.max_bytes = file_field, max_bytes
        self.upload = Upload()
        self.file: bytearray | None = None
        self.done = False
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._name = ""
        self._is_file = False
        self._value = bytearray()

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": lambda data, start, end: self._header_name.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._header_value.extend(data[start:end]),
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
            "on_end": self.end,
        }

    def part_begin(self) -> None:
        self._headers, self._value = {}, bytearray()

    def header_end(self) -> None:
        self._headers[bytes(self._header_name).lower()] = bytes(self._header_value)
        self._header_name, self._header_value = bytearray(), bytearray()

    def headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        self._is_file = self._name == self.file_field
        if self._is_file:
            if self.file is not None:
                raise InvalidField(self.file_field, "send one file per upload")
            self.file = bytearray()
            self.upload.filename = options.get(b"filename", b"").decode("utf-8", "replace")

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self._is_file:
            assert self.file is not None
            if len(self.file) + (end - start) > self.max_bytes:
                raise TooLarge(self.file_field, self.max_bytes)
            self.file.extend(data[start:end])
        else:
            if len(self._value) + (end - start) > MAX_FIELD_BYTES:
                raise InvalidField(self._name or "form", "the field is too long")
            self._value.extend(data[start:end])

    def part_end(self) -> None:
        if not self._is_file and self._name:
            self.upload.fields[self._name] = self._value.decode("utf-8", "replace")

    def end(self) -> None:
        self.done = True
