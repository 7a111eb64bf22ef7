"""The deliveries table as an outbox: enqueue once, claim with a lease, send, record the outcome.

Delivery is at least once: a claim is taken (compare-and-swap, plus
FOR UPDATE SKIP LOCKED on PostgreSQL) before sending, and the outcome is
written after the SMTP reply, in a group with the others that came in
meanwhile (mail.outcomes). A sender that dies in between leaves claims that
expire, and those messages are sent again after the lease: the only window
for a duplicate is between the server's 250 and the commit of its group.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import BindParameter, ColumnElement, CursorResult, Integer, and_, bindparam, case, func, select, update
from sqlalchemy import cast as cast_as
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from notices.core import leases
from notices.core.db import Database, UTCDateTime, affected_rows, insert_ignoring_duplicates
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


def _new_delivery(
    *, dedup_key: str, kind: str, payload: dict[str, Any], now: datetime, expires_at: datetime | None
) -> dict[str, Any]:
    """A pending delivery's row, without its subscriber."""
    return {
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
    }


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
    row = _new_delivery(dedup_key=dedup_key, kind=kind, payload=payload, now=now, expires_at=expires_at)
    return insert_ignoring_duplicates(session, table_of(Delivery), {"subscriber_id": subscriber_id, **row})


def enqueue_many(
    session: Session,
    *,
    subscriber_ids: Sequence[int],
    dedup_key: str,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    expires_at: datetime | None = None,
) -> int:
    """`enqueue` for many subscribers with the same key (a digest period) in one statement;
    how many were added (the others had theirs already)."""
    if not subscriber_ids:
        return 0
    row = _new_delivery(dedup_key=dedup_key, kind=kind, payload=payload, now=now, expires_at=expires_at)
    table = table_of(Delivery)
    # RETURNING names only the rows added: a duplicate (subscriber, key) is skipped silently.
    if session.get_bind().dialect.name == "postgresql":
        # One short statement whatever the number of subscribers: the ids as one array, every other
        # column one value. Sent as multi-row INSERTs instead, psycopg spent more time turning the
        # long statement's thousands of placeholders into its own than the server took to insert.
        shared = [
            cast_as(bindparam(name, value, type_=table.c[name].type), table.c[name].type) for name, value in row.items()
        ]
        ids = func.unnest(bindparam("subscriber_ids", list(subscriber_ids), type_=postgresql.ARRAY(Integer)))
        source = select(ids, *shared)
        from_array = postgresql.insert(table).from_select(["subscriber_id", *row], source)
        return len(session.connection().execute(from_array.on_conflict_do_nothing().returning(table.c.id)).all())
    # executemany of one cached statement (SQLAlchemy sends it as multi-row INSERTs): a statement
    # with every row's values in it would be compiled afresh each time, which costs more than the insert.
    statement = sqlite.insert(table).on_conflict_do_nothing().returning(table.c.id)
    rows = [{"subscriber_id": subscriber_id, **row} for subscriber_id in subscriber_ids]
    return len(session.connection().execute(statement, rows).all())


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


@dataclass(frozen=True)
class Outcome:
    """What one message came to, to be written under its claim (alone or with others: record_outcomes)."""

    claim: Claim
    status: str  # sent, pending (a retry at next_attempt_at), failed, expired
    at: datetime
    message_id: str = ""
    reply: str = ""
    error: str = ""
    next_attempt_at: datetime | None = None  # for a retry; the others keep theirs

    @property
    def name(self) -> str:
        """How send_pending counts it: sent, retry, failed or expired."""
        return "retry" if self.status == DeliveryStatus.PENDING else self.status


def sent(claim: Claim, *, now: datetime, message_id: str, reply: str) -> Outcome:
    return Outcome(claim, DeliveryStatus.SENT, now, message_id=message_id, reply=reply[:1000])


def retry(claim: Claim, *, now: datetime, attempts: int, max_attempts: int, error: str) -> Outcome:
    """A temporary failure: try again after the backoff, or give up after the last attempt."""
    if attempts >= max_attempts:
        return failed(claim, now=now, error=error)
    wait = BACKOFF[min(attempts - 1, len(BACKOFF) - 1)]
    return Outcome(claim, DeliveryStatus.PENDING, now, error=error[:1000], next_attempt_at=now + wait)


