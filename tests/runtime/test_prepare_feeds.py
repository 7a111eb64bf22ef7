"""The scheduler renders the stored feeds ahead of their readers (feeds.prepare): after a write or a
boundary, a reader's first request in a new process finds every entry and event stored, in every
language, instead of rendering them (about a second for 1,000 notices after a release)."""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import delete

from notices.cli import cli
from notices.core.models import RenderedPiece
from notices.feeds.catalog import WINDOW_REFRESH
from notices.feeds.fragments import Fragments
from notices.feeds.prepare import PREPARED_PATHS
from notices.runtime import bookkeeping, feed_upkeep, jobs
from notices.runtime.scheduler import NoticeScheduler
from tests.factories import add_notice
from tests.feeds.test_rendered_bodies import BODY, render
from tests.feeds.test_stored_pieces import stored_count, tamper

# The feeds readers poll whose first render in a new process would be slow with nothing stored.
POLLED = (
    "/feeds/notices.atom",
    "/feeds/notices.rss",
    "/calendar/notices.ics",
    "/feeds/events.atom",
    "/feeds/events.rss",
)


@pytest.fixture
def scheduler(ctx):
    scheduler = NoticeScheduler(ctx)
    yield scheduler
    scheduler.shutdown()


def add_two(ctx, *, record: bool = True):
    add_notice(ctx, title={"en": "Plesmanlaan closed", "nl": "Plesmanlaan dicht"}, body=BODY, ends_at=None)
    add_notice(ctx, title="Timed works", body=BODY, ends_at=ctx.clock.now() + timedelta(days=30))
    if record:  # their "published" events, for the events feeds
        jobs.record_transitions(ctx, now=ctx.clock.now())


def read_from_store(ctx, marker: bytes, count: int) -> None:
    """Every prepared feed in every language, as a new web process's first request renders it,
    shows the pieces marked by tamper(): `count` notices' (entries, events) in the notices feeds
    and calendar, every entry in the events feeds. All read from the store, none left to render."""
    stored = stored_count(ctx)
    for language in ctx.settings.languages:
        for path in POLLED:
            body = render(ctx, path, Fragments(), language)
            expected = body.count(b"<entry>") + body.count(b"<item>") if path.startswith("/feeds/events") else count
            assert expected > 0 and body.count(b"X-FROM-STORE:" + marker) == expected, (path, language)
    assert stored_count(ctx) == stored


def test_a_new_process_finds_every_piece_stored_by_the_scheduler(ctx, scheduler):
    add_two(ctx)
    report = scheduler.run_transitions()
    assert report.problems == []
    assert stored_count(ctx) > 0
    tamper(ctx, b"prepared")
    read_from_store(ctx, b"prepared", 2)


def test_prepared_again_after_a_write_or_a_boundary_and_not_before(ctx, clock, scheduler):
    add_two(ctx)
    assert scheduler.feeds.prepare_if_stale(clock.now()) is True
    assert scheduler.feeds.prepare_if_stale(clock.now()) is False  # nothing changed
    now = clock.now()
    add_notice(ctx, title="Another", starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=2))
    assert scheduler.feeds.prepare_if_stale(clock.now()) is True  # the write
    clock.advance(timedelta(hours=1, seconds=1))
    assert scheduler.feeds.prepare_if_stale(clock.now()) is True  # its start: the entry's phrase changes
    tamper(ctx, b"prepared")
    read_from_store(ctx, b"prepared", 3)


def test_while_there_are_events_the_feeds_are_prepared_again_when_their_window_moves(ctx, clock, scheduler):
    now = clock.now()
    add_notice(ctx, title="Far off", starts_at=now + timedelta(days=60), ends_at=now + timedelta(days=61))
    assert scheduler.feeds.prepare_if_stale(clock.now()) is True
    clock.advance(WINDOW_REFRESH)
    assert scheduler.feeds.prepare_if_stale(clock.now()) is False  # no events: nothing moves
    jobs.record_transitions(ctx, now=clock.now())  # its "published" event
    assert scheduler.feeds.prepare_if_stale(clock.now()) is True  # the write
    clock.advance(WINDOW_REFRESH - timedelta(seconds=1))
    assert scheduler.feeds.prepare_if_stale(clock.now()) is False
    clock.advance(timedelta(seconds=1))
    assert scheduler.feeds.prepare_if_stale(clock.now()) is True  # the events feeds' window moved
    tamper(ctx, b"refreshed")
    read_from_store(ctx, b"refreshed", 1)


def test_pieces_the_purge_took_are_stored_again_within_a_day(ctx, clock, scheduler):
    add_two(ctx)
    assert scheduler.feeds.prepare_if_stale(clock.now()) is True
    with ctx.db.session() as session, session.begin():
        session.execute(delete(RenderedPiece))  # what the purge does to pieces a week old
    clock.advance(feed_upkeep.PREPARED_KEPT)
    add_notice(ctx, title="A write")
    assert scheduler.feeds.prepare_if_stale(clock.now()) is True
    tamper(ctx, b"again")
    read_from_store(ctx, b"again", 3)


def test_one_run_prepares_while_another_is_at_it(ctx, clock, scheduler, monkeypatch):
    add_two(ctx)
    inside, release = threading.Event(), threading.Event()
    runs = []
    prepare = jobs.prepare_feeds

    def slow_prepare(*args, **kwargs):
        runs.append(threading.current_thread().name)
        inside.set()
        assert release.wait(timeout=30)
        return prepare(*args, **kwargs)

    monkeypatch.setattr(jobs, "prepare_feeds", slow_prepare)
    first = threading.Thread(target=scheduler.feeds.prepare_if_stale, args=(clock.now(),), name="safety-tick")
    first.start()
    try:
        assert inside.wait(timeout=30)
        assert scheduler.feeds.prepare_if_stale(clock.now()) is False  # the change watch, meanwhile
    finally:
        release.set()
        first.join()
    assert runs == ["safety-tick"]
    assert scheduler.feeds.prepare_if_stale(clock.now()) is False  # and it is current now


def test_a_failure_to_prepare_is_reported_and_stops_nothing_else(ctx, clock, scheduler, monkeypatch):
    add_two(ctx, record=False)  # the scheduler's run records them

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(jobs, "prepare_feeds", broken)
    clock.advance(timedelta(minutes=1))
    report = scheduler.run_transitions()
    assert report.core_ok
    assert len(report.problems) == 1 and "prepare-feeds" in report.problems[0]
    assert report.counts["published"] == 2  # recorded all the same
    with ctx.db.session() as session:
        assert bookkeeping.scheduler_seen_at(session) == clock.now()  # and the heartbeat written before


def test_with_an_export_folder_the_export_does_it(ctx, tmp_path, scheduler):
    ctx.settings = dataclasses.replace(ctx.settings, feed_export_dir=tmp_path)
    add_two(ctx)
    assert scheduler.feeds.prepare_if_stale(ctx.clock.now()) is False
    scheduler.run_transitions()
    tamper(ctx, b"exported")
    read_from_store(ctx, b"exported", 2)


def test_feed_prepare_command(ctx):
    add_two(ctx)
    result = CliRunner().invoke(cli, ["feed", "prepare", "--json"], obj=ctx)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"feeds": len(PREPARED_PATHS) * len(ctx.settings.languages)}
    tamper(ctx, b"by the command")
    read_from_store(ctx, b"by the command", 2)
