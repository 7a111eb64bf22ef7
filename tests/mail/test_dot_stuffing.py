"""A message's DATA is dot-stuffed by bytes.replace (transports.dot_stuffed) rather than smtplib's
regular expression: the same bytes on the wire as smtplib's own data(), and a server receives the
message whole, lines that start with a dot (or are one) included."""

from __future__ import annotations

import smtplib

from hypothesis import given, settings
from hypothesis import strategies as st

from notices.mail.message import OutgoingMail
from notices.mail.transports import SMTPMailer, dot_stuffed
from tests.smtp_sink import RecordingHandler, running


class _WhatSmtplibSends(smtplib.SMTP):
    """smtplib's own data(), with the wire replaced by a record of what it would send."""

    def __init__(self) -> None:
        super().__init__()  # no host: not connected
        self.sent = b""

    def putcmd(self, cmd, args=""):
        pass

    def getreply(self):
        return (354, b"go ahead") if not self.sent else (250, b"ok")

    def send(self, s):
        self.sent += s


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([b".", b"..", b"\r\n", b"\n", b"\r", b"text", b" ", b"\xc3\xa9"]), max_size=12))
def test_the_bytes_are_smtplibs(pieces):
    data = b"".join(pieces)
    smtp = _WhatSmtplibSends()
    smtp.data(data)
    assert dot_stuffed(data) == smtp.sent


class _Raw(RecordingHandler):
    def __init__(self) -> None:
        super().__init__()
        self.contents: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        self.contents.append(envelope.original_content)
        return await super().handle_DATA(server, session, envelope)


def test_lines_starting_with_a_dot_arrive_as_written():
    body = b".hidden file\r\n.\r\n..two dots\r\nplain\r\n."
    data = b"From: notices@example.org\r\nTo: a@example.org\r\nSubject: Dots\r\n\r\n" + body
    handler = _Raw()
    with running(handler) as sink, SMTPMailer(sink.url, timeout=5).connection() as connection:
        mail = OutgoingMail(data=data, message_id="<dots@example.org>", recipient="a@example.org")
        assert connection.send(mail, sender="notices@example.org").startswith("250")
        # The connection goes on: the lone "." line did not end the first message early.
        assert connection.send(mail, sender="notices@example.org").startswith("250")
    assert handler.contents == [data + b"\r\n", data + b"\r\n"]
