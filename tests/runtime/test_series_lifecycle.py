"""A weekly 07:00–09:00 series over the daylight saving changes (Europe/Amsterdam, 29 March and
25 October 2026): each occurrence starts and ends once, at 07:00 and 09:00 local, with a stable
id; the scheduler wakes for each boundary; a catch-up records the missed ones (and only those
since publication); cancelling one occurrence, or the series, is told once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from notices.core.models import NoticeEvent
from notices.core.states import Phase
from notices.notice import approval, series, series_changes, store
from notices.people.roles import Actor
from notices.runtime import jobs
from tests.factories import add_notice, reload

ZONE = ZoneInfo("Europe/Amsterdam")
NOTHING = {"published": 0, "started": 0, "ended": 0}


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


# The four Tuesdays of each series, two before and two after the change of clocks.
SPRING = [local(2026, 3, day, 7) for day in (17, 24, 31)] + [local(2026, 4, 7, 7)]
AUTUMN = [local(2026, 10, day, 7) for day in (13, 20, 27)] + [local(2026, 11, 3, 7)]
SEASONS = pytest.mark.parametrize("starts", [SPRING, AUTUMN], ids=["spring-forward", "fall-back"])


def weekly(ctx, first: datetime, *, now: datetime, **extra):
    return add_notice(
        ctx,
        now=now,
        starts_at=first,
        ends_at=None,
        recurrence="FREQ=WEEKLY;BYDAY=TU;COUNT=4",
        occurrence_minutes=120,
        **extra,
    )


def next_boundary(ctx, now: datetime) -> datetime | None:
    """When the scheduler next has a notice boundary to record (reminders aside)."""
    with ctx.db.session() as session:
        return store.next_boundary_after(session, now)


def occurrence_events(ctx, uid: str) -> list[tuple[str, str, datetime]]:
    return [(e.kind, e.occurrence, e.occurred_at) for e in reload(ctx, uid).events if e.occurrence]


def ids_of(starts: list[datetime]) -> list[str]:
    return [start.strftime("%Y%m%dT%H%M%SZ") for start in starts]


@SEASONS
def test_each_occurrence_starts_at_seven_and_ends_at_nine_local_once(ctx, starts):
    published = starts[0] - timedelta(days=7)
    notice = weekly(ctx, starts[0], now=published)
    assert jobs.record_transitions(ctx, now=published) == {"published": 1, "started": 0, "ended": 0}
    now = published
    for start in starts:
        end = start + timedelta(hours=2)
        # The scheduler's next wake-up is this occurrence's start, then its end: 07:00 and 09:00 local.
        assert next_boundary(ctx, now) == start
        assert start.astimezone(ZONE).hour == 7
        assert jobs.record_transitions(ctx, now=start - timedelta(microseconds=1)) == NOTHING
        assert jobs.record_transitions(ctx, now=start) == {"published": 0, "started": 1, "ended": 0}
        assert jobs.record_transitions(ctx, now=start) == NOTHING  # run twice: nothing new
        assert next_boundary(ctx, start) == end
        assert end.astimezone(ZONE).hour == 9
        assert jobs.record_transitions(ctx, now=end) == {"published": 0, "started": 0, "ended": 1}
        assert jobs.record_transitions(ctx, now=end) == NOTHING
        now = end
    ids = ids_of(starts)
    expected = []
    for occurrence_id, start in zip(ids, starts, strict=True):
        expected += [("started", occurrence_id, start), ("ended", occurrence_id, start + timedelta(hours=2))]
    assert occurrence_events(ctx, notice.uid) == expected
    # The UTC hour moved with the clocks; the local hours did not.
    assert {start.hour for start in starts} == {5, 6}
    assert reload(ctx, notice.uid).announced_phase == Phase.ENDED
    assert [e.kind for e in reload(ctx, notice.uid).events if not e.occurrence] == ["published"]
    assert next_boundary(ctx, now) is None


@SEASONS
def test_a_catch_up_records_every_missed_occurrence_with_its_own_times(ctx, starts):
    published = starts[0] - timedelta(days=7)
    notice = weekly(ctx, starts[0], now=published)
    jobs.record_transitions(ctx, now=published)
    # Down from before the first occurrence until the third one was under way.
    third = starts[2] + timedelta(hours=1)
    assert jobs.record_transitions(ctx, now=third) == {"published": 0, "started": 3, "ended": 2}
    assert jobs.record_transitions(ctx, now=third) == NOTHING
    # And again after the last one.
    assert jobs.record_transitions(ctx, now=starts[3] + timedelta(days=1)) == {"published": 0, "started": 1, "ended": 2}
    events = occurrence_events(ctx, notice.uid)
    assert [(kind, occurrence) for kind, occurrence, _ in events] == [
        (kind, occurrence_id) for occurrence_id in ids_of(starts) for kind in ("started", "ended")
    ]
    assert [instant.astimezone(ZONE).hour for _, _, instant in events] == [7, 9] * 4
    assert reload(ctx, notice.uid).announced_phase == Phase.ENDED


def test_a_catch_up_looks_back_to_publication_only(ctx, clock):
    """A daily series whose rule began a year ago, published now: no year of past occurrences."""
    now = clock.now()  # Saturday 28 November 2026, 10:00 local
    notice = add_notice(
        ctx,
        starts_at=local(2025, 11, 28, 9),
        ends_at=None,
        recurrence="FREQ=DAILY",
        occurrence_minutes=120,
    )
    assert jobs.record_transitions(ctx, now=now) == {"published": 1, "started": 1, "ended": 0}
    (started,) = occurrence_events(ctx, notice.uid)
    # Under way at publication: it "starts" for readers when it is published.
    assert started == ("started", "20261128T080000Z", now)
    assert next_boundary(ctx, now) == local(2026, 11, 28, 11)


def cancel_occurrence(ctx, uid: str, occurrence_id: str, now: datetime, reason: str = "market day") -> None:
    with ctx.db.writing() as session, session.begin():
        notice = store.get_notice(session, uid, for_update=True)
        fields = series.cancel_occurrence(store.fields_of(notice), occurrence_id, reason=reason, now=now)
        approval.update(
            session, notice, fields, note=reason, minor=False, actor=Actor(label="t"), settings=ctx.settings, now=now
        )


def test_a_cancelled_occurrence_does_not_start_and_is_told_once(ctx):
    published = SPRING[0] - timedelta(days=7)
    notice = weekly(ctx, SPRING[0], now=published)
    jobs.record_transitions(ctx, now=published)
    second = ids_of(SPRING)[1]
    cancel_occurrence(ctx, notice.uid, second, published + timedelta(hours=1))
    assert reload(ctx, notice.uid).version == 2
    jobs.record_transitions(ctx, now=SPRING[0] + timedelta(hours=2))
    # After the first one, the scheduler's next boundary skips the cancelled second one.
    assert next_boundary(ctx, SPRING[0] + timedelta(hours=2)) == SPRING[2]
    assert jobs.record_transitions(ctx, now=SPRING[1] + timedelta(hours=1)) == NOTHING
    jobs.record_transitions(ctx, now=SPRING[3] + timedelta(hours=2))
    events = occurrence_events(ctx, notice.uid)
    assert ("cancelled", second) in [(kind, occurrence) for kind, occurrence, _ in events]
    assert [kind for kind, occurrence, _ in events if occurrence == second] == ["cancelled"]
    assert sum(1 for kind, _, _ in events if kind == "started") == 3
    # The revision and the audit log have it; the data version moved.
    history = reload(ctx, notice.uid)
    assert history.revisions[-1].snapshot["occurrence_changes"] == {second: {"cancelled": True, "reason": "market day"}}
    with pytest.raises(series.OccurrenceConflict, match="already cancelled"):
        cancel_occurrence(ctx, notice.uid, second, published + timedelta(hours=2))
    with pytest.raises(series.OccurrenceConflict, match="already ended"):
        cancel_occurrence(ctx, notice.uid, ids_of(SPRING)[0], SPRING[0] + timedelta(hours=3))
    with pytest.raises(series.OccurrenceNotFound, match="20260318T060000Z"):
        cancel_occurrence(ctx, notice.uid, "20260318T060000Z", published)


def test_cancelling_the_series_is_one_event_for_the_whole(ctx):
    published = SPRING[0] - timedelta(days=7)
    notice = weekly(ctx, SPRING[0], now=published)
    jobs.record_transitions(ctx, now=SPRING[0] + timedelta(hours=3))
    with ctx.db.writing() as session, session.begin():
        store.cancel_notice(
            session,
            store.get_notice(session, notice.uid),
            reason="stopped",
            now=SPRING[1] - timedelta(days=1),
            author="t",
        )
    assert jobs.record_transitions(ctx, now=SPRING[3] + timedelta(days=1)) == NOTHING
    with ctx.db.session() as session:
        cancelled = session.scalars(select(NoticeEvent).where(NoticeEvent.kind == "cancelled")).all()
    assert [(event.occurrence, event.detail) for event in cancelled] == [("", "stopped")]


def test_moving_an_occurrence_is_one_rescheduled_event_and_moves_its_boundaries(ctx):
    published = AUTUMN[0] - timedelta(days=7)
    notice = weekly(ctx, AUTUMN[0], now=published)
    jobs.record_transitions(ctx, now=published)
    third = ids_of(AUTUMN)[2]
    # 27 October (after the clocks went back) moved to Wednesday 28 October, 10:00–11:00 local.
    new_start, new_end = local(2026, 10, 28, 10), local(2026, 10, 28, 11)
    with ctx.db.writing() as session, session.begin():
        current = store.get_notice(session, notice.uid, for_update=True)
        fields = series.move_occurrence(
            store.fields_of(current), third, starts_at=new_start, ends_at=new_end, now=published
        )
        approval.update(
            session,
            current,
            fields,
            note="moved a day",
            minor=False,
            actor=Actor(label="t"),
            settings=ctx.settings,
            now=published,
        )
    assert next_boundary(ctx, AUTUMN[1] + timedelta(hours=2)) == new_start
    jobs.record_transitions(ctx, now=AUTUMN[3] + timedelta(hours=2))
    events = occurrence_events(ctx, notice.uid)
    assert [(kind, instant) for kind, occurrence, instant in events if occurrence == third] == [
        ("rescheduled", published),
        ("started", new_start),
        ("ended", new_end),
    ]


def test_the_feed_cache_sees_occurrence_boundaries_without_a_write(ctx):
    published = SPRING[0] - timedelta(days=7)
    weekly(ctx, SPRING[0], now=published)
    with ctx.db.session() as session:
        # Between the second and third occurrence: the last change was the second one's end.
        between = SPRING[1] + timedelta(days=2)
        assert store.last_change_at_or_before(session, between) == SPRING[1] + timedelta(hours=2)
        assert store.last_change_at_or_before(session, SPRING[2] + timedelta(minutes=5)) == SPRING[2]
        assert store.next_boundary_after(session, between) == SPRING[2]


def test_an_occurrence_cancelled_while_under_way_ends_at_the_cancellation(ctx):
    published = SPRING[0] - timedelta(days=7)
    notice = weekly(ctx, SPRING[0], now=published)
    jobs.record_transitions(ctx, now=published)
    jobs.record_transitions(ctx, now=SPRING[1])  # the second one has started
    second = ids_of(SPRING)[1]
    cancelled_at = SPRING[1] + timedelta(minutes=30)
    with ctx.db.writing() as session, session.begin():
        found = store.get_notice(session, notice.uid, for_update=True)
        series_changes.cancel_occurrence(
            session, found, second, reason="storm", actor=Actor(label="t"), settings=ctx.settings, now=cancelled_at
        )
    # It started, was cancelled and ended there and then: a consumer pairing starts with ends is told.
    told = [(kind, instant) for kind, occurrence, instant in occurrence_events(ctx, notice.uid) if occurrence == second]
    assert told == [("started", SPRING[1]), ("cancelled", cancelled_at), ("ended", cancelled_at)]
    # The job adds nothing for it at its planned end, and goes on with the next ones.
    assert jobs.record_transitions(ctx, now=SPRING[1] + timedelta(hours=2)) == NOTHING
    assert jobs.record_transitions(ctx, now=SPRING[2]) == {"published": 0, "started": 1, "ended": 0}


def test_an_occurrence_cancelled_before_the_job_told_its_start_is_told_started_then_ended(ctx):
    published = SPRING[0] - timedelta(days=7)
    notice = weekly(ctx, SPRING[0], now=published)
    jobs.record_transitions(ctx, now=published)
    cancelled_at = SPRING[0] + timedelta(minutes=10)  # the scheduler was down at 07:00
    first = ids_of(SPRING)[0]
    cancel_occurrence(ctx, notice.uid, first, cancelled_at, reason="storm")
    told = [(kind, instant) for kind, occurrence, instant in occurrence_events(ctx, notice.uid) if occurrence == first]
    assert told == [("started", SPRING[0]), ("cancelled", cancelled_at), ("ended", cancelled_at)]
    assert jobs.record_transitions(ctx, now=SPRING[0] + timedelta(hours=2)) == NOTHING


def test_an_occurrence_cancelled_before_it_starts_has_no_start_or_end(ctx):
    published = SPRING[0] - timedelta(days=7)
    notice = weekly(ctx, SPRING[0], now=published)
    jobs.record_transitions(ctx, now=published)
    first = ids_of(SPRING)[0]
    cancel_occurrence(ctx, notice.uid, first, SPRING[0] - timedelta(minutes=1))
    jobs.record_transitions(ctx, now=SPRING[0] + timedelta(hours=2))
    assert [kind for kind, occurrence, _ in occurrence_events(ctx, notice.uid) if occurrence == first] == ["cancelled"]
