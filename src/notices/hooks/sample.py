"""The test event `notices hook test` sends: a made-up notice, rendered like a real event for the endpoint."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from notices.core.config import SEVERITIES, Settings
from notices.core.models import HookEndpoint, Notice
from notices.hooks import payloads
from notices.notice.presenters import notice_data

TEST_TYPE = "notice.test"


@dataclass(frozen=True)
class TestDelivery:
    webhook_id: str
    event_type: str
    body: str
    content_type: str


def sample_notice(settings: Settings, *, now: datetime) -> Notice:
    """A notice that exists nowhere, with the site's first category and location (never stored)."""
    return Notice(
        uid="00000000-0000-4000-8000-000000000000",
        title=f"Test message from {settings.site_name}",
        summary="This is a test of the integration; no notice was published.",
        body="",
        category=next(iter(settings.categories), ""),
        severity=SEVERITIES[0],
        locations=list(settings.locations)[:1],
        location_detail="",
        geometry=None,
        publish_at=now,
        starts_at=now,
        ends_at=now + timedelta(hours=1),
        expected_end="",
        version=1,
        cancelled_at=None,
        cancel_reason="",
        created_at=now,
        created_by="",
        updated_at=now,
        updated_by="",
    )


def test_delivery(endpoint: HookEndpoint, *, settings: Settings, now: datetime) -> TestDelivery:
    notice = sample_notice(settings, now=now)
    event = payloads.HookEvent(
        event_id=f"test-{secrets.token_hex(8)}",
        type=TEST_TYPE,
        occurred_at=now,
        notice=notice_data(notice, zone=settings.timezone, now=now),
        url=settings.absolute_url(""),
    )
    body, content_type = payloads.render(endpoint.kind, event, endpoint.language, settings)
    return TestDelivery(f"msg_{event.event_id}", TEST_TYPE, body.decode(), content_type)
