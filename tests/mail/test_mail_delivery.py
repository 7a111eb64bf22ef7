"""The outbox against a real SMTP server: retries, suppression, expiry, leases, duplicates."""

import threading
from datetime import timedelta

from sqlalchemy import select

from notices.core.models import Delivery, Subscriber
from notices.mail import outbox
from notices.runtime import jobs
from tests.factories import add_notice, add_subscriber


def deliveries(ctx):
    with ctx.db.session() as session:
        return session.scalars(select(Delivery).order_by(Delivery.id)).all()


def state_of(ctx, email):
    with ctx.db.session() as session:
        return session.scalar(select(Subscriber.state).where(Subscriber.email == email))


def publish_and_enqueue(ctx, **notice):
    add_notice(ctx, **notice)
    now = ctx.clock.now()
    jobs.record_transitions(ctx, now=now)
    return jobs.enqueue_alerts(ctx, now=now)


def test_an_alert_reaches_the_smtp_server_with_unsubscribe_headers(mail_ctx, smtp):
    add_subscriber(mail_ctx, "tenant@example.org")
    publish_and_enqueue(mail_ctx, title="Plesmanlaan closed")
    assert jobs.send_pending(mail_ctx, now=mail_ctx.clock.now())["sent"] == 1
    (message,) = smtp.handler.to("tenant@example.org")
    assert message["Subject"].startswith("New: Road closure: Plesmanlaan closed (from ")
    unsubscribe = message["List-Unsubscribe"]
    assert f"<{mail_ctx.settings.base_url}/unsubscribe/" in unsubscribe and "<mailto:" in unsubscribe
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_body(("plain",)).get_content().count("Plesmanlaan closed") >= 1
    assert "Plesmanlaan closed" in message.get_body(("html",)).get_content()
    (delivery,) = deliveries(mail_ctx)
    assert delivery.status == "sent"
    assert delivery.message_id == message["Message-ID"]
    assert delivery.smtp_reply.startswith("250")


def test_451_twice_then_250_delivers_once_on_the_third_try(mail_ctx, smtp, clock):
    add_subscriber(mail_ctx, "tenant@example.org")
    smtp.handler.scripted["tenant@example.org"] = ["451 4.3.0 Try again later", "451 4.3.0 Try again later"]
    publish_and_enqueue(mail_ctx)
    assert jobs.send_pending(mail_ctx, now=clock.now()) == {"sent": 0, "retry": 1, "failed": 0, "expired": 0, "lost": 0}
    # Not due again before its backoff.
    assert jobs.send_pending(mail_ctx, now=clock.now() + timedelta(seconds=30))["retry"] == 0
    clock.advance(timedelta(minutes=1))
    assert jobs.send_pending(mail_ctx, now=clock.now())["retry"] == 1
    clock.advance(timedelta(minutes=5))
    assert jobs.send_pending(mail_ctx, now=clock.now())["sent"] == 1
    clock.advance(timedelta(hours=1))
    assert jobs.send_pending(mail_ctx, now=clock.now())["sent"] == 0
    assert smtp.handler.attempts["tenant@example.org"] == 3
    assert len(smtp.handler.to("tenant@example.org")) == 1
    (delivery,) = deliveries(mail_ctx)
    assert (delivery.status, delivery.attempts) == ("sent", 3)


def test_the_message_id_is_the_same_on_every_attempt(mail_ctx, smtp, clock):
    add_subscriber(mail_ctx, "tenant@example.org")
    smtp.handler.scripted["tenant@example.org"] = ["451 later"]
    publish_and_enqueue(mail_ctx)
    jobs.send_pending(mail_ctx, now=clock.now())
    clock.advance(timedelta(minutes=2))
    jobs.send_pending(mail_ctx, now=clock.now())
    (delivery,) = deliveries(mail_ctx)
    expected = outbox.message_id(delivery.id, f"{delivery.subscriber_id}:{delivery.dedup_key}", "example.org")
    assert smtp.handler.messages[0]["Message-ID"] == expected


def test_550_suppresses_that_address_and_the_others_still_get_theirs(mail_ctx, smtp):
    for address in ("a@example.org", "gone@example.org", "c@example.org"):
        add_subscriber(mail_ctx, address)
    smtp.handler.rejected["gone@example.org"] = "550 5.1.1 No such user"
    publish_and_enqueue(mail_ctx)
    counts = jobs.send_pending(mail_ctx, now=mail_ctx.clock.now())
    assert counts == {"sent": 2, "retry": 0, "failed": 1, "expired": 0, "lost": 0}
    assert {m["To"].addresses[0].addr_spec for m in smtp.handler.messages} == {"a@example.org", "c@example.org"}
    assert state_of(mail_ctx, "gone@example.org") == "suppressed"
    # A later alert skips the suppressed address altogether.
    publish_and_enqueue(mail_ctx, title="Second closure")
    jobs.send_pending(mail_ctx, now=mail_ctx.clock.now())
    assert len(smtp.handler.to("gone@example.org")) == 0
    assert len(smtp.handler.to("a@example.org")) == 2


def test_an_outage_longer_than_the_validity_expires_the_digest(mail_ctx, smtp, clock):
    clock.set(clock.now().replace(hour=5))  # 06:00 in Amsterdam
    add_subscriber(mail_ctx, "daily@example.org", frequency="daily")
    add_notice(mail_ctx, starts_at=clock.now() + timedelta(days=2))  # "starting soon": the digest has news
    smtp.stop()  # the SMTP server is down
    clock.set(clock.now().replace(hour=6, minute=5))  # 07:05 in Amsterdam, just after the digest time
    assert jobs.enqueue_digests(mail_ctx, now=clock.now(), frequency="daily")["enqueued"] == 1
    assert jobs.send_pending(mail_ctx, now=clock.now())["retry"] == 1
    for wait in (1, 5, 15, 60, 180, 360):  # the server stays down through every retry
        clock.advance(timedelta(minutes=wait))
        jobs.send_pending(mail_ctx, now=clock.now())
    smtp.start()  # back after more than 12 hours
    clock.advance(timedelta(hours=2))
    assert jobs.send_pending(mail_ctx, now=clock.now())["expired"] == 1
    clock.advance(timedelta(hours=1))
    jobs.send_pending(mail_ctx, now=clock.now())
    assert smtp.handler.messages == []
    (delivery,) = deliveries(mail_ctx)
    assert delivery.status == "expired"


