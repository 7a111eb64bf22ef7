"""Fixed-window rate limits counted in the database, so they hold across processes.

(The `limits` package has no SQL storage, and these limits must survive
restarts and be shared by replicas without adding Redis to the stack.)
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from notices.db import insert_ignoring_duplicates
from notices.models import RateLimitHit


def _window_start(now: datetime, window: timedelta) -> datetime:
    seconds = int(window.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)


def hit(session: Session, bucket: str, *, limit: int, window: timedelta, now: datetime) -> bool:
    """Count one attempt in `bucket`; False if that makes more than `limit` in the window."""
    start = _window_start(now, window)
    insert_ignoring_duplicates(session, RateLimitHit.__table__, {"bucket": bucket, "window_start": start, "count": 0})
    # The increment is a single UPDATE, so concurrent requests cannot both read the old count.
    session.execute(
        update(RateLimitHit)
        .where(RateLimitHit.bucket == bucket, RateLimitHit.window_start == start)
        .values(count=RateLimitHit.count + 1)
    )
    count = session.scalar(
        select(RateLimitHit.count).where(RateLimitHit.bucket == bucket, RateLimitHit.window_start == start)
    )
    return count <= limit


def purge_expired(session: Session, *, before: datetime) -> int:
    return session.execute(delete(RateLimitHit).where(RateLimitHit.window_start < before)).rowcount
