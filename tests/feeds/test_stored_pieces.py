"""Stored feed pieces (feeds.stored_pieces): a process that renders a feed for the first time takes
the entries and calendar events an earlier process rendered from the database, gives the same
bytes, and never a piece rendered for an older version, another language, another title phrase or
horizon, other settings or other code; a database that will not store them costs nothing but time."""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import importlib.metadata
import logging
import re
import shutil
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from notices.core.context import AppContext
from notices.core.db import Database
from notices.core.models import RenderedPiece
from notices.feeds import stored_pieces
from notices.feeds.catalog import render_feed
from notices.feeds.export import export_feeds
from notices.feeds.fragments import Fragments
from notices.notice import recurrence, store
from notices.notice.lifecycle import Filters
from notices.runtime import jobs
from tests.factories import add_notice, edit_notice
from tests.feeds.test_rendered_bodies import BODY, read_only, render

CALENDAR = "/calendar/notices.ics"
FEEDS = ("/feeds/notices.atom", "/feeds/notices.rss", CALENDAR)
EVENT_FEEDS = ("/feeds/events.atom", "/feeds/events.rss")


def stored_count(ctx: AppContext) -> int:
    with ctx.db.session() as session:
        return session.scalar(select(func.count()).select_from(RenderedPiece)) or 0


def tamper(ctx: AppContext, text: bytes, *, checksum: bool = True) -> None:
    """Put a line `X-FROM-STORE:text` into every stored piece, after its first: a feed that then
    shows it read that piece from the store. With its checksum, unless told otherwise (a damaged row)."""
    with ctx.db.session() as session, session.begin():
        for key, content in session.execute(select(RenderedPiece.key, RenderedPiece.content)).all():
            first, rest = bytes(content).split(b"\n", 1)
            changed = first + b"\nX-FROM-STORE:" + text + b"\r\n" + rest
            values = {
                "content": changed,
                **({"content_sha256": hashlib.sha256(changed).hexdigest()} if checksum else {}),
            }
            session.execute(update(RenderedPiece).where(RenderedPiece.key == key).values(**values))


def add_calendar(ctx: AppContext) -> None:
    """What a calendar holds: timed and open-ended notices, a cancelled one, text in two languages
    with a fallback, and a weekly series in another zone than the site's (its overrides and
    instants are written in that zone) across a clock change."""
    now = ctx.clock.now()
    add_notice(ctx, title="Timed works", body=BODY)
    add_notice(
        ctx,
        title={"en": "Plesmanlaan closed", "nl": "Plesmanlaan dicht"},
        ends_at=None,
        expected_end="approximately Q3 2027",
        starts_at=now - timedelta(days=10),
    )
    cancelled = add_notice(ctx, title="Called off")
    with ctx.db.session() as session, session.begin():
        store.get_notice(session, cancelled.uid).cancelled_at = now
    series = add_notice(
        ctx,
        title="Night works",
        starts_at=now + timedelta(days=2),
        ends_at=None,
        recurrence="FREQ=WEEKLY;COUNT=30",
        occurrence_minutes=480,
    )
    with ctx.db.session() as session, session.begin():
        row = store.get_notice(session, series.uid)
        # A series keeps its zone when the site's changes later: here it is not the site's.
        row.recurrence_zone = "America/New_York"
        first, second, *_ = recurrence.occurrences(row)
        moved_start = second.starts_at + timedelta(hours=2)
        row.occurrence_changes = {
            first.id: {"cancelled": True},
            second.id: {
                "starts_at": moved_start.isoformat(),
                "ends_at": (moved_start + timedelta(hours=3)).isoformat(),
            },
        }
        row.ends_at = recurrence.series_end(row)


@pytest.mark.parametrize("path", FEEDS)
def test_a_new_process_gives_the_same_bytes_from_the_stored_pieces(ctx, path):
    add_calendar(ctx)
    for language in ("en", "nl"):
        whole = render(ctx, path, None, language)  # rendered whole, nothing stored or kept
        assert render(ctx, path, Fragments(), language) == whole  # renders and stores
        assert render(ctx, path, Fragments(), language) == whole  # a new process: pieces from the store
    # Each notice's entry or events in each language (the feed leaves the cancelled one out).
    assert stored_count(ctx) == (4 if path == CALENDAR else 3) * 2


@pytest.mark.parametrize("path", FEEDS)
def test_a_stored_piece_is_what_a_new_process_shows(ctx, path):
    add_calendar(ctx)
    render(ctx, path, Fragments())
    tamper(ctx, b"read from the store")
    assert render(ctx, path, Fragments()).count(b"X-FROM-STORE:read from the store") == stored_count(ctx) > 0
    assert b"X-FROM-STORE" not in render(ctx, path, None)


