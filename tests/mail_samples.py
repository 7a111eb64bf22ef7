"""Every kind of email, sent the way the service sends it, for the tests of the messages themselves.

Each scenario goes through the real jobs (record_transitions, enqueue_*,
send_pending) to the aiosmtpd server and returns what arrived, with the
bytes exactly as they crossed the wire.
"""

from __future__ import annotations

import email
from dataclasses import dataclass
from datetime import timedelta
from email import policy
from email.message import EmailMessage

import lxml.html
import pytest

from notices.mail import subscriptions
from notices.mail.transports import SMTPMailer
from notices.notice import store
from notices.notice.validation import parse_changes
from notices.runtime import jobs
from tests.factories import add_notice, add_subscriber
from tests.smtp_sink import RecordingHandler, SMTPSink

KINDS = (
    "confirm",
    "manage",
    "alert:published",
    "alert:started",
    "alert:rescheduled",
    "alert:cancelled",
    "reminder",
    "digest",
)
LANGUAGES = ("en", "nl")


@dataclass(frozen=True)
class Arrived:
    recipient: str  # the envelope recipient (RCPT TO)
    raw: bytes  # the message as the server received it

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=policy.default)


class RawHandler(RecordingHandler):
    """Keeps the wire bytes too: line lengths and encodings are checked on those."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: list[Arrived] = []

    async def handle_DATA(self, server, session, envelope):
        (recipient,) = envelope.rcpt_tos
        with self.lock:
            self.arrived.append(Arrived(recipient, envelope.original_content or envelope.content))
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def sink():
    """The aiosmtpd server of the `smtp` fixture, keeping each message's bytes (import it into a test module)."""
    sink = SMTPSink()
    sink.handler = RawHandler()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def sink_ctx(ctx, sink):
    """The context with its mailer pointed at `sink`."""
    ctx.mailer = SMTPMailer(sink.url, timeout=5)
    return ctx


def _send(ctx, clock) -> None:
    jobs.record_transitions(ctx, now=clock.now())
    jobs.enqueue_alerts(ctx, now=clock.now())
    jobs.send_pending(ctx, now=clock.now())


def _change(ctx, clock, uid: str, **raw) -> None:
    with ctx.db.writing() as session, session.begin():
        current = store.get_notice(session, uid)
        fields = parse_changes(raw, current=store.fields_of(current), settings=ctx.settings, now=clock.now())
        store.update_notice(session, current, fields, note="change", now=clock.now(), author="test")


def _cancel(ctx, clock, uid: str, reason: str) -> None:
    with ctx.db.writing() as session, session.begin():
        store.cancel_notice(session, store.get_notice(session, uid), reason=reason, now=clock.now(), author="test")


def subscription_mail(ctx, sink, *, language: str = "en") -> dict[str, Arrived]:
    """The confirmation of a new sign-up and the 'already subscribed' mail."""
    add_subscriber(ctx, "pending@example.org", state="pending", language=language)
    add_subscriber(ctx, "known@example.org", language=language, frequency="weekly")
    with ctx.db.writing() as session, session.begin():
        subscriptions.sign_up(
            session,
            email="known@example.org",
            preferences=subscriptions.parse_preferences({}, ctx.settings),
            client="192.0.2.1",
            now=ctx.clock.now(),
            settings=ctx.settings,
        )
    jobs.send_pending(ctx, now=ctx.clock.now())
    by_recipient = {arrived.recipient: arrived for arrived in sink.handler.arrived}
    return {"confirm": by_recipient["pending@example.org"], "manage": by_recipient["known@example.org"]}


