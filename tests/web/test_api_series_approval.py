"""Cancelling one occurrence of a major series is a schedule change: an editor's waits for a
second person (202, nothing told), and once approved it is told once, about that occurrence."""

from __future__ import annotations

import pytest

from notices.runtime import jobs
from tests.approval_staff import approval_settings, staff_per_role, tokens_per_email  # noqa: F401 (fixtures)
from tests.factories import add_subscriber, reload

SERIES = {
    "title": "Market closure",
    "category": "road-closure",
    "severity": "major",
    "starts_at": "2026-12-01T07:00",
    "recurrence": "FREQ=WEEKLY;BYDAY=TU;COUNT=10",
    "occurrence_minutes": 120,
}


@pytest.fixture
def api(mail_ctx, app):
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        yield client


def test_an_editors_cancellation_of_one_occurrence_waits_for_approval(api, tokens, smtp, mail_ctx, clock):
    add_subscriber(mail_ctx, "tenant@example.org")
    uid = api.post("/api/v1/notices", json=SERIES, headers=tokens["manager@example.org"]).json()["uid"]
    api.post(f"/api/v1/notices/{uid}/approve", json={}, headers=tokens["approver@example.org"])
    jobs.record_transitions(mail_ctx, now=clock.now())
    jobs.enqueue_alerts(mail_ctx, now=clock.now())
    held = api.post(
        f"/api/v1/notices/{uid}/occurrences/20261208T060000Z/cancel",
        json={"reason": "Fair on the square"},
        headers=tokens["editor@example.org"],
    )
    assert held.status_code == 202, held.text
    assert held.json()["exceptions"] == [] and held.json()["approval"]["state"] == "submitted"
    assert [e.kind for e in reload(mail_ctx, uid).events] == ["published"]
    approved = api.post(f"/api/v1/notices/{uid}/approve", json={}, headers=tokens["approver@example.org"])
    assert approved.status_code == 200, approved.text
    notice = api.get(f"/api/v1/notices/{uid}").json()
    assert [(o["id"], o["cancelled"]) for o in notice["exceptions"]] == [("20261208T060000Z", True)]
    events = [(e.kind, e.occurrence) for e in reload(mail_ctx, uid).events]
    assert events == [("published", ""), ("cancelled", "20261208T060000Z")]
    assert jobs.enqueue_alerts(mail_ctx, now=clock.now())["enqueued"] == 1
    assert jobs.enqueue_alerts(mail_ctx, now=clock.now())["enqueued"] == 0