@pytest.mark.parametrize("path", FEEDS)
def test_an_edited_notice_is_rendered_and_stored_anew(ctx, path):
    notice = add_notice(ctx, title="Timed works", body=BODY)
    render(ctx, path, Fragments())
    tamper(ctx, b"old version")
    edit_notice(ctx, notice.uid, title="Works moved")
    body = render(ctx, path, Fragments())
    assert b"old version" not in body and b"Works moved" in body
    assert stored_count(ctx) == 2  # the old one stays until the purge


@pytest.mark.parametrize("path", FEEDS[:2])
def test_an_entry_is_rendered_anew_when_its_title_phrase_changes(ctx, clock, path):
    add_notice(ctx, title="Timed works", starts_at=ctx.clock.now() + timedelta(hours=1))
    render(ctx, path, Fragments())
    tamper(ctx, b"before the start")
    clock.advance(timedelta(hours=2))  # "from <start>" is now "until <end>"
    body = render(ctx, path, Fragments())
    assert b"X-FROM-STORE" not in body
    assert body == render(ctx, path, None)


def test_an_open_ended_notice_is_rendered_anew_when_its_horizon_moves(ctx, clock):
    add_notice(ctx, title="Plesmanlaan closed", ends_at=None, starts_at=ctx.clock.now() - timedelta(days=1))
    add_notice(ctx, title="Timed works", starts_at=ctx.clock.now() + timedelta(days=5))
    render(ctx, CALENDAR, Fragments())
    tamper(ctx, b"yesterday")
    clock.advance(timedelta(days=1))
    body = render(ctx, CALENDAR, Fragments())
    # The timed notice's events are the same on any day; the open-ended one now runs a day further.
    assert body.count(b"X-FROM-STORE:yesterday") == 1
    assert body.replace(b"X-FROM-STORE:yesterday\r\n", b"") == render(ctx, CALENDAR, None)


@pytest.mark.parametrize("path", FEEDS)
def test_pieces_stored_under_other_settings_are_not_used(ctx, path):
    add_notice(ctx, title="Timed works", body=BODY)
    render(ctx, path, Fragments())
    tamper(ctx, b"old settings")
    ctx.settings = dataclasses.replace(ctx.settings, site_name="Another park")
    assert b"old settings" not in render(ctx, path, Fragments())
    assert stored_count(ctx) == 2


def test_the_fingerprint_is_the_same_in_every_process_and_leaves_the_secrets_out(settings):
    script = (
        "import sys; from notices.core.config import load_settings; from notices.feeds import stored_pieces; "
        "print(stored_pieces.fingerprint(load_settings()))"
    )
    runs = {
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    }
    assert len(runs) == 1
    secret = dataclasses.replace(settings, secret_key="other", smtp_url="smtp://u:p@mail", database_url="sqlite://")
    assert stored_pieces.fingerprint(secret) == stored_pieces.fingerprint(settings)
    assert stored_pieces.fingerprint(dataclasses.replace(settings, site_name="Other")) != stored_pieces.fingerprint(
        settings
    )


def test_the_purge_drops_pieces_stored_long_ago_and_a_render_stores_them_again(ctx):
    add_notice(ctx, title="Timed works")
    render(ctx, CALENDAR, Fragments())
    assert jobs.purge(ctx, now=ctx.clock.now() + stored_pieces.KEPT - timedelta(minutes=1))["rendered_pieces"] == 0
    assert jobs.purge(ctx, now=ctx.clock.now() + stored_pieces.KEPT + timedelta(minutes=1))["rendered_pieces"] == 1
    render(ctx, CALENDAR, Fragments())
    assert stored_count(ctx) == 1


def test_feed_export_stores_the_pieces_and_the_next_export_reads_them(ctx, tmp_path):
    add_calendar(ctx)
    export_feeds(ctx, now=ctx.clock.now(), directory=tmp_path / "first")
    assert stored_count(ctx) > 0
    tamper(ctx, b"read from the store")
    export_feeds(ctx, now=ctx.clock.now(), directory=tmp_path / "second")
    assert b"read from the store" in (tmp_path / "second" / "calendar" / "notices.ics").read_bytes()


