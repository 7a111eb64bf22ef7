"""Incremental rendering (feeds.fragments): a feed put together from entries kept between renders is
byte for byte the feed rendered whole, whatever was written and however much time passed between
the renders; and after one notice changed, only that notice's entries are rendered again."""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import UTC, datetime, timedelta

import feedparser
import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import delete, select

from notices.core.errors import InvalidField
from notices.core.models import Notice, NoticeRevision
from notices.feeds.catalog import render_feed
from notices.feeds.fragments import Fragments
from notices.notice import store
from notices.notice.attachments import service
from notices.notice.attachments.blobstore import open_store
from notices.notice.lifecycle import Filters
from notices.notice.store import NoticeConflict
from notices.notice.validation import parse_changes
from notices.runtime import jobs
from tests.attachment_samples import pdf
from tests.conftest import DEFAULT_NOW, empty_tables
from tests.factories import add_notice
from tests.feeds.geo_samples import CLOSURE_WITH_DIVERSION

FEEDS = (
    "/feeds/notices.atom",
    "/feeds/notices.rss",
    "/calendar/notices.ics",
    "/feeds/notices.geojson",
    "/feeds/events.atom",
    "/feeds/events.rss",
)
LANGUAGES = ("en", "nl")

# Text with what markup, XML and the calendar's folding give meaning to.
WORDS = st.text(st.sampled_from("abc xyz <>&\"';,\\:*_[]()#\né€"), min_size=1, max_size=40).filter(str.strip)
HOURS = st.integers(-24, 96)


@st.composite
def new_notices(draw):
    """The fields of a notice: single or a series, open-ended or not, scheduled or published, in
    one language or two, with or without a drawn closure."""
    starts = DEFAULT_NOW + timedelta(hours=draw(HOURS), minutes=draw(st.sampled_from([0, 30])))
    fields = {
        "title": draw(WORDS),
        "summary": draw(st.one_of(st.just(""), WORDS)),
        "body": draw(st.one_of(st.just(""), WORDS, st.just("**Detour** via [the map](/map)."))),
        "category": draw(st.sampled_from(["road-closure", "utilities", "event"])),
        "severity": draw(st.sampled_from(["info", "minor", "major", "critical"])),
        "starts_at": starts,
        "ends_at": None,
    }
    shape = draw(st.sampled_from(["ends", "open", "series"]))
    if shape == "ends":
        fields["ends_at"] = starts + timedelta(hours=draw(st.integers(1, 200)))
    elif shape == "open":
        fields["expected_end"] = draw(st.one_of(st.just(""), WORDS))
    else:
        fields["recurrence"] = draw(st.sampled_from(["FREQ=DAILY;COUNT=6", "FREQ=WEEKLY;COUNT=3", "FREQ=DAILY"]))
        fields["occurrence_minutes"] = draw(st.sampled_from([60, 180]))
    if draw(st.booleans()):
        fields["title"] = {"en": fields["title"], "nl": draw(WORDS)}
    if draw(st.integers(0, 3)) == 0:
        fields["geometry"] = CLOSURE_WITH_DIVERSION
    if draw(st.integers(0, 3)) == 0:
        fields["publish_at"] = DEFAULT_NOW + timedelta(hours=draw(st.integers(1, 48)))
    return fields


WAIT = st.tuples(st.just("wait"), st.integers(20, 60 * 24 * 4))  # minutes: across boundaries and midnights
STEPS = st.lists(
    st.one_of(
        WAIT,
        WAIT,  # most often: time passes, which changes titles, statuses and horizons without a write
        st.tuples(st.just("add"), new_notices()),
        st.tuples(st.just("edit"), st.integers(0, 9), WORDS),
        st.tuples(st.just("cancel"), st.integers(0, 9)),
        st.tuples(st.just("attach"), st.integers(0, 9)),
        st.just(("record",)),  # the scheduler records what happened: published, started, ended events
    ),
    min_size=1,
    max_size=6,
)


def renders_match(ctx, fragments: Fragments) -> None:
    now = ctx.clock.now()
    for path in FEEDS:
        for language in LANGUAGES:
            filters, query = Filters(language=language), f"lang={language}"
            kept = render_feed(ctx, path, filters, query, now, fragments)
            whole = render_feed(ctx, path, filters, query, now)
            assert kept.body == whole.body, f"{path}?{query} at {now.isoformat()} differs from the whole render"


