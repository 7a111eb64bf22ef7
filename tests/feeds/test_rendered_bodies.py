"""Stored notice bodies (notice.rendered_bodies): a process that renders a feed for the first time
takes the bodies an earlier process rendered from the database, gives the same bytes, and never a
body rendered for other text, another site URL or an older renderer; a database that will not
store them costs nothing but time."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import logging
from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import make_url

from notices.core.context import AppContext
from notices.core.db import Database
from notices.core.models import RenderedBody, RenderedPiece
from notices.feeds.catalog import render_feed
from notices.feeds.export import export_feeds
from notices.feeds.fragments import Fragments
from notices.notice import rendered_bodies
from notices.notice.lifecycle import Filters
from notices.runtime import jobs
from tests.factories import add_notice, edit_notice

BODY_FEEDS = ("/feeds/notices.atom", "/feeds/notices.rss", "/calendar/notices.ics")
BODY = "**Detour** via [the map](/map) and the *Einsteinweg*."


def stored(ctx: AppContext) -> dict[str, str]:
    with ctx.db.session() as session:
        return dict(session.execute(select(RenderedBody.key, RenderedBody.html)).all())


def render(ctx: AppContext, path: str, fragments: Fragments | None = None, language: str = "en") -> bytes:
    filters, query = Filters(language=language), f"lang={language}"
    return render_feed(ctx, path, filters, query, ctx.clock.now(), fragments).body


def forget_pieces(ctx: AppContext) -> None:
    """Drop the stored entries and events (feeds.stored_pieces): a new process would take those
    whole, and render no body at all."""
    with ctx.db.session() as session, session.begin():
        session.execute(delete(RenderedPiece))


def tamper(ctx: AppContext, html: str) -> None:
    """Overwrite every stored body: a feed that then shows `html` read it from the store."""
    with ctx.db.session() as session, session.begin():
        session.execute(update(RenderedBody).values(html=html))
    forget_pieces(ctx)


def test_a_new_process_gives_the_same_bytes_from_the_stored_bodies(ctx):
    for index in range(3):
        add_notice(ctx, title=f"Works {index}", body=f"{BODY} Phase {index}.")
    add_notice(ctx, title={"en": "Lane closed", "nl": "Rijstrook dicht"}, body={"en": BODY})
    first = {
        (path, language): render(ctx, path, Fragments(), language) for path in BODY_FEEDS for language in ("en", "nl")
    }
    # Four bodies in English; in Dutch each falls back to English with a marker: other text.
    assert len(stored(ctx)) == 8
    for (path, language), body in first.items():
        forget_pieces(ctx)
        assert render(ctx, path, Fragments(), language) == body  # a new process: bodies from the store
        assert render(ctx, path, None, language) == body  # rendered whole, nothing stored or kept


def test_a_stored_body_is_what_a_new_process_shows(ctx):
    add_notice(ctx, body=BODY)
    render(ctx, "/feeds/notices.atom", Fragments())
    tamper(ctx, "<p>Read from the store</p>")
    assert b"Read from the store" in render(ctx, "/feeds/notices.atom", Fragments())
    assert b"Read from the store" not in render(ctx, "/feeds/notices.atom", None)


def test_an_edited_body_is_rendered_and_stored_anew(ctx):
    notice = add_notice(ctx, body=BODY)
    render(ctx, "/feeds/notices.atom", Fragments())
    tamper(ctx, "<p>The old text</p>")
    edit_notice(ctx, notice.uid, body="Diversion via the **Sylviusweg**.")
    body = render(ctx, "/feeds/notices.atom", Fragments())
    assert b"The old text" not in body
    assert b"&lt;strong&gt;Sylviusweg&lt;/strong&gt;" in body
    assert len(stored(ctx)) == 2  # the old one stays until the purge


def test_a_body_stored_for_another_site_url_is_not_used(ctx):
    add_notice(ctx, body=BODY)
    render(ctx, "/feeds/notices.atom", Fragments())
    tamper(ctx, "<p>Links of the old address</p>")
    ctx.settings = dataclasses.replace(ctx.settings, base_url="https://park.example.net/notices")
    body = render(ctx, "/feeds/notices.atom", Fragments())
    assert b"Links of the old address" not in body
    assert b"https://park.example.net/map" in body  # the link resolved against the new URL
    assert len(stored(ctx)) == 2


def test_the_renderer_fingerprint_names_its_rules_and_versions():
    from notices.notice import markup

    fingerprint = markup.renderer_fingerprint()
    assert repr(importlib.metadata.version("cmarkgfm")) in fingerprint
    assert repr(importlib.metadata.version("nh3")) in fingerprint
    assert "'blockquote'" in fingerprint and "noopener" in fingerprint


def test_the_purge_drops_bodies_stored_long_ago_and_a_render_stores_them_again(ctx):
    add_notice(ctx, body=BODY)
    render(ctx, "/feeds/notices.atom", Fragments())
    assert jobs.purge(ctx, now=ctx.clock.now() + rendered_bodies.KEPT - timedelta(minutes=1))["rendered_bodies"] == 0
    assert jobs.purge(ctx, now=ctx.clock.now() + rendered_bodies.KEPT + timedelta(minutes=1))["rendered_bodies"] == 1
    assert stored(ctx) == {}
    render(ctx, "/feeds/notices.atom", Fragments())
    assert len(stored(ctx)) == 1


def test_feed_export_stores_the_bodies_and_the_next_export_reads_them(ctx, tmp_path):
    for index in range(3):
        add_notice(ctx, title=f"Works {index}", body=f"{BODY} Phase {index}.")
    export_feeds(ctx, now=ctx.clock.now(), directory=tmp_path / "first")
    assert len(stored(ctx)) == 3 * len(ctx.settings.languages)  # each body in each language (a fallback is marked)
    tamper(ctx, "<p>Read from the store</p>")
    export_feeds(ctx, now=ctx.clock.now(), directory=tmp_path / "second")
    assert b"Read from the store" in (tmp_path / "second" / "feeds" / "notices.atom").read_bytes()


def read_only(url: str) -> str:
    """The same database, but every transaction read-only (as on a standby replica)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"sqlite:///file:{parsed.database}?mode=ro&uri=true"
    return parsed.update_query_dict({"options": "-c default_transaction_read_only=on"}).render_as_string(
        hide_password=False
    )