@pytest.mark.parametrize("path", FEEDS)
def test_a_database_that_refuses_to_store_pieces_still_serves_the_feed(ctx, database_url, caplog, path):
    add_notice(ctx, title="Timed works", body=BODY)
    expected = render(ctx, path, None)
    replica = AppContext(settings=ctx.settings, db=Database.from_url(read_only(database_url)), clock=ctx.clock)
    try:
        with caplog.at_level(logging.WARNING, logger="notices.core.db"):
            assert render(replica, path, Fragments()) == expected
    finally:
        replica.db.dispose()
    assert "could not store 1 rendered feed pieces" in caplog.text
    assert stored_count(ctx) == 0


@pytest.mark.parametrize("path", FEEDS)
def test_a_render_that_defers_storing_leaves_what_it_rendered_to_its_caller(ctx, path):
    add_calendar(ctx)
    whole = render(ctx, path, None)
    rendered = render_feed(
        ctx, path, Filters(language="en"), "lang=en", ctx.clock.now(), Fragments(), defer_storing=True
    )
    assert rendered.body == whole
    assert stored_count(ctx) == 0  # the reader did not wait for it
    assert rendered.unstored is not None
    rendered.unstored.store(ctx.db, now=ctx.clock.now())
    assert stored_count(ctx) == (4 if path == CALENDAR else 3)
    tamper(ctx, b"read from the store")
    assert render(ctx, path, Fragments()).count(b"X-FROM-STORE:read from the store") == stored_count(ctx)
    # A render that finds everything stored leaves nothing to store.
    again = render_feed(ctx, path, Filters(language="en"), "lang=en", ctx.clock.now(), Fragments(), defer_storing=True)
    assert again.unstored is None


@pytest.mark.parametrize("path", FEEDS)
def test_the_web_answers_a_cold_feed_first_and_stores_its_pieces_after(ctx, app, path):
    from fastapi.testclient import TestClient

    add_calendar(ctx)
    whole = render_feed(ctx, path, Filters(), "", ctx.clock.now()).body  # as a reader asks: no query
    storing_may_start = threading.Event()
    with TestClient(app) as client:
        # The storing thread is kept busy: the answer must not wait for it.
        app.state.feed_cache._storer.submit(storing_may_start.wait, 30)
        response = client.get(path)
        assert response.status_code == 200 and response.content == whole
        assert stored_count(ctx) == 0
        storing_may_start.set()
        assert app.state.feed_cache.wait_stored(timeout=30)
        assert stored_count(ctx) == (4 if path == CALENDAR else 3)
    tamper(ctx, b"read from the store")
    # Another web process reads them.
    from notices.web import create_app

    with TestClient(create_app(ctx.settings, ctx=ctx)) as client:
        assert client.get(path).content.count(b"X-FROM-STORE:read from the store") == stored_count(ctx)


def test_a_web_process_on_a_database_that_refuses_to_store_pieces_serves_its_feeds(ctx, database_url, caplog):
    from fastapi.testclient import TestClient

    from notices.web import create_app

    add_notice(ctx, title="Timed works", body=BODY)
    expected = render_feed(ctx, CALENDAR, Filters(), "", ctx.clock.now()).body
    replica = AppContext(settings=ctx.settings, db=Database.from_url(read_only(database_url)), clock=ctx.clock)
    app = create_app(ctx.settings, ctx=replica)
    with caplog.at_level(logging.WARNING, logger="notices.core.db"), TestClient(app) as client:
        assert client.get(CALENDAR).content == expected
        app.state.feed_cache.wait_stored()  # the refusal is the storing thread's, never the reader's
        assert client.get(CALENDAR).content == expected
    assert "could not store 1 rendered feed pieces" in caplog.text
    assert stored_count(ctx) == 0


@pytest.mark.parametrize("path", FEEDS + EVENT_FEEDS)
def test_hostile_rows_stored_and_read_back_give_the_bytes_of_a_whole_render(ctx, path):
    from tests.feeds.test_feed_hostile_rows import insert_row
    from tests.feeds.test_rendered_bodies import HOSTILE_BODIES

    for body in HOSTILE_BODIES:
        if "\x00" in body and ctx.db.dialect == "postgresql":
            continue  # no such row can exist there (tests/feeds/test_feed_hostile_rows.py)
        insert_row(ctx, body=body, title=body[:200])
    jobs.record_transitions(ctx, now=ctx.clock.now())  # their events, for the events feeds
    whole = render(ctx, path, None)
    assert render(ctx, path, Fragments()) == whole  # renders and stores
    assert render(ctx, path, Fragments()) == whole  # reads what it stored
    with ctx.db.session() as session:
        stored = [bytes(content) for content in session.scalars(select(RenderedPiece.content))]
    assert stored  # the small ones; the megabyte word's piece is rendered each time instead
    for content in stored:
        assert len(content) <= stored_pieces.MAX_PIECE_BYTES
        assert not {"\x00", "\ufffe", "\uffff", "\u202e"} & set(content.decode())


