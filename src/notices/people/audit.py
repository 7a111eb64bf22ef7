"""The audit log: one line per change, whoever made it and however (console, API, CLI)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from notices.core.models import AuditEntry


def record(session: Session, *, actor: str, action: str, target: str = "", detail: str = "", now: datetime) -> None:
    session.add(AuditEntry(at=now, actor=actor[:320], action=action, target=target[:200], detail=detail[:2000]))


def recent(session: Session, *, limit: int = 200, target: str = "", actor: str = "") -> list[AuditEntry]:
    """The latest entries, optionally about one notice (its uid) or by one person.

    `actor` matches the email whatever the channel ("api:ann@example.org", "console:ann@...", or
    the bare email), so one person's doings read as one list.
    """
    query = select(AuditEntry)
    if target:
        query = query.where(AuditEntry.target == target)
    if actor:
        query = query.where(or_(AuditEntry.actor == actor, AuditEntry.actor.endswith(f":{actor}", autoescape=True)))
    return list(session.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)))