def test_a_sender_killed_between_claim_and_send_is_sent_once_after_the_lease(mail_ctx, smtp, clock):
    add_subscriber(mail_ctx, "tenant@example.org")
    publish_and_enqueue(mail_ctx)
    lease = timedelta(seconds=mail_ctx.settings.lease_seconds)
    # A sender claims the delivery and dies before sending anything.
    (claim,) = outbox.claim_batch(mail_ctx.db, now=clock.now(), limit=10, lease=lease)
    # While the lease holds, nobody else takes it.
    clock.advance(lease - timedelta(seconds=1))
    assert jobs.send_pending(mail_ctx, now=clock.now())["sent"] == 0
    clock.advance(timedelta(seconds=1))
    assert jobs.send_pending(mail_ctx, now=clock.now())["sent"] == 1
    clock.advance(lease * 2)
    assert jobs.send_pending(mail_ctx, now=clock.now())["sent"] == 0
    assert len(smtp.handler.messages) == 1
    # The dead sender's late outcome cannot overwrite the real one (fencing).
    with mail_ctx.db.session() as session, session.begin():
        assert outbox.mark_sent(session, claim, now=clock.now(), message_id="<late>", reply="250 late") is False
    assert deliveries(mail_ctx)[0].message_id != "<late>"


def test_concurrent_claimers_never_take_the_same_delivery(mail_ctx, clock):
    """Four senders claim at once until nothing is left: every delivery is taken exactly once."""
    for number in range(60):
        add_subscriber(mail_ctx, f"t{number}@example.org")
    publish_and_enqueue(mail_ctx)
    start, claimed, errors = threading.Barrier(4), [], []

    def sender() -> None:
        try:
            start.wait()
            while batch := outbox.claim_batch(mail_ctx.db, now=clock.now(), limit=7, lease=timedelta(minutes=5)):
                claimed.extend(claim.delivery_id for claim in batch)
        except Exception as error:  # reported below, with the thread's own failure
            errors.append(error)

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(claimed) == 60
    assert len(set(claimed)) == 60


def test_enqueuing_twice_sends_once(mail_ctx, smtp, clock):
    add_subscriber(mail_ctx, "tenant@example.org")
    add_notice(mail_ctx)
    jobs.record_transitions(mail_ctx, now=clock.now())
    jobs.enqueue_alerts(mail_ctx, now=clock.now())
    with mail_ctx.db.writing() as session, session.begin():
        (delivery,) = session.scalars(select(Delivery)).all()
        assert (
            outbox.enqueue(
                session,
                subscriber_id=delivery.subscriber_id,
                dedup_key=delivery.dedup_key,
                kind="alert",
                payload=delivery.payload,
                now=clock.now(),
            )
            is False
        )
    jobs.send_pending(mail_ctx, now=clock.now())
    assert len(smtp.handler.messages) == 1


def test_mail_written_as_eml_files_by_default(ctx, tmp_path):
    from email import message_from_bytes, policy

    from notices.mail.transports import FileMailer

    ctx.mailer = FileMailer(tmp_path / "mail")
    add_subscriber(ctx, "tenant@example.org", language="nl")
    publish_and_enqueue(ctx, title={"en": "Plesmanlaan closed", "nl": "Plesmanlaan dicht"})
    jobs.send_pending(ctx, now=ctx.clock.now())
    (path,) = (tmp_path / "mail").glob("*.eml")
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["Subject"].startswith("Nieuw: Wegafsluiting: Plesmanlaan dicht (vanaf ")
    assert "Afmelden:" in message.get_body(("plain",)).get_content()


def test_a_message_that_cannot_be_composed_fails_alone_and_the_others_go_out(mail_ctx, smtp, clock):
    for address in ("a@example.org", "b@example.org", "c@example.org"):
        add_subscriber(mail_ctx, address)
    publish_and_enqueue(mail_ctx)
    # One row as an older version or a bad hand edit might have left it.
    with mail_ctx.db.session() as session, session.begin():
        broken = session.scalars(select(Delivery).order_by(Delivery.id)).first()
        broken.payload = {"notice": broken.payload["notice"]}  # no "event"
        broken_id = broken.id
    counts = jobs.send_pending(mail_ctx, now=clock.now())
    assert (counts["sent"], counts["retry"]) == (2, 1)
    assert len(smtp.handler.messages) == 2
    (row,) = [delivery for delivery in deliveries(mail_ctx) if delivery.id == broken_id]
    assert (row.status, row.attempts) == ("pending", 1)
    assert "could not compose" in row.last_error and "event" in row.last_error
    # It is retried by the usual rules, and given up after the last attempt.
    for _ in range(mail_ctx.settings.max_attempts):
        clock.advance(timedelta(hours=7))
        with mail_ctx.db.session() as session, session.begin():
            session.get(Delivery, broken_id).expires_at = None  # keep it from expiring instead
        jobs.send_pending(mail_ctx, now=clock.now())
    (row,) = [delivery for delivery in deliveries(mail_ctx) if delivery.id == broken_id]
    assert (row.status, row.attempts) == ("failed", mail_ctx.settings.max_attempts)
