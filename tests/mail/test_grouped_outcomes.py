"""Outcomes are written by a thread of their own, several in one transaction when they come in
together (mail.outcomes): every one is recorded, whatever else happened in its group."""

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from notices.core.models import Delivery, Subscriber
from notices.mail.transports import SMTPMailer
from notices.runtime import jobs
from tests.factories import add_notice, add_subscriber
from tests.smtp_sink import RecordingHandler, running


def publish_and_enqueue(ctx, **notice):
    add_notice(ctx, **notice)
    now = ctx.clock.now()
    jobs.record_transitions(ctx, now=now)
    return jobs.enqueue_alerts(ctx, now=now)


def rows_by_address(ctx):
    with ctx.db.session() as session:
        return {
            email: delivery
            for delivery, email in session.execute(
                select(Delivery, Subscriber.email).join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            )
        }


def test_every_message_of_a_run_is_recorded_with_its_own_outcome(mail_ctx, smtp, clock):
    for number in range(40):
        add_subscriber(mail_ctx, f"tenant{number}@example.org")
    publish_and_enqueue(mail_ctx, title="Plesmanlaan closed")
    counts = jobs.send_pending(mail_ctx, now=clock.now())
    assert counts["sent"] == 40
    rows = rows_by_address(mail_ctx)
    assert {row.status for row in rows.values()} == {"sent"}
    # Each row holds what the server said about its own message.
    received = {message["To"].addresses[0].addr_spec: message["Message-ID"] for message in smtp.handler.messages}
    assert {address: row.message_id for address, row in rows.items()} == received
    assert all(row.smtp_reply.startswith("250") and row.sent_at == clock.now() for row in rows.values())
    assert all(row.lease_until is None for row in rows.values())


def test_sent_deferred_and_refused_messages_in_one_group_each_get_their_own_outcome(mail_ctx, smtp, clock):
    for address in ("a@example.org", "later@example.org", "refused@example.org", "d@example.org"):
        add_subscriber(mail_ctx, address)
    smtp.handler.scripted["later@example.org"] = ["451 4.3.0 Try again later"]
    smtp.handler.scripted["refused@example.org"] = ["554 5.7.1 Message content rejected"]
    publish_and_enqueue(mail_ctx)
    counts = jobs.send_pending(mail_ctx, now=clock.now())
    assert counts == {"sent": 2, "retry": 1, "failed": 1, "expired": 0, "lost": 0}
    rows = rows_by_address(mail_ctx)
    assert {address: row.status for address, row in rows.items()} == {
        "a@example.org": "sent",
        "later@example.org": "pending",
        "refused@example.org": "failed",
        "d@example.org": "sent",
    }
    assert rows["later@example.org"].next_attempt_at == clock.now() + timedelta(minutes=1)
    assert rows["later@example.org"].last_error.startswith("451")
    assert rows["refused@example.org"].last_error.startswith("554")
    assert rows["a@example.org"].last_error == "" and rows["a@example.org"].smtp_reply.startswith("250")
    # A refused message is not an unknown address: the subscriber stays subscribed.
    with mail_ctx.db.session() as session:
        assert session.scalar(select(Subscriber.state).where(Subscriber.email == "refused@example.org")) == "confirmed"
    # The deferred one goes out after its backoff, the others are not sent again.
    clock.advance(timedelta(minutes=1))
    assert jobs.send_pending(mail_ctx, now=clock.now())["sent"] == 1
    assert Counter(m["To"].addresses[0].addr_spec for m in smtp.handler.messages) == {
        "a@example.org": 1,
        "later@example.org": 1,
        "d@example.org": 1,
    }


class ShutsDownAfter(RecordingHandler):
    """Accepts `accepted` messages, then answers every DATA with 421 (a server going down mid-run)."""

    def __init__(self, accepted: int) -> None:
        super().__init__()
        self.accepted = accepted

    async def handle_DATA(self, server, session, envelope):
        if len(self.messages) >= self.accepted:
            return "421 4.3.2 Service shutting down"
        return await super().handle_DATA(server, session, envelope)


def test_a_server_failing_mid_run_keeps_what_was_sent_before_and_retries_only_the_rest(ctx, clock):
    for number in range(30):
        add_subscriber(ctx, f"tenant{number}@example.org")
    publish_and_enqueue(ctx)
    handler = ShutsDownAfter(accepted=12)
    with running(handler) as sink:
        ctx.mailer = SMTPMailer(sink.url, timeout=5)
        counts = jobs.send_pending(ctx, now=clock.now())
        assert (counts["sent"], counts["retry"]) == (12, 18)
        first = {message["To"].addresses[0].addr_spec for message in handler.messages}
        rows = rows_by_address(ctx)
        assert {address for address, row in rows.items() if row.status == "sent"} == first
        assert Counter(row.status for row in rows.values()) == {"sent": 12, "pending": 18}
        # Back up: the next run sends the other 18, and none of the first 12 again.
        handler.accepted = 1000
        clock.advance(timedelta(minutes=1))
        assert jobs.send_pending(ctx, now=clock.now())["sent"] == 18
    received = Counter(message["To"].addresses[0].addr_spec for message in handler.messages)
    assert len(received) == 30 and set(received.values()) == {1}
