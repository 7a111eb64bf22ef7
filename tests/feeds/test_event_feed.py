"""The event feed: one entry per lifecycle event, each with its own stable id."""

from datetime import timedelta

from notices.notice import store
from notices.notice.validation import parse_changes
from notices.runtime import jobs
from tests.factories import add_notice
from tests.webclient import parse_feed


def update(ctx, uid, note, **raw):
    now = ctx.clock.now()
    with ctx.db.writing() as session, session.begin():
        notice = store.get_notice(session, uid)
        fields = parse_changes(raw, current=store.fields_of(notice), settings=ctx.settings, now=now)
        store.update_notice(session, notice, fields, note=note, now=now, author="test")


def test_every_lifecycle_event_is_its_own_entry_newest_first(ctx, clock, client):
    now = clock.now()
    notice = add_notice(ctx, starts_at=now + timedelta(hours=1), ends_at=now + timedelta(days=2))
    jobs.record_transitions(ctx, now=now)
    clock.advance(timedelta(hours=1))
    jobs.record_transitions(ctx, now=clock.now())
    clock.advance(timedelta(minutes=5))
    update(ctx, notice.uid, "closure extended to 12 December", ends_at="2026-12-12T17:00")
    feed = parse_feed(client.get("/feeds/events.atom"))
    titles = [entry.title for entry in feed.entries]
    assert [title.split(":")[0] for title in titles] == ["Rescheduled", "Now in effect", "New"]
    assert "closure extended to 12 December" in feed.entries[0].content[0].value
    assert len({entry.id for entry in feed.entries}) == 3
    assert all(entry.link.endswith(f"/notices/{notice.uid}") for entry in feed.entries)


def test_event_ids_are_stable_across_renders(ctx, clock, client):
    add_notice(ctx, starts_at=clock.now() - timedelta(minutes=1))
    jobs.record_transitions(ctx, now=clock.now())
    first = [entry.id for entry in parse_feed(client.get("/feeds/events.atom")).entries]
    add_notice(ctx, title="Another")
    jobs.record_transitions(ctx, now=clock.now())
    second = [entry.id for entry in parse_feed(client.get("/feeds/events.atom")).entries]
    assert set(first) < set(second)


def test_cancellation_appears_with_its_reason(ctx, client):
    notice = add_notice(ctx)
    with ctx.db.writing() as session, session.begin():
        store.cancel_notice(
            session,
            store.get_notice(session, notice.uid),
            reason="works postponed to spring",
            now=ctx.clock.now(),
            author="test",
        )
    (entry,) = parse_feed(client.get("/feeds/events.rss")).entries
    assert entry.title.startswith("Cancelled: ")
    assert "works postponed to spring" in entry.content[0].value
    # A reader that shows only the summary (the RSS description) reads why, not "Cancelled: cancelled".
    assert entry.summary.startswith("Cancelled: works postponed to spring<br")


def test_events_older_than_30_days_leave_the_feed(ctx, clock, client):
    add_notice(ctx, starts_at=clock.now() + timedelta(days=60), ends_at=None)
    jobs.record_transitions(ctx, now=clock.now())
    assert len(parse_feed(client.get("/feeds/events.atom")).entries) == 1
    clock.advance(timedelta(days=30, seconds=1))
    assert parse_feed(client.get("/feeds/events.atom")).entries == []


def test_event_feed_takes_the_same_filters(ctx, clock, client):
    add_notice(ctx, category="road-closure")
    add_notice(ctx, category="event", severity="info")
    jobs.record_transitions(ctx, now=clock.now())
    feed = parse_feed(client.get("/feeds/events.atom?category=event"))
    assert len(feed.entries) == 1
    assert client.get("/feeds/events.atom?severity=urgent").status_code == 400


def test_each_event_shows_the_notice_as_it_was_then(ctx, clock, client):
    notice = add_notice(ctx, starts_at=clock.now() - timedelta(days=1), ends_at=clock.now() + timedelta(days=2))
    clock.advance(timedelta(minutes=1))
    update(ctx, notice.uid, "closure extended to 12 December", ends_at="2026-12-12T17:00")
    clock.advance(timedelta(minutes=1))
    update(ctx, notice.uid, "extended again, to 19 December", ends_at="2026-12-19T17:00")
    entries = parse_feed(client.get("/feeds/events.atom")).entries
    contents = {entry.content[0].value.split("</strong>")[0]: entry.content[0].value for entry in entries}
    assert "Sat 12 Dec 2026 17:00" in contents["<p><strong>closure extended to 12 December"]
    assert "Sat 19 Dec 2026 17:00" in contents["<p><strong>extended again, to 19 December"]
