"""send_hooks: claim due hook deliveries, sign, POST, record each outcome at once.

Requests run side by side (`[hooks] concurrency`), so one slow endpoint holds
up one worker, not the run. Outcomes:
- 2xx: sent;
- connection errors, timeouts, 408, 429 and 5xx: retried with exponential backoff and
  jitter, or after the receiver's Retry-After; expired once past the delivery's validity;
- anything else (other 4xx, a redirect, which is never followed): failed, no retry.
An endpoint whose deliveries fail without a success for `[hooks] disable_after_hours`
is disabled, and the admins get an email.
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache

import httpx
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from notices.core.config import Settings
from notices.core.context import AppContext
from notices.core.models import HookDelivery, HookEndpoint
from notices.core.safe_text import strip_unsafe
from notices.core.states import DeliveryStatus
from notices.hooks import admin_mail, outbox, sample, store, targets
from notices.hooks.enqueue import new_delivery
from notices.hooks.outbox import Claim
from notices.mail.outbox import new_owner
from notices.mail.sender import RunClock

log = logging.getLogger(__name__)

# The log keeps the first EXCERPT characters of an answer (the poster reads at most targets.BODY_CAP bytes).
EXCERPT = 200
RETRYABLE_CODES = frozenset({408, 429})
# Outcomes are written in groups: one commit for what comes in within this long of the first
# (a commit costs more than a request to a fast receiver; a crash can repeat at most these).
GROUP_WAIT = 0.05
# How often, within GROUP_WAIT, the writer looks whether every request in flight has answered.
GROUP_POLL = 0.005
# A Retry-After further away than this is read as this (and the validity then decides).
LONGEST_RETRY_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class Item:
    """One claimed delivery with what sending it needs (read once, used in a worker thread)."""

    claim: Claim
    endpoint_id: int
    url: str
    secrets: tuple[str, ...]
    webhook_id: str
    body: str
    content_type: str
    attempts: int
    expires_at: datetime | None


@dataclass(frozen=True)
class Response:
    code: int | None  # None: no answer (connection refused, timeout, a refused target)
    excerpt: str
    error: str
    retry_after: timedelta | None = None
    # True when trying again cannot help (the target is not allowed).
    refused: bool = False


def make_poster(settings: Settings, *, verify: ssl.SSLContext | bool = True) -> targets.SafePoster:
    """What hooks are posted with (targets.SafePoster): short timeouts, vetted addresses only, no redirects."""
    return targets.SafePoster(settings, verify=verify)


@lru_cache(maxsize=1024)
def _signer(secret: str) -> Webhook:
    # Decoding the secret once per endpoint, not per delivery. Kept in memory only, like the rows read.
    return Webhook(secret)


def signature_headers(item: Item, *, now: datetime) -> dict[str, str]:
    """Standard Webhooks headers: the id, the attempt's time, and a v1 signature per signing secret."""
    sent_at = datetime.fromtimestamp(int(now.timestamp()), tz=UTC)
    signatures = " ".join(_signer(secret).sign(item.webhook_id, sent_at, item.body) for secret in item.secrets)
    return {
        "content-type": item.content_type,
        "webhook-id": item.webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signatures,
        "user-agent": "notices-hooks/1",
    }


def post(poster: targets.SafePoster, item: Item, *, now: datetime) -> Response:
    """One attempt; never raises for what the network or the receiver does.

    The poster's transport (targets.VettedTransport) reads at most targets.BODY_CAP
    bytes of the answer, within a deadline, so reading `content` is bounded.
    """
    try:
        headers = signature_headers(item, now=now)
        answer = poster.post(item.url, content=item.body.encode(), headers=list(headers.items()))
        return Response(answer.status_code, excerpt_of(answer.content), "", _retry_after(answer, now))
    except targets.TargetRefused as error:
        # Checked at creation, and again here after resolving the name: a name that has
        # come to point at a private address (DNS rebinding) is refused, not retried.
        return Response(None, "", f"refused: {error}"[:300], refused=True)
    except httpx.HTTPError as error:
        return Response(None, "", f"{type(error).__name__}: {error}"[:300] or type(error).__name__)


def excerpt_of(data: bytes) -> str:
    """The start of a response body as one line of safe text, for the log."""
    text = strip_unsafe(data[: EXCERPT * 4].decode("utf-8", errors="replace"))
    return " ".join(text.split())[:EXCERPT]


def _retry_after(answer: httpx.Response, now: datetime) -> timedelta | None:
    value = answer.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        wait = timedelta(seconds=int(value))
    else:
        try:
            wait = parsedate_to_datetime(value) - now
        except (TypeError, ValueError, IndexError):
            return None  # unreadable: the usual backoff
    return min(max(wait, timedelta(0)), LONGEST_RETRY_AFTER)


