"""Benchmark: deliver 10,000 signed webhooks through the hooks outbox, beside a plain httpx loop.

Run by hand (not part of the test suite):

    .venv/bin/python bench/hooks.py [--deliveries 10000] [--endpoints 10]

Builds a fresh SQLite database (or NOTICES_BENCH_DATABASE_URL) with published
notices whose "published" events are not yet handed to the hooks, and webhook
endpoints on a local receiver (uvicorn in its own process, answering 200), then:
- times queueing the deliveries (enqueue_new_events: filters, Standard Webhooks bodies);
- times `send_hooks` delivering all of them: claims with leases, HMAC signatures,
  the vetted HTTP client, one outcome written per delivery;
- times plain httpx posting the same bodies to the same URLs two ways: one loop (one keep-alive
  client), and as many loops side by side as send_hooks has requests in flight ([hooks]
  concurrency; a client each, one queue). One loop costs the least CPU; side by side wins when
  round trips rather than CPU are the limit (a loaded machine), and comparing a concurrent
  sender with one loop alone would then flatter it;
- prints the rates and the ratio against the faster plain way (target >= 0.8), and this
  process's CPU time per delivery for each.
Every side is run --rounds times, alternating (the deliveries are put back to pending in between),
and the best round of each counts: on a shared machine, load that comes and goes then
weighs on neither side alone.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import select, update

sys.path.insert(0, str(Path(__file__).resolve().parent))

from feeds import insert, notice_rows  # noqa: E402  (the same synthetic notices as bench/feeds.py)
from notices.core import db as database  # noqa: E402
from notices.core.clock import FixedClock  # noqa: E402
from notices.core.config import load_settings  # noqa: E402
from notices.core.context import AppContext  # noqa: E402
from notices.core.db import Database  # noqa: E402
from notices.core.models import Base, HookDelivery, HookEndpoint, Notice, NoticeEvent  # noqa: E402
from notices.hooks import store  # noqa: E402
from notices.runtime import jobs  # noqa: E402

RECEIVER = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_receiver(workdir: Path, port: int) -> subprocess.Popen:
    (workdir / "receiver.py").write_text(RECEIVER)
    receiver = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "receiver:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--backlog",
            "4096",
        ],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.post(f"http://127.0.0.1:{port}/", content=b"{}", timeout=2)
            return receiver
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("the receiver did not start")


def build(url: str, *, notices: int, endpoints: int, receiver: str, now: datetime) -> AppContext:
    db = Database.from_url(url)
    with db.engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    database.upgrade(db.engine)
    insert(
        db,
        lambda size, done: [
            row | {"created_at": now, "updated_at": now, "announced_phase": "published"}
            for row in notice_rows(size, now=now, ended=False, start_index=done)
        ],
        notices,
    )
    with db.engine.begin() as connection:
        ids = connection.execute(select(Notice.id)).scalars().all()
        connection.execute(
            NoticeEvent.__table__.insert(),
            [
                {
                    "notice_id": notice_id,
                    "kind": "published",
                    "version": 1,
                    "occurred_at": now,
                    "recorded_at": now,
                    "detail": "",
                    "alerts_enqueued": True,
                    "hooks_enqueued": False,
                }
                for notice_id in ids
            ],
        )
    settings = load_settings({**os.environ, "NOTICES_DATABASE_URL": url, "NOTICES_SECRET_KEY": "bench"})
    settings = dataclasses.replace(settings, hooks_allow_http=True, hooks_allow_private_networks=True)
    ctx = AppContext(settings=settings, db=db, clock=FixedClock(now))
    with db.session() as session, session.begin():
        for number in range(endpoints):
            store.add_endpoint(
                session,
                store.parse_endpoint({"url": f"{receiver}/hook/{number}", "kind": "webhook"}, settings),
                now=now,
                actor="bench",
            )
    return ctx


def requeue(ctx: AppContext, now: datetime) -> None:
    """Every delivery pending again, as enqueued (for the next round)."""
    with ctx.db.session() as session, session.begin():
        session.execute(
            update(HookDelivery).values(
                status="pending", attempts=0, next_attempt_at=now, lease_until=None, claimed_by="", sent_at=None
            )
        )


def plain_httpx(requests: list[tuple[str, str, str]], threads: int = 1) -> float:
    """The same bodies to the same URLs from keep-alive clients: one loop, or `threads` loops side by side
    (each with its own client, taking the next request from one queue, as send_hooks's workers do)."""
    work: queue.SimpleQueue[tuple[str, str, str] | None] = queue.SimpleQueue()
    for request in requests:
        work.put(request)
    failures: list[int] = []

    def loop() -> None:
        with httpx.Client(timeout=5) as client:
            while (request := work.get()) is not None:
                url, body, content_type = request
                answer = client.post(url, content=body.encode(), headers={"content-type": content_type})
                answer.read()
                if answer.status_code != 200:
                    failures.append(answer.status_code)

    started = time.perf_counter()
    if threads == 1:
        work.put(None)
        loop()
    else:
        for _ in range(threads):
            work.put(None)
        running = [threading.Thread(target=loop) for _ in range(threads)]
        for thread in running:
            thread.start()
        for thread in running:
            thread.join()
    if failures:
        raise SystemExit(f"the receiver answered {failures[0]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=10_000)
    parser.add_argument("--endpoints", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if args.deliveries % args.endpoints:
        raise SystemExit("--deliveries must be a multiple of --endpoints")

    workdir = Path(tempfile.mkdtemp(prefix="notices-hooks-bench-"))
    url = os.environ.get("NOTICES_BENCH_DATABASE_URL", f"sqlite:///{workdir}/bench.db")
    port = free_port()
    receiver = start_receiver(workdir, port)
    try:
        now = datetime.now(UTC).replace(microsecond=0)
        notices = args.deliveries // args.endpoints
        print(f"database: {url.split('@')[-1]}; {notices:,} events x {args.endpoints} webhook endpoints")
        ctx = build(url, notices=notices, endpoints=args.endpoints, receiver=f"http://127.0.0.1:{port}", now=now)

        started = time.perf_counter()
        queued = jobs.enqueue_hooks(ctx, now=now)["enqueued"]
        enqueue_seconds = time.perf_counter() - started
        if queued != args.deliveries:
            raise SystemExit(f"queued {queued}, expected {args.deliveries}")

        with ctx.db.session() as session:
            rows = session.execute(
                select(HookEndpoint.url, HookDelivery.body, HookDelivery.content_type).join(HookEndpoint)
            ).all()
        requests = [(row.url, row.body, row.content_type) for row in rows]

        concurrency = ctx.settings.hooks_concurrency
        # The plain side both ways: one loop (cheapest in CPU), and as many loops side by side as
        # send_hooks has requests in flight (which wins when round trips, not CPU, are the limit).
        plain_ways = {"one loop": 1, f"{concurrency} loops": concurrency}
        ours = ours_cpu = float("inf")
        plain = dict.fromkeys(plain_ways, float("inf"))
        plain_cpu = dict.fromkeys(plain_ways, float("inf"))
        for round_number in range(args.rounds):
            if round_number:
                requeue(ctx, now)
            started, cpu = time.perf_counter(), time.process_time()
            counts = jobs.send_hooks(ctx, now=now)
            ours = min(ours, time.perf_counter() - started)
            ours_cpu = min(ours_cpu, time.process_time() - cpu)
            if counts["sent"] != args.deliveries:
                raise SystemExit(f"not every hook was delivered: {counts}")
            for way, threads in plain_ways.items():
                cpu = time.process_time()
                plain[way] = min(plain[way], plain_httpx(requests, threads))
                plain_cpu[way] = min(plain_cpu[way], time.process_time() - cpu)
        ours_rate = args.deliveries / ours
        print(f"queue:        {queued:,} deliveries in {enqueue_seconds:.2f} s ({queued / enqueue_seconds:,.0f}/s)")
        print(
            f"send_hooks:   {args.deliveries:,} in {ours:.2f} s = {ours_rate:,.0f} deliveries/s "
            f"(concurrency {concurrency})"
        )
        for way in plain_ways:
            rate = args.deliveries / plain[way]
            print(
                f"plain httpx, {way}: {args.deliveries:,} in {plain[way]:.2f} s = {rate:,.0f} requests/s "
                f"(ratio {ours_rate / rate:.2f}x)"
            )
        best = min(plain.values())
        print(f"ratio:        {best / ours:.2f}x against the faster plain way (target >= 0.8)")
        # CPU time of this process per delivery: what the sender costs whatever else the machine does.
        per = 1000 / args.deliveries
        print(
            f"CPU per delivery: send_hooks {ours_cpu * per:.2f} ms, plain httpx "
            + ", ".join(f"{way} {plain_cpu[way] * per:.2f} ms" for way in plain_ways)
        )
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)


if __name__ == "__main__":
    main()
