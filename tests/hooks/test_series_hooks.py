"""Hooks for a series (to a real receiver): each occurrence's start and end reach an endpoint
that wants them, each with the occurrence in `data.occurrence` and a webhook-id of its own; a
cancelled occurrence is told once, with its own times and reason in the chat message."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from notices.notice import approval, series, series_changes
from notices.notice import store as notice_store
from notices.people.roles import Actor
from notices.runtime import jobs
from tests.factories import add_notice
from tests.hooks.conftest import add_endpoint

ZONE = ZoneInfo("Europe/Amsterdam")


def local(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=ZONE).astimezone(UTC)


def run(ctx, now: datetime) -> None:
    jobs.record_transitions(ctx, now=now)
    jobs.enqueue_hooks(ctx, now=now)
    jobs.send_hooks(ctx, now=now)


def test_occurrence_events_carry_the_occurrence(hook_ctx, clock, receiver, other_receiver):
    ctx = hook_ctx
    add_endpoint(ctx, receiver.url)
    add_endpoint(ctx, other_receiver.url, kind="slack")
    published = local(2026, 12, 1)
    clock.set(published)
    notice = add_notice(
        ctx,
        now=published,
        starts_at=local(2026, 12, 1, 7),
        ends_at=None,
        recurrence="FREQ=WEEKLY;BYDAY=TU;COUNT=3",
        occurrence_minutes=120,
    )
    run(ctx, published)
    with ctx.db.writing() as session, session.begin():
        found = notice_store.get_notice(session, notice.uid, for_update=True)
        fields = series.cancel_occurrence(
            notice_store.fields_of(found), "20261208T060000Z", reason="Fair on the square", now=published
        )
        approval.update(
            session,
            found,
            fields,
            note="Fair on the square",
            minor=False,
            actor=Actor(label="t"),
            settings=ctx.settings,
            now=published,
        )
    run(ctx, published)  # the cancellation is told before the first occurrence starts
    for instant in (local(2026, 12, 1, 7), local(2026, 12, 1, 9), local(2026, 12, 1, 9)):
        run(ctx, instant)
    bodies = [json.loads(request.body) for request in receiver.received]
    assert [(body["type"], (body["data"].get("occurrence") or {}).get("id")) for body in bodies] == [
        ("notice.published", None),
        ("notice.cancelled", "20261208T060000Z"),
        ("notice.started", "20261201T060000Z"),
        ("notice.ended", "20261201T060000Z"),
    ]
    cancelled = bodies[1]["data"]["occurrence"]
    assert cancelled == {
        "id": "20261208T060000Z",
        "starts_at": "2026-12-08T07:00:00+01:00",
        "ends_at": "2026-12-08T09:00:00+01:00",
        "cancelled": True,
        "reason": "Fair on the square",
    }
    ids = [request.headers["webhook-id"] for request in receiver.received]
    assert len(set(ids)) == 4
    chat = [json.dumps(json.loads(request.body), ensure_ascii=False) for request in other_receiver.received]
    (message,) = [text for text in chat if text.startswith('{"text": "Cancelled')]
    # The occurrence's own times and reason, not the series'.
    assert "Fair on the square" in message and "Tue 8 Dec 2026 07:00–09:00" in message


def test_an_occurrence_cancelled_while_under_way_is_told_ended_at_the_cancellation(hook_ctx, clock, receiver):
    ctx = hook_ctx
    add_endpoint(ctx, receiver.url)
    published = local(2026, 12, 1)
    clock.set(published)
    notice = add_notice(
        ctx,
        now=published,
        starts_at=local(2026, 12, 1, 7),
        ends_at=None,
        recurrence="FREQ=WEEKLY;BYDAY=TU;COUNT=3",
        occurrence_minutes=120,
    )
    run(ctx, published)
    run(ctx, local(2026, 12, 1, 7))
    cancelled_at = local(2026, 12, 1, 8)
    with ctx.db.writing() as session, session.begin():
        found = notice_store.get_notice(session, notice.uid, for_update=True)
        series_changes.cancel_occurrence(
            session,
            found,
            "20261201T060000Z",
            reason="Storm",
            actor=Actor(label="t"),
            settings=ctx.settings,
            now=cancelled_at,
        )
    for instant in (cancelled_at, local(2026, 12, 1, 9)):
        run(ctx, instant)
    # Sent side by side ([hooks] concurrency): a receiver orders by each event's timestamp.
    bodies = {json.loads(request.body)["type"]: json.loads(request.body) for request in receiver.received}
    assert sorted(bodies) == ["notice.cancelled", "notice.ended", "notice.published", "notice.started"]
    assert {body["data"]["occurrence"]["id"] for kind, body in bodies.items() if kind != "notice.published"} == {
        "20261201T060000Z"
    }
    assert bodies["notice.started"]["timestamp"].startswith("2026-12-01T06:00:00")
    # It ended when it was cancelled (08:00 local), not at its planned end; and it is told once.
    assert bodies["notice.ended"]["timestamp"].startswith("2026-12-01T07:00:00")
    assert bodies["notice.cancelled"]["timestamp"] == bodies["notice.ended"]["timestamp"]
    assert len(receiver.received) == 4
