"""Static export: the same bytes as the web app, replaced atomically, only when changed."""

import dataclasses
import json
from datetime import timedelta

import feedparser
from click.testing import CliRunner
from fastapi.testclient import TestClient

from notices.cli import cli
from notices.runtime import jobs
from notices.runtime.scheduler import NoticeScheduler
from notices.web import create_app
from tests.factories import add_notice

FILES = [
    "feeds/notices.atom",
    "feeds/notices.rss",
    "feeds/events.atom",
    "feeds/events.rss",
    "calendar/notices.ics",
    "feeds/notices.geojson",
    "feeds/cap.atom",
    "feeds/closures.json",
]
# The site's other language (tests run with ["en", "nl"]): each file beside the default's.
DUTCH_FILES = [
    "feeds/notices.nl.atom",
    "feeds/notices.nl.rss",
    "feeds/events.nl.atom",
    "feeds/events.nl.rss",
    "calendar/notices.nl.ics",
    "feeds/notices.nl.geojson",
    "feeds/cap.nl.atom",
    "feeds/closures.nl.json",
]
ALL_FILES = FILES + DUTCH_FILES


def test_export_writes_the_feeds_the_web_app_serves(ctx, tmp_path):
    add_notice(ctx)
    counts = jobs.export_feeds(ctx, now=ctx.clock.now(), directory=tmp_path)
    assert (counts["written"], counts["unchanged"]) == (len(ALL_FILES), 0)
    with TestClient(create_app(ctx.settings, ctx=ctx)) as client:
        for name in FILES:
            assert (tmp_path / name).read_bytes() == client.get("/" + name).content
    assert len(feedparser.parse((tmp_path / "feeds/notices.atom").read_bytes()).entries) == 1
    assert not list(tmp_path.rglob("*.tmp"))


def test_every_other_language_is_exported_as_its_lang_url_serves_it(ctx, tmp_path):
    add_notice(ctx, title={"en": "Plesmanlaan closed", "nl": "Plesmanlaan afgesloten"})
    jobs.export_feeds(ctx, now=ctx.clock.now(), directory=tmp_path)
    with TestClient(create_app(ctx.settings, ctx=ctx)) as client:
        for name, dutch_name in zip(FILES, DUTCH_FILES, strict=True):
            assert (tmp_path / dutch_name).read_bytes() == client.get(f"/{name}?lang=nl").content, dutch_name
    dutch = feedparser.parse((tmp_path / "feeds/notices.nl.atom").read_bytes())
    assert dutch.feed.language == "nl"
    assert [entry.title for entry in dutch.entries] == ["Wegafsluiting: Plesmanlaan afgesloten (vanaf za 28 nov 11:00)"]
    english = feedparser.parse((tmp_path / "feeds/notices.atom").read_bytes())
    assert [entry.title for entry in english.entries][0].startswith("Road closure: Plesmanlaan closed")


def test_a_site_with_one_language_exports_only_its_files(ctx, tmp_path):
    ctx = dataclasses.replace(ctx, settings=dataclasses.replace(ctx.settings, languages=("en",)))
    add_notice(ctx)
    counts = jobs.export_feeds(ctx, now=ctx.clock.now(), directory=tmp_path)
    assert counts["written"] == len(FILES)
    assert sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*.*")) == sorted(FILES)


def test_unchanged_feeds_are_not_rewritten(ctx, clock, tmp_path):
    add_notice(ctx)
    jobs.export_feeds(ctx, now=clock.now(), directory=tmp_path)
    before = {name: (tmp_path / name).stat() for name in ALL_FILES}
    clock.advance(timedelta(seconds=10))
    counts = jobs.export_feeds(ctx, now=clock.now(), directory=tmp_path)
    assert (counts["written"], counts["unchanged"]) == (0, len(ALL_FILES))
    after = {name: (tmp_path / name).stat() for name in ALL_FILES}
    assert {name: (s.st_ino, s.st_mtime_ns) for name, s in before.items()} == {
        name: (s.st_ino, s.st_mtime_ns) for name, s in after.items()
    }


def test_file_time_is_the_feeds_last_modified(ctx, tmp_path):
    notice = add_notice(ctx)
    jobs.export_feeds(ctx, now=ctx.clock.now(), directory=tmp_path)
    assert (tmp_path / "feeds/notices.atom").stat().st_mtime == notice.updated_at.timestamp()


def test_the_scheduler_keeps_the_export_current_at_boundaries(ctx, clock, tmp_path):
    ctx = dataclasses.replace(ctx, settings=dataclasses.replace(ctx.settings, feed_export_dir=tmp_path))
    now = clock.now()
    notice = add_notice(ctx, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(minutes=10))
    scheduler = NoticeScheduler(ctx)
    try:
        scheduler.start(paused=True)
        assert len(feedparser.parse((tmp_path / "feeds/notices.atom").read_bytes()).entries) == 1
        clock.set(notice.ends_at)  # the wake-up at the end
        scheduler.run_transitions()
        assert feedparser.parse((tmp_path / "feeds/notices.atom").read_bytes()).entries == []
    finally:
        scheduler.shutdown()


def test_the_scheduler_renders_the_export_only_when_something_changed(ctx, clock, tmp_path):
    ctx = dataclasses.replace(ctx, settings=dataclasses.replace(ctx.settings, feed_export_dir=tmp_path))
    notice = add_notice(ctx, starts_at=clock.now() + timedelta(hours=1), ends_at=clock.now() + timedelta(hours=2))
    scheduler = NoticeScheduler(ctx)
    try:
        scheduler.start(paused=True)  # the start-up run exports
        clock.advance(timedelta(minutes=1))
        assert scheduler.feeds.export_if_stale(clock.now()) is None  # no write, no boundary: nothing rendered
        add_notice(ctx, title="Written elsewhere")
        assert scheduler.feeds.export_if_stale(clock.now())["written"] >= 1
        assert scheduler.feeds.export_if_stale(clock.now()) is None
        clock.set(notice.starts_at)  # a boundary passes without any write
        assert scheduler.feeds.export_if_stale(clock.now()) is not None
    finally:
        scheduler.shutdown()


def test_feed_export_command(ctx, tmp_path):
    add_notice(ctx)
    result = CliRunner().invoke(cli, ["feed", "export", str(tmp_path / "public"), "--json"], obj=ctx)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"written": len(ALL_FILES), "unchanged": 0}
    assert (tmp_path / "public/calendar/notices.ics").exists()
    assert (tmp_path / "public/calendar/notices.nl.ics").exists()
    assert sorted(str(path.relative_to(tmp_path / "public")) for path in (tmp_path / "public").rglob("*.*")) == sorted(
        ALL_FILES
    )
