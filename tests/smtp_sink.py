"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the mail path, with scriptable replies."""

from __future__ import annotations

import contextlib
import email
import socket
import threading
from collections import defaultdict
from email import policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RecordingHandler:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        # recipient -> replies to give to DATA, in order; then 250.
        self.scripted: dict[str, list[str]] = defaultdict(list)
        self.rejected: dict[str, str] = {}
        self.attempts: dict[str, int] = defaultdict(int)
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.rejected:
            return self.rejected[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        (recipient,) = envelope.rcpt_tos
        with self.lock:
            self.attempts[recipient] += 1
            if self.scripted[recipient]:
                return self.scripted[recipient].pop(0)
            self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 2.0.0 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if message["To"].addresses[0].addr_spec == address]


class SMTPSink:
    def __init__(self, handler: RecordingHandler | None = None) -> None:
        self.port = free_port()
        self.handler = handler or RecordingHandler()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@contextlib.contextmanager
def running(handler: RecordingHandler):
    """An SMTP server on 127.0.0.1 with this handler, for as long as the block lasts."""
    sink = SMTPSink(handler)
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()
