"""Senders as real processes on the real clock: a run that outlives its lease sends nothing twice, and a
killed one sends again only what it had not recorded."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from notices.core.clock import SystemClock
from notices.core.models import Delivery, Subscriber
from notices.mail.transports import SMTPMailer
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


class QuickServer(RecordingHandler):
    """A twentieth of a second per message: a kill lands mid-run, with outcomes waiting to be written."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.05)
        return await super().handle_DATA(server, session, envelope)


def test_a_killed_sender_resends_only_what_it_had_not_recorded_yet(ctx, tmp_path):
    """SIGKILL mid-run: messages whose outcome was committed are never sent again; those sent but not yet
    written (at most one group, see mail.outcomes) go out again after their lease, with the same Message-ID."""
    config = tmp_path / "notices.toml"
    config.write_text(CONFIG)
    ctx.clock = SystemClock()
    for number in range(RECIPIENTS):
        add_subscriber(ctx, f"tenant{number}@example.org")
    now = datetime.now(UTC)
    add_notice(ctx, now=now)
    jobs.record_transitions(ctx, now=now)
    assert jobs.enqueue_alerts(ctx, now=now)["enqueued"] == RECIPIENTS
    with running(QuickServer()) as server:
        environ = {
            **os.environ,
            "NOTICES_CONFIG": str(config),
            "NOTICES_DATABASE_URL": ctx.settings.database_url,
            "NOTICES_SMTP_URL": server.url,
            "NOTICES_SECRET_KEY": "lease-test",
        }
        sender = subprocess.Popen([sys.executable, "-m", "notices", "mail", "send-pending"], env=environ)
        try:
            wait_for(lambda: len(server.handler.messages) >= 10, timeout=60, what="the sender to be mid-run")
        finally:
            sender.kill()
            sender.wait(timeout=30)
        with ctx.db.session() as session:
            statuses = dict(
                session.execute(
                    select(Subscriber.email, Delivery.status).join(Subscriber, Subscriber.id == Delivery.subscriber_id)
                ).all()
            )
        before = Counter(message["To"].addresses[0].addr_spec for message in server.handler.messages)
        recorded = {address for address, status in statuses.items() if status == "sent"}
        unrecorded = set(before) - recorded
        assert recorded <= set(before)
        assert len(unrecorded) <= 1  # at most the message on the wire: the sender waits for its outcome
        # After the dead run's leases (5 s) have run out, another run sends everything left.
        later = datetime.now(UTC) + timedelta(seconds=6)
        ctx.mailer = SMTPMailer(server.url, timeout=10)
        jobs.send_pending(ctx, now=later)
    received = Counter(message["To"].addresses[0].addr_spec for message in server.handler.messages)
    assert set(received) == {f"tenant{number}@example.org" for number in range(RECIPIENTS)}
    # Sent twice: exactly those the killed run had sent without writing it down, never one it had recorded.
    assert {address for address, times in received.items() if times > 1} == unrecorded
    assert set(received.values()) <= {1, 2}
    for address in unrecorded:
        first, second = server.handler.to(address)
        assert first["Message-ID"] == second["Message-ID"]