def apply(ctx, step, uids: list[str]) -> None:
    action, *values = step
    now = ctx.clock.now()
    if action == "add":
        with contextlib.suppress(InvalidField):  # e.g. an end already past by now: refused, as for a manager
            uids.append(add_notice(ctx, **values[0]).uid)
        return
    if action == "wait":
        ctx.clock.advance(timedelta(minutes=values[0]))
        return
    if action == "record":
        jobs.record_transitions(ctx, now=now)
        return
    if not uids:
        return
    uid = uids[values[0] % len(uids)]
    with ctx.db.writing() as session, session.begin():
        notice = store.get_notice(session, uid, for_update=True)
        try:
            if action == "edit":
                changed = parse_changes(
                    {"summary": values[1]}, current=store.fields_of(notice), settings=ctx.settings, now=now
                )
                store.update_notice(session, notice, changed, note="edit", now=now, author="test")
            elif action == "cancel":
                store.cancel_notice(session, notice, reason="called off", now=now, author="test")
            else:
                service.attach(
                    session,
                    open_store(ctx.settings),
                    notice,
                    data=pdf(),
                    filename="map.pdf",
                    title="",
                    actor="t",
                    now=now,
                )
        except NoticeConflict:
            pass  # an ended or cancelled notice, or nothing to change: refused, as for a manager


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(first=st.lists(new_notices(), min_size=1, max_size=4), steps=STEPS, occurrence_events=st.booleans())
def test_kept_entries_give_the_bytes_of_a_whole_render(ctx, migrated_database, first, steps, occurrence_events):
    empty_tables(migrated_database)
    ctx.clock.set(DEFAULT_NOW)
    # [feeds] occurrence_events puts an occurrence's own events in the events feeds, whose titles
    # say which occurrence as of now (the year once it is not this year's).
    ctx.settings = dataclasses.replace(ctx.settings, feed_occurrence_events=occurrence_events)
    fragments = Fragments()
    uids: list[str] = []
    for fields in first:
        apply(ctx, ("add", fields), uids)
    renders_match(ctx, fragments)
    for step in steps:
        apply(ctx, step, uids)
        renders_match(ctx, fragments)


# Missed: the changed one's row, view and entry. Found: the others' rows and entries, the changed
# one's view once more (for its stored body) and, for Atom, the others' views (an entry's key holds
# its title, which is made from the view); a kept event is found by the notice's key alone.
@pytest.mark.parametrize(
    ("path", "found"), [("/feeds/notices.atom", 19 + 19 + 19 + 1), ("/calendar/notices.ics", 19 + 19 + 1)]
)
def test_after_one_change_only_that_notice_is_rendered_again(ctx, path, found):
    notices = [add_notice(ctx, title=f"Works {index}") for index in range(20)]
    fragments = Fragments()
    render_feed(ctx, path, Filters(), "", ctx.clock.now(), fragments)
    assert fragments.misses == 60  # a row read, a view and an entry for each
    apply(ctx, ("edit", 7, "New diversion"), [notice.uid for notice in notices])
    fragments.misses = fragments.hits = 0
    body = render_feed(ctx, path, Filters(), "", ctx.clock.now(), fragments).body
    assert (fragments.misses, fragments.hits) == (3, found)
    assert b"New diversion" in body


def test_fragments_are_not_shared_between_settings(ctx):
    add_notice(ctx, title="Plesmanlaan closed")
    fragments = Fragments()
    render_feed(ctx, "/feeds/notices.atom", Filters(), "", ctx.clock.now(), fragments)
    ctx.settings = dataclasses.replace(ctx.settings, site_name="Bio Science Park")
    body = render_feed(ctx, "/feeds/notices.atom", Filters(), "", ctx.clock.now(), fragments).body
    assert body == render_feed(ctx, "/feeds/notices.atom", Filters(), "", ctx.clock.now()).body
    assert body.count(b"Bio Science Park") >= 2  # the feed's author and the entry's


