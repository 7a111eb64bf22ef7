"""Two schedulers and two web processes on one database; the leader is killed mid-run.

Real processes and the real clock: notices start and end a few seconds
ahead, and the test waits (with deadlines) for what the processes do, not
for fixed amounts of time.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from notices.core.clock import SystemClock
from notices.core.config import load_settings
from notices.core.models import Delivery, NoticeEvent
from notices.runtime import bookkeeping
from tests.factories import add_notice, add_subscriber
from tests.processes import Process, logs_of, wait_for
from tests.smtp_sink import RecordingHandler, free_port, running

SUBSCRIBERS = 40
NOTICES = 3

FAST_CONFIG = """
[site]
name = "Multi-instance test"
timezone = "Europe/Amsterdam"
[scheduler]
safety_tick_seconds = 1
change_poll_seconds = 0.5
leader_poll_seconds = 0.5
[mail]
from_address = "notices@example.org"
send_interval_seconds = 0.5
lease_seconds = 5
batch_size = 20
[categories]
road-closure = "Road closure"
[locations]
plesmanlaan = "Plesmanlaan"
"""


class SlowSink(RecordingHandler):
    """Takes a moment per message, and can hold one reply until the test has killed the sender.

    A message whose sender died before our 250 reached it is not kept,
    as a real mail server that has not yet accepted it would not deliver it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.hold_after: int | None = None
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.02)
        if self.hold_after is not None and len(self.messages) >= self.hold_after and not self.release.is_set():
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            if server.transport is None or server.transport.is_closing():
                return "421 4.4.2 Connection lost"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def sink():
    handler = SlowSink()
    with running(handler) as server:
        yield handler, server.port
        handler.release.set()


def test_a_standby_takes_over_and_everything_happens_once(ctx, sink, tmp_path):
    handler, smtp_port = sink
    config = tmp_path / "notices.toml"
    config.write_text(FAST_CONFIG)
    environ = {
        **os.environ,
        "NOTICES_CONFIG": str(config),
        "NOTICES_DATABASE_URL": ctx.settings.database_url,
        "NOTICES_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "NOTICES_SECRET_KEY": "multi-instance-test",
        "PYTHONUNBUFFERED": "1",
    }
    # Real time from here on: these processes run on the system clock.
    ctx.clock = SystemClock()
    settings = ctx.settings
    ctx.settings = load_settings(environ)
    for number in range(SUBSCRIBERS):
        add_subscriber(ctx, f"tenant{number}@example.org")
    # Hold the 30th reply: the leader is then waiting for the server when it is killed.
    handler.hold_after = 30

    processes = [Process(f"scheduler-{n}", ["scheduler"], environ) for n in (1, 2)]
    web_ports = [free_port(), free_port()]
    processes += [
        Process(f"web-{port}", ["serve", "--no-scheduler", "--port", str(port)], environ) for port in web_ports
    ]
    try:
        wait_for(
            lambda: any(p.said("is now the scheduler leader") for p in processes[:2]),
            timeout=30,
            what="a scheduler to become the leader",
        )
        # Times count from when the processes are up: starting them can take
        # seconds on a busy machine, and the notices must not be over by then.
        now = datetime.now(UTC)
        for number in range(NOTICES):
            add_notice(
                ctx,
                title=f"Closure {number}",
                now=now,
                starts_at=now + timedelta(seconds=8),
                ends_at=now + timedelta(seconds=12),
            )
        leader = next(p for p in processes[:2] if p.said("is now the scheduler leader"))
        standby = next(p for p in processes[:2] if p is not leader)
        wait_for(handler.holding.is_set, timeout=60, what="the leader to be in the middle of sending")
        leader.popen.send_signal(signal.SIGKILL)
        leader.popen.wait(timeout=10)
        handler.release.set()
        takeover = wait_for(
            lambda: standby.said("is now the scheduler leader"), timeout=30, what="the standby to take over"
        )
        assert takeover < 30

        expected = SUBSCRIBERS * NOTICES * 2  # "new" and "now in effect" alerts; ends do not alert

        def all_done() -> bool:
            with ctx.db.session() as session:
                ended = session.scalar(select(func.count()).select_from(NoticeEvent).where(NoticeEvent.kind == "ended"))
                sent = session.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == "sent"))
            return ended == NOTICES and sent == expected

        wait_for(all_done, timeout=90, what="every event and email")

        with ctx.db.session() as session:
            events = Counter(session.execute(select(NoticeEvent.notice_id, NoticeEvent.kind)).all())
            statuses = Counter(session.scalars(select(Delivery.status)))
        assert len(events) == NOTICES * 3 and set(events.values()) == {1}
        assert statuses == {"sent": expected}
        received = Counter((m["To"].addresses[0].addr_spec, m["Message-ID"]) for m in handler.messages)
        assert len(received) == expected and set(received.values()) == {1}

        # Both web processes kept serving, and see the scheduler's heartbeat.
        for port in web_ports:
            health = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read().decode()
            assert '"scheduler":"ok"' in health
        with ctx.db.session() as session:
            assert bookkeeping.scheduler_seen_at(session) is not None
    except AssertionError as failure:
        raise AssertionError(f"{failure}\n{logs_of(processes)}") from None
    finally:
        for process in processes:
            process.stop()
        ctx.settings = settings
    for process in processes:
        assert "Traceback" not in "".join(process.lines), "".join(process.lines)[-3000:]
