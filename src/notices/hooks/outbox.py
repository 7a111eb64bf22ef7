"""The hook_deliveries table as an outbox: claim with a lease, record each outcome under the claim.

The same scheme as the mail outbox (notices.mail.outbox): a compare-and-swap
claim, with FOR UPDATE SKIP LOCKED on PostgreSQL so two schedulers take
disjoint rows; an outcome is written only while the claim is still ours
(fencing). Delivery is at least once: a sender that dies after the receiver's
2xx and before the commit leaves a claim that expires, and the delivery goes
again after the lease with the same webhook-id, which receivers de-duplicate on.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import BindParameter, ColumnElement, CursorResult, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from notices.core import leases
from notices.core.db import Database, affected_rows
from notices.core.models import HookDelivery, HookEndpoint, table_of
from notices.core.states import DeliveryStatus
from notices.mail.outbox import new_owner

log = logging.getLogger(__name__)

# Retries: 10 s, 20 s, 40 s, ... doubling up to an hour, each drawn between half and all of
# that ("equal jitter"), so receivers coming back from an outage are not hit by every sender at once.
FIRST_RETRY = timedelta(seconds=10)
LONGEST_RETRY = timedelta(hours=1)
ERROR_LIMIT = 1000
# How long `hook log` keeps finished deliveries (the purge job forgets older ones).
LOG_KEPT = timedelta(days=30)


def backoff(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """The wait after the `attempts`-th failed attempt."""
    ceiling: timedelta = min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)
    share: float = (rng or random).random()
    return ceiling * (0.5 + share / 2)


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    owner: str
    # Until when the claim surely holds: nothing is sent after it (another sender may own it then).
    until: datetime


def _due(now: datetime) -> tuple[ColumnElement[bool], ...]:
    # While claimed, next_attempt_at is the end of the lease: "due" covers pending rows
    # and claims whose sender died, with one indexed range condition. Deliveries of a
    # disabled endpoint wait (and expire) instead of being sent.
    enabled = select(HookEndpoint.id).where(HookEndpoint.enabled.is_(True))
    return (
        HookDelivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING)),
        HookDelivery.next_attempt_at <= now,
        HookDelivery.endpoint_id.in_(enabled),
    )


def due_count(session: Session, *, now: datetime) -> int:
    return session.execute(select(func.count()).select_from(HookDelivery).where(*_due(now))).scalar_one()


def next_due_at(session: Session) -> datetime | None:
    """When the next waiting delivery falls due (None when nothing waits)."""
    return session.scalar(
        select(func.min(HookDelivery.next_attempt_at)).where(
            HookDelivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING))
        )
    )


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claimed delivery with what sending it needs, as the claim left it (attempts counts this one)."""

    claim: Claim
    endpoint_id: int
    webhook_id: str
    body: str
    content_type: str
    attempts: int
    expires_at: datetime | None