def failed(claim: Claim, *, now: datetime, error: str) -> Outcome:
    return Outcome(claim, DeliveryStatus.FAILED, now, error=error[:1000])


def expired(claim: Claim, *, now: datetime, reason: str) -> Outcome:
    return Outcome(claim, DeliveryStatus.EXPIRED, now, error=reason[:1000])


# The statements for outcomes, built once: a send run writes its outcomes in groups
# (executemany), and building an UPDATE per message would cost more than sending it.
# The WHERE is the fencing: an outcome is written only while its claim is still this run's.
_FENCE = (
    Delivery.id == bindparam("b_id"),
    Delivery.status == DeliveryStatus.SENDING,
    Delivery.claimed_by == bindparam("b_owner"),
)
# A message's time sent and time of outcome are one: one value per row to convert, not two.
_AT: BindParameter[datetime] = bindparam("b_at")
_RECORD_SENT = (
    update(Delivery)
    .where(*_FENCE)
    .values(
        status=DeliveryStatus.SENT,
        sent_at=_AT,
        outcome_at=_AT,
        message_id=bindparam("b_message_id"),
        smtp_reply=bindparam("b_reply"),
        lease_until=None,
        last_error="",
    )
)
_RECORD_OTHER = (
    update(Delivery)
    .where(*_FENCE)
    .values(
        status=bindparam("b_status"),
        outcome_at=_AT,
        last_error=bindparam("b_error"),
        lease_until=None,
        # A retry waits until its next attempt; a failed or expired message is never due again.
        next_attempt_at=func.coalesce(bindparam("b_next", type_=UTCDateTime()), Delivery.next_attempt_at),
    )
)


# Both, in the order outcome_rows gives their rows.
OUTCOME_STATEMENTS = (_RECORD_SENT, _RECORD_OTHER)


def record_outcomes(session: Session, outcomes: Sequence[Outcome]) -> int:
    """Write a group of outcomes (one statement for the messages sent, one for the rest); how many
    were written: the others' claims had been taken over, and their new owner's outcome counts.
    (A send run's outcome writer runs the same statements on the driver's cursor: mail.outcomes.)"""
    recorded = 0
    for statement, rows in zip(OUTCOME_STATEMENTS, outcome_rows(outcomes), strict=True):
        if rows:
            # Core executemany: an ORM bulk UPDATE would want primary keys only.
            recorded += cast(CursorResult[Any], session.connection().execute(statement, rows)).rowcount
    warn_if_claims_lost(outcomes, recorded)
    return recorded


def outcome_rows(outcomes: Sequence[Outcome]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The bound values of each of OUTCOME_STATEMENTS for a group of outcomes."""
    sent_rows = [
        {
            "b_id": outcome.claim.delivery_id,
            "b_owner": outcome.claim.owner,
            "b_at": outcome.at,
            "b_message_id": outcome.message_id,
            "b_reply": outcome.reply,
        }
        for outcome in outcomes
        if outcome.status == DeliveryStatus.SENT
    ]
    other_rows = [
        {
            "b_id": outcome.claim.delivery_id,
            "b_owner": outcome.claim.owner,
            "b_status": outcome.status,
            "b_at": outcome.at,
            "b_error": outcome.error,
            "b_next": outcome.next_attempt_at,
        }
        for outcome in outcomes
        if outcome.status != DeliveryStatus.SENT
    ]
    return sent_rows, other_rows


def warn_if_claims_lost(outcomes: Sequence[Outcome], recorded: int) -> None:
    if recorded != len(outcomes):
        log.warning("%s deliveries: claim lost before the outcome was recorded", len(outcomes) - recorded)


def mark_sent(session: Session, claim: Claim, *, now: datetime, message_id: str, reply: str) -> bool:
    """Record one message as sent, if the claim still holds (fencing); False if it no longer did."""
    return record_outcomes(session, [sent(claim, now=now, message_id=message_id, reply=reply)]) == 1


def mark_failed(session: Session, claim: Claim, *, now: datetime, error: str) -> None:
    record_outcomes(session, [failed(claim, now=now, error=error)])


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
