"""The deliveries table as an outbox: enqueue once, claim with a lease, send, record the outcome.

Delivery is at least once: a claim is taken (compare-and-swap, plus
FOR UPDATE SKIP LOCKED on PostgreSQL) before sending, and the outcome is
written right after the SMTP reply. A sender that dies in between leaves a
claim that expires, and the message is sent again after the lease: the only
window for a duplicate is between the server's 250 and our commit.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, select, update
from sqlalchemy.orm import Session

from notices.core import leases
from notices.core.db import Database, affected_rows, insert_ignoring_duplicates
from notices.core.models import Delivery, table_of
from notices.core.states import DeliveryStatus

log = logging.getLogger(__name__)

# Waits before the 2nd, 3rd, ... attempt after a temporary failure.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
)
STATUSES = tuple(DeliveryStatus)


def enqueue(
    session: Session,
    *,
    subscriber_id: int,
    dedup_key: str,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    expires_at: datetime | None = None,
) -> bool:
    """Add a delivery unless this subscriber already has one with this key; True if added."""
    return insert_ignoring_duplicates(
        session,
        table_of(Delivery),
        {
            "subscriber_id": subscriber_id,
            "dedup_key": dedup_key,
            "kind": kind,
            "payload": payload,
            "status": DeliveryStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "lease_until": None,
            "expires_at": expires_at,
            "message_id": "",
            "smtp_reply": "",
            "last_error": "",
            "created_at": now,
        },
    )


def message_id(delivery_id: int, dedup_key: str, domain: str) -> str:
    """The same Message-ID on every attempt, so receivers can drop a duplicate."""
    digest = hashlib.sha256(dedup_key.encode()).hexdigest()[:16]
    return f"<notices.{delivery_id}.{digest}@{domain}>"


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    # The send run holding the claim: outcomes and renewals apply only while it still does.
    owner: str


def new_owner() -> str:
    """A token naming one send run (random: two processes never share one)."""
    return secrets.token_hex(8)


def _due(now: datetime) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    # While claimed, next_attempt_at is the end of the lease, so "due" is one
    # indexed range condition for pending rows and for claims whose lease ran out.
    return Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING)), Delivery.next_attempt_at <= now


def due_count(session: Session, *, now: datetime) -> int:
    return session.execute(select(func.count()).select_from(Delivery).where(*_due(now))).scalar_one()


def claim_batch(db: Database, *, now: datetime, limit: int, lease: timedelta, owner: str | None = None) -> list[Claim]:
    """Take up to `limit` due deliveries: pending ones whose time has come, or claims whose lease ran out."""
    owner = owner or new_owner()
    claimed = leases.claim_rows(
        db,
        table_of(Delivery),
        due=_due(now),
        limit=limit,
        lease_until=now + lease,
        owner=owner,
        returning=(Delivery.id,),
    )
    return [Claim(delivery_id, owner) for (delivery_id,) in sorted(claimed)]


def _held(claim_owner: str, now: datetime | None = None) -> tuple[ColumnElement[bool], ...]:
    conditions = (Delivery.status == DeliveryStatus.SENDING, Delivery.claimed_by == claim_owner)
    return conditions + ((Delivery.lease_until > now,) if now is not None else ())


def confirm_claim(session: Session, claim: Claim, *, now: datetime, lease: timedelta) -> bool:
    """Right before sending: True if the claim is still ours and unexpired, and extend it.

    A run that outlived its lease must not send what another sender has
    taken over since (that would be a duplicate); extending here means a
    slow SMTP transaction cannot lose the claim half-way either.
    """
    extended = affected_rows(
        session,
        update(Delivery)
        .where(Delivery.id == claim.delivery_id, *_held(claim.owner, now))
        .values(lease_until=now + lease, next_attempt_at=now + lease),
    )
    return extended == 1


def renew_claims(session: Session, *, owner: str, now: datetime, lease: timedelta) -> set[int]:
    """Extend every unexpired claim of one send run (those still waiting to be sent); the ids renewed."""
    return set(
        session.scalars(
            update(Delivery)
            .where(*_held(owner, now))
            .values(lease_until=now + lease, next_attempt_at=now + lease)
            .returning(Delivery.id)
        )
    )


def _finish(session: Session, claim: Claim, **values: Any) -> bool:
    """Record an outcome, but only while our claim still holds (fencing)."""
    recorded = affected_rows(
        session, update(Delivery).where(Delivery.id == claim.delivery_id, *_held(claim.owner)).values(**values)
    )
    if recorded != 1:
        log.warning("delivery %s: claim lost before the outcome was recorded", claim.delivery_id)
        return False
    return True


def mark_sent(session: Session, claim: Claim, *, now: datetime, message_id: str, reply: str) -> bool:
    return _finish(
        session,
        claim,
        status=DeliveryStatus.SENT,
        sent_at=now,
        outcome_at=now,
        message_id=message_id,
        smtp_reply=reply[:1000],
        lease_until=None,
        last_error="",
    )


def mark_retry(session: Session, claim: Claim, *, now: datetime, attempts: int, max_attempts: int, error: str) -> str:
    if attempts >= max_attempts:
        _finish(session, claim, status=DeliveryStatus.FAILED, last_error=error[:1000], lease_until=None, outcome_at=now)
        return "failed"
    wait = BACKOFF[min(attempts - 1, len(BACKOFF) - 1)]
    _finish(
        session,
        claim,
        status=DeliveryStatus.PENDING,
        next_attempt_at=now + wait,
        last_error=error[:1000],
        lease_until=None,
        outcome_at=now,
    )
    return "retry"


def mark_failed(session: Session, claim: Claim, *, now: datetime, error: str) -> None:
    _finish(session, claim, status=DeliveryStatus.FAILED, last_error=error[:1000], lease_until=None, outcome_at=now)


def mark_expired(session: Session, claim: Claim, *, now: datetime, reason: str) -> None:
    _finish(session, claim, status=DeliveryStatus.EXPIRED, last_error=reason[:1000], lease_until=None, outcome_at=now)


def expire_stale(session: Session, *, now: datetime) -> int:
    """Mark pending deliveries past their validity as expired, so `mail status` tells the truth
    even while they wait for a retry that will never come."""
    return affected_rows(
        session,
        update(Delivery)
        .where(Delivery.status == DeliveryStatus.PENDING, Delivery.expires_at <= now)
        .values(status=DeliveryStatus.EXPIRED, last_error="not sent within its validity", outcome_at=now),
    )


def status_counts(session: Session) -> dict[str, int]:
    counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
    for status, count in session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)):
        counts[status] = count
    return counts


# What the dashboard's chart shows per hour, each delivery once, at its latest outcome. A retry
# is a temporary failure still waiting for its next try; once sent it counts as sent in that hour.
CHART_OUTCOMES = ("sent", "retried", "failed", "expired")


@dataclass(frozen=True)
class Hour:
    start: datetime  # aware, in the site's time zone
    counts: dict[str, int]


def hourly_outcomes(session: Session, *, now: datetime, zone: ZoneInfo, hours: int = 24) -> list[Hour]:
    """Outcomes per site-time hour over the last `hours` hours, oldest first, counted in SQL.

    The hours are the site's wall-clock hours (one with a half-hour offset starts at :30 UTC),
    so the buckets are ranges of UTC instants picked by one CASE, not a database's date functions.
    """
    local_now = now.astimezone(zone)
    current = local_now.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    starts = [current - timedelta(hours=back) for back in range(hours - 1, -1, -1)]
    bounds = [*starts, current + timedelta(hours=1)]
    bucket = case(
        *(
            (and_(Delivery.outcome_at >= low, Delivery.outcome_at < high), index)
            for index, (low, high) in enumerate(zip(bounds, bounds[1:], strict=False))
        ),
        else_=None,
    ).label("bucket")
    outcome = case(
        (Delivery.status == DeliveryStatus.SENT, "sent"),
        (Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING)), "retried"),
        (Delivery.status == DeliveryStatus.FAILED, "failed"),
        else_="expired",
    ).label("outcome")
    rows = session.execute(
        select(bucket, outcome, func.count())
        .where(Delivery.outcome_at >= bounds[0], Delivery.outcome_at < bounds[-1])
        .group_by(bucket, outcome)
    )
    table = [Hour(start.astimezone(zone), dict.fromkeys(CHART_OUTCOMES, 0)) for start in starts]
    for index, name, count in rows:
        if index is not None:
            table[index].counts[name] += count
    return table
