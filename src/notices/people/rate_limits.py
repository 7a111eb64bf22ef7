"""Fixed-window rate limits counted in the database, so they hold across processes.

(The `limits` package has no SQL storage, and these limits must survive
restarts and be shared by replicas without adding Redis to the stack.)
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from notices.core.db import affected_rows, insert_ignoring_duplicates
from notices.core.models import RateLimitHit, table_of


def _window_start(now: datetime, window: timedelta) -> datetime:
    seconds = int(window.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)


_MAX_BUCKET = 200  # the column's length


def storable_bucket(bucket: str) -> str:
    """The bucket as stored. Names built from user input (an email, a client address) may be
    longer than the column or hold a NUL or a lone surrogate, which PostgreSQL refuses; those
    are stored as a readable prefix plus a digest of the whole name."""
    try:
        plain = len(bucket) <= _MAX_BUCKET and "\x00" not in bucket and bool(bucket.encode("utf-8"))
    except UnicodeEncodeError:
        plain = False
    if plain:
        return bucket
    digest = hashlib.sha256(bucket.encode("utf-8", "surrogatepass")).hexdigest()
    readable = bucket[:100].encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    return f"{readable}#{digest}"


def hit(session: Session, bucket: str, *, limit: int, window: timedelta, now: datetime) -> bool:
    """Count one attempt in `bucket`; False if that makes more than `limit` in the window."""
    bucket = storable_bucket(bucket)
    start = _window_start(now, window)
    insert_ignoring_duplicates(session, table_of(RateLimitHit), {"bucket": bucket, "window_start": start, "count": 0})
    # The increment is a single UPDATE, so concurrent requests cannot both read the old count.
    session.execute(
        update(RateLimitHit)
        .where(RateLimitHit.bucket == bucket, RateLimitHit.window_start == start)
        .values(count=RateLimitHit.count + 1)
    )
    # The row exists: inserted above, by us or by whoever was first.
    count = session.execute(
        select(RateLimitHit.count).where(RateLimitHit.bucket == bucket, RateLimitHit.window_start == start)
    ).scalar_one()
    return count <= limit


def purge_expired(session: Session, *, before: datetime) -> int:
    return affected_rows(session, delete(RateLimitHit).where(RateLimitHit.window_start < before))
