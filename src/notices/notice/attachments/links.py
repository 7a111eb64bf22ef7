"""Where an attachment and its thumbnail are served (web.attachments), as site paths."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm.exc import DetachedInstanceError

from notices.core.models import NoticeAttachment


@dataclass(frozen=True)
class Shown:
    """An attachment as pages, emails and feeds show it."""

    id: int
    filename: str
    title: str
    content_type: str
    size: int
    is_image: bool
    path: str
    thumbnail_path: str | None
    thumbnail_width: int | None
    thumbnail_height: int | None

    @property
    def label(self) -> str:
        return self.title or self.filename


def file_path(sha256: str, filename: str) -> str:
    return f"/attachments/{sha256}/{quote(filename, safe='')}"


def shown(attachment: NoticeAttachment) -> Shown:
    blob = attachment.blob
    thumbnail = blob.thumbnail
    thumbnail_path = None
    if thumbnail is not None:
        extension = "png" if thumbnail.content_type == "image/png" else "jpg"
        stem = attachment.filename.rsplit(".", 1)[0]
        thumbnail_path = file_path(thumbnail.sha256, f"{stem}-small.{extension}")
    return Shown(
        id=attachment.id,
        filename=attachment.filename,
        title=attachment.title,
        content_type=blob.content_type,
        size=blob.size,
        is_image=blob.content_type.startswith("image/"),
        path=file_path(blob.sha256, attachment.filename),
        thumbnail_path=thumbnail_path,
        thumbnail_width=thumbnail.width if thumbnail else None,
        thumbnail_height=thumbnail.height if thumbnail else None,
    )


def shown_all(attachments: list[NoticeAttachment]) -> list[Shown]:
    return [shown(attachment) for attachment in attachments]


def attachments_of(notice: Any) -> list[Shown]:
    """The notice's attachments as shown; none for a notice that has no such list (a preview's
    fields, an old revision) or whose row is no longer loaded."""
    try:
        items = getattr(notice, "attachments", None) or []
    except DetachedInstanceError:
        return []
    return shown_all(list(items))


def human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} kB"
    return f"{size} B"
