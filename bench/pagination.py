"""Benchmark: the first and a deep page of GET /api/v1/notices with 100,000 ended notices.

Run by hand (not part of the test suite; the tests prove the contract and the query plans):

    .venv/bin/python bench/pagination.py [--ended 100000] [--repeats 50]
    NOTICES_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench .venv/bin/python bench/pagination.py

Builds a fresh scratch database (a SQLite file in a temporary folder, or the PostgreSQL database
named by NOTICES_BENCH_DATABASE_URL, whose tables it drops first), loads 1,000 visible and
100,000 ended notices, and times whole requests through the app in-process (routing, SQL,
JSON), median and 95th percentile of --repeats runs each, and the median of the page's SQL alone:
- the first page of ?status=ended (target: under 50 ms on both databases),
- a page 90,000 notices deep, through its cursor (keyset: as fast as the first),
- the first page of the default list (upcoming and active) and of a filtered list.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select, text

from notices.core import cursors
from notices.core import db as database
from notices.core.clock import FixedClock
from notices.core.config import load_settings
from notices.core.context import AppContext
from notices.core.db import Database
from notices.core.models import Base, Notice, table_of
from notices.notice import history
from notices.notice.lifecycle import VISIBLE_STATUSES, Status
from notices.web import create_app

CATEGORIES = ["road-closure", "construction", "utilities", "traffic", "event", "safety", "facilities"]
LOCATIONS = ["plesmanlaan", "sylviusweg", "einsteinweg", "wassenaarseweg"]


def notice_rows(count: int, *, now: datetime, ended: bool, first: int) -> list[dict]:
    rows = []
    for i in range(first, first + count):
        if ended:
            starts = now - timedelta(days=40 + i % 3000, hours=i % 24)
            ends: datetime | None = starts + timedelta(days=1 + i % 20)
            publish = starts - timedelta(days=3)
        else:
            starts = now + timedelta(hours=(i % 200) - 100)
            ends = None if i % 5 == 0 else now + timedelta(days=1 + i % 30)
            publish = min(starts, now) - timedelta(days=1)
        rows.append(
            {
                "uid": str(uuid.UUID(int=i + 1)),
                "title": f"Notice {i}: works on the {LOCATIONS[i % 4].title()}",
                "summary": "One lane closed; expect delays.",
                "body": "The road is closed for reconstruction of the sewer. Follow the diversion signs.",
                "category": CATEGORIES[i % 7],
                "severity": ["info", "minor", "major", "critical"][i % 4],
                "locations": [LOCATIONS[i % 4]],
                "location_detail": "",
                "geometry": None,
                "publish_at": publish,
                "starts_at": starts,
                "ends_at": ends,
                "expected_end": "",
                "translations": {},
                "version": 1,
                "cancelled_at": None,
                "cancel_reason": "",
                "created_at": publish,
                "created_by": "bench",
                "updated_at": publish,
                "updated_by": "bench",
                "announced_phase": "ended" if ended else "started",
            }
        )
    return rows


def load(db: Database, *, now: datetime, ended: int, chunk: int = 20_000) -> None:
    with db.engine.begin() as connection:
        connection.execute(table_of(Notice).insert(), notice_rows(1_000, now=now, ended=False, first=0))
    for first in range(0, ended, chunk):
        with db.engine.begin() as connection:
            size = min(chunk, ended - first)
            connection.execute(table_of(Notice).insert(), notice_rows(size, now=now, ended=True, first=10_000 + first))
    with db.engine.begin() as connection:
        connection.execute(text("ANALYZE"))


def sql_ms(ctx: AppContext, params: dict, repeats: int) -> float:
    """The median of the page's SQL alone (notice.history), without rendering the JSON."""
    statuses = frozenset(Status(value) for value in [params["status"]]) if "status" in params else VISIBLE_STATUSES
    criteria = history.Criteria(
        statuses=statuses,
        categories=frozenset([params["category"]]) if "category" in params else frozenset(),
        locations=frozenset([params["location"]]) if "location" in params else frozenset(),
        public_only=True,
    )
    after = cursors.decode(params["cursor"]) if "cursor" in params else None
    samples = []
    with ctx.db.session() as session:
        for _ in range(repeats):
            started = time.perf_counter()
            history.page(session, criteria, now=ctx.clock.now(), limit=int(params.get("limit", 50)), after=after)
            samples.append((time.perf_counter() - started) * 1000)
            session.expunge_all()
    return statistics.median(samples)


def timed(client: TestClient, url: str, params: dict, repeats: int) -> tuple[float, float, int]:
    """Median and 95th percentile in ms, and the page's size."""
    samples, size = [], 0
    client.get(url, params=params)  # warm: the first request also builds the app's caches
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(url, params=params)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
        size = response.json()["count"]
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1], size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ended", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="notices-bench-"))
    url = os.environ.get("NOTICES_BENCH_DATABASE_URL", f"sqlite:///{workdir}/bench.db")
    settings = load_settings({**os.environ, "NOTICES_DATABASE_URL": url, "NOTICES_MAIL_DIR": str(workdir / "mail")})
    now = datetime.now(UTC).replace(microsecond=0)
    db = Database.from_url(url)
    with db.engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    database.upgrade(db.engine)
    ctx = AppContext(settings=settings, db=db, clock=FixedClock(now))

    print(f"database: {url.split('@')[-1]}")
    started = time.perf_counter()
    load(db, now=now, ended=args.ended)
    print(f"loaded 1,000 visible + {args.ended:,} ended notices in {time.perf_counter() - started:.1f} s")
    deep = min(90_000, args.ended - 100)
    with db.session() as session:
        starts_at, row_id = session.execute(
            select(Notice.starts_at, Notice.id)
            .where(Notice.ends_at <= now, Notice.cancelled_at.is_(None))
            .order_by(Notice.starts_at, Notice.id)
            .offset(deep)
            .limit(1)
        ).one()
    deep_cursor = cursors.encode(cursors.Position(starts_at, row_id))

    cases = [
        ("first page, status=ended", {"status": "ended"}),
        (f"page {deep:,} deep, status=ended", {"status": "ended", "cursor": deep_cursor}),
        ("first page, status=ended, limit=500", {"status": "ended", "limit": 500}),
        ("first page, default (upcoming, active)", {}),
        ("first page, ended, category+location", {"status": "ended", "category": "traffic", "location": "sylviusweg"}),
    ]
    with TestClient(create_app(settings, ctx=ctx)) as client:
        for label, params in cases:
            median, p95, size = timed(client, "/api/v1/notices", params, args.repeats)
            sql = sql_ms(ctx, params, args.repeats)
            print(f"{label:42} {size:4} notices  request median {median:6.1f} ms  p95 {p95:6.1f} ms  SQL {sql:5.1f} ms")
    db.dispose()


if __name__ == "__main__":
    main()
