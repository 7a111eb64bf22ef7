"""Benchmark: enqueue, render and deliver every daily digest, beside plain smtplib.

Run by hand (not part of the test suite):

    .venv/bin/python bench/digests.py [--subscribers 10000] [--notices 200] [--memory-subscribers 100000]
    .venv/bin/python bench/digests.py --profile realistic [--subscribers 100000] [--connections 4] [--rounds 2]

Builds a fresh SQLite database (or NOTICES_BENCH_DATABASE_URL) with confirmed
daily subscribers with mixed filters and visible notices, starts an aiosmtpd
sink in its own process, then in one run:
- times `digest run` work (enqueue + render + deliver through the outbox) for every subscriber;
- times plain smtplib sending the same number of pre-built messages of the same size to the same sink;
- prints both rates and their ratio (target >= 0.8);
- in a separate process, the peak memory of the same work with --memory-subscribers (target < 300 MB).

`--profile realistic` is what a park's morning digest looks like: 20 visible notices, of which 3
are new since yesterday and 2 changed, for 100,000 subscribers by default. It times the whole
digest over one SMTP connection against plain smtplib (target >= 0.9), taking turns with it
(`--rounds`, the ratio of total times, each turn printed with the load average), then again with
`[mail] connections = --connections` against the same sink (aiosmtpd, which accepts connections
in parallel), and reports this process's peak memory (target < 150 MB).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import smtplib
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import speed_line  # noqa: E402

from feeds import insert, notice_rows  # noqa: E402  (the same synthetic notices as bench/feeds.py)
from notices.core import db as database  # noqa: E402
from notices.core.clock import FixedClock  # noqa: E402
from notices.core.config import load_settings  # noqa: E402
from notices.core.context import AppContext  # noqa: E402
from notices.core.db import Database  # noqa: E402
from notices.core.models import Base, Subscriber  # noqa: E402
from notices.mail.transports import SMTPMailer  # noqa: E402
from notices.runtime import jobs  # noqa: E402

CATEGORIES = ["road-closure", "construction", "utilities", "traffic", "event", "safety", "facilities"]
LOCATIONS = ["plesmanlaan", "sylviusweg", "einsteinweg", "wassenaarseweg", "de-limes", "gorlaeus"]


def subscriber_rows(count: int, start: int, now: datetime) -> list[dict]:
    rows = []
    for i in range(start, start + count):
        kind = i % 4
        rows.append(
            {
                "email": f"tenant{i}@example.org",
                "state": "confirmed",
                "frequency": "daily",
                "categories": [] if kind in (0, 3) else [CATEGORIES[i % 7], CATEGORIES[(i + 3) % 7]],
                "locations": [LOCATIONS[i % 6]] if kind == 2 else [],
                "min_severity": ["minor", "major"][i % 2] if kind == 3 else None,
                "language": "nl" if i % 3 == 0 else "en",
                "created_at": now,
                "updated_at": now,
                "confirmed_at": now,
                "suppression_reason": "",
                "token_generation": 1,
            }
        )
    return rows


def build_database(url: str, *, subscribers: int, notices: int, now: datetime) -> Database:
    db = Database.from_url(url)
    with db.engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    database.upgrade(db.engine)
    # Visible notices, published within the last day so they are "new" in today's digest.
    insert(
        db,
        lambda size, done: [
            row
            | {
                "publish_at": now - timedelta(hours=20),
                "created_at": now - timedelta(hours=20),
                "updated_at": now - timedelta(hours=20),
                "announced_phase": "none",
            }
            for row in notice_rows(size, now=now, ended=False, start_index=done)
        ],
        notices,
    )
    done = 0
    while done < subscribers:
        size = min(5000, subscribers - done)
        with db.engine.begin() as connection:
            connection.execute(Subscriber.__table__.insert(), subscriber_rows(size, done, now))
        done += size
    return db


def build_realistic(url: str, *, subscribers: int, now: datetime) -> Database:
    """20 visible notices: 17 known for days, 3 published since yesterday's digest, 2 of the old ones changed."""
    from sqlalchemy import update

    from notices.core.models import Notice, NoticeEvent

    db = build_database(url, subscribers=subscribers, notices=20, now=now)
    with db.engine.begin() as connection:
        three_days_ago = now - timedelta(days=3)
        old_ids = connection.execute(select_ids(Notice, offset=3)).scalars().all()
        connection.execute(
            update(Notice)
            .where(Notice.id.in_(old_ids))
            .values(publish_at=three_days_ago, created_at=three_days_ago, updated_at=three_days_ago)
        )
    # The old notices' published events (three days ago) and the new ones' (within the period).
    ctx = AppContext(settings=load_settings({**os.environ, "NOTICES_DATABASE_URL": url}), db=db, clock=FixedClock(now))
    jobs.record_transitions(ctx, now=now)
    with db.engine.begin() as connection:
        for notice_id in old_ids[:2]:
            connection.execute(
                NoticeEvent.__table__.insert(),
                {
                    "notice_id": notice_id,
                    "kind": "updated",
                    "version": 2,
                    "occurred_at": now - timedelta(hours=5),
                    "recorded_at": now - timedelta(hours=5),
                    "detail": "Diversion moved to the Einsteinweg",
                    "alerts_enqueued": True,
                    "hooks_enqueued": True,
                },
            )
    return db


