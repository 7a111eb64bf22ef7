"""record_transitions: each published/started/ended event exactly once, also after downtime."""

from datetime import timedelta

import pytest

from notices.notice import store
from notices.notice.validation import parse_changes
from notices.runtime import jobs
from tests.factories import add_notice, reload


def kinds(ctx, uid):
    return [(event.kind, event.version) for event in reload(ctx, uid).events]


def test_events_are_recorded_at_each_boundary(ctx, clock):
    now = clock.now()
    notice = add_notice(ctx, starts_at=now + timedelta(seconds=5), ends_at=now + timedelta(seconds=10))
    assert jobs.record_transitions(ctx, now=now) == {"published": 1, "started": 0, "ended": 0}
    clock.advance(timedelta(seconds=5))
    assert jobs.record_transitions(ctx, now=clock.now()) == {"published": 0, "started": 1, "ended": 0}
    clock.advance(timedelta(seconds=5))
    assert jobs.record_transitions(ctx, now=clock.now()) == {"published": 0, "started": 0, "ended": 1}
    assert kinds(ctx, notice.uid) == [("published", 1), ("started", 1), ("ended", 1)]


def test_nothing_is_recorded_a_microsecond_before_the_boundary(ctx, clock):
    now = clock.now()
    add_notice(ctx, starts_at=now + timedelta(seconds=5), ends_at=now + timedelta(seconds=10))
    jobs.record_transitions(ctx, now=now)
    just_before = now + timedelta(seconds=5) - timedelta(microseconds=1)
    assert jobs.record_transitions(ctx, now=just_before) == {"published": 0, "started": 0, "ended": 0}


def test_running_twice_changes_nothing_the_second_time(ctx, clock):
    now = clock.now()
    notice = add_notice(ctx, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1))
    first = jobs.record_transitions(ctx, now=now)
    second = jobs.record_transitions(ctx, now=now)
    assert first == {"published": 1, "started": 1, "ended": 0}
    assert second == {"published": 0, "started": 0, "ended": 0}
    assert kinds(ctx, notice.uid) == [("published", 1), ("started", 1)]


def test_catch_up_after_downtime_records_every_missed_event_with_its_own_time(ctx, clock):
    now = clock.now()
    notice = add_notice(ctx, starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=2))
    # The scheduler was down for a day: one run records all three, in order.
    counts = jobs.record_transitions(ctx, now=now + timedelta(days=1))
    assert counts == {"published": 1, "started": 1, "ended": 1}
    events = reload(ctx, notice.uid).events
    assert [event.occurred_at for event in events] == [now, now + timedelta(hours=1), now + timedelta(hours=2)]
    assert {event.recorded_at for event in events} == {now + timedelta(days=1)}


def test_scheduled_notice_is_published_at_its_publish_time(ctx, clock):
    now = clock.now()
    notice = add_notice(ctx, publish_at=now + timedelta(hours=1), starts_at=now + timedelta(days=1), ends_at=None)
    assert jobs.record_transitions(ctx, now=now)["published"] == 0
    assert jobs.record_transitions(ctx, now=now + timedelta(hours=1))["published"] == 1
    assert kinds(ctx, notice.uid) == [("published", 1)]


def test_drafts_and_cancelled_notices_get_no_lifecycle_events(ctx, clock):
    now = clock.now()
    draft = add_notice(ctx, draft=True, starts_at=now - timedelta(hours=1))
    assert jobs.record_transitions(ctx, now=now) == {"published": 0, "started": 0, "ended": 0}
    assert kinds(ctx, draft.uid) == []


def test_an_ended_notice_that_is_extended_ends_again_later(ctx, clock):
    now = clock.now()
    notice = add_notice(
        ctx, publish_at=now - timedelta(hours=3), starts_at=now - timedelta(hours=2), ends_at=now - timedelta(hours=1)
    )
    jobs.record_transitions(ctx, now=now)
    with ctx.db.writing() as session, session.begin():
        current = store.get_notice(session, notice.uid)
        fields = parse_changes(
            {"ends_at": now + timedelta(hours=1)}, current=store.fields_of(current), settings=ctx.settings, now=now
        )
        store.update_notice(session, current, fields, note="closure extended", now=now, author="test")
    assert jobs.record_transitions(ctx, now=now) == {"published": 0, "started": 0, "ended": 0}
    assert jobs.record_transitions(ctx, now=now + timedelta(hours=1)) == {"published": 0, "started": 0, "ended": 1}
    assert kinds(ctx, notice.uid) == [
        ("published", 1),
        ("started", 1),
        ("ended", 1),
        ("rescheduled", 2),
        ("ended", 2),
    ]


def test_recording_bumps_the_data_version_so_other_processes_notice(ctx, clock):
    now = clock.now()
    add_notice(ctx, starts_at=now - timedelta(hours=1), ends_at=None)
    before = jobs.data_version(ctx)
    jobs.record_transitions(ctx, now=now)
    assert jobs.data_version(ctx) == before + 1


def _at(ctx, text):
    from notices.notice.times import parse_instant

    return parse_instant(text, zone=ctx.settings.timezone, now=ctx.clock.now())


@pytest.mark.parametrize(
    ("starts", "ends"),
    [
        # Spring forward, 29 March 2026: 01:30 -> 03:30 local is one hour.
        ("2026-03-29T01:30", "2026-03-29T03:30"),
        # Fall back, 25 October 2026: the second 02:30 (+01:00) -> 03:30 is one hour.
        ("2026-10-25T02:30+01:00", "2026-10-25T03:30"),
        # ... and the first 02:30 (+02:00) -> the second 02:30 (+01:00) is one hour too.
        ("2026-10-25T02:30+02:00", "2026-10-25T02:30+01:00"),
    ],
)
def test_events_at_the_exact_instants_across_dst_changes(ctx, clock, starts, ends):
    start, end = _at(ctx, starts), _at(ctx, ends)
    assert end - start == timedelta(hours=1)
    notice = add_notice(
        ctx, publish_at=start - timedelta(days=1), starts_at=start, ends_at=end, now=start - timedelta(days=2)
    )
    assert jobs.record_transitions(ctx, now=start - timedelta(microseconds=1))["started"] == 0
    assert jobs.record_transitions(ctx, now=start)["started"] == 1
    assert jobs.record_transitions(ctx, now=end - timedelta(microseconds=1))["ended"] == 0
    assert jobs.record_transitions(ctx, now=end)["ended"] == 1
    events = {event.kind: event.occurred_at for event in reload(ctx, notice.uid).events}
    assert (events["started"], events["ended"]) == (start, end)
