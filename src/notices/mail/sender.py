"""send_pending: claim due deliveries, compose, send, record the outcomes in groups.

Composing (templates, MIME) and sending (waiting for the SMTP server) overlap:
this thread composes the next messages while sender threads, each owning one
SMTP connection (`[mail] connections`, 1 by default), transmit them and hand
their outcomes to a writer thread that commits them in groups
(mail.outcomes: a sender waits for its own last outcome before the server can take its next
message). The queue between them is short (QUEUE_DEPTH messages per connection, composed in turns,
see _Hopper), so a crash leaves at most the run's claims unsent, which their leases bring back.

A run may outlast its lease (a slow SMTP server, a large digest), while
another sender (a new leader, `notices mail send-pending`) looks for work. So
the clock is read at every claim and every send, the run's claims are renewed
while they wait, and each claim is confirmed (still ours, still unexpired)
right before its SMTP transaction: nothing is sent whose claim was lost.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from notices.core.context import AppContext
from notices.core.models import Subscriber
from notices.mail import outbox, subscriptions
from notices.mail.compose import Composer, Skip, load_pending
from notices.mail.message import OutgoingMail
from notices.mail.outbox import Claim, Outcome
from notices.mail.outcomes import OutcomeWriter
from notices.mail.transports import Connection, Mailer, PermanentFailure, TemporaryFailure, Withdrawn
from notices.notice.templating import mail_environment
from notices.people.link_tokens import LinkSigner

log = logging.getLogger(__name__)
T = TypeVar("T")
# Composed messages waiting for each connection: composed in turns of this many (see _Hopper).
QUEUE_DEPTH = 64


@dataclass(frozen=True)
class Outgoing:
    claim: Claim
    subscriber_id: int
    attempts: int
    mail: OutgoingMail


class _Hopper(Generic[T]):
    """Composed messages on their way to the sender threads, composed in turns of many.

    Once it is full, the composer adds more only when the senders have taken all but `low`,
    instead of composing one message each time a sender takes one. Composing one at a time made
    the composer and a sender trade the interpreter at every message, in the middle of the
    sender's SMTP round trips: over one connection that cost about an eighth of the throughput
    and a quarter more CPU per message (bench/digests.py, 2026-11-29). In turns, the composer
    mostly works while the senders wait for the server anyway.
    """

    def __init__(self, *, size: int, low: int) -> None:
        self._items: queue.Queue[T | None] = queue.Queue(maxsize=size)
        self._low = low
        self._drained = threading.Event()

    def put(self, item: T, *, timeout: float) -> bool:
        """Add `item`; when full, first wait until the senders have taken all but `low`. False when
        a wait took longer than `timeout` seconds (the caller looks after its claims and tries again)."""
        if self._items.full():
            self._drained.clear()  # before looking again: a get() from here on sets it
            if self._items.qsize() > self._low and not self._drained.wait(timeout):
                return False
        try:
            self._items.put(item, timeout=timeout)
        except queue.Full:
            return False
        return True

    def put_end(self) -> None:
        """The end marker for one sender thread (each takes one and stops)."""
        self._items.put(None)

    def get(self) -> T | None:
        item = self._items.get()
        if self._items.qsize() <= self._low:
            self._drained.set()
        return item


class RunClock:
    """`now` as given to the job, moving on with the context's clock while the run lasts.

    With a fixed clock (tests, dry runs) the run happens at `now`; with the
    system clock every claim and send sees the real time.
    """

    def __init__(self, ctx: AppContext, now: datetime) -> None:
        self._clock = ctx.clock
        self._offset = now - ctx.clock.now()

    def now(self) -> datetime:
        return self._clock.now() + self._offset


def send_pending(
    ctx: AppContext,
    *,
    now: datetime,
    mailer: Mailer,
    limit: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Send every delivery that is due; returns how many were sent, retried, failed, expired, lost."""
    settings = ctx.settings
    composer = Composer(settings=settings, env=mail_environment(settings), signer=LinkSigner(settings.secret_key))
    counts = {"sent": 0, "retry": 0, "failed": 0, "expired": 0, "lost": 0}
    clock = RunClock(ctx, now)
    with ctx.db.session() as session, session.begin():
        counts["expired"] += outbox.expire_stale(session, now=clock.now())

    counting = threading.Lock()  # the sender threads count side by side

    def count(outcome: str) -> None:
        with counting:
            counts[outcome] += 1
        if on_progress:
            on_progress(1)

    writer = OutcomeWriter(ctx.db)
    run = _Run(ctx, clock, owner=outbox.new_owner(), lease=timedelta(seconds=settings.lease_seconds), outcomes=writer)
    connections = settings.smtp_connections
    # A sender left with nothing while the composer starts its next turn would wait for the server
    # no more: one message each is enough to cover the composing of the next.
    outgoing: _Hopper[Outgoing] = _Hopper(size=QUEUE_DEPTH * connections, low=connections)
    senders = _Senders([_SenderThread(run, mailer, composer, outgoing, count) for _ in range(connections)], writer)
    writer.start()
    senders.start()
    try:
        remaining = limit
        while (remaining is None or remaining > 0) and senders.all_alive():
            size = settings.send_batch_size if remaining is None else min(remaining, settings.send_batch_size)
            claims = run.claim(limit=size)
            if not claims:
                break
            _compose_batch(run, composer, claims, outgoing, count, senders)
            if remaining is not None:
                remaining -= len(claims)
    finally:
        # One end marker per thread; a thread that failed takes its marker too (see _SenderThread.run).
        for _ in senders.threads:
            outgoing.put_end()
        senders.join()
        # Whatever happened, what was sent is written before the run returns or raises.
        writer.close()
    for error in (senders.error, writer.error):
        if error is not None:
            raise error
    return counts