def select_ids(model, *, offset: int):
    from sqlalchemy import select

    return select(model.id).order_by(model.id).offset(offset)


def realistic(url: str, port: int, subscribers: int, connections: int, rounds: int) -> None:
    """One connection against plain smtplib, then `connections` in parallel; peak memory of it all.

    Ours and plain smtplib take turns (`rounds` of each) and the ratio is of their total times, so a
    machine whose load changes during the run (other work on its cores) weighs on both alike.
    """
    import dataclasses

    now = _digest_now()
    print(f"database: {url.split('@')[-1]}; {subscribers:,} daily subscribers, 20 visible notices (3 new, 2 changed)")
    print(speed_line())
    db = build_realistic(url, subscribers=subscribers, now=now)
    settings = load_settings({**os.environ, "NOTICES_DATABASE_URL": url})
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ctx = AppContext(settings=settings, db=db, clock=FixedClock(now), mailer=SMTPMailer(f"smtp://127.0.0.1:{port}"))
    ours = plain = ours_cpu = plain_cpu = 0.0
    message = b""
    for round_number in range(rounds):
        if round_number:
            forget_digests(db)  # the same digests again, as a new period's worth
        cpu = time.process_time()
        count, seconds, _ = run_digests(ctx, now)
        ours, ours_cpu = ours + seconds, ours_cpu + time.process_time() - cpu
        print(f"  round {round_number + 1}, digests: {count / seconds:,.0f} messages/s ({load()})")
        if not message:
            message = sample_message(ctx, now)
        cpu = time.process_time()
        seconds = plain_smtplib(port, message, count)
        plain, plain_cpu = plain + seconds, plain_cpu + time.process_time() - cpu
        print(f"  round {round_number + 1}, plain smtplib: {count / seconds:,.0f} messages/s ({load()})")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    total = count * rounds
    print(f"\ndigests, one connection: {total:,} in {ours:.1f} s = {total / ours:,.0f} messages/s")
    print(f"plain smtplib, {len(message) / 1024:.1f} KiB messages: {total:,} in {plain:.1f} s = {total / plain:,.0f}/s")
    print(f"ratio: {plain / ours:.2f} (target >= 0.9)")
    # The sink runs on the same cores: every millisecond of CPU this process spends is one the sink may wait for.
    print(
        f"CPU time of this process per message: digests {ours_cpu / total * 1000:.2f} ms, "
        f"plain smtplib {plain_cpu / total * 1000:.2f} ms"
    )
    print(f"peak memory: {peak / 1024:.0f} MB ({baseline / 1024:.0f} MB before the digest run; target < 150 MB)")
    if connections > 1:
        forget_digests(db)
        parallel = dataclasses.replace(ctx, settings=dataclasses.replace(settings, smtp_connections=connections))
        count, many, _ = run_digests(parallel, now)
        print(
            f"digests, [mail] connections = {connections}: {count:,} in {many:.1f} s = {count / many:,.0f} messages/s"
        )
        print(f"ratio to plain smtplib over one connection: {(plain / rounds) / many:.2f} ({load()})")
    db.dispose()


def forget_digests(db: Database) -> None:
    """Forget the digests sent (deliveries and the period's run), so the same ones can be sent again."""
    from notices.core.models import Delivery, DigestRun

    with db.engine.begin() as connection:
        connection.execute(Delivery.__table__.delete())
        connection.execute(DigestRun.__table__.delete())


def load() -> str:
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def start_sink(port: int) -> subprocess.Popen:
    sink = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            smtplib.SMTP("127.0.0.1", port, timeout=2).quit()
            return sink
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the aiosmtpd sink did not start")


def run_digests(ctx: AppContext, now: datetime) -> tuple[int, float, bytes]:
    """Enqueue + render + deliver; returns (messages, seconds, one message's bytes)."""
    started = time.perf_counter()
    counts = jobs.enqueue_digests(ctx, now=now, frequency="daily")
    sent = jobs.send_pending(ctx, now=now)
    elapsed = time.perf_counter() - started
    if sent["sent"] != counts["enqueued"] or sent["retry"] or sent["failed"]:
        raise SystemExit(f"not every digest was delivered: {counts} {sent}")
    return sent["sent"], elapsed, b""


