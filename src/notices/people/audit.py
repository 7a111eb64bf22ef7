"""The audit log: one line per change, whoever made it and however (console, API, CLI)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, literal, or_, select, tuple_
from sqlalchemy.orm import Session

from notices.core.cursors import Position
from notices.core.models import AuditEntry


def record(session: Session, *, actor: str, action: str, target: str = "", detail: str = "", now: datetime) -> None:
    session.add(AuditEntry(at=now, actor=actor[:320], action=action, target=target[:200], detail=detail[:2000]))


def recent(session: Session, *, limit: int = 200, target: str = "", actor: str = "") -> list[AuditEntry]:
    """The latest entries, optionally about one notice (its uid) or by one person.

    `actor` matches the email whatever the channel ("api:ann@example.org", "console:ann@...", or
    the bare email), so one person's doings read as one list.
    """
    return list(
        session.scalars(_query(target, actor).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit))
    )


def page(
    session: Session, *, limit: int, target: str = "", actor: str = "", before: Position | None = None
) -> tuple[list[AuditEntry], Position | None]:
    """A page of `recent`, newest first, older than `before`; and where the next page starts (None: the last)."""
    query = _query(target, actor)
    if before is not None:
        key = tuple_(AuditEntry.at, AuditEntry.id)
        query = query.where(key < tuple_(literal(before.at, AuditEntry.at.type), literal(before.id)))
    rows = list(session.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit + 1)))
    shown = rows[:limit]
    return shown, Position(shown[-1].at, shown[-1].id) if len(rows) > limit else None


def _query(target: str, actor: str) -> Select[AuditEntry]:
    query = select(AuditEntry)
    if target:
        query = query.where(AuditEntry.target == target)
    if actor:
        query = query.where(or_(AuditEntry.actor == actor, AuditEntry.actor.endswith(f":{actor}", autoescape=True)))
    return query
