"""Benchmark: the feed fast path against nginx serving the exported file of the same feed.

Run by hand (not part of the test suite):

    .venv/bin/python bench/feeds.py [--duration 10] [--connections 32] [--workers 2] [--skip-million]
    NOTICES_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \
        .venv/bin/python bench/feeds.py --propagation [--writes 100]

Needs wrk and nginx (Debian: apt-get install wrk nginx-light). Builds a fresh
SQLite database (or NOTICES_BENCH_DATABASE_URL) with 1,000 visible notices and
100,000 ended ones, then prints:
- requests/s for 200 and for 304 responses, from `notices serve` and from
  nginx serving the exported file, in one run, and their ratio (target >= 0.5 for 200s);
- the cold render time of /feeds/notices.atom with 100,000 and with 1,000,000
  ended notices in history (it must not grow with history).

With --propagation it measures instead how soon a write reaches another replica: two
`notices serve` processes on one database; each of `--writes` changes (committed by this process,
as by a third replica) is timed until replica B serves a new ETag; prints p50, p95 and the
worst. On PostgreSQL replica B hears the write (LISTEN/NOTIFY; target p95 <= 100 ms); on SQLite
it can only poll (feed_change_check_seconds, 1 s by default), which is the comparison.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from notices.core import db as database
from notices.core.clock import FixedClock
from notices.core.config import load_settings
from notices.core.context import AppContext
from notices.core.db import Database
from notices.core.models import Notice
from notices.feeds.catalog import render_feed
from notices.feeds.export import export_feeds
from notices.notice.lifecycle import Filters

BODY = (
    "The road is closed for reconstruction of the sewer and the cycle path. Follow the yellow diversion "
    "signs via the Einsteinweg. Deliveries for buildings along the road are directed through the north "
    "entrance. **Emergency services** keep access at all times. See [the project page](https://example.org/works)."
)


def notice_rows(count: int, *, now: datetime, ended: bool, start_index: int = 0) -> list[dict]:
    rows = []
    categories = ["road-closure", "construction", "utilities", "traffic", "event", "safety", "facilities"]
    locations = ["plesmanlaan", "sylviusweg", "einsteinweg", "wassenaarseweg", "de-limes", "gorlaeus"]
    for i in range(start_index, start_index + count):
        if ended:
            starts = now - timedelta(days=40 + i % 3000, hours=i % 24)
            ends = starts + timedelta(days=1 + i % 20)
            publish = starts - timedelta(days=3)
        else:
            starts = now + timedelta(hours=(i % 200) - 100)
            ends = None if i % 5 == 0 else now + timedelta(days=1 + i % 30)
            publish = min(starts, now) - timedelta(days=1)
        rows.append(
            {
                "uid": str(uuid.UUID(int=i + 1)),
                "title": f"Notice {i}: works on the {locations[i % 6].title()}",
                "summary": "One lane closed; expect delays.",
                # Each notice its own text, as in life: a body rendered or stored once must not
                # serve them all (rendering caches are keyed by the text).
                "body": f"{BODY} Reference W-{i}.",
                "category": categories[i % 7],
                "severity": ["info", "minor", "major", "critical"][i % 4],
                "locations": [locations[i % 6]],
                "location_detail": "",
                "geometry": None,
                "publish_at": publish,
                "starts_at": starts,
                "ends_at": ends,
                "expected_end": "" if ends else "approximately Q3 2027",
                "version": 1,
                "cancelled_at": None,
                "cancel_reason": "",
                "created_at": publish,
                "created_by": "bench",
                "updated_at": publish,
                "updated_by": "bench",
                "announced_phase": "ended" if ended else "started",
            }
        )
    return rows


def insert(db: Database, rows_factory, total: int, chunk: int = 20_000) -> None:
    done = 0
    while done < total:
        size = min(chunk, total - done)
        with db.engine.begin() as connection:
            connection.execute(Notice.__table__.insert(), rows_factory(size, done))
        done += size
    if db.engine.dialect.name == "postgresql":
        # As autovacuum does within a minute of a bulk load: without statistics the planner takes
        # the index on cancelled_at for useless and reads the whole table for the calendar's ids.
        with db.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE notices")


def cold_render_seconds(ctx: AppContext, now: datetime, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        render_feed(ctx, "/feeds/notices.atom", Filters(), "", now)
        best = min(best, time.perf_counter() - started)
    return best


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def etag_of(url: str) -> str:
    with urllib.request.urlopen(url) as response:
        return response.headers["ETag"]


def wrk(url: str, *, duration: int, connections: int, headers: dict[str, str] | None = None) -> float:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url]
    for name, value in (headers or {}).items():
        command[1:1] = ["-H", f"{name}: {value}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        raise SystemExit(f"wrk saw {non_2xx.group(1)} error responses from {url}:\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


NGINX_CONF = """
worker_processes {workers};
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body; proxy_temp_path {prefix}/proxy; fastcgi_temp_path {prefix}/fcgi;
    uwsgi_temp_path {prefix}/uwsgi; scgi_temp_path {prefix}/scgi;
    types {{ application/atom+xml atom; application/rss+xml rss; text/calendar ics; }}
    sendfile on; tcp_nopush on; etag on; keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location / {{ add_header Cache-Control "public, max-age=300"; }}
    }}
}}
"""


def propagation(url: str, environ: dict[str, str], ctx: AppContext, writes: int) -> None:
    """Write, then ask replica B for the feed until its ETag changes; the delays' p50/p95/max."""
    import httpx

    from notices.notice import store
    from notices.notice.validation import parse_changes

    replicas = [
        subprocess.Popen(
            [sys.executable, "-m", "notices", "serve", "--no-scheduler", "--no-access-log", "--port", str(port)],
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for port in (8780, 8782)
    ]
    feed = "http://127.0.0.1:8782/feeds/notices.atom"
    delays = []
    try:
        wait_for(feed)
        wait_for("http://127.0.0.1:8780/feeds/notices.atom")
        with httpx.Client(timeout=10) as client:
            etag = client.get(feed).headers["etag"]
            for index in range(writes):
                with ctx.db.writing() as session:
                    notice = store.list_notices(session, ctx.clock.now())[0]
                    current = store.fields_of(notice)
                    changed = parse_changes(
                        {"summary": f"Change {index}"}, current=current, settings=ctx.settings, now=ctx.clock.now()
                    )
                    store.update_notice(session, notice, changed, note="bench", now=ctx.clock.now(), author="bench")
                    session.commit()
                written = time.perf_counter()
                while True:
                    new = client.get(feed).headers["etag"]
                    if new != etag:
                        delays.append(time.perf_counter() - written)
                        etag = new
                        break
                    if time.perf_counter() - written > 10:
                        raise SystemExit(f"write {index} did not reach replica B within 10 s")
    finally:
        for replica in replicas:
            os.killpg(replica.pid, signal.SIGTERM)
        for replica in replicas:
            replica.wait(timeout=30)
    delays.sort()
    path = (
        "LISTEN/NOTIFY" if url.startswith("postgresql") else f"polling every {ctx.settings.feed_change_check_seconds} s"
    )
    print(f"\nwrite -> new ETag on replica B, {writes} writes ({path}):")
    p50, p95 = delays[len(delays) // 2], delays[min(len(delays) - 1, int(len(delays) * 0.95))]
    print(f"p50 {p50 * 1000:.1f} ms   p95 {p95 * 1000:.1f} ms   max {delays[-1] * 1000:.1f} ms   target: p95 <= 100 ms")
    # Replica B renders only the changed notice's entry (feeds.fragments); a whole render, for comparison.
    render = cold_render_seconds(ctx, ctx.clock.now())
    print(f"(a whole render of this feed, nothing kept, takes {render * 1000:.1f} ms in this process)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="worker processes for both servers")
    parser.add_argument("--skip-million", action="store_true", help="skip the 1,000,000-notice render")
    parser.add_argument("--visible", type=int, default=1_000, help="visible notices (entries in the feed)")
    parser.add_argument("--ended", type=int, default=100_000, help="ended notices in history")
    parser.add_argument("--propagation", action="store_true", help="measure write -> other replica instead")
    parser.add_argument("--writes", type=int, default=100, help="writes timed by --propagation")
    args = parser.parse_args()
    for tool in () if args.propagation else ("wrk", "nginx"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            raise SystemExit(f"{tool} is missing: apt-get install wrk nginx-light")

    workdir = Path(tempfile.mkdtemp(prefix="notices-bench-"))
    os.chmod(workdir, 0o755)  # nginx workers may run as another user
    url = os.environ.get("NOTICES_BENCH_DATABASE_URL", f"sqlite:///{workdir}/bench.db")
    environ = {**os.environ, "NOTICES_DATABASE_URL": url}
    settings = load_settings(environ)
    now = datetime.now(UTC).replace(microsecond=0)
    db = Database.from_url(url)
    with db.engine.begin() as connection:
        from notices.core.models import Base

        Base.metadata.drop_all(connection)
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    database.upgrade(db.engine)
    ctx = AppContext(settings=settings, db=db, clock=FixedClock(now))

    print(f"database: {url.split('@')[-1]}")
    if args.propagation:
        from notices.core.clock import SystemClock

        insert(db, lambda size, done: notice_rows(size, now=now, ended=False, start_index=done), 100)
        propagation(url, environ, AppContext(settings=settings, db=db, clock=SystemClock()), args.writes)
        db.dispose()
        shutil.rmtree(workdir, ignore_errors=True)
        return
    started = time.perf_counter()
    insert(db, lambda size, done: notice_rows(size, now=now, ended=False, start_index=done), args.visible)
    insert(db, lambda size, done: notice_rows(size, now=now, ended=True, start_index=10_000_000 + done), args.ended)
    print(f"loaded {args.visible:,} visible + {args.ended:,} ended notices in {time.perf_counter() - started:.1f} s")
    render_100k = cold_render_seconds(ctx, now)
    body_size = len(render_feed(ctx, "/feeds/notices.atom", Filters(), "", now).body)
    size = f"{body_size / 1024:.0f} KiB"
    print(f"cold render /feeds/notices.atom, {args.ended:,} ended: {render_100k * 1000:.0f} ms ({size})")

    export_dir = workdir / "public"
    export_feeds(ctx, now=now, directory=export_dir)
    for folder in [export_dir, *export_dir.rglob("*")]:
        if folder.is_dir():
            os.chmod(folder, 0o755)
    (workdir / "nginx.conf").write_text(
        NGINX_CONF.format(workers=args.workers, prefix=workdir, port=8781, root=export_dir)
    )
    nginx = subprocess.Popen(["nginx", "-c", str(workdir / "nginx.conf"), "-p", str(workdir)])
    service = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "notices",
            "serve",
            "--no-scheduler",
            "--no-access-log",
            "--port",
            "8780",
            "--workers",
            str(args.workers),
        ],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        service_url, nginx_url = "http://127.0.0.1:8780/feeds/notices.atom", "http://127.0.0.1:8781/feeds/notices.atom"
        wait_for(service_url)
        wait_for(nginx_url)
        for _ in range(args.workers * 4):  # let every worker render once before measuring
            urllib.request.urlopen(service_url).read()
        run = {"duration": args.duration, "connections": args.connections}
        load_before = os.getloadavg()[0]
        results = {
            ("200", "notices"): wrk(service_url, **run),
            ("200", "nginx"): wrk(nginx_url, **run),
            ("304", "notices"): wrk(service_url, headers={"If-None-Match": etag_of(service_url)}, **run),
            ("304", "nginx"): wrk(nginx_url, headers={"If-None-Match": etag_of(nginx_url)}, **run),
        }
        load_after = os.getloadavg()[0]
    finally:
        os.killpg(service.pid, signal.SIGTERM)
        nginx.send_signal(signal.SIGQUIT)
        service.wait(timeout=30)
        nginx.wait(timeout=30)

    print(
        f"\nwrk -t2 -c{args.connections} -d{args.duration}s, {args.workers} worker processes each, "
        f"feed of {args.visible:,} notices ({body_size / 1024:.0f} KiB), "
        f"load average {load_before:.1f} before and {load_after:.1f} after (compare ratios within a run):"
    )
    print(f"{'status':8}{'notices req/s':>16}{'nginx req/s':>14}{'ratio':>8}   target")
    for status, target in (("200", ">= 0.7 (100-entry feed)"), ("304", ">= 0.5")):
        ours, theirs = results[(status, "notices")], results[(status, "nginx")]
        print(f"{status:8}{ours:16.0f}{theirs:14.0f}{ours / theirs:8.2f}   {target}")

    if not args.skip_million and args.ended < 1_000_000:
        started = time.perf_counter()
        more = 1_000_000 - args.ended
        insert(db, lambda size, done: notice_rows(size, now=now, ended=True, start_index=20_000_000 + done), more)
        print(f"\nloaded {more:,} more ended notices in {time.perf_counter() - started:.1f} s")
        render_1m = cold_render_seconds(ctx, now)
        print(f"cold render /feeds/notices.atom, 1,000,000 ended: {render_1m * 1000:.0f} ms")
        print(f"ratio 1,000,000 / {args.ended:,} ended: {render_1m / render_100k:.2f} (target: about 1, no growth)")
    db.dispose()
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
