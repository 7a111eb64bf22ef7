"""The audit log: one line per change, whoever made it and however (console, API, CLI)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from notices.core.models import AuditEntry


def record(session: Session, *, actor: str, action: str, target: str = "", detail: str = "", now: datetime) -> None:
    session.add(AuditEntry(at=now, actor=actor[:320], action=action, target=target[:200], detail=detail[:2000]))


def recent(session: Session, *, limit: int = 200) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)))
