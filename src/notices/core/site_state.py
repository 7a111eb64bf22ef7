"""The one-row site_state table: the data version every write bumps, so other processes
(feed caches, schedulers) see changes cheaply, and the stored secret key (see context)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from notices.core import change_signal
from notices.core.models import SiteState


def bump_data_version(session: Session, now: datetime) -> None:
    """Tell every process (feed caches, schedulers) that data changed: they poll the counter, and
    on PostgreSQL they also hear it at once (core.change_signal)."""
    version = session.scalar(
        update(SiteState)
        .where(SiteState.id == 1)
        .values(data_version=SiteState.data_version + 1, changed_at=now)
        .returning(SiteState.data_version)
    )
    if version is not None:
        change_signal.announce(session, version)


def data_version(session: Session) -> int:
    return session.scalar(select(SiteState.data_version).where(SiteState.id == 1)) or 0
