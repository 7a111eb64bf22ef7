"""Hooks with real schedulers on the real clock: on the wire within a second; two schedulers send each event once.

Real processes and the real clock, as in tests/runtime/test_multi_instance.py:
notices start and end a few seconds ahead, and the test waits (with deadlines)
for what the processes do, never for fixed amounts of time.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from notices.core.clock import SystemClock
from notices.core.config import load_settings
from notices.core.context import AppContext
from notices.core.models import HookDelivery, NoticeEvent
from notices.runtime import jobs
from notices.runtime.scheduler import NoticeScheduler
from tests.factories import add_notice
from tests.hook_receiver import receiving
from tests.hooks.conftest import add_endpoint
from tests.processes import Process, logs_of, wait_for

FAST_CONFIG = """
[site]
name = "Hooks processes test"
timezone = "Europe/Amsterdam"
[scheduler]
safety_tick_seconds = 1
change_poll_seconds = 0.5
leader_poll_seconds = 0.5
[mail]
lease_seconds = 5
[hooks]
allow_http = true
allow_private_networks = true
send_interval_seconds = 0.5
[categories]
road-closure = "Road closure"
utilities = "Utilities"
[locations]
plesmanlaan = "Plesmanlaan"
"""


@pytest.fixture
def timed_receiver():
    """A receiver that notes when each request arrived (time.time())."""
    with receiving() as receiver:
        arrivals: list[float] = []
        record = receiver.record

        def stamped(request):
            arrivals.append(time.time())
            record(request)

        receiver.record = stamped
        receiver.arrivals = arrivals
        yield receiver


def test_a_hook_is_on_the_wire_within_a_second_of_the_boundary_and_of_a_write(hook_ctx, timed_receiver):
    live = AppContext(settings=hook_ctx.settings, db=hook_ctx.db, clock=SystemClock())
    add_endpoint(live, timed_receiver.url, events="started,changed")
    scheduler = NoticeScheduler(live)
    try:
        scheduler.start()
        now = datetime.now(UTC)
        notice = add_notice(live, now=now, starts_at=now + timedelta(seconds=2), ends_at=now + timedelta(hours=1))
        wait_for(lambda: len(timed_receiver.received) == 1, timeout=15, what="the started hook")
        late = timed_receiver.arrivals[0] - notice.starts_at.timestamp()
        assert json.loads(timed_receiver.received[0].body)["type"] == "notice.started"
        assert 0 <= late < 1.0, f"the hook left {late:.3f} s after the start"

        # A change written elsewhere (the console, the API): its hook is queued with it and the
        # scheduler, polling for writes (change_poll_seconds), sends it.
        from notices.hooks.enqueue import enqueue_new_events
        from notices.notice import store
        from notices.notice.validation import parse_changes

        with live.db.writing() as session, session.begin():
            found = store.get_notice(session, notice.uid, for_update=True)
            fields = parse_changes(
                {"summary": "Detour"}, current=store.fields_of(found), settings=live.settings, now=live.clock.now()
            )
            store.update_notice(session, found, fields, note="detour", now=live.clock.now(), author="test")
            enqueue_new_events(session, settings=live.settings, now=live.clock.now())
            written = time.time()
        wait_for(lambda: len(timed_receiver.received) == 2, timeout=15, what="the changed hook")
        assert json.loads(timed_receiver.received[1].body)["type"] == "notice.changed"
        # change_poll_seconds is 1 by default: the poll plus the send.
        assert timed_receiver.arrivals[1] - written < live.settings.change_poll_seconds + 0.5
    finally:
        scheduler.shutdown()


def test_two_schedulers_and_a_concurrent_sender_send_each_event_once(ctx, tmp_path):
    config = tmp_path / "notices.toml"
    config.write_text(FAST_CONFIG)
    environ = {
        **os.environ,
        "NOTICES_CONFIG": str(config),
        "NOTICES_DATABASE_URL": ctx.settings.database_url,
        "NOTICES_SECRET_KEY": "hooks-processes-test",
        "NOTICES_MAIL_DIR": str(tmp_path / "mail"),
        "PYTHONUNBUFFERED": "1",
    }
    settings = ctx.settings
    ctx.clock = SystemClock()
    ctx.settings = load_settings(environ)
    notices, endpoints = 4, 3
    with receiving() as receiver:
        receiver.script((200, {}, b"ok"))
        for number in range(endpoints):
            add_endpoint(ctx, f"{receiver.url}/{number}")
        processes = [Process(f"scheduler-{n}", ["scheduler"], environ) for n in (1, 2)]
        stop = threading.Event()

        def compete() -> None:
            # A third sender claiming at the same time (as `notices hook send` would).
            while not stop.is_set():
                jobs.send_hooks(ctx, now=datetime.now(UTC))
                stop.wait(0.05)

        competitor = threading.Thread(target=compete, daemon=True)
        try:
            wait_for(
                lambda: any(p.said("is now the scheduler leader") for p in processes),
                timeout=30,
                what="a scheduler to become the leader",
            )
            competitor.start()
            now = datetime.now(UTC)
            for number in range(notices):
                add_notice(
                    ctx,
                    title=f"Closure {number}",
                    now=now,
                    starts_at=now + timedelta(seconds=4),
                    ends_at=now + timedelta(seconds=7),
                )
            expected = notices * 3 * endpoints  # published, started, ended; to every endpoint

            def all_sent() -> bool:
                with ctx.db.session() as session:
                    sent = session.scalar(
                        select(func.count()).select_from(HookDelivery).where(HookDelivery.status == "sent")
                    )
                return sent == expected

            wait_for(all_sent, timeout=90, what="every hook")
            stop.set()
            competitor.join(timeout=30)
            with ctx.db.session() as session:
                events = session.scalar(select(func.count()).select_from(NoticeEvent))
            assert events == notices * 3
            ids = Counter(request.headers["webhook-id"] for request in receiver.received)
            assert len(ids) == expected and set(ids.values()) == {1}
            per_endpoint = Counter(request.path for request in receiver.received)
            assert set(per_endpoint.values()) == {notices * 3}
        except AssertionError as failure:
            raise AssertionError(f"{failure}\n{logs_of(processes)}") from None
        finally:
            stop.set()
            for process in processes:
                process.stop()
            ctx.settings = settings
    for process in processes:
        assert "Traceback" not in "".join(process.lines), "".join(process.lines)[-3000:]