def plain_smtplib(port: int, message: bytes, count: int) -> float:
    started = time.perf_counter()
    client = smtplib.SMTP("127.0.0.1", port)
    for i in range(count):
        client.sendmail("notices@example.org", [f"tenant{i}@example.org"], message)
    client.quit()
    return time.perf_counter() - started


def sample_message(ctx: AppContext, now: datetime) -> bytes:
    """A real digest of typical size, rendered by the service itself."""
    from notices.mail.transports import MemoryMailer

    with ctx.db.writing() as session, session.begin():
        subscriber = Subscriber(
            email="sample@example.org",
            state="confirmed",
            frequency="daily",
            categories=[],
            locations=[],
            min_severity=None,
            language="en",
            created_at=now,
            updated_at=now,
            confirmed_at=now,
            suppression_reason="",
            token_generation=1,
        )
        session.add(subscriber)
    memory = MemoryMailer()
    sample_ctx = AppContext(settings=ctx.settings, db=ctx.db, clock=ctx.clock, mailer=memory)
    jobs.enqueue_digests(sample_ctx, now=now, frequency="daily")
    jobs.send_pending(sample_ctx, now=now)
    return memory.raw[0]


def memory_child(url: str, subscribers: int, notices: int, port: int) -> None:
    """Runs in its own process: the same work with many subscribers; prints peak RSS."""
    now = _digest_now()
    db = build_database(url, subscribers=subscribers, notices=notices, now=now)
    settings = load_settings({**os.environ, "NOTICES_DATABASE_URL": url})
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ctx = AppContext(settings=settings, db=db, clock=FixedClock(now), mailer=SMTPMailer(f"smtp://127.0.0.1:{port}"))
    count, elapsed, _ = run_digests(ctx, now)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{count} {elapsed:.1f} {baseline / 1024:.0f} {peak / 1024:.0f}")


def _digest_now() -> datetime:
    # Just after today's 07:00 digest time in the site zone.
    return datetime.now(UTC).replace(hour=6, minute=30, second=0, microsecond=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--notices", type=int, default=200)
    parser.add_argument("--memory-subscribers", type=int, default=100_000, help="0 skips the memory run")
    parser.add_argument("--profile", choices=["heavy", "realistic"], default="heavy")
    parser.add_argument("--connections", type=int, default=4, help="parallel SMTP connections (realistic profile)")
    parser.add_argument("--rounds", type=int, default=2, help="turns of ours and plain smtplib (realistic profile)")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help="the SMTP sink's port (default 8825)")
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.url, args.subscribers, args.notices, args.port)
        return

    workdir = Path(tempfile.mkdtemp(prefix="notices-digest-bench-"))
    url = os.environ.get("NOTICES_BENCH_DATABASE_URL", f"sqlite:///{workdir}/bench.db")
    port = args.port or 8825
    sink = start_sink(port)
    if args.profile == "realistic":
        subscribers = args.subscribers if "--subscribers" in sys.argv else 100_000
        try:
            realistic(url, port, subscribers, args.connections, args.rounds)
        finally:
            sink.terminate()
            sink.wait(timeout=10)
            shutil.rmtree(workdir, ignore_errors=True)
        return
    try:
        now = _digest_now()
        print(f"database: {url.split('@')[-1]}; {args.subscribers:,} daily subscribers, {args.notices} visible notices")
        db = build_database(url, subscribers=args.subscribers, notices=args.notices, now=now)
        settings = load_settings({**os.environ, "NOTICES_DATABASE_URL": url})
        ctx = AppContext(settings=settings, db=db, clock=FixedClock(now), mailer=SMTPMailer(f"smtp://127.0.0.1:{port}"))
        count, ours, _ = run_digests(ctx, now)
        message = sample_message(ctx, now)
        plain = plain_smtplib(port, message, count)
        print(f"\ndigests sent through the outbox: {count:,} in {ours:.1f} s = {count / ours:,.0f} messages/s")
        print(
            f"plain smtplib, pre-built {len(message) / 1024:.0f} KiB messages: {count:,} in {plain:.1f} s = "
            f"{count / plain:,.0f} messages/s"
        )
        print(f"ratio: {plain / ours:.2f} (target >= 0.8)")
        db.dispose()
        if args.memory_subscribers:
            memory_url = os.environ.get("NOTICES_BENCH_DATABASE_URL", f"sqlite:///{workdir}/memory.db")
            output = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--memory-child",
                    "--url",
                    memory_url,
                    "--port",
                    str(port),
                    "--subscribers",
                    str(args.memory_subscribers),
                    "--notices",
                    str(args.notices),
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            sent, seconds, before, peak = output[-4:]
            print(
                f"\n{int(sent):,} digests in {float(seconds):.0f} s; peak memory {peak} MB "
                f"({before} MB before sending; target < 300 MB)"
            )
    finally:
        sink.terminate()
        sink.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