@dataclass
class _Senders:
    """The run's sender threads and its outcome writer. The run stops composing as soon as one of
    them has failed: a connection that broke (the server went away) will not be alone for long,
    and messages whose outcomes cannot be written should not be sent."""

    threads: list[_SenderThread]
    writer: OutcomeWriter

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def all_alive(self) -> bool:
        return self.writer.is_alive() and all(thread.is_alive() for thread in self.threads)

    def join(self) -> None:
        for thread in self.threads:
            thread.join()

    @property
    def error(self) -> BaseException | None:
        return next((thread.error for thread in self.threads if thread.error is not None), None)


@dataclass
class _Run:
    """One send run: its claims' owner token, lease and clock, and until when each claim is surely ours.

    Knowing that locally spares a database write per message: a claim can
    only be taken over once its lease has run out, so while it has a good
    margin left, it is ours to send. Renewing every claim of the run takes
    one write every third of a lease.
    """

    ctx: AppContext
    clock: RunClock
    owner: str
    lease: timedelta
    outcomes: OutcomeWriter

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._held_until: dict[int, datetime] = {}
        self._renewed_at = self.clock.now()
        # Sent without asking the database only while this much of the lease is left:
        # room for one SMTP transaction, whatever the timing of the next renewal.
        self._margin = self.lease / 3

    def claim(self, *, limit: int) -> list[Claim]:
        now = self.clock.now()
        claims = outbox.claim_batch(self.ctx.db, now=now, limit=limit, lease=self.lease, owner=self.owner)
        with self._lock:
            self._held_until.update((claim.delivery_id, now + self.lease) for claim in claims)
        return claims

    def renew_if_due(self) -> None:
        """Keep the run's waiting claims alive: renewed when a third of the lease has passed."""
        with self._lock:
            now = self.clock.now()
            if now - self._renewed_at < self.lease / 3:
                return
            with self.ctx.db.session() as session, session.begin():
                held = outbox.renew_claims(session, owner=self.owner, now=now, lease=self.lease)
            # Claims not renewed ran out and may be another sender's by now.
            self._held_until = dict.fromkeys(held, now + self.lease)
            self._renewed_at = now

    def still_ours(self, claim: Claim) -> bool:
        """Right before sending: is the claim still ours, with room for the transaction?"""
        self.renew_if_due()
        with self._lock:
            now = self.clock.now()
            until = self._held_until.get(claim.delivery_id)
            if until is not None and until - now > self._margin:
                return True
            # Little or no margin known: ask the database, which extends the claim if it holds.
            with self.ctx.db.session() as session, session.begin():
                held = outbox.confirm_claim(session, claim, now=now, lease=self.lease)
            if held:
                self._held_until[claim.delivery_id] = now + self.lease
            return held

    def done(self, claim: Claim) -> None:
        with self._lock:
            self._held_until.pop(claim.delivery_id, None)

    def record(self, outcome: Outcome) -> str:
        """Hand an outcome to the writer (written with others, see mail.outcomes); its name for the counts."""
        self.done(outcome.claim)
        self.outcomes.put(outcome)
        return outcome.name

    def retry_later(self, claim: Claim, *, attempts: int, error: str) -> str:
        """A temporary failure: back off and try again, or give up after the last attempt."""
        return self.record(
            outbox.retry(
                claim, now=self.clock.now(), attempts=attempts, max_attempts=self.ctx.settings.max_attempts, error=error
            )
        )


