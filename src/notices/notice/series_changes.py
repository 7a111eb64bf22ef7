"""Cancelling or moving one occurrence of a stored series: the one operation the API and the CLI share.

notice.series works out the new fields (pure); this applies them as a schedule change like any
other (approval.update: a new version, a revision, the audit log, held for approval where it
applies). Kept apart from notice.series because it writes, and store builds on notice.series.
The caller still enqueues hook deliveries for the new event (hooks sit above this layer) and
tells the approvers after the commit (staff.notify).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from notices.core.config import Settings
from notices.core.models import Notice
from notices.notice import approval, series, store
from notices.notice.validation import NoticeFields
from notices.people.roles import Actor


def cancel_occurrence(
    session: Session,
    notice: Notice,
    occurrence_id: str,
    *,
    reason: str,
    actor: Actor,
    settings: Settings,
    now: datetime,
) -> approval.Notification | None:
    """Cancel one occurrence (the reason is told to readers); the approval to ask for, if held."""
    fields = series.cancel_occurrence(store.fields_of(notice), occurrence_id, reason=reason, now=now)
    return _apply(session, notice, fields, note=reason, actor=actor, settings=settings, now=now)


def move_occurrence(
    session: Session,
    notice: Notice,
    occurrence_id: str,
    *,
    starts_at: datetime,
    ends_at: datetime | None,
    note: str,
    actor: Actor,
    settings: Settings,
    now: datetime,
) -> approval.Notification | None:
    """Move one occurrence (without `ends_at` it keeps its length); the approval to ask for, if held."""
    fields = series.move_occurrence(
        store.fields_of(notice), occurrence_id, starts_at=starts_at, ends_at=ends_at, now=now
    )
    return _apply(session, notice, fields, note=note, actor=actor, settings=settings, now=now)


def _apply(
    session: Session,
    notice: Notice,
    fields: NoticeFields,
    *,
    note: str,
    actor: Actor,
    settings: Settings,
    now: datetime,
) -> approval.Notification | None:
    # Never "minor": an occurrence's time is a schedule change, which subscribers are told about.
    return approval.update(
        session, notice, fields, note=note.strip(), minor=False, actor=actor, settings=settings, now=now
    )