def test_a_piece_read_back_has_each_instant_in_the_zone_it_was_written_in(ctx):
    from notices.feeds.ical import STORED_EVENTS, piece_keys

    add_calendar(ctx)
    fragments = Fragments()
    render(ctx, CALENDAR, fragments)
    with ctx.db.session() as session:
        notices = store.calendar_notices(session, ctx.clock.now(), Filters(), history=timedelta(days=30))
    pieces = [
        fragments.get(key) for key in piece_keys(notices, settings=ctx.settings, now=ctx.clock.now(), language="en")
    ]
    zones = {instant.tzinfo.key for piece in pieces for instant in piece.instants}
    assert zones == {"Europe/Amsterdam", "America/New_York"}  # the site's and the series'
    for piece in pieces:
        again = STORED_EVENTS.decode(*STORED_EVENTS.encode(piece))
        assert again == piece
        assert [instant.tzinfo for instant in again.instants] == [instant.tzinfo for instant in piece.instants]


def test_the_code_fingerprint_follows_the_rendering_code_only(tmp_path, monkeypatch):
    """A release that changes code a piece comes from stores anew; one that changes only the web
    app (or mail, or the command line) keeps the pieces stored before it."""
    package = tmp_path / "notices"
    shutil.copytree(Path(stored_pieces.__file__).parents[1], package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(stored_pieces, "_PACKAGE_DIR", package)
    fingerprint = stored_pieces._code_fingerprint.__wrapped__
    before = fingerprint()
    with (package / "web" / "app.py").open("a") as file:
        file.write("\n# a change to the web app\n")
    assert fingerprint() == before
    with (package / "feeds" / "ical.py").open("a") as file:
        file.write("\n# a change to the calendar\n")
    assert fingerprint() != before


def test_a_damaged_stored_piece_is_rendered_again_and_the_rest_still_read(ctx, caplog):
    add_calendar(ctx)
    whole = render(ctx, CALENDAR, None)
    render(ctx, CALENDAR, Fragments())
    tamper(ctx, b"read from the store")
    with ctx.db.session() as session, session.begin():
        damaged = session.scalars(select(RenderedPiece).limit(1)).one()
        damaged.meta = '{"instants": [["not a time", ""]]'
    with caplog.at_level(logging.WARNING, logger="notices.feeds.fragments"):
        body = render(ctx, CALENDAR, Fragments())
    assert "a stored feed piece could not be read" in caplog.text
    assert body.count(b"X-FROM-STORE:read from the store\r\n") == 3  # the other three came from the store
    assert body.replace(b"X-FROM-STORE:read from the store\r\n", b"") == whole


def test_a_piece_whose_bytes_were_damaged_is_rendered_again(ctx, caplog):
    add_calendar(ctx)
    whole = render(ctx, CALENDAR, None)
    render(ctx, CALENDAR, Fragments())
    tamper(ctx, b"damaged", checksum=False)  # a truncated or hand-edited row
    with caplog.at_level(logging.WARNING, logger="notices.core.db"):
        assert render(ctx, CALENDAR, Fragments()) == whole
    assert "is damaged; rendering it again" in caplog.text


def test_a_cancelled_endless_series_is_rendered_anew_when_the_horizon_moves(ctx, clock):
    """Its exceptions are written up to the horizon, cancelled or not: here a night whose length
    the clock change of 26 March 2028 alters comes into the calendar's year on 27 March 2027."""
    clock.set(datetime(2027, 3, 26, 9, 0, tzinfo=UTC))
    series = add_notice(
        ctx,
        title="Night works",
        starts_at=datetime(2027, 3, 20, 21, 0, tzinfo=UTC),  # 22:00 in Amsterdam
        ends_at=None,
        recurrence="FREQ=DAILY",
        occurrence_minutes=480,
        now=datetime(2027, 3, 13, 9, 0, tzinfo=UTC),
    )
    with ctx.db.session() as session, session.begin():
        store.get_notice(session, series.uid).cancelled_at = clock.now()
    before = render(ctx, CALENDAR, Fragments())
    tamper(ctx, b"yesterday")
    clock.advance(timedelta(days=1))
    after = render(ctx, CALENDAR, Fragments())
    assert b"X-FROM-STORE" not in after
    assert after == render(ctx, CALENDAR, None)
    assert after.count(b"RECURRENCE-ID") == before.count(b"RECURRENCE-ID") + 1


def test_pieces_stored_before_a_location_was_redrawn_are_not_used(ctx):
    """A setting that only some pieces show (one location's shape) counts as much as the site's name."""
    add_notice(ctx, title="Timed works", locations=["plesmanlaan"])
    add_notice(ctx, title="Other works", locations=["sylviusweg"])
    render(ctx, "/feeds/notices.atom", Fragments())
    tamper(ctx, b"old shape")
    shapes = {**ctx.settings.location_geometries, "plesmanlaan": {"type": "Point", "coordinates": [4.4712, 52.1703]}}
    ctx.settings = dataclasses.replace(ctx.settings, location_geometries=shapes)
    body = render(ctx, "/feeds/notices.atom", Fragments())
    assert b"old shape" not in body and b"<georss:point>52.1703 4.4712</georss:point>" in body
    assert body == render(ctx, "/feeds/notices.atom", None)


def rendering_sources() -> dict[str, str]:
    package = Path(stored_pieces.__file__).parents[1]
    return {
        str(path.relative_to(package)): path.read_text()
        for folder in stored_pieces.RENDERING_PACKAGES
        for path in sorted((package / folder).rglob("*.py"))
    }


def test_no_setting_left_out_of_the_fingerprint_is_read_by_the_code_that_renders():
    sources = rendering_sources()
    # Not renderers: core/config.py reads every setting from the file, core/logs.py sets up logging,
    # core/context.py the database; stored_pieces names them.
    setup = {"core/config.py", "core/logs.py", "core/context.py", "feeds/stored_pieces.py"}
    readers = {name: text for name, text in sources.items() if name not in setup}
    for setting in stored_pieces.UNRENDERED_SETTINGS - stored_pieces.SECRET_SETTINGS:
        named_in = [name for name, text in readers.items() if re.search(rf"\b{setting}\b", text)]
        assert not named_in, f"{setting} is read by {named_in}: take it out of UNRENDERED_SETTINGS"
    # The secrets are used elsewhere (link tokens, the connection), never by a renderer.
    renderers = {name: text for name, text in readers.items() if name.startswith(("feeds/", "notice/"))}
    for setting in stored_pieces.SECRET_SETTINGS:
        assert not [name for name, text in renderers.items() if re.search(rf"\b{setting}\b", text)]


# Imported by the code that renders, but nothing of theirs is in a piece's bytes.
# (Pillow makes the thumbnails of attachments, which a feed links to by URL, size and type.)
NOT_RENDERING = {"SQLAlchemy", "alembic", "itsdangerous", "argon2-cffi", "boto3", "botocore", "psycopg", "pillow"}


def test_every_library_the_rendering_code_imports_is_in_the_fingerprint():
    distributions = importlib.metadata.packages_distributions()
    imported: set[str] = set()
    for text in rendering_sources().values():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = {
        distribution
        for module in imported - set(sys.stdlib_module_names) - {"notices"}
        for distribution in distributions.get(module, [module])
    }
    known = {name.lower() for name in stored_pieces.RENDERING_LIBRARIES} | {name.lower() for name in NOT_RENDERING}
    assert {name for name in third_party if name.lower() not in known} == set()


@pytest.mark.parametrize("path", EVENT_FEEDS)
def test_an_events_feed_in_a_new_process_is_read_from_the_stored_pieces(ctx, path):
    add_calendar(ctx)
    jobs.record_transitions(ctx, now=ctx.clock.now())  # published and started events
    for language in ("en", "nl"):
        whole = render(ctx, path, None, language)
        assert render(ctx, path, Fragments(), language) == whole  # renders and stores
        assert render(ctx, path, Fragments(), language) == whole  # a new process: pieces from the store
    entries = stored_count(ctx)
    assert entries >= 2 * 3  # an entry per event, in each language
    tamper(ctx, b"read from the store")
    assert render(ctx, path, Fragments()).count(b"X-FROM-STORE:read from the store") == entries // 2
    assert b"X-FROM-STORE" not in render(ctx, path, None)


def test_an_event_after_a_write_is_stored_beside_those_before(ctx):
    notice = add_notice(ctx, title="Timed works", body=BODY)
    jobs.record_transitions(ctx, now=ctx.clock.now())
    render(ctx, EVENT_FEEDS[0], Fragments())
    before = stored_count(ctx)
    tamper(ctx, b"stored before")
    edit_notice(ctx, notice.uid, note="Diversion moved", summary="Diversion moved")
    body = render(ctx, EVENT_FEEDS[0], Fragments())
    # The earlier event's entry comes from the store; the new one is rendered, and stored.
    assert body.count(b"X-FROM-STORE:stored before") == before
    assert b"Diversion moved" in body
    assert stored_count(ctx) == before + 1