def alert_mail(
    ctx, clock, sink, *, language: str = "en", recipients=("tenant@example.org",), **text
) -> dict[str, list[Arrived]]:
    """Published, reminder, started, rescheduled, cancelled: one notice's alerts, in that order."""
    for address in recipients:
        add_subscriber(ctx, address, language=language)
    notice = add_notice(ctx, starts_at=clock.now() + timedelta(days=2), ends_at=clock.now() + timedelta(days=5), **text)
    kinds = {}
    _send(ctx, clock)
    kinds["alert:published"] = _take(sink)
    clock.advance(timedelta(days=1))
    _send(ctx, clock)
    kinds["reminder"] = _take(sink)
    clock.advance(timedelta(days=1))
    _send(ctx, clock)
    kinds["alert:started"] = _take(sink)
    _change(ctx, clock, notice.uid, ends_at=clock.now() + timedelta(days=9))
    _send(ctx, clock)
    kinds["alert:rescheduled"] = _take(sink)
    _cancel(ctx, clock, notice.uid, text.get("summary") or "works postponed")
    _send(ctx, clock)
    kinds["alert:cancelled"] = _take(sink)
    return kinds


def digest_mail(ctx, clock, sink, *, language: str = "en", recipients=("daily@example.org",), **text) -> list[Arrived]:
    """A daily digest with every section filled: new, changed, starting, ending, still in effect."""
    for address in recipients:
        add_subscriber(ctx, address, frequency="daily", language=language)
    day = timedelta(days=1)
    # Published before the digest's period (Sat 07:00 to Sun 07:00 in Amsterdam) ...
    changed = add_notice(ctx, starts_at=clock.now() + timedelta(hours=2), ends_at=clock.now() + 20 * day, **text)
    add_notice(ctx, starts_at=clock.now() + timedelta(hours=1), ends_at=clock.now() + 3 * day, **text)
    add_notice(
        ctx, starts_at=clock.now() + timedelta(hours=1), ends_at=None, expected_end="approximately Q3 2027", **text
    )
    add_notice(ctx, starts_at=clock.now() + 4 * day, **text)
    jobs.record_transitions(ctx, now=clock.now())
    # ... and during it.
    clock.advance(day)
    add_notice(ctx, starts_at=clock.now() + timedelta(hours=2), **text)
    _change(ctx, clock, changed.uid, severity="critical")
    jobs.record_transitions(ctx, now=clock.now())
    clock.set((clock.now() + day).replace(hour=6, minute=30))  # Monday 07:30 in Amsterdam
    sink.handler.arrived.clear()
    jobs.enqueue_digests(ctx, now=clock.now(), frequency="daily")
    jobs.send_pending(ctx, now=clock.now())
    return _take(sink)


def every_kind(ctx, clock, sink, *, language: str = "en", **text) -> dict[str, Arrived]:
    """One message of each kind to one subscriber each, in `language`."""
    kinds = subscription_mail(ctx, sink, language=language)
    sink.handler.arrived.clear()
    kinds |= {kind: arrived for kind, (arrived,) in alert_mail(ctx, clock, sink, language=language, **text).items()}
    (kinds["digest"],) = digest_mail(ctx, clock, sink, language=language, **text)
    return kinds


_BLOCKS = {
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "blockquote",
    "pre",
    "table",
    "tr",
    "td",
    "th",
    "dl",
    "dt",
    "dd",
    "hr",
    "br",
    "body",
}


def visible_text(html: str) -> str:
    """What a reader sees of an HTML part, as text: block elements apart, as a browser shows them."""
    body = lxml.html.fromstring(html).body
    assert body is not None
    for element in body.iter():
        if element.tag in _BLOCKS:
            element.text = "\n" + (element.text or "")
            element.tail = "\n" + (element.tail or "")
    return body.text_content()


def part(message: EmailMessage, subtype: str) -> str:
    """The text of the plain or html part, with the line ends a program reading it sees."""
    body = message.get_body((subtype,))
    assert body is not None, f"no {subtype} part"
    return str(body.get_content()).replace("\r\n", "\n")


def html_links(html: str) -> set[str]:
    return set(lxml.html.fromstring(html).xpath("//a/@href"))


def _take(sink) -> list[Arrived]:
    arrived = list(sink.handler.arrived)
    sink.handler.arrived.clear()
    return arrived
