"""`[mail] connections`: a send run keeps several SMTP connections busy side by side, against a
real (slow) aiosmtpd server, and still sends every message exactly once."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter

import pytest
from sqlalchemy import select

from notices.core.config import ConfigError, load_settings
from notices.core.models import Delivery
from notices.mail.transports import SMTPMailer
from notices.runtime import jobs
from tests.factories import add_notice, add_subscriber
from tests.smtp_sink import RecordingHandler, running

SUBSCRIBERS = 24


class SlowServer(RecordingHandler):
    """Takes its time over DATA, and notes how many connections were sending at once."""

    def __init__(self, delay: float, refuse_all: bool = False) -> None:
        super().__init__()
        self.delay = delay
        self.in_flight = 0
        self.most_at_once = 0
        self.sessions: set[int] = set()
        self.refuse_all = refuse_all

    async def handle_DATA(self, server, session, envelope):
        self.sessions.add(id(session))
        self.in_flight += 1  # one event loop: no lock needed between these lines
        self.most_at_once = max(self.most_at_once, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            if self.refuse_all:
                return "451 4.3.0 Try again later"
            return await super().handle_DATA(server, session, envelope)
        finally:
            self.in_flight -= 1


def _send_run(ctx, connections: int, handler: SlowServer) -> dict[str, int]:
    for number in range(SUBSCRIBERS):
        add_subscriber(ctx, f"tenant{number}@example.org")
    add_notice(ctx, title="Plesmanlaan closed")
    now = ctx.clock.now()
    jobs.record_transitions(ctx, now=now)
    jobs.enqueue_alerts(ctx, now=now)
    ctx.settings = dataclasses.replace(ctx.settings, smtp_connections=connections)
    with running(handler) as sink:
        ctx.mailer = SMTPMailer(sink.url, timeout=10)
        return jobs.send_pending(ctx, now=now)


@pytest.mark.parametrize("connections", [1, 4])
def test_every_message_goes_out_once_over_as_many_connections_as_configured(ctx, connections):
    handler = SlowServer(delay=0.05)
    counts = _send_run(ctx, connections, handler)
    assert counts["sent"] == SUBSCRIBERS
    received = Counter(message["To"].addresses[0].addr_spec for message in handler.messages)
    assert len(received) == SUBSCRIBERS and set(received.values()) == {1}
    # The slow server saw that many connections, sending at the same time (never more).
    assert len(handler.sessions) == connections
    assert handler.most_at_once == connections
    with ctx.db.session() as session:
        assert set(session.scalars(select(Delivery.status))) == {"sent"}


def test_a_server_that_defers_everything_leaves_every_message_to_retry_over_parallel_connections(ctx):
    counts = _send_run(ctx, 3, SlowServer(delay=0.01, refuse_all=True))
    assert counts == {"sent": 0, "retry": SUBSCRIBERS, "failed": 0, "expired": 0, "lost": 0}
    with ctx.db.session() as session:
        assert Counter(session.scalars(select(Delivery.status))) == {"pending": SUBSCRIBERS}


@pytest.mark.parametrize("value", ["0", "17", "2.5", "many"])
def test_a_bad_connections_setting_is_a_config_error_naming_it(tmp_path, value):
    config = tmp_path / "notices.toml"
    shown = repr(value) if value == "many" else value
    config.write_text(f'[mail]\nconnections = {shown}\n[categories]\na = "A"\n[locations]\nb = "B"\n')
    with pytest.raises(ConfigError, match="mail.connections"):
        load_settings({"NOTICES_CONFIG": str(config)})
