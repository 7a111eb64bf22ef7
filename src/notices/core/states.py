"""Named states and kinds that the database stores as text.

StrEnum members are equal to their strings, so rows, JSON and templates keep
the same values; code names them instead of repeating string literals.
(A notice's status is not stored: notice.lifecycle.Status derives it.)
"""

from enum import StrEnum


class EventKind(StrEnum):
    """A notice lifecycle event (notice_events.kind)."""

    PUBLISHED = "published"
    STARTED = "started"
    UPDATED = "updated"
    RESCHEDULED = "rescheduled"
    ENDED = "ended"
    CANCELLED = "cancelled"
    REMINDER = "reminder"


class Phase(StrEnum):
    """How far the lifecycle job has announced a notice (notices.announced_phase), in order."""

    NONE = "none"
    PUBLISHED = "published"
    STARTED = "started"
    ENDED = "ended"


class DeliveryStatus(StrEnum):
    """An outbox row (deliveries.status)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    EXPIRED = "expired"


class DeliveryKind(StrEnum):
    """What an email is (deliveries.kind): each has its templates in templates/email/<language>/."""

    CONFIRM = "confirm"
    MANAGE = "manage"
    ALERT = "alert"
    REMINDER = "reminder"
    DIGEST = "digest"


class SubscriberState(StrEnum):
    """subscribers.state: double opt-in, then mailed until unsubscribed or the address bounces."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"
    SUPPRESSED = "suppressed"


class Frequency(StrEnum):
    """How often a subscriber hears: every alert as it happens, or a digest."""

    IMMEDIATE = "immediate"
    DAILY = "daily"
    WEEKLY = "weekly"


DIGEST_FREQUENCIES = (Frequency.DAILY, Frequency.WEEKLY)


class Role(StrEnum):
    """users.role: what a user may do (notices.people.roles says who may do what)."""

    ADMIN = "admin"
    MANAGER = "manager"
    EDITOR = "editor"
    APPROVER = "approver"


class ReviewState(StrEnum):
    """notice_reviews.state: a submission for approval, waiting or decided."""

    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"
    # Published by an admin in an emergency, past the approvers (audited with the reason).
    BYPASSED = "bypassed"


class LinkPurpose(StrEnum):
    """What a signed link in an email is for (people.link_tokens)."""

    CONFIRM = "confirm"
    MANAGE = "manage"
    UNSUBSCRIBE = "unsubscribe"
