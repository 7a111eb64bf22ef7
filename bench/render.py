"""Benchmark: rendering feeds whole, and again after one notice changed (incremental rendering).

Run by hand (not part of the test suite):

    .venv/bin/python bench/render.py [--visible 1000] [--ended 100000] [--skip-million]
    NOTICES_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench .venv/bin/python bench/render.py

Builds a fresh SQLite database (or NOTICES_BENCH_DATABASE_URL) with `--visible` visible notices
and `--ended` ended ones (the notices of bench/feeds.py), then prints for each feed format:
- the cold render: nothing kept from an earlier render in this process (target <= 300 ms for 1,000
  entries), once with nothing stored in the database (the first render ever, or after the code or
  settings changed) and once with what an earlier process stored: notice bodies
  (notice.rendered_bodies) and calendar events (feeds.stored_pieces), as a new replica, a restarted
  worker or `feed export` finds them (timed as the web cache renders, which stores what it
  rendered for other processes after answering: that storing is shown beside it);
- the render after one notice changed, with the entries kept by the renders before (what a web
  process does after a write; target <= 50 ms for 1,000 entries);
then loads history up to 1,000,000 ended notices and times the render after a change again: it
must not grow with history. Each figure is the median of `--repeats` runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete

sys.path.insert(0, str(Path(__file__).parent))

from machine import speed_line  # noqa: E402

from feeds import insert, notice_rows  # noqa: E402  (bench/feeds.py: the same notices)
from notices.core import db as database  # noqa: E402
from notices.core.clock import FixedClock  # noqa: E402
from notices.core.config import load_settings  # noqa: E402
from notices.core.context import AppContext  # noqa: E402
from notices.core.db import Database  # noqa: E402
from notices.core.heap import settle_startup_objects  # noqa: E402
from notices.core.models import Base, RenderedBody, RenderedPiece  # noqa: E402
from notices.feeds.catalog import render_feed  # noqa: E402
from notices.feeds.fragments import Fragments  # noqa: E402
from notices.notice import store  # noqa: E402
from notices.notice.lifecycle import Filters  # noqa: E402
from notices.notice.validation import parse_changes  # noqa: E402

FEEDS = ("/feeds/notices.atom", "/feeds/notices.rss", "/calendar/notices.ics", "/feeds/notices.geojson")


def timed(action, *args) -> float:
    started = time.perf_counter()
    action(*args)
    return time.perf_counter() - started


_changes = iter(range(sys.maxsize))


def change_one(ctx: AppContext) -> None:
    """One write, as a manager's edit: a notice's summary, through the store (version bumped)."""
    now, index = ctx.clock.now(), next(_changes)
    with ctx.db.writing() as session, session.begin():
        # One of the first 50 visible notices, by uid (bench/feeds.py numbers them from 1): not
        # store.list_notices, which reads every notice, ended ones too.
        notice = store.get_notice(session, str(uuid.UUID(int=index % 50 + 1)), for_update=True)
        changed = parse_changes(
            {"summary": f"Change {index}: one lane closed."},
            current=store.fields_of(notice),
            settings=ctx.settings,
            now=now,
        )
        store.update_notice(session, notice, changed, note="bench", now=now, author="bench")


def forget_stored(ctx: AppContext) -> None:
    with ctx.db.session() as session, session.begin():
        session.execute(delete(RenderedBody))
        session.execute(delete(RenderedPiece))


def cold_render(ctx: AppContext, path: str, now: datetime, *, stored: bool) -> tuple[float, float]:
    """A render in a process that has rendered nothing yet, with or without what an earlier one
    stored: the time the reader waits for it, as the web cache renders (storing what it rendered
    for other processes left until after the answer), and the time that storing then takes."""
    if not stored:
        forget_stored(ctx)
    else:
        render_feed(ctx, path, Filters(), "", now, Fragments())  # as an earlier process would have
    started = time.perf_counter()
    rendered = render_feed(ctx, path, Filters(), "", now, Fragments(), defer_storing=True)
    rendering = time.perf_counter() - started
    if rendered.unstored is not None:
        rendered.unstored.store(ctx.db, now=now)
    return rendering, time.perf_counter() - started - rendering


def measure(ctx: AppContext, repeats: int) -> dict[str, tuple[float, float, float, float]]:
    """Per feed, medians in seconds: the cold render with nothing stored and the storing after it
    (which no reader waits for), the cold render with what an earlier process stored, and the
    render after one change."""
    now = ctx.clock.now()
    results = {}
    for path in FEEDS:
        nothing, storing = zip(*(cold_render(ctx, path, now, stored=False) for _ in range(repeats)), strict=True)
        stored = [cold_render(ctx, path, now, stored=True)[0] for _ in range(repeats)]
        fragments = Fragments()
        render_feed(ctx, path, Filters(), "", now, fragments)
        after_change = []
        for _ in range(repeats):
            change_one(ctx)
            after_change.append(timed(render_feed, ctx, path, Filters(), "", now, fragments))
        results[path] = (
            statistics.median(nothing),
            statistics.median(storing),
            statistics.median(stored),
            statistics.median(after_change),
        )
    return results


def report(results: dict[str, tuple[float, float, float, float]], visible: int) -> None:
    print(f"{'feed':26}{'cold, none stored':>19}{'then storing':>14}{'cold, stored before':>21}{'after 1 change':>16}")
    for path, (nothing, storing, stored, after) in results.items():
        cold = f"{nothing * 1000:16.0f} ms{storing * 1000:11.0f} ms{stored * 1000:18.0f} ms"
        print(f"{path:26}{cold}{after * 1000:13.1f} ms")
    print(f"targets for {visible:,} entries: cold <= 300 ms, after one change <= 50 ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visible", type=int, default=1_000, help="visible notices (entries in the feed)")
    parser.add_argument("--ended", type=int, default=100_000, help="ended notices in history")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-million", action="store_true", help="skip loading 1,000,000 ended notices")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="notices-bench-"))
    url = os.environ.get("NOTICES_BENCH_DATABASE_URL", f"sqlite:///{workdir}/bench.db")
    settings = load_settings({**os.environ, "NOTICES_DATABASE_URL": url})
    now = datetime.now(UTC).replace(microsecond=0)
    db = Database.from_url(url)
    with db.engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    database.upgrade(db.engine)
    ctx = AppContext(settings=settings, db=db, clock=FixedClock(now))
    settle_startup_objects()  # as a web process and the scheduler do once started
    print(f"database: {url.split('@')[-1]}")
    print(speed_line())
    try:
        insert(db, lambda size, done: notice_rows(size, now=now, ended=False, start_index=done), args.visible)
        insert(db, lambda size, done: notice_rows(size, now=now, ended=True, start_index=10_000_000 + done), args.ended)
        print(f"\n{args.visible:,} visible notices, {args.ended:,} ended:")
        first = measure(ctx, args.repeats)
        report(first, args.visible)
        if not args.skip_million and args.ended < 1_000_000:
            more = 1_000_000 - args.ended
            insert(db, lambda size, done: notice_rows(size, now=now, ended=True, start_index=20_000_000 + done), more)
            print(f"\n{args.visible:,} visible notices, 1,000,000 ended:")
            second = measure(ctx, args.repeats)
            report(second, args.visible)
            ratio = second[FEEDS[0]][3] / first[FEEDS[0]][3]
            print(f"Atom after one change, 1,000,000 / {args.ended:,} ended: {ratio:.2f} (target: about 1)")
    finally:
        db.dispose()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
