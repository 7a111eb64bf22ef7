"""The test event `notices hook test` sends: a made-up notice, rendered like a real event for the endpoint."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from notices.core.config import SEVERITIES, Settings
from notices.core.models import HookEndpoint, Notice
from notices.hooks import payloads
from notices.hooks.kinds import EndpointKind
from notices.notice.presenters import notice_data

# Not one of payloads.EVENT_TYPES: a receiver can tell a test from news. Chat messages carry
# the made-up notice as "published" (their title says it is a test); webhooks say notice.test.
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
        type="notice.published",
        occurred_at=now,
        notice=notice_data(notice, zone=settings.timezone, now=now, settings=settings),
        url=settings.absolute_url(""),
    )
    if endpoint.kind == EndpointKind.WEBHOOK:
        body = json.dumps(
            payloads.webhook_body(event, endpoint.language, settings) | {"type": TEST_TYPE},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        content_type = payloads.JSON
    else:
        body, content_type = payloads.render(endpoint.kind, event, endpoint.language, settings)
    return TestDelivery(f"msg_{event.event_id}", TEST_TYPE, body.decode(), content_type)