def test_an_occurrence_event_kept_across_new_year_gets_its_year(ctx):
    # [feeds] occurrence_events: an occurrence's start is an entry of its own, its title saying
    # which occurrence ('Thu 31 Dec 08:00–09:00'), with the year once that is not the year of now.
    ctx.settings = dataclasses.replace(ctx.settings, feed_occurrence_events=True)
    ctx.clock.set(datetime(2026, 12, 30, 12, tzinfo=UTC))
    add_notice(
        ctx,
        title="Year-end market",
        starts_at=datetime(2026, 12, 31, 8, tzinfo=UTC),
        ends_at=None,
        recurrence="FREQ=DAILY;COUNT=3",
        occurrence_minutes=60,
    )
    ctx.clock.set(datetime(2026, 12, 31, 12, tzinfo=UTC))
    jobs.record_transitions(ctx, now=ctx.clock.now())
    fragments = Fragments()
    path, filters = "/feeds/events.atom", Filters()
    before = render_feed(ctx, path, filters, "", ctx.clock.now(), fragments).body
    ctx.clock.set(datetime(2027, 1, 1, 7, tzinfo=UTC))  # nothing written, nothing happened since
    kept = render_feed(ctx, path, filters, "", ctx.clock.now(), fragments).body
    assert kept == render_feed(ctx, path, filters, "", ctx.clock.now()).body
    assert kept != before
    titles = [entry.title for entry in feedparser.parse(kept).entries if "Year-end market" in entry.title]
    assert any("2026" in title for title in titles), titles


@pytest.mark.parametrize("path", ["/feeds/events.atom", "/feeds/events.rss"])
def test_after_one_change_only_the_new_event_is_rendered(ctx, path):
    notices = [add_notice(ctx, title=f"Works {index}") for index in range(20)]
    jobs.record_transitions(ctx, now=ctx.clock.now())  # a published event for each
    fragments = Fragments()
    first = render_feed(ctx, path, Filters(), "", ctx.clock.now(), fragments).body
    assert first.count(b"Works ") >= 20
    apply(ctx, ("edit", 7, "New diversion"), [notice.uid for notice in notices])
    fragments.misses = fragments.hits = 0
    body = render_feed(ctx, path, Filters(), "", ctx.clock.now(), fragments).body
    assert body == render_feed(ctx, path, Filters(), "", ctx.clock.now()).body
    # Missed: the rows of the changed notice's events (read again with the notice at its new
    # version: its published event and the new "updated" one), the new event's view of the notice
    # as it was and its entry. Found: the other 19 events' rows, and every published event's view
    # and entry (the notice as it was when published, which the edit left as it was).
    assert (fragments.misses, fragments.hits) == (2 + 1 + 1, 19 + 20 + 20)
    assert b"New diversion" in body


def test_an_event_without_its_revision_shows_the_notice_as_it_is_and_follows_its_changes(ctx):
    # Rows from before revisions were kept for every version: the entry shows the notice as it is
    # now, so it must be rendered again whenever the notice changes.
    notice = add_notice(ctx, title="Plesmanlaan closed")
    jobs.record_transitions(ctx, now=ctx.clock.now())
    with ctx.db.session() as session, session.begin():
        session.execute(delete(NoticeRevision))
    fragments = Fragments()
    path = "/feeds/events.atom"
    render_feed(ctx, path, Filters(), "", ctx.clock.now(), fragments)
    apply(ctx, ("edit", 0, "Diversion via the Einsteinweg"), [notice.uid])
    kept = render_feed(ctx, path, Filters(), "", ctx.clock.now(), fragments).body
    assert kept == render_feed(ctx, path, Filters(), "", ctx.clock.now()).body
    published = [entry for entry in feedparser.parse(kept).entries if entry.title.startswith("New: ")]
    assert published and "Diversion via the Einsteinweg" in published[0].summary


@pytest.mark.parametrize("snapshot", [None, "not a mapping", [1, 2], {"title": None}])
def test_a_damaged_revision_costs_its_own_event_not_the_events_feed(ctx, caplog, snapshot):
    # A hand edit (or a bug) leaves a revision that no longer describes a notice.
    damaged, intact = add_notice(ctx, title="Damaged works"), add_notice(ctx, title="Intact works")
    jobs.record_transitions(ctx, now=ctx.clock.now())
    with ctx.db.session() as session, session.begin():
        revision = session.scalars(
            select(NoticeRevision).join(NoticeRevision.notice).where(Notice.uid == damaged.uid)
        ).one()
        revision.snapshot = snapshot
    path = "/feeds/events.atom"
    kept = render_feed(ctx, path, Filters(), "", ctx.clock.now(), Fragments())
    whole = render_feed(ctx, path, Filters(), "", ctx.clock.now())
    assert kept.body == whole.body
    titles = [entry.title for entry in feedparser.parse(kept.body).entries]
    assert titles == [f"New: Road closure: {intact.title}"]
    assert [what for what, _ in kept.skipped] == [f"event published of notice {damaged.uid}"]
