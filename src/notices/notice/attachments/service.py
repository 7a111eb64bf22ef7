"""Attaching files to notices and finding them again: the one place that writes blobs and attachments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from notices.core import site_state
from notices.core.errors import InvalidField, NotFound
from notices.core.models import Blob, Notice, NoticeAttachment
from notices.core.safe_text import clean_text
from notices.notice import lifecycle
from notices.notice.attachments import images
from notices.notice.attachments.blobstore import BlobStore, sha256_of
from notices.notice.attachments.kinds import BY_CONTENT_TYPE, HEAD_BYTES, FileKind, require_accepted
from notices.notice.attachments.names import safe_filename
from notices.people import audit

TITLE_LIMIT = 200
# More than this many files on one notice is refused (pages, mails and feeds list them all).
MAX_PER_NOTICE = 20


def parse_title(value: str | None, field: str = "title") -> str:
    title = clean_text(value or "", one_line=True)
    if len(title) > TITLE_LIMIT:
        raise InvalidField(field, f"is {len(title)} characters long; at most {TITLE_LIMIT} are allowed")
    return title


def attach(
    session: Session,
    store: BlobStore,
    notice: Notice,
    *,
    data: bytes,
    filename: str | None,
    title: str | None,
    actor: str,
    now: datetime,
    field: str = "file",
) -> tuple[NoticeAttachment, bool]:
    """Check, clean and store the file, and attach it to the notice (in the caller's transaction).

    Returns the attachment and whether it is new: the same file attached to the same notice
    again is the attachment it already has. Nothing is written to the database when the file is
    refused or the store fails (the store is written first; a blob left there by a transaction
    that then fails is unreferenced, so never served).
    """
    clean_title = parse_title(title)
    if len(notice.attachments) >= MAX_PER_NOTICE:
        raise InvalidField(field, f"a notice has at most {MAX_PER_NOTICE} attachments; remove one first")
    kind = require_accepted(data[:HEAD_BYTES], field)
    blob = _store(session, store, data, kind, field=field, now=now)
    existing = next((item for item in notice.attachments if item.blob_sha256 == blob.sha256), None)
    if existing is not None:
        return existing, False
    attachment = NoticeAttachment(
        blob=blob,
        filename=safe_filename(filename, kind.extension),
        title=clean_title,
        position=max((item.position for item in notice.attachments), default=-1) + 1,
        added_at=now,
        added_by=actor[:320],
    )
    notice.attachments.append(attachment)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="notice.attach",
        target=notice.uid,
        detail=f"{attachment.filename} ({kind.content_type}, {blob.size} bytes, sha256 {blob.sha256})",
        now=now,
    )
    site_state.bump_data_version(session, now)  # the feeds list attachments
    return attachment, True


def _store(session: Session, store: BlobStore, data: bytes, kind: FileKind, *, field: str, now: datetime) -> Blob:
    if not kind.is_image:
        # PDFs are kept as uploaded (their metadata is not touched; see the README).
        return _keep(session, store, data, kind, now=now)
    cleaned = images.clean(data, kind, field)
    small = images.thumbnail(cleaned)
    preview = _keep(session, store, small.data, small.kind, now=now, size=(small.width, small.height))
    return _keep(
        session, store, cleaned.data, kind, now=now, size=(cleaned.width, cleaned.height), thumbnail=preview.sha256
    )


def _keep(
    session: Session,
    store: BlobStore,
    data: bytes,
    kind: FileKind,
    *,
    now: datetime,
    size: tuple[int, int] | None = None,
    thumbnail: str | None = None,
) -> Blob:
    # Hashed after cleaning: the name is that of the bytes stored and served (an image's original,
    # with its metadata, is never kept), so the address and the strong ETag describe exactly what a
    # reader downloads, and the same picture uploaded twice is stored once.
    sha256 = sha256_of(data)
    store.put(sha256, data, kind.content_type)
    blob = session.get(Blob, sha256)
    if blob is None:
        width, height = size or (None, None)
        blob = Blob(
            sha256=sha256,
            size=len(data),
            content_type=kind.content_type,
            width=width,
            height=height,
            thumbnail_sha256=thumbnail,
            created_at=now,
        )
        session.add(blob)
        session.flush()
    return blob


def find(notice: Notice, attachment_id: int) -> NoticeAttachment:
    attachment = next((item for item in notice.attachments if item.id == attachment_id), None)
    if attachment is None:
        raise NotFound(f"notice {notice.uid} has no attachment {attachment_id}")
    return attachment


def detach(session: Session, notice: Notice, attachment_id: int, *, actor: str, now: datetime) -> NoticeAttachment:
    """Remove the attachment from the notice; its file is then no longer served for it.

    The stored bytes stay (another notice may have the same file)."""
    attachment = find(notice, attachment_id)
    notice.attachments.remove(attachment)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="notice.detach",
        target=notice.uid,
        detail=f"{attachment.filename} (sha256 {attachment.blob_sha256})",
        now=now,
    )
    site_state.bump_data_version(session, now)
    return attachment


def kind_of(blob: Blob) -> FileKind:
    return BY_CONTENT_TYPE[blob.content_type]


def blob_and_notices(session: Session, sha256: str) -> tuple[Blob, list[Notice]]:
    """The blob and the notices it belongs to (as their file or as a file's thumbnail); NotFound if none."""
    blob = session.get(Blob, sha256)
    if blob is None:
        raise NotFound("no such file")
    owners = select(Blob.sha256).where(or_(Blob.sha256 == sha256, Blob.thumbnail_sha256 == sha256))
    # IN rather than JOIN ... DISTINCT: PostgreSQL cannot compare the notices' JSON columns.
    holders = select(NoticeAttachment.notice_id).where(NoticeAttachment.blob_sha256.in_(owners))
    notices = list(session.scalars(select(Notice).where(Notice.id.in_(holders))))
    if not notices:
        raise NotFound("no such file")
    return blob, notices


def is_public(notices: list[Notice], now: datetime) -> bool:
    """A file is public while one of the notices it is attached to is (drafts' files are not)."""
    return any(lifecycle.is_public(notice, now) for notice in notices)
