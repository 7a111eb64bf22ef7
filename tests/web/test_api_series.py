"""The JSON API for series: the rule in, the occurrences out, one occurrence cancelled or moved,
and input errors that name the field (422), an unknown occurrence (404), a conflict (409)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from notices.core.models import AuditEntry
from tests.factories import add_token, add_user, reload

# Tuesdays 07:00–09:00 site time from 1 December 2026 (the clock: Saturday 28 November 10:00).
SERIES = {
    "title": "Market closure",
    "category": "road-closure",
    "severity": "major",
    "starts_at": "2026-12-01T07:00",
    "recurrence": "FREQ=WEEKLY;BYDAY=TU;COUNT=10",
    "occurrence_minutes": 120,
}


@pytest.fixture
def auth(ctx):
    add_user(ctx, "manager@example.org")
    return {"Authorization": f"Bearer {add_token(ctx, 'manager@example.org')}"}


def create(client, auth, **changes):
    return client.post("/api/v1/notices", json=SERIES | changes, headers=auth)


def test_a_series_is_created_and_shows_its_rule_and_next_occurrences(client, auth):
    created = create(client, auth, skip=["2026-12-15", "20261222T060000Z"])
    assert created.status_code == 201, created.text
    data = created.json()
    assert (data["recurrence"], data["occurrence_minutes"]) == ("FREQ=WEEKLY;BYDAY=TU;COUNT=10", 120)
    assert data["starts_at"] == "2026-12-01T07:00:00+01:00"
    assert data["ends_at"] == "2027-02-02T09:00:00+01:00"  # derived: the tenth Tuesday's end
    assert data["next_occurrence"]["id"] == "20261201T060000Z"
    assert (data["next_occurrence"]["starts_at"], data["next_occurrence"]["ends_at"]) == (
        "2026-12-01T07:00:00+01:00",
        "2026-12-01T09:00:00+01:00",
    )
    assert [o["id"] for o in data["upcoming_occurrences"][:3]] == [
        "20261201T060000Z",
        "20261208T060000Z",
        "20261229T060000Z",
    ]
    assert [(o["id"], o["cancelled"]) for o in data["exceptions"]] == [
        ("20261215T060000Z", True),
        ("20261222T060000Z", True),
    ]


def test_control_characters_in_a_rule_are_dropped(client, auth):
    created = create(client, auth, recurrence="freq=weekly\x00;\u202ecount=2\ufffe")
    assert created.status_code == 201, created.text
    assert created.json()["recurrence"] == "FREQ=WEEKLY;COUNT=2"


def test_a_single_notice_shows_no_series_fields(client, auth):
    created = create(client, auth, recurrence=None, occurrence_minutes=None, ends_at="2026-12-01T09:00")
    assert created.status_code == 201, created.text
    data = created.json()
    assert (data["recurrence"], data["next_occurrence"], data["exceptions"]) == (None, None, [])


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"recurrence": "FREQ=HOURLY"}, "recurrence", "FREQ must be one of"),
        ({"recurrence": "FREQ=WEEKLY;BYDAY=XX"}, "recurrence", "not a valid RRULE"),
        ({"recurrence": "FREQ=WEEKLY;BYDAY=WE"}, "recurrence", "the start is not an occurrence of the rule"),
        ({"occurrence_minutes": 60 * 24 * 8}, "occurrence_minutes", ""),
        ({"recurrence": "FREQ=DAILY", "occurrence_minutes": 60 * 25}, "occurrence_minutes", "overlap"),
        ({"ends_at": "2026-12-01T09:00"}, "ends_at", "a series ends with its rule"),
        ({"occurrence_minutes": None}, "occurrence_minutes", "is required for a series"),
        ({"skip": ["2026-12-02"]}, "skip", "no occurrence on 2026-12-02"),
        ({"skip": ["20261202T060000Z"]}, "skip", "no occurrence '20261202T060000Z'"),
        ({"recurrence": "FREQ=" + "W" * 600}, "recurrence", ""),
        ({"recurrence": "FREQ=WEEKLY;UNTIL=99991231"}, "recurrence", ""),
    ],
)
def test_bad_series_input_is_a_422_naming_the_field(ctx, client, auth, changes, field, words):
    answer = create(client, auth, **changes)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == field or error["field"].endswith(field), error
    assert words in error["message"]
    with ctx.db.session() as session:
        assert session.scalars(select(AuditEntry)).all() == []  # nothing half-written


def test_one_occurrence_is_cancelled_then_refused_again_and_unknown_ids_are_404(ctx, client, auth):
    uid = create(client, auth).json()["uid"]
    url = f"/api/v1/notices/{uid}/occurrences/20261208T060000Z/cancel"
    cancelled = client.post(url, json={"reason": "Fair on the square"}, headers=auth | {"If-Match": '"1"'})
    assert cancelled.status_code == 200, cancelled.text
    data = cancelled.json()
    assert data["version"] == 2 and cancelled.headers["ETag"] == '"2"'
    assert data["exceptions"] == [
        {
            "id": "20261208T060000Z",
            "starts_at": "2026-12-08T07:00:00+01:00",
            "ends_at": "2026-12-08T09:00:00+01:00",
            "original_start": "2026-12-08T07:00:00+01:00",
            "cancelled": True,
            "reason": "Fair on the square",
            "moved": False,
        }
    ]
    again = client.post(url, json={"reason": "again"}, headers=auth)
    assert again.status_code == 409
    assert "already cancelled" in again.json()["error"]["message"]
    unknown = client.post(
        f"/api/v1/notices/{uid}/occurrences/20261209T060000Z/cancel", json={"reason": "x"}, headers=auth
    )
    assert unknown.status_code == 404
    assert "20261209T060000Z" in unknown.json()["error"]["message"]
    garbage = client.post(f"/api/v1/notices/{uid}/occurrences/tuesday/cancel", json={"reason": "x"}, headers=auth)
    assert garbage.status_code == 404
    events = [(e.kind, e.occurrence) for e in reload(ctx, uid).events]
    assert events == [("cancelled", "20261208T060000Z")]
    with ctx.db.session() as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["notice.create", "notice.update"]


def test_an_ended_occurrence_cannot_be_cancelled(ctx, client, auth, clock):
    uid = create(client, auth).json()["uid"]
    clock.advance(timedelta(days=4))  # Wednesday 2 December: the first Tuesday is over
    answer = client.post(
        f"/api/v1/notices/{uid}/occurrences/20261201T060000Z/cancel", json={"reason": "late"}, headers=auth
    )
    assert answer.status_code == 409
    assert "already ended" in answer.json()["error"]["message"]


def test_one_occurrence_is_moved(ctx, client, auth):
    uid = create(client, auth).json()["uid"]
    url = f"/api/v1/notices/{uid}/occurrences/20261208T060000Z"
    moved = client.patch(url, json={"starts_at": "2026-12-09T10:00", "note": "moved a day"}, headers=auth)
    assert moved.status_code == 200, moved.text
    (exception,) = moved.json()["exceptions"]
    assert (exception["starts_at"], exception["ends_at"], exception["moved"]) == (
        "2026-12-09T10:00:00+01:00",
        "2026-12-09T12:00:00+01:00",  # it keeps its two hours
        True,
    )
    overlapping = client.patch(
        url, json={"starts_at": "2026-12-15T08:00", "ends_at": "2026-12-15T10:00", "note": "x"}, headers=auth
    )
    assert overlapping.status_code == 422
    assert overlapping.json()["error"]["field"] == "starts_at"
    bad_time = client.patch(url, json={"starts_at": "next week", "note": "x"}, headers=auth)
    assert (bad_time.status_code, bad_time.json()["error"]["field"]) == (422, "starts_at")
    assert [(e.kind, e.occurrence) for e in reload(ctx, uid).events] == [("rescheduled", "20261208T060000Z")]


def test_a_single_notice_has_no_occurrences_to_cancel(client, auth):
    uid = create(client, auth, recurrence=None, occurrence_minutes=None).json()["uid"]
    answer = client.post(
        f"/api/v1/notices/{uid}/occurrences/20261201T060000Z/cancel", json={"reason": "x"}, headers=auth
    )
    assert answer.status_code == 409
    assert "not a series" in answer.json()["error"]["message"]


def test_a_change_of_rule_is_rescheduling_and_recurrence_null_ends_the_series(ctx, client, auth):
    uid = create(client, auth).json()["uid"]
    changed = client.patch(
        f"/api/v1/notices/{uid}",
        json={"recurrence": "FREQ=WEEKLY;BYDAY=TU;COUNT=2", "note": "two weeks only"},
        headers=auth,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["ends_at"] == "2026-12-08T09:00:00+01:00"
    single = client.patch(f"/api/v1/notices/{uid}", json={"recurrence": None, "note": "once"}, headers=auth)
    assert single.status_code == 200, single.text
    assert (single.json()["recurrence"], single.json()["ends_at"]) == (None, "2026-12-01T09:00:00+01:00")
    refused = client.patch(f"/api/v1/notices/{uid}", json={"occurrence_minutes": "60", "note": "x"}, headers=auth)
    assert refused.status_code == 422
