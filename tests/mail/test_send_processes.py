"""Senders as real processes on the real clock: a run that outlives its lease sends nothing twice."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime

import pytest

from notices.core.clock import SystemClock
from notices.runtime import jobs
from tests.factories import add_notice, add_subscriber
from tests.smtp_sink import RecordingHandler, running

RECIPIENTS = 30
CONFIG = """
[site]
name = "Lease test"
[mail]
from_address = "notices@example.org"
lease_seconds = 5
batch_size = 200
[categories]
road-closure = "Road closure"
[locations]
plesmanlaan = "Plesmanlaan"
"""


class SlowServer(RecordingHandler):
    """An SMTP server that takes half a second per message: 30 messages outlast a 5 s lease threefold."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.5)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_smtp():
    with running(SlowServer()) as server:
        yield server.handler, server.port


def wait_for(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_send_run_outliving_its_lease_is_not_doubled_by_a_second_sender(ctx, slow_smtp, tmp_path):
    handler, port = slow_smtp
    config = tmp_path / "notices.toml"
    config.write_text(CONFIG)
    environ = {
        **os.environ,
        "NOTICES_CONFIG": str(config),
        "NOTICES_DATABASE_URL": ctx.settings.database_url,
        "NOTICES_SMTP_URL": f"smtp://127.0.0.1:{port}",
        "NOTICES_SECRET_KEY": "lease-test",
    }
    ctx.clock = SystemClock()  # the sender processes run on the real clock
    for number in range(RECIPIENTS):
        add_subscriber(ctx, f"tenant{number}@example.org")
    now = datetime.now(UTC)
    add_notice(ctx, now=now)
    jobs.record_transitions(ctx, now=now)
    assert jobs.enqueue_alerts(ctx, now=now)["enqueued"] == RECIPIENTS

    command = [sys.executable, "-m", "notices", "mail", "send-pending", "--json"]
    first = subprocess.Popen(command, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Twelve messages at half a second each: the first run's claims are older than their 5 s lease.
        wait_for(lambda: len(handler.messages) >= 12, timeout=60, what="the first run to be well past its lease")
        second = subprocess.run(command, env=environ, capture_output=True, text=True, timeout=120)
        assert second.returncode == 0, second.stderr
        output, errors = first.communicate(timeout=120)
        assert first.returncode == 0, errors
    finally:
        first.kill()
    received = Counter(message["To"].addresses[0].addr_spec for message in handler.messages)
    assert len(received) == RECIPIENTS
    assert set(received.values()) == {1}, {address: n for address, n in received.items() if n > 1}
    assert "Traceback" not in errors + second.stderr
