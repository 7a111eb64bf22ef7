"""A row written before input was checked (old data, a hand-made SQL fix) cannot put in a message
what the output filter takes out of every other output: controls (U+0085, which the email package
takes for a line break), noncharacters, bidi controls."""

import email
import re
from datetime import timedelta
from email import policy

from notices.mail.message import body_text, header_text
from tests.factories import add_notice, add_subscriber, write_old_row_text
from tests.mail_samples import _send as send
from tests.mail_samples import _take as take
from tests.mail_samples import part

# (No NUL: PostgreSQL cannot store one, so no row there holds one; a SQLite row may, see the last test.)
HOSTILE = "X\x01\x08\x0b\x0c\x1b\x7f\x85\x9f\ufffe\uffff\U0001fffe\u202e\u2066\u200f\u061cY"
NOT_IN_MAIL = set(HOSTILE) - {"X", "Y"}


def test_an_old_rows_unsafe_characters_are_in_no_part_of_its_alerts(sink_ctx, clock, sink):
    add_subscriber(sink_ctx, "tenant@example.org")
    notice = add_notice(sink_ctx, starts_at=clock.now() - timedelta(minutes=5), ends_at=None)
    write_old_row_text(sink_ctx, notice, HOSTILE)
    send(sink_ctx, clock)
    messages = [email.message_from_bytes(arrived.raw, policy=policy.strict) for arrived in take(sink)]
    assert messages
    for message in messages:
        subject = str(message["Subject"])
        # (A control character is left out, or in a header line a space, as a line break is.)
        assert re.search("Plesmanlaan X ?Y closed", subject), subject
        assert re.search("Q3 X ?Y 2027", subject), subject
        text, html = part(message, "plain"), part(message, "html")
        for shown in (subject, text, html):
            assert NOT_IN_MAIL.isdisjoint(shown), [hex(ord(c)) for c in shown if c in NOT_IN_MAIL]
        assert "Follow XY the diversion." in text  # on one line: nothing broke it
        assert "Follow XY the diversion." in html


def test_a_nul_is_in_no_part_or_header_either():
    assert body_text("Plesmanlaan\x00 closed\n") == "Plesmanlaan closed\n"
    assert header_text("Plesmanlaan\x00closed") == "Plesmanlaan closed"  # (a control is a space in a header)
