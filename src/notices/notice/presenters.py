"""Notices as plain data (CLI --json, the JSON API): times in the site zone, status derived."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from notices.core.models import Notice
from notices.notice.lifecycle import status_at
from notices.notice.times import isoformat_site


def _time(instant: datetime | None, zone: ZoneInfo) -> str | None:
    return isoformat_site(instant, zone) if instant is not None else None


def notice_data(notice: Notice, *, zone: ZoneInfo, now: datetime, with_history: bool = False) -> dict[str, Any]:
    data: dict[str, object] = {
        "uid": notice.uid,
        "status": str(status_at(notice, now)),
        "title": notice.title,
        "summary": notice.summary,
        "body": notice.body,
        "category": notice.category,
        "severity": notice.severity,
        "locations": list(notice.locations),
        "location_detail": notice.location_detail,
        "geometry": notice.geometry,
        "publish_at": _time(notice.publish_at, zone),
        "starts_at": _time(notice.starts_at, zone),
        "ends_at": _time(notice.ends_at, zone),
        "expected_end": notice.expected_end,
        "version": notice.version,
        "cancelled_at": _time(notice.cancelled_at, zone),
        "cancel_reason": notice.cancel_reason,
        "created_at": _time(notice.created_at, zone),
        "created_by": notice.created_by,
        "updated_at": _time(notice.updated_at, zone),
        "updated_by": notice.updated_by,
    }
    if with_history:
        data["events"] = [
            {
                "kind": event.kind,
                "version": event.version,
                "occurred_at": _time(event.occurred_at, zone),
                "recorded_at": event.recorded_at.astimezone(zone).isoformat(timespec="milliseconds"),
                "detail": event.detail,
            }
            for event in notice.events
        ]
        data["revisions"] = [
            {
                "version": revision.version,
                "changed_at": _time(revision.changed_at, zone),
                "changed_by": revision.changed_by,
                "change_note": revision.change_note,
            }
            for revision in notice.revisions
        ]
    return data
