"""send_pending: claim due deliveries, compose, send, record the outcome of each at once.

Composing (templates, MIME) and sending (waiting for the SMTP server) overlap:
this thread composes the next messages while a sender thread, which owns the
SMTP connection, transmits and records outcomes. The queue between them is
short, so a crash loses at most a few claims, which their leases bring back.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from notices import outbox, subscriptions
from notices.context import AppContext
from notices.mail import OutgoingMail
from notices.mail_content import Composer, Skip
from notices.mailers import Mailer, PermanentFailure, TemporaryFailure
from notices.models import Delivery, Subscriber
from notices.outbox import Claim
from notices.templating import make_environment
from notices.tokens import LinkSigner

log = logging.getLogger(__name__)
QUEUE_DEPTH = 8


@dataclass(frozen=True)
class Outgoing:
    claim: Claim
    subscriber_id: int
    attempts: int
    mail: OutgoingMail


def send_pending(
    ctx: AppContext, *, now: datetime, mailer: Mailer, limit: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Send every delivery that is due; returns how many were sent, retried, failed, expired."""
    settings = ctx.settings
    composer = Composer(settings=settings, env=make_environment(settings), signer=LinkSigner(settings.secret_key))
    counts = {"sent": 0, "retry": 0, "failed": 0, "expired": 0}
    with ctx.db.session() as session, session.begin():
        counts["expired"] += outbox.expire_stale(session, now=now)

    def count(outcome: str) -> None:
        counts[outcome] += 1
        if on_progress:
            on_progress(1)

    outgoing: queue.Queue[Outgoing | None] = queue.Queue(maxsize=QUEUE_DEPTH)
    sender = _SenderThread(ctx, mailer, composer, outgoing, now, count)
    sender.start()
    try:
        remaining = limit
        while (remaining is None or remaining > 0) and sender.is_alive():
            size = settings.send_batch_size if remaining is None else min(remaining, settings.send_batch_size)
            claims = outbox.claim_batch(ctx.db, now=now, limit=size, lease=timedelta(seconds=settings.lease_seconds))
            if not claims:
                break
            _compose_batch(ctx, composer, claims, now, outgoing, count, sender)
            if remaining is not None:
                remaining -= len(claims)
    finally:
        outgoing.put(None)
        sender.join()
    if sender.error is not None:
        raise sender.error
    return counts


def _compose_batch(ctx, composer: Composer, claims: list[Claim], now, outgoing: queue.Queue, count, sender) -> None:
    with ctx.db.session() as session:
        deliveries = {
            delivery.id: delivery
            for delivery in session.scalars(
                select(Delivery).where(Delivery.id.in_([claim.delivery_id for claim in claims]))
                .options(selectinload(Delivery.subscriber))
            )
        }
        for claim in claims:
            delivery = deliveries[claim.delivery_id]
            try:
                mail = composer.compose(session, delivery, now=now)
            except Skip as reason:
                with ctx.db.session() as writer, writer.begin():
                    outbox.mark_expired(writer, claim, reason=str(reason))
                count("expired")
                continue
            item = Outgoing(claim, delivery.subscriber_id, delivery.attempts, mail)
            while sender.is_alive():
                try:
                    outgoing.put(item, timeout=1)
                    break
                except queue.Full:
                    continue


class _SenderThread(threading.Thread):
    def __init__(self, ctx: AppContext, mailer: Mailer, composer: Composer, outgoing: queue.Queue, now, count) -> None:
        super().__init__(name="notices-sender", daemon=True)
        self.ctx, self.mailer, self.composer, self.outgoing, self.now, self.count = ctx, mailer, composer, outgoing, now, count
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.mailer.connection() as connection:
                while (item := self.outgoing.get()) is not None:
                    self.count(self._deliver(connection, item))
        except BaseException as error:  # handed to the calling thread, which re-raises it
            self.error = error
            while self.outgoing.get() is not None:  # let the composer finish its put()s
                pass

    def _deliver(self, connection, item: Outgoing) -> str:
        ctx, now, settings = self.ctx, self.now, self.ctx.settings
        if item.subscriber_id in self.composer.blocked:
            with ctx.db.session() as writer, writer.begin():
                outbox.mark_expired(writer, item.claim, reason="subscriber suppressed")
            return "expired"
        try:
            reply = connection.send(item.mail, sender=settings.mail_from)
        except TemporaryFailure as error:
            with ctx.db.session() as writer, writer.begin():
                return outbox.mark_retry(writer, item.claim, now=now, attempts=item.attempts,
                                         max_attempts=settings.max_attempts, error=str(error))
        except PermanentFailure as error:
            return self._refused(item, error)
        with ctx.db.session() as writer, writer.begin():
            outbox.mark_sent(writer, item.claim, now=now, message_id=item.mail.message_id, reply=reply)
        return "sent"

    def _refused(self, item: Outgoing, error: PermanentFailure) -> str:
        ctx, now = self.ctx, self.now
        if not error.address_rejected:
            # The server refused this message, not the address: give up on it alone.
            with ctx.db.session() as writer, writer.begin():
                outbox.mark_failed(writer, item.claim, error=str(error))
            log.warning("delivery %s refused: %s", item.claim.delivery_id, error)
            return "failed"
        # The address does not work: stop mailing it, keep mailing everyone else.
        self.composer.blocked.add(item.subscriber_id)
        with ctx.db.writing() as writer, writer.begin():
            outbox.mark_failed(writer, item.claim, error=str(error))
            subscriptions.suppress(writer, writer.get(Subscriber, item.subscriber_id), reason=str(error), now=now)
        log.warning("suppressed %s after %s", item.mail.recipient, error)
        return "failed"
