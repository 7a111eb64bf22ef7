"""Deliveries with given outcomes at given times, for the dashboard's outbox chart."""

from __future__ import annotations

from datetime import datetime

from notices.core.models import Delivery, table_of
from notices.core.states import DeliveryStatus
from tests.factories import add_subscriber

# The chart's outcome -> how a delivery with that outcome looks in the outbox.
STATUS_OF = {
    "sent": DeliveryStatus.SENT,
    "retried": DeliveryStatus.PENDING,
    "failed": DeliveryStatus.FAILED,
    "expired": DeliveryStatus.EXPIRED,
}


def add_outcomes(ctx, outcomes: list[tuple[str, datetime, int]]) -> None:
    """(outcome, when, how many) deliveries, each to its own key of one subscriber."""
    subscriber_id = add_subscriber(ctx, "chart@example.org")
    rows, n = [], 0
    for outcome, at, count in outcomes:
        for _ in range(count):
            n += 1
            status = STATUS_OF[outcome]
            rows.append(
                {
                    "subscriber_id": subscriber_id,
                    "dedup_key": f"chart:{n}",
                    "kind": "digest",
                    "payload": {},
                    "status": status,
                    "attempts": 1,
                    "next_attempt_at": at,
                    "created_at": at,
                    "sent_at": at if status == DeliveryStatus.SENT else None,
                    "outcome_at": at,
                    "lease_until": None,
                    "expires_at": None,
                    "message_id": "",
                    "smtp_reply": "",
                    "last_error": "",
                    "claimed_by": "",
                }
            )
    with ctx.db.engine.begin() as connection:
        connection.execute(table_of(Delivery).insert(), rows)