def claim_batch(
    db: Database, *, now: datetime, limit: int, lease: timedelta, owner: str | None = None
) -> list[Claimed]:
    """Take up to `limit` due deliveries for one send run, each with what sending it needs (one statement)."""
    owner = owner or new_owner()
    rows = leases.claim_rows(
        db,
        table_of(HookDelivery),
        due=_due(now),
        limit=limit,
        lease_until=now + lease,
        owner=owner,
        returning=(
            HookDelivery.id,
            HookDelivery.endpoint_id,
            HookDelivery.webhook_id,
            HookDelivery.body,
            HookDelivery.content_type,
            HookDelivery.attempts,
            HookDelivery.expires_at,
        ),
    )
    # A margin for the request itself: a claim is not used once less than half its lease is left.
    until = now + lease / 2
    return [
        Claimed(Claim(delivery_id, owner, until), endpoint_id, webhook_id, body, content_type, attempts, expires_at)
        # Sorted by id (a key, not whole rows: comparing Row objects costs more than the claim's other work per row).
        for delivery_id, endpoint_id, webhook_id, body, content_type, attempts, expires_at in sorted(
            rows, key=itemgetter(0)
        )
    ]


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to, to be written under its claim."""

    claim: Claim
    status: str  # sent, pending (a retry at next_attempt_at), failed, expired
    attempted_at: datetime
    next_attempt_at: datetime
    code: int | None
    excerpt: str
    error: str


# The statements for outcomes, built once: a send run writes its outcomes in groups
# (executemany), and building an UPDATE per delivery would cost more than sending it.
# The WHERE is the fencing: only while the claim is still this run's.
_FENCE = (
    HookDelivery.id == bindparam("b_id"),
    HookDelivery.status == DeliveryStatus.SENDING,
    HookDelivery.claimed_by == bindparam("b_owner"),
)
_RECORD = (
    update(HookDelivery)
    .where(*_FENCE)
    .values(
        status=bindparam("b_status"),
        lease_until=None,
        next_attempt_at=bindparam("b_next"),
        last_attempt_at=bindparam("b_attempted"),
        sent_at=bindparam("b_sent"),
        response_code=bindparam("b_code"),
        response_excerpt=bindparam("b_excerpt"),
        last_error=bindparam("b_error"),
    )
)
# Most outcomes are successes, whose three times are one: one time per row to convert, not three.
_SENT_AT: BindParameter[datetime] = bindparam("b_sent")
_RECORD_SENT = _RECORD.values(
    status=DeliveryStatus.SENT, next_attempt_at=_SENT_AT, last_attempt_at=_SENT_AT, sent_at=_SENT_AT, last_error=""
)


def record_outcomes(session: Session, outcomes: list[Outcome]) -> int:
    """Write a group of outcomes (one statement for the successes, one for the rest); how many claims still
    held (the others were taken over)."""
    if not outcomes:
        return 0
    connection = session.connection()
    # Core executemany on the session's connection (an ORM bulk UPDATE would want primary keys only).
    sent = [
        {
            "b_id": outcome.claim.delivery_id,
            "b_owner": outcome.claim.owner,
            "b_sent": outcome.attempted_at,
            "b_code": outcome.code,
            "b_excerpt": outcome.excerpt,
        }
        for outcome in outcomes
        if outcome.status == DeliveryStatus.SENT
    ]
    others = [
        {
            "b_id": outcome.claim.delivery_id,
            "b_owner": outcome.claim.owner,
            "b_status": outcome.status,
            "b_next": outcome.next_attempt_at,
            "b_attempted": outcome.attempted_at,
            "b_sent": None,
            "b_code": outcome.code,
            "b_excerpt": outcome.excerpt,
            "b_error": outcome.error[:ERROR_LIMIT],
        }
        for outcome in outcomes
        if outcome.status != DeliveryStatus.SENT
    ]
    recorded = 0
    for statement, rows in ((_RECORD_SENT, sent), (_RECORD, others)):
        if rows:
            recorded += cast(CursorResult[Any], connection.execute(statement, rows)).rowcount
    if recorded != len(outcomes):
        log.warning("%s hook deliveries: claim lost before the outcome was recorded", len(outcomes) - recorded)
    return recorded


def expire_stale(session: Session, *, now: datetime) -> int:
    """Pending deliveries past their validity are expired, not sent stale."""
    return affected_rows(
        session,
        update(HookDelivery)
        .where(HookDelivery.status == DeliveryStatus.PENDING, HookDelivery.expires_at <= now)
        .values(status=DeliveryStatus.EXPIRED, last_error="not delivered within its validity"),
    )


def purge_finished(session: Session, *, before: datetime) -> int:
    """Forget sent, failed and expired deliveries created before `before` (the log keeps the rest)."""
    return affected_rows(
        session,
        delete(HookDelivery).where(
            HookDelivery.status.in_((DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.EXPIRED)),
            HookDelivery.created_at < before,
        ),
    )


def status_counts(session: Session) -> dict[str, int]:
    counts: dict[str, int] = dict.fromkeys(tuple(DeliveryStatus), 0)
    for status, count in session.execute(select(HookDelivery.status, func.count()).group_by(HookDelivery.status)):
        counts[status] = count
    return counts
