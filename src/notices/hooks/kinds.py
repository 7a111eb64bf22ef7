"""What an endpoint is and which events it may ask for (names shared by the store, the outbox and the front ends)."""

from __future__ import annotations

from enum import StrEnum

from notices.core.states import EventKind


class EndpointKind(StrEnum):
    WEBHOOK = "webhook"
    SLACK = "slack"
    TEAMS = "teams"


class HookEvent(StrEnum):
    """The event kinds an endpoint can subscribe to (--events); the body's type is "notice.<kind>"."""

    PUBLISHED = "published"
    CHANGED = "changed"
    STARTED = "started"
    ENDED = "ended"
    CANCELLED = "cancelled"
    REMINDER = "reminder"


ENDPOINT_KINDS = tuple(EndpointKind)
HOOK_EVENTS = tuple(HookEvent)

# Lifecycle events as endpoints see them: a text edit and a new time are both "changed".
_BY_LIFECYCLE: dict[str, HookEvent] = {
    EventKind.PUBLISHED: HookEvent.PUBLISHED,
    EventKind.UPDATED: HookEvent.CHANGED,
    EventKind.RESCHEDULED: HookEvent.CHANGED,
    EventKind.STARTED: HookEvent.STARTED,
    EventKind.ENDED: HookEvent.ENDED,
    EventKind.CANCELLED: HookEvent.CANCELLED,
    EventKind.REMINDER: HookEvent.REMINDER,
}


def hook_event_of(lifecycle_kind: str) -> HookEvent | None:
    """The hook event a lifecycle event is, or None for one endpoints never hear about."""
    return _BY_LIFECYCLE.get(lifecycle_kind)


def event_type(kind: HookEvent) -> str:
    return f"notice.{kind}"