def send_hooks(
    ctx: AppContext,
    *,
    now: datetime,
    poster: targets.SafePoster | None = None,
    limit: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Send every due hook delivery; how many were sent, retried, failed, expired, lost, and endpoints disabled.

    Worker threads make the requests; this thread writes their outcomes as they
    come, all that have come in during the previous write in one transaction
    (group commit): an outcome waits for at most one write, never for a batch.
    """
    settings = ctx.settings
    clock = RunClock(ctx, now)
    counts = {"sent": 0, "retry": 0, "failed": 0, "expired": 0, "lost": 0, "disabled": 0}
    with ctx.db.session() as session, session.begin():
        counts["expired"] += outbox.expire_stale(session, now=clock.now())
    owner = new_owner()
    lease = timedelta(seconds=settings.lease_seconds)
    batch = max(settings.hooks_concurrency * 32, 256)
    results: queue.SimpleQueue[tuple[Item, Response | None, datetime]] = queue.SimpleQueue()
    with _Workers(settings, results, poster, clock) as pool:
        remaining, in_flight, exhausted = limit, 0, False
        while True:
            # Claim the next batch while the last one is still on the wire, so the workers never run dry.
            if not exhausted and in_flight < batch and (remaining is None or remaining > 0):
                size = batch if remaining is None else min(batch, remaining)
                claims = outbox.claim_batch(ctx.db, now=clock.now(), limit=size, lease=lease, owner=owner)
                exhausted = not claims
                if remaining is not None:
                    remaining -= len(claims)
                for item in _items(ctx, claims):
                    pool.submit(item)
                    in_flight += 1
                continue
            if not in_flight:
                break
            group = _next_group(results, in_flight)
            in_flight -= len(group)
            for outcome in _record_group(ctx, group, counts):
                counts[outcome] += 1
                if on_progress:
                    on_progress(1)
    return counts


class _Workers:
    """Up to `[hooks] concurrency` threads taking items from one queue and putting each result on `results`.

    An executor would do, but it makes a Future (with its own Condition) per
    delivery, which costs this thread more than the rest of handing one over.
    Threads are started as work comes, so a run of one delivery starts one.
    Unless a poster is given, each thread has its own (targets.SafePoster, the
    same vetting): threads sharing one connection pool queue on its lock for
    every request and every response they close.
    """

    def __init__(
        self,
        settings: Settings,
        results: queue.SimpleQueue[tuple[Item, Response | None, datetime]],
        poster: targets.SafePoster | None,
        clock: RunClock,
    ) -> None:
        self.settings = settings
        self.results = results
        self.poster = poster
        self.clock = clock
        self.work: queue.SimpleQueue[Item | None] = queue.SimpleQueue()
        self.threads: list[threading.Thread] = []
        self.submitted = 0
        self.ssl_context: ssl.SSLContext | None = None

    def submit(self, item: Item) -> None:
        self.work.put(item)
        self.submitted += 1
        if len(self.threads) < min(self.settings.hooks_concurrency, self.submitted):
            # Made here, not in the thread, so a failure to make one is this thread's to raise.
            poster = self.poster if self.poster is not None else self._new_poster()
            thread = threading.Thread(
                target=self._run, args=(poster,), name=f"notices-hooks-{len(self.threads)}", daemon=True
            )
            thread.start()
            self.threads.append(thread)

    def _new_poster(self) -> targets.SafePoster:
        # One TLS context for the run's posters: loading the CA bundle costs more than a request.
        if self.ssl_context is None:
            self.ssl_context = httpx.create_ssl_context()
        return make_poster(self.settings, verify=self.ssl_context)

    def _run(self, poster: targets.SafePoster) -> None:
        try:
            while (item := self.work.get()) is not None:
                _attempt_into(self.results, poster, item, self.clock)
        finally:
            if poster is not self.poster:
                poster.close()

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, *_exc: object) -> None:
        # Like an executor's shutdown: what was handed over is still attempted, then the threads end.
        for _thread in self.threads:
            self.work.put(None)
        for thread in self.threads:
            thread.join()


@contextmanager
def _poster(settings: Settings, given: targets.SafePoster | None) -> Iterator[targets.SafePoster]:
    if given is not None:
        yield given
        return
    with make_poster(settings) as poster:
        yield poster


def _items(ctx: AppContext, claimed: list[outbox.Claimed]) -> list[Item]:
    """What sending each claimed delivery needs: the claim brought the delivery's columns; the
    endpoints (a few per batch, however many deliveries) are read here, once each."""
    if not claimed:
        return []
    now = ctx.clock.now()
    with ctx.db.session() as session:
        rows = session.connection().execute(
            select(
                HookEndpoint.id,
                HookEndpoint.url,
                HookEndpoint.secret,
                HookEndpoint.previous_secret,
                HookEndpoint.previous_secret_until,
            ).where(HookEndpoint.id.in_({delivery.endpoint_id for delivery in claimed}))
        )
        endpoints = {
            endpoint_id: (url, tuple(store.secrets_at(secret, previous, previous_until, now)))
            for endpoint_id, url, secret, previous, previous_until in rows
        }
    items = []
    for delivery in claimed:
        endpoint = endpoints.get(delivery.endpoint_id)
        if endpoint is None:
            continue  # removed (with its deliveries) since the claim
        url, secrets = endpoint
        items.append(
            Item(
                claim=delivery.claim,
                endpoint_id=delivery.endpoint_id,
                url=url,
                secrets=secrets,
                webhook_id=delivery.webhook_id,
                body=delivery.body,
                content_type=delivery.content_type,
                attempts=delivery.attempts,
                expires_at=delivery.expires_at,
            )
        )
    return items


def _next_group(
    results: queue.SimpleQueue[tuple[Item, Response | None, datetime]], in_flight: int
) -> list[tuple[Item, Response | None, datetime]]:
    """The next results to write together: the first to come, and what follows within GROUP_WAIT.

    After the first, this thread sleeps in short steps instead of waking for every result:
    a wake-up per delivery costs this process more (GIL hand-overs) than the request itself.
    It stops early once every request in flight has answered.
    """
    group = [results.get()]
    deadline = time.monotonic() + GROUP_WAIT
    while results.qsize() < in_flight - 1:
        wait = deadline - time.monotonic()
        if wait <= 0:
            break
        time.sleep(min(wait, GROUP_POLL))
    while len(group) < in_flight:
        try:
            group.append(results.get_nowait())
        except queue.Empty:
            break
    return group


def _attempt_into(
    results: queue.SimpleQueue[tuple[Item, Response | None, datetime]],
    poster: targets.SafePoster,
    item: Item,
    clock: RunClock,
) -> None:
    """One request in a worker thread; its result goes to `results` whatever happens."""
    now = clock.now()
    response: Response | None = None
    try:
        if now < item.claim.until:
            response = post(poster, item, now=now)
        else:
            # The run took so long that the lease may run out mid-request: leave the
            # delivery to whoever claims it next rather than risk sending it twice.
            log.warning("hook delivery %s: claim too old to use; left for the next run", item.claim.delivery_id)
    except Exception as error:  # a fault of ours with this one delivery: retry it later, go on
        log.exception("hook delivery %s: could not send", item.claim.delivery_id)
        response = Response(None, "", f"could not send: {error!r}")
    finally:
        results.put((item, response, clock.now()))


def deliver(ctx: AppContext, poster: targets.SafePoster, item: Item, *, clock: RunClock) -> str:
    """Send one claimed delivery now and record what happened; the outcome's name."""
    results: queue.SimpleQueue[tuple[Item, Response | None, datetime]] = queue.SimpleQueue()
    _attempt_into(results, poster, item, clock)
    counts = {"disabled": 0}
    (outcome,) = _record_group(ctx, [results.get()], counts)
    return outcome


def _record_group(
    ctx: AppContext, group: list[tuple[Item, Response | None, datetime]], counts: dict[str, int]
) -> list[str]:
    """Write a group of attempts and their endpoints' health in one transaction; each attempt's outcome name."""
    names: list[str] = []
    outcomes: list[outbox.Outcome] = []
    worked: dict[int, datetime] = {}
    failed: dict[int, datetime] = {}
    for item, response, done in group:
        if response is None:
            names.append("lost")
            continue
        outcome = _outcome(item, response, now=done)
        outcomes.append(outcome)
        names.append("retry" if outcome.status == DeliveryStatus.PENDING else outcome.status)
        (worked if outcome.status == DeliveryStatus.SENT else failed)[item.endpoint_id] = done
    disabled: list[HookEndpoint] = []
    with ctx.db.writing() as session, session.begin():
        outbox.record_outcomes(session, outcomes)
        if worked:
            _endpoints_worked(session, list(worked), now=max(worked.values()))
        still_failing = [endpoint_id for endpoint_id in failed if endpoint_id not in worked]
        if still_failing:
            done = max(failed[endpoint_id] for endpoint_id in still_failing)
            disabled = _endpoints_failed(session, still_failing, settings=ctx.settings, now=done)
    for endpoint in disabled:
        counts["disabled"] += 1
        admin_mail.endpoint_disabled(ctx, endpoint, now=endpoint.disabled_at or ctx.clock.now())
    return names


def _outcome(item: Item, response: Response, *, now: datetime) -> outbox.Outcome:
    code, excerpt = response.code, response.excerpt

    def outcome(status: str, error: str, next_attempt_at: datetime = now) -> outbox.Outcome:
        return outbox.Outcome(item.claim, status, now, next_attempt_at, code, excerpt, error)

    if code is not None and 200 <= code < 300:
        return outcome(DeliveryStatus.SENT, "")
    if response.refused:
        return outcome(DeliveryStatus.FAILED, response.error)
    if code is None or code in RETRYABLE_CODES or code >= 500:
        error = response.error or f"HTTP {code}"
        retry_at = now + (response.retry_after if response.retry_after is not None else outbox.backoff(item.attempts))
        if item.expires_at is not None and retry_at >= item.expires_at:
            return outcome(DeliveryStatus.EXPIRED, f"{error}; the next attempt would be after its validity")
        return outcome(DeliveryStatus.PENDING, error, retry_at)
    reason = "a redirect (not followed)" if 300 <= code < 400 else "refused"
    return outcome(DeliveryStatus.FAILED, f"HTTP {code}: {reason}")


def _endpoints_worked(session: Session, endpoint_ids: list[int], *, now: datetime) -> None:
    """A success ends an endpoint's run of failures."""
    # Core on the session's connection: the ORM's bulk UPDATE (synchronising the session) costs more, every group.
    session.connection().execute(
        update(HookEndpoint).where(HookEndpoint.id.in_(endpoint_ids)).values(failing_since=None, last_success_at=now)
    )


def _endpoints_failed(
    session: Session, endpoint_ids: list[int], *, settings: Settings, now: datetime
) -> list[HookEndpoint]:
    """Note failures; disable the endpoints whose run of failures has lasted long enough (and return them)."""
    session.execute(
        update(HookEndpoint)
        .where(HookEndpoint.id.in_(endpoint_ids), HookEndpoint.failing_since.is_(None))
        .values(failing_since=now)
    )
    disabled = list(
        session.scalars(
            update(HookEndpoint)
            .where(
                HookEndpoint.id.in_(endpoint_ids),
                HookEndpoint.enabled.is_(True),
                HookEndpoint.failing_since <= now - settings.hooks_disable_after,
            )
            .values(
                enabled=False,
                disabled_at=now,
                updated_at=now,
                disabled_reason=f"every delivery failed for {_hours(settings.hooks_disable_after)}",
            )
            .returning(HookEndpoint)
        )
    )
    for endpoint in disabled:
        log.warning("hook endpoint %s disabled: %s", endpoint.id, endpoint.disabled_reason)
    return disabled


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:g} hours"


