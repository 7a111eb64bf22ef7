"""Notice lists a page at a time: keyset (cursor) pagination with every filter done in SQL.

The order is (starts_at, id), a total order that no insert can reshuffle: a page starts
strictly after the last row of the one before, so paging through a growing table shows every
row that existed throughout exactly once, and a deep page costs what the first one does
(an index range, never OFFSET). The cursor is that last row's key (core.cursors).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, column, exists, func, literal, or_, select, tuple_, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from notices.core.config import SEVERITIES
from notices.core.cursors import Position
from notices.core.errors import InvalidField
from notices.core.models import Notice, table_of
from notices.notice.lifecycle import SEVERITY_RANK, VISIBLE_STATUSES, Status

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# Statuses found among the live notices only (not cancelled, not ended): a small set the
# partial indexes reach without walking the history.
_LIVE_ONLY = VISIBLE_STATUSES | {Status.SCHEDULED}


@dataclass(frozen=True)
class Criteria:
    """What to list. Within one field any value matches; fields combine with AND."""

    statuses: frozenset[Status]
    categories: frozenset[str] = frozenset()
    locations: frozenset[str] = frozenset()
    min_severity: str | None = None
    # The notice's period overlaps [since, until): it had not ended by `since` and started before `until`.
    since: datetime | None = None
    until: datetime | None = None
    # Without a token: only what was announced (a notice cancelled before that never was).
    public_only: bool = False
    newest_first: bool = False


@dataclass(frozen=True)
class Page:
    notices: Sequence[Notice]
    # The cursor for the next page; None on the last one.
    next: Position | None


def status_condition(
    status: Status, now: datetime, *, ended_by: ColumnElement[Any] | None = None
) -> ColumnElement[bool]:
    """lifecycle.status_at as SQL: the rows whose status at `now` is `status` (`ended_by`: see _off_index)."""
    live = Notice.cancelled_at.is_(None)
    not_ended = or_(Notice.ends_at.is_(None), Notice.ends_at > now)
    published = Notice.publish_at <= now
    conditions: dict[Status, ColumnElement[bool]] = {
        Status.CANCELLED: Notice.cancelled_at.is_not(None),
        Status.DRAFT: and_(live, Notice.publish_at.is_(None)),
        Status.ENDED: and_(
            live, Notice.publish_at.is_not(None), (Notice.ends_at if ended_by is None else ended_by) <= now
        ),
        Status.SCHEDULED: and_(live, Notice.publish_at > now, not_ended),
        Status.ACTIVE: and_(live, published, not_ended, Notice.starts_at <= now),
        Status.UPCOMING: and_(live, published, not_ended, Notice.starts_at > now),
    }
    return conditions[status]


def _off_index(session: Session, name: str) -> ColumnElement[Any]:
    """The column, kept off any index on SQLite (a unary +, its documented way to do that).

    Nearly every row is announced and, in a long history, ended; SQLite's planner cannot know
    that: given "publish_at <= now" or "ends_at <= now" it reads all of history through
    ix_notices_publish_at or ix_notices_live_ends_at and sorts it for one page (300 ms at
    100,000 ended notices). Kept off those, it walks the order's index and stops after a page.
    PostgreSQL's statistics tell its planner as much.
    """
    column: ColumnElement[Any] = table_of(Notice).c[name]
    if session.get_bind().dialect.name == "sqlite":
        return UnaryExpression(column, operator=custom_op("+"), type_=column.type)
    return column


def _public(session: Session, now: datetime) -> ColumnElement[bool]:
    """lifecycle.is_public as SQL."""
    return and_(
        _off_index(session, "publish_at") <= now,
        or_(Notice.cancelled_at.is_(None), Notice.publish_at <= Notice.cancelled_at),
    )


def _any_location(session: Session, locations: frozenset[str]) -> ColumnElement[bool]:
    # The locations are a JSON list; each database has its own way to open one up.
    unpack = func.json_array_elements_text if session.get_bind().dialect.name == "postgresql" else func.json_each
    elements = unpack(Notice.locations).table_valued("value")
    return exists(select(literal(1)).select_from(elements).where(column("value").in_(sorted(locations))))


def _conditions(session: Session, criteria: Criteria, now: datetime) -> list[ColumnElement[bool]]:
    ended_by = _off_index(session, "ends_at")
    conditions = [or_(*(status_condition(status, now, ended_by=ended_by) for status in sorted(criteria.statuses)))]
    if criteria.statuses <= _LIVE_ONLY:
        # Two index look-ups (see store.live_candidates_query) instead of a walk through history.
        live = Notice.cancelled_at.is_(None)
        ids = union_all(
            select(Notice.id).where(live, Notice.ends_at > now), select(Notice.id).where(live, Notice.ends_at.is_(None))
        )
        conditions.append(Notice.id.in_(ids))
    if criteria.categories:
        conditions.append(Notice.category.in_(sorted(criteria.categories)))
    if criteria.locations:
        conditions.append(_any_location(session, criteria.locations))
    if criteria.min_severity:
        floor = SEVERITY_RANK[criteria.min_severity]
        conditions.append(Notice.severity.in_([name for name in SEVERITIES if SEVERITY_RANK[name] >= floor]))
    if criteria.since is not None:
        conditions.append(or_(Notice.ends_at.is_(None), Notice.ends_at > criteria.since))
    if criteria.until is not None:
        conditions.append(Notice.starts_at < criteria.until)
    if criteria.public_only:
        conditions.append(_public(session, now))
    return conditions


def page_query(
    session: Session, criteria: Criteria, *, now: datetime, limit: int, after: Position | None = None
) -> Select[Notice]:
    """The SQL of one page: `limit` rows after `after` in (starts_at, id) order (reversed with newest_first)."""
    query = select(Notice).where(*_conditions(session, criteria, now))
    if after is not None:
        key = tuple_(Notice.starts_at, Notice.id)
        bound = tuple_(literal(after.at, Notice.starts_at.type), literal(after.id))
        query = query.where(key < bound if criteria.newest_first else key > bound)
    if criteria.newest_first:
        return query.order_by(Notice.starts_at.desc(), Notice.id.desc()).limit(limit)
    return query.order_by(Notice.starts_at, Notice.id).limit(limit)


def page(
    session: Session, criteria: Criteria, *, now: datetime, limit: int = DEFAULT_LIMIT, after: Position | None = None
) -> Page:
    """Up to `limit` notices after `after`, and where the next page starts."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidField("limit", f"must be between 1 and {MAX_LIMIT}")
    # One row more than asked tells whether there is a next page without a count(*).
    rows = session.scalars(page_query(session, criteria, now=now, limit=limit + 1, after=after)).all()
    shown = rows[:limit]
    more = len(rows) > limit
    return Page(shown, Position(shown[-1].starts_at, shown[-1].id) if more else None)
