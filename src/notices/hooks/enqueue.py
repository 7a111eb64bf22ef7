"""Turn lifecycle events into hook deliveries: one row per (endpoint, event), in the recording transaction.

Every path that records an event (the scheduler's boundaries and reminders,
an update or a cancellation from the console, the API or the CLI) calls
enqueue_new_events before it commits, so an event and its deliveries are
written together or not at all. Each event is marked (hooks_enqueued) once
handled; anything a path missed is picked up by the scheduler's next run,
and the unique key (endpoint, event) keeps two schedulers from queueing it twice.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from notices.core.config import Settings
from notices.core.db import isolated
from notices.core.models import HookDelivery, HookEndpoint, NoticeEvent, table_of
from notices.core.states import DeliveryStatus
from notices.hooks import payloads, store
from notices.hooks.kinds import event_type, hook_event_of
from notices.notice import handoff, recurrence
from notices.notice.presenters import notice_data
from notices.notice.times import isoformat_site

CHUNK = 500


def webhook_id(event_id: str, endpoint_id: int) -> str:
    """The webhook-id header: the same for every attempt of one event to one endpoint, different across endpoints."""
    digest = hashlib.sha256(f"{event_id}|{endpoint_id}".encode()).hexdigest()[:32]
    return f"msg_{digest}"


def event_key(event: NoticeEvent) -> str:
    """A stable id for a lifecycle event (notice, kind, version and occurrence are its unique key)."""
    key = f"{event.notice.uid}.{event.kind}.v{event.version}"
    return f"{key}.{event.occurrence}" if event.occurrence else key


def enqueue_new_events(
    session: Session, *, settings: Settings, now: datetime, failures: list[tuple[str, str]] | None = None
) -> dict[str, int]:
    """Deliveries for every event not yet handed to the hooks outbox; an event that fails is left for the next run."""
    failures = [] if failures is None else failures
    events = handoff.unhandled_events(session, NoticeEvent.hooks_enqueued, now=now)
    counts = {"events": len(events), "enqueued": 0, "stale": 0}
    if not events:
        return counts
    endpoints = list(session.scalars(select(HookEndpoint).where(HookEndpoint.enabled.is_(True))))
    handled = []
    for event in events:
        with isolated(session, f"hooks for event {event.id} ({event.kind}) of notice {event.notice.uid}", failures):
            if event.occurred_at + settings.hooks_validity <= now:
                counts["stale"] += 1  # after downtime, old news is not pushed
            else:
                counts["enqueued"] += _enqueue_event(session, event, endpoints, settings=settings, now=now)
            handled.append(event.id)
    handoff.mark_handled(session, NoticeEvent.hooks_enqueued, handled)
    return counts


def _enqueue_event(
    session: Session, event: NoticeEvent, endpoints: list[HookEndpoint], *, settings: Settings, now: datetime
) -> int:
    kind = hook_event_of(event.kind)
    if kind is None:
        return 0
    wanted = [
        endpoint
        for endpoint in endpoints
        if kind in (endpoint.events or ()) and store.filters_of(endpoint).matches(event.notice)
    ]
    if not wanted:
        return 0
    key = event_key(event)
    hook_event = payloads.HookEvent(
        event_id=key,
        type=event_type(kind),
        occurred_at=event.occurred_at,
        notice=notice_data(event.notice, zone=settings.timezone, now=now, settings=settings),
        url=settings.absolute_url(f"notices/{event.notice.uid}"),
        occurrence=_occurrence_of(event, settings),
    )
    rows = []
    for endpoint in wanted:
        body, content_type = payloads.render(endpoint.kind, hook_event, endpoint.language, settings)
        rows.append(
            new_delivery(
                endpoint_id=endpoint.id,
                event_id=event.id,
                webhook_id=webhook_id(key, endpoint.id),
                event_type=hook_event.type,
                body=body.decode(),
                content_type=content_type,
                now=now,
                expires_at=event.occurred_at + settings.hooks_validity,
            )
        )
    return _insert_new(session, rows)


def _occurrence_of(event: NoticeEvent, settings: Settings) -> dict[str, Any] | None:
    """The one occurrence of a series an event is about (its id, start and end in site time), or None."""
    if not event.occurrence:
        return None
    found = recurrence.find_occurrence(event.notice, event.occurrence)
    if found is None:  # the rule changed since: the id is all there is
        return {"id": event.occurrence, "starts_at": None, "ends_at": None, "cancelled": False, "reason": ""}
    zone = settings.timezone
    return {
        "id": found.id,
        "starts_at": isoformat_site(found.starts_at, zone),
        "ends_at": isoformat_site(found.ends_at, zone),
        "cancelled": found.cancelled,
        "reason": found.cancel_reason,
    }


def _insert_new(session: Session, rows: list[dict[str, object]]) -> int:
    """Insert the rows, skipping any (endpoint, event) already queued (another scheduler was first); how many."""
    table = table_of(HookDelivery)
    builder = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    added = 0
    # Multi-row INSERTs: an event for many endpoints is a round trip per CHUNK, within SQLite's bound-parameter limit.
    for start in range(0, len(rows), CHUNK):
        statement = builder(table).values(rows[start : start + CHUNK]).on_conflict_do_nothing().returning(table.c.id)
        added += len(session.execute(statement).all())
    return added


def new_delivery(
    *,
    endpoint_id: int,
    event_id: int | None,
    webhook_id: str,
    event_type: str,
    body: str,
    content_type: str,
    now: datetime,
    expires_at: datetime | None,
) -> dict[str, object]:
    """The values of a new, pending delivery row."""
    return {
        "endpoint_id": endpoint_id,
        "event_id": event_id,
        "webhook_id": webhook_id,
        "event_type": event_type,
        "body": body,
        "content_type": content_type,
        "status": DeliveryStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "lease_until": None,
        "claimed_by": "",
        "expires_at": expires_at,
        "created_at": now,
        "response_excerpt": "",
        "last_error": "",
    }