def test_a_database_that_refuses_to_store_bodies_still_serves_the_feed(ctx, database_url, caplog):
    add_notice(ctx, body=BODY)
    expected = render(ctx, "/feeds/notices.atom", None)
    replica = AppContext(settings=ctx.settings, db=Database.from_url(read_only(database_url)), clock=ctx.clock)
    try:
        with caplog.at_level(logging.WARNING, logger="notices.core.db"):
            assert render(replica, "/feeds/notices.atom", Fragments()) == expected
    finally:
        replica.db.dispose()
    assert "could not store 1 rendered notice bodies" in caplog.text
    with ctx.db.session() as session:
        assert session.scalar(select(func.count()).select_from(RenderedBody)) == 0


def test_notices_sharing_a_body_all_take_the_stored_one(ctx):
    for index in range(3):
        add_notice(ctx, title=f"Works {index}", body=BODY)
    add_notice(ctx, title="No details")  # the empty body, shared by every such notice
    render(ctx, "/feeds/notices.atom", Fragments())
    assert len(stored(ctx)) == 2
    tamper(ctx, "<p>Read from the store</p>")
    assert render(ctx, "/feeds/notices.atom", Fragments()).count(b"Read from the store") == 4


HOSTILE_BODIES = [
    "Before &#xFFFE;&#xFFFF;&#1; after \ufffe\uffff",  # noncharacters, raw and as references
    "Plesmanlaan \u202eclosed\u2066 [map](/map)\u2069",  # bidi controls
    "x" * 1_000_000,  # a one-megabyte word
    "Q3\x00 2027",  # NUL (SQLite holds it; PostgreSQL refuses such a row)
]


def test_hostile_bodies_stored_and_read_back_give_the_bytes_of_a_whole_render(ctx):
    from tests.feeds.test_feed_hostile_rows import insert_row

    for body in HOSTILE_BODIES:
        if "\x00" in body and ctx.db.dialect == "postgresql":
            continue  # no such row can exist there (tests/feeds/test_feed_hostile_rows.py)
        insert_row(ctx, body=body)
    for path in BODY_FEEDS:
        whole = render(ctx, path, None)
        assert render(ctx, path, Fragments()) == whole  # renders and stores
        forget_pieces(ctx)
        assert render(ctx, path, Fragments()) == whole  # reads the bodies it stored
    assert len(stored(ctx)) == (3 if ctx.db.dialect == "postgresql" else 4)
    for html in stored(ctx).values():
        assert not set(html) & {"\x00", "\ufffe", "\uffff", "\u202e", "\u2066", "\u2069"}
