"""Many notices at once, straight into the table (the store's write path is too slow for thousands)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from notices.core.db import Database
from notices.core.models import Notice, table_of

CATEGORIES = ("road-closure", "construction", "utilities", "traffic", "event")
LOCATIONS = ("plesmanlaan", "sylviusweg", "einsteinweg", "wassenaarseweg")
SEVERITIES = ("info", "minor", "major", "critical")


def ended_rows(count: int, *, now: datetime, first: int = 0) -> list[dict]:
    """Ended notices, a few sharing a start (ties the order must still break)."""
    rows = []
    for i in range(first, first + count):
        starts = now - timedelta(days=30 + i // 3, hours=i % 3 // 2)
        rows.append(row(i, starts=starts, ends=starts + timedelta(days=1 + i % 5)))
    return rows


def row(i: int, *, starts: datetime, ends: datetime | None, publish: datetime | None = None) -> dict:
    publish = publish or starts - timedelta(days=2)
    return {
        "uid": str(uuid.UUID(int=i + 1)),
        "title": f"Notice {i}",
        "summary": "",
        "body": "",
        "category": CATEGORIES[i % len(CATEGORIES)],
        "severity": SEVERITIES[i % len(SEVERITIES)],
        "locations": [LOCATIONS[i % len(LOCATIONS)]],
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
        "created_by": "test",
        "updated_at": publish,
        "updated_by": "test",
        "announced_phase": "ended",
    }


def insert_rows(db: Database, rows: list[dict], chunk: int = 5_000) -> None:
    for start in range(0, len(rows), chunk):
        with db.engine.begin() as connection:
            connection.execute(table_of(Notice).insert(), rows[start : start + chunk])