def _compose_batch(
    run: _Run,
    composer: Composer,
    claims: list[Claim],
    outgoing: _Hopper[Outgoing],
    count: Callable[[str], None],
    senders: _Senders,
) -> None:
    with run.ctx.db.session() as session:
        deliveries = load_pending(session, [claim.delivery_id for claim in claims])
        for claim in claims:
            delivery = deliveries.get(claim.delivery_id)
            if delivery is None:  # removed with its subscriber since it was claimed: nothing to send
                count(run.record(outbox.expired(claim, now=run.clock.now(), reason="the delivery was removed")))
                continue
            try:
                mail = composer.compose(session, delivery, now=run.clock.now())
            except Skip as reason:
                count(run.record(outbox.expired(claim, now=run.clock.now(), reason=str(reason))))
                continue
            except Exception as error:  # one message that cannot be composed must not stop the others
                log.exception("delivery %s: could not compose the message", delivery.id)
                count(run.retry_later(claim, attempts=delivery.attempts, error=f"could not compose: {error!r}"))
                continue
            # Let a sender in between two messages: one woken by the server's reply would otherwise
            # wait for the interpreter until the composer is made to let go (every 5 ms), and
            # over one SMTP connection every reply it waits for is time the server waits too.
            # Digests went from 0.75 to 0.80 of plain smtplib in alternating runs (PostgreSQL).
            time.sleep(0)
            item = Outgoing(claim, delivery.subscriber.id, delivery.attempts, mail)
            while senders.all_alive() and not outgoing.put(item, timeout=1):
                run.renew_if_due()


class _SenderThread(threading.Thread):
    def __init__(
        self,
        run: _Run,
        mailer: Mailer,
        composer: Composer,
        outgoing: _Hopper[Outgoing],
        count: Callable[[str], None],
    ) -> None:
        super().__init__(name="notices-sender", daemon=True)
        self.run_state, self.mailer, self.composer, self.outgoing, self.count = run, mailer, composer, outgoing, count
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.mailer.connection() as connection:
                while (item := self.outgoing.get()) is not None:
                    self.count(self._deliver(connection, item))
        except BaseException as error:  # handed to the calling thread, which re-raises it
            self.error = error
            # Let the composer finish its put()s; the messages taken here are not sent, and their
            # claims come back when their leases run out.
            while self.outgoing.get() is not None:
                pass

    def _deliver(self, connection: Connection, item: Outgoing) -> str:
        run, settings = self.run_state, self.run_state.ctx.settings
        if item.subscriber_id in self.composer.blocked:
            return run.record(outbox.expired(item.claim, now=run.clock.now(), reason="subscriber suppressed"))
        if run.outcomes.error is not None:
            # Outcomes can no longer be written: sending more would only make more to send again.
            return "lost"
        if not run.still_ours(item.claim):
            log.warning(
                "delivery %s: the claim ran out before it could be sent; left to its new owner", item.claim.delivery_id
            )
            return "lost"
        try:
            reply = connection.send(item.mail, sender=settings.mail_from, ready=self._own_outcomes_written)
        except Withdrawn:
            return "lost"
        except TemporaryFailure as error:
            return run.retry_later(item.claim, attempts=item.attempts, error=str(error))
        except PermanentFailure as error:
            return self._refused(item, error)
        except Exception as error:  # an unexpected fault with this one message: retry it later, go on
            log.exception("delivery %s: sending failed", item.claim.delivery_id)
            return run.retry_later(item.claim, attempts=item.attempts, error=f"could not send: {error!r}")
        return run.record(outbox.sent(item.claim, now=run.clock.now(), message_id=item.mail.message_id, reply=reply))

    def _own_outcomes_written(self) -> bool:
        """Asked by the connection right before the message itself goes out (SMTP: after the
        envelope, before DATA); False when outcomes can no longer be written.

        Nothing of this sender's is left unrecorded when the server can next take a message: a
        kill resends at most the one message on the wire (mail.outcomes). The server accepts a
        message only at the end of DATA, so the wait for the previous outcome's commit overlaps
        with this message's MAIL FROM and RCPT TO round trips instead of adding to them.
        """
        outcomes = self.run_state.outcomes
        outcomes.wait_for_own()
        return outcomes.error is None

    def _refused(self, item: Outgoing, error: PermanentFailure) -> str:
        run = self.run_state
        if not error.address_rejected:
            # The server refused this message, not the address: give up on it alone.
            log.warning("delivery %s refused: %s", item.claim.delivery_id, error)
            return run.record(outbox.failed(item.claim, now=run.clock.now(), error=str(error)))
        # The address does not work: stop mailing it, keep mailing everyone else.
        self.composer.blocked.add(item.subscriber_id)
        run.done(item.claim)
        # Written at once, with the suppression, so no later run mails the address.
        with run.ctx.db.writing() as writer, writer.begin():
            outbox.mark_failed(writer, item.claim, now=run.clock.now(), error=str(error))
            subscriber = writer.get(Subscriber, item.subscriber_id)
            if subscriber is None:
                # Gone while its message was on the way (an unconfirmed sign-up purged):
                # there is nobody left to suppress, and the run goes on with the others.
                log.warning("delivery %s refused for a subscriber since removed: %s", item.claim.delivery_id, error)
                return "failed"
            subscriptions.suppress(writer, subscriber, reason=str(error), now=run.clock.now())
        log.warning("suppressed %s after %s", item.mail.recipient, error)
        return "failed"
