"""send_pending: claim due deliveries, compose, send, record the outcome of each at once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from notices import outbox, subscriptions
from notices.context import AppContext
from notices.mail_content import Composer, Skip
from notices.mailers import Mailer, PermanentFailure, TemporaryFailure
from notices.models import Delivery, Subscriber
from notices.templating import make_environment
from notices.tokens import LinkSigner

log = logging.getLogger(__name__)


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
    remaining = limit
    with mailer.connection() as connection:
        while remaining is None or remaining > 0:
            size = settings.send_batch_size if remaining is None else min(remaining, settings.send_batch_size)
            claims = outbox.claim_batch(ctx.db, now=now, limit=size, lease=timedelta(seconds=settings.lease_seconds))
            if not claims:
                break
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
                    outcome = _deliver(ctx, composer, connection, session, delivery, claim, now)
                    counts[outcome] += 1
                    if on_progress:
                        on_progress(1)
            if remaining is not None:
                remaining -= len(claims)
    return counts


def _deliver(ctx, composer, connection, session, delivery: Delivery, claim, now: datetime) -> str:
    settings = ctx.settings
    try:
        message = composer.compose(session, delivery, now=now)
    except Skip as reason:
        with ctx.db.session() as writer, writer.begin():
            outbox.mark_expired(writer, claim, reason=str(reason))
        return "expired"
    try:
        reply = connection.send(message, sender=settings.mail_from, recipient=delivery.subscriber.email)
    except TemporaryFailure as error:
        with ctx.db.session() as writer, writer.begin():
            return outbox.mark_retry(writer, claim, now=now, attempts=delivery.attempts, max_attempts=settings.max_attempts,
                                     error=str(error))
    except PermanentFailure as error:
        if not error.address_rejected:
            # The server refused this message, not the address: give up on it alone.
            with ctx.db.session() as writer, writer.begin():
                outbox.mark_failed(writer, claim, error=str(error))
            log.warning("delivery %s refused: %s", delivery.id, error)
            return "failed"
        # The address does not work: stop mailing it, keep mailing everyone else.
        with ctx.db.writing() as writer, writer.begin():
            outbox.mark_failed(writer, claim, error=str(error))
            subscriber = writer.get(Subscriber, delivery.subscriber_id)
            subscriptions.suppress(writer, subscriber, reason=str(error), now=now)
        composer.blocked.add(delivery.subscriber_id)
        log.warning("suppressed %s after %s", delivery.subscriber.email, error)
        return "failed"
    with ctx.db.session() as writer, writer.begin():
        outbox.mark_sent(writer, claim, now=now, message_id=message["Message-ID"], reply=reply)
    return "sent"
