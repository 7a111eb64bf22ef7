"""Claiming outbox rows with a lease: the one locking pattern the mail and hooks outboxes share.

Each outbox owns its SQL: which table, what "due" means and what a claim brings
back. What they share is the outbox columns a claim writes
(status, lease_until, next_attempt_at, attempts, claimed_by) and how the rows
are taken so that two senders never take the same one:
- the UPDATE repeats the "due" condition (compare-and-swap): a row another
  sender claimed in the meantime no longer matches and is left alone;
- on PostgreSQL the candidates are locked with FOR UPDATE SKIP LOCKED, so two
  senders take disjoint rows instead of queueing on each other's, in a
  MATERIALIZED CTE: inside "id IN (subquery)" PostgreSQL may run a
  LIMIT ... FOR UPDATE subquery more than once and claim more than `limit`;
- on SQLite the write lock taken first (Database.writing, BEGIN IMMEDIATE)
  makes the statement atomic.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, select, update
from sqlalchemy.sql._typing import _ColumnsClauseArgument

from notices.core.db import Database
from notices.core.states import DeliveryStatus


def claim_rows(
    db: Database,
    table: Table,
    *,
    due: Sequence[ColumnElement[bool]],
    limit: int,
    lease_until: datetime,
    owner: str,
    returning: Sequence[_ColumnsClauseArgument[Any]],
) -> Sequence[Any]:
    """Claim for `owner` until `lease_until` up to `limit` rows of `table` matching `due` (the longest
    due first), in one transaction and one statement; the `returning` columns of the rows claimed,
    in no set order. While claimed, next_attempt_at is the end of the lease, so a claim whose sender
    died falls due again by the same indexed condition as a pending row."""
    key, columns = table.c.id, table.c
    values = {
        columns.status: DeliveryStatus.SENDING,
        columns.lease_until: lease_until,
        columns.next_attempt_at: lease_until,
        columns.attempts: columns.attempts + 1,
        columns.claimed_by: owner,
    }
    candidates = select(key).where(*due).order_by(columns.next_attempt_at, key).limit(limit)
    if db.dialect == "postgresql":
        chosen = candidates.with_for_update(skip_locked=True).cte("due").prefix_with("MATERIALIZED")
    else:
        chosen = candidates.cte("due")
    with db.writing() as session, session.begin():
        # Core on the session's connection: rows come back as plain tuples, not through
        # the ORM's bulk-update machinery (this runs for every batch of a send run).
        return (
            session.connection()
            .execute(update(table).where(key.in_(select(chosen.c.id)), *due).values(values).returning(*returning))
            .all()
        )
