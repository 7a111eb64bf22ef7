"""An SMTP connection asks `ready` after the envelope and before DATA (the sender waits there for its
last outcome, mail.outcomes): the envelope's round trips overlap with that wait, and a message
withdrawn then is not sent, while the connection goes on with the next one."""

import pytest

from notices.mail.message import OutgoingMail
from notices.mail.transports import SMTPMailer, Withdrawn
from tests.smtp_sink import RecordingHandler, running


def plain_mail(recipient: str) -> OutgoingMail:
    data = (
        f"From: notices@example.org\r\nTo: {recipient}\r\nSubject: Plesmanlaan closed\r\n"
        f"Message-ID: <{recipient}.test@example.org>\r\n\r\nClosed from Friday 16:00.\r\n"
    ).encode()
    return OutgoingMail(data=data, message_id=f"<{recipient}.test@example.org>", recipient=recipient)


class Steps(RecordingHandler):
    """Notes each recipient accepted and each message received, in the order the server saw them."""

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.steps.append(f"rcpt {address}")
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server, session, envelope):
        self.steps.append(f"data {envelope.rcpt_tos[0]}")
        return await super().handle_DATA(server, session, envelope)


def test_ready_is_asked_once_the_recipient_is_accepted_and_before_the_message_goes_out():
    handler = Steps()
    with running(handler) as sink, SMTPMailer(sink.url, timeout=5).connection() as connection:

        def ready() -> bool:
            handler.steps.append("ready")
            return True

        reply = connection.send(plain_mail("a@example.org"), sender="notices@example.org", ready=ready)
    assert reply.startswith("250")
    assert handler.steps == ["rcpt a@example.org", "ready", "data a@example.org"]
    assert [message["To"] for message in handler.messages] == ["a@example.org"]


def test_a_message_withdrawn_before_data_is_not_sent_and_the_connection_sends_the_next():
    handler = Steps()
    with running(handler) as sink, SMTPMailer(sink.url, timeout=5).connection() as connection:
        with pytest.raises(Withdrawn):
            connection.send(plain_mail("a@example.org"), sender="notices@example.org", ready=lambda: False)
        assert handler.messages == []
        # The envelope was reset: the next message goes to its own recipient only.
        assert connection.send(plain_mail("b@example.org"), sender="notices@example.org").startswith("250")
    assert handler.steps == ["rcpt a@example.org", "rcpt b@example.org", "data b@example.org"]
    assert [message["To"] for message in handler.messages] == ["b@example.org"]