def send_test(
    ctx: AppContext, endpoint_id: int, *, now: datetime, poster: targets.SafePoster | None = None
) -> HookDelivery:
    """Send a test event to one endpoint now (enabled or not); its delivery as recorded (also in `hook log`)."""
    owner = new_owner()
    lease = timedelta(seconds=ctx.settings.lease_seconds)
    with ctx.db.writing() as session, session.begin():
        endpoint = store.get_endpoint(session, endpoint_id)
        test = sample.test_delivery(endpoint, settings=ctx.settings, now=now)
        delivery_id = session.scalars(
            insert(HookDelivery)
            .values(
                new_delivery(
                    endpoint_id=endpoint.id,
                    event_id=None,
                    webhook_id=test.webhook_id,
                    event_type=test.event_type,
                    body=test.body,
                    content_type=test.content_type,
                    now=now,
                    # Not retried: a person is waiting for this answer.
                    expires_at=now,
                )
                | {"status": DeliveryStatus.SENDING, "attempts": 1, "claimed_by": owner, "lease_until": now + lease}
            )
            .returning(HookDelivery.id)
        ).one()
        item = Item(
            claim=Claim(delivery_id, owner, now + lease / 2),
            endpoint_id=endpoint.id,
            url=endpoint.url,
            secrets=tuple(store.signing_secrets(endpoint, now)),
            webhook_id=test.webhook_id,
            body=test.body,
            content_type=test.content_type,
            attempts=1,
            expires_at=now,
        )
    with _poster(ctx.settings, poster) as http:
        deliver(ctx, http, item, clock=RunClock(ctx, now))
    with ctx.db.session() as session:
        return session.scalars(select(HookDelivery).where(HookDelivery.id == delivery_id)).one()
