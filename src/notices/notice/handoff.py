"""Lifecycle events handed on to the outboxes: each consumer (alerts, hooks) marks the events it has handled.

A NoticeEvent has one flag per consumer (alerts_enqueued, hooks_enqueued). A
consumer reads the events its flag says it has not handled yet, queues what
they call for in the same transaction, and sets its flag on those it handled;
an event that failed stays unmarked and is tried again on the next run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from notices.core.models import NoticeEvent


def unhandled_events(session: Session, flag: InstrumentedAttribute[bool], *, now: datetime) -> Sequence[NoticeEvent]:
    """Events that have occurred by `now` and that `flag` does not mark handled, oldest first, with their notices."""
    return session.scalars(
        select(NoticeEvent)
        .where(flag.is_(False), NoticeEvent.occurred_at <= now)
        .options(selectinload(NoticeEvent.notice))
        .order_by(NoticeEvent.id)
    ).all()


def mark_handled(session: Session, flag: InstrumentedAttribute[bool], event_ids: Sequence[int]) -> None:
    """Set `flag` on these events (none: nothing to write)."""
    if event_ids:
        session.execute(update(NoticeEvent).where(NoticeEvent.id.in_(event_ids)).values({flag: True}))
