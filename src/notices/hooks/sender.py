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
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

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

# Response bodies are read up to this many bytes (a receiver cannot make us buffer a large answer),
# and the log keeps the first EXCERPT characters of it.
BODY_CAP = 16 * 1024
EXCERPT = 200
RETRYABLE_CODES = frozenset({408, 429})
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


def make_client(settings: Settings) -> httpx.Client:
    """The HTTP client for hooks (targets.safe_client): short timeouts, vetted addresses only, no redirects."""
    return targets.safe_client(settings)


def signature_headers(item: Item, *, now: datetime) -> dict[str, str]:
    """Standard Webhooks headers: the id, the attempt's time, and a v1 signature per signing secret."""
    sent_at = datetime.fromtimestamp(int(now.timestamp()), tz=UTC)
    signatures = " ".join(Webhook(secret).sign(item.webhook_id, sent_at, item.body) for secret in item.secrets)
    return {
        "content-type": item.content_type,
        "webhook-id": item.webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signatures,
        "user-agent": "notices-hooks/1",
    }


def post(client: httpx.Client, item: Item, *, now: datetime) -> Response:
    """One attempt; never raises for what the network or the receiver does."""
    try:
        with client.stream(
            "POST", item.url, content=item.body.encode(), headers=signature_headers(item, now=now)
        ) as answer:
            data = b""
            for chunk in answer.iter_bytes():
                data += chunk
                if len(data) >= BODY_CAP:
                    break
            return Response(answer.status_code, excerpt_of(data[:BODY_CAP]), "", _retry_after(answer, now))
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
    client: httpx.Client | None = None,
    limit: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Send every due hook delivery; how many were sent, retried, failed, expired, lost, and endpoints disabled."""
    settings = ctx.settings
    clock = RunClock(ctx, now)
    counts = {"sent": 0, "retry": 0, "failed": 0, "expired": 0, "lost": 0, "disabled": 0}
    with ctx.db.session() as session, session.begin():
        counts["expired"] += outbox.expire_stale(session, now=clock.now())
    owner = new_owner()
    lease = timedelta(seconds=settings.lease_seconds)
    batch = max(settings.hooks_concurrency * 8, 32)
    with _client(settings, client) as http, ThreadPoolExecutor(settings.hooks_concurrency, "notices-hooks") as pool:
        remaining = limit
        while remaining is None or remaining > 0:
            size = batch if remaining is None else min(batch, remaining)
            claims = outbox.claim_batch(ctx.db, now=clock.now(), limit=size, lease=lease, owner=owner)
            if not claims:
                break
            for outcome, disabled in pool.map(lambda item: deliver(ctx, http, item, clock=clock), _items(ctx, claims)):
                counts[outcome] += 1
                counts["disabled"] += disabled
                if on_progress:
                    on_progress(1)
            if remaining is not None:
                remaining -= len(claims)
    return counts


@contextmanager
def _client(settings: Settings, given: httpx.Client | None) -> Iterator[httpx.Client]:
    if given is not None:
        yield given
        return
    with make_client(settings) as client:
        yield client


def _items(ctx: AppContext, claims: list[Claim]) -> list[Item]:
    now = ctx.clock.now()
    with ctx.db.session() as session:
        rows = session.execute(
            select(HookDelivery, HookEndpoint)
            .join(HookEndpoint, HookEndpoint.id == HookDelivery.endpoint_id)
            .where(HookDelivery.id.in_([claim.delivery_id for claim in claims]))
        ).all()
        found = {delivery.id: (delivery, endpoint) for delivery, endpoint in rows}
    items = []
    for claim in claims:
        if claim.delivery_id not in found:
            continue  # removed with its endpoint since the claim
        delivery, endpoint = found[claim.delivery_id]
        items.append(
            Item(
                claim=claim,
                endpoint_id=endpoint.id,
                url=endpoint.url,
                secrets=tuple(store.signing_secrets(endpoint, now)),
                webhook_id=delivery.webhook_id,
                body=delivery.body,
                content_type=delivery.content_type,
                attempts=delivery.attempts,
                expires_at=delivery.expires_at,
            )
        )
    return items


def deliver(ctx: AppContext, client: httpx.Client, item: Item, *, clock: RunClock) -> tuple[str, bool]:
    """Send one claimed delivery and record what happened: the outcome's name, and whether the endpoint was disabled."""
    now = clock.now()
    if now >= item.claim.until:
        # The run took so long that the lease may run out mid-request: leave the
        # delivery to whoever claims it next rather than risk sending it twice.
        log.warning("hook delivery %s: claim too old to use; left for the next run", item.claim.delivery_id)
        return "lost", False
    try:
        response = post(client, item, now=now)
    except Exception as error:  # a fault of ours with this one delivery: retry it later, go on
        log.exception("hook delivery %s: could not send", item.claim.delivery_id)
        response = Response(None, "", f"could not send: {error!r}")
    done = clock.now()
    disabled: HookEndpoint | None = None
    with ctx.db.writing() as session, session.begin():
        outcome = _record(session, item, response, now=done)
        if outcome == "sent":
            _endpoint_worked(session, item.endpoint_id, now=done)
        else:
            disabled = _endpoint_failed(session, item.endpoint_id, settings=ctx.settings, now=done)
    if disabled is not None:
        admin_mail.endpoint_disabled(ctx, disabled, now=done)
    return outcome, disabled is not None


def _record(session: Session, item: Item, response: Response, *, now: datetime) -> str:
    code, excerpt = response.code, response.excerpt
    if code is not None and 200 <= code < 300:
        outbox.mark_sent(session, item.claim, now=now, code=code, excerpt=excerpt)
        return "sent"
    if response.refused:
        outbox.mark_failed(session, item.claim, now=now, code=None, excerpt="", error=response.error)
        return "failed"
    if code is None or code in RETRYABLE_CODES or code >= 500:
        error = response.error or f"HTTP {code}"
        wait = response.retry_after if response.retry_after is not None else outbox.backoff(item.attempts)
        return outbox.mark_retry(
            session,
            item.claim,
            now=now,
            retry_at=now + wait,
            expires_at=item.expires_at,
            code=code,
            excerpt=excerpt,
            error=error,
        )
    reason = "a redirect (not followed)" if 300 <= code < 400 else "refused"
    outbox.mark_failed(session, item.claim, now=now, code=code, excerpt=excerpt, error=f"HTTP {code}: {reason}")
    return "failed"


def _endpoint_worked(session: Session, endpoint_id: int, *, now: datetime) -> None:
    session.execute(
        update(HookEndpoint).where(HookEndpoint.id == endpoint_id).values(failing_since=None, last_success_at=now)
    )


def _endpoint_failed(session: Session, endpoint_id: int, *, settings: Settings, now: datetime) -> HookEndpoint | None:
    """Note a failure; disable the endpoint when its run of failures has lasted long enough (then return it)."""
    session.execute(
        update(HookEndpoint)
        .where(HookEndpoint.id == endpoint_id, HookEndpoint.failing_since.is_(None))
        .values(failing_since=now)
    )
    disabled = session.scalars(
        update(HookEndpoint)
        .where(
            HookEndpoint.id == endpoint_id,
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
    ).first()
    if disabled is not None:
        log.warning("hook endpoint %s disabled: %s", disabled.id, disabled.disabled_reason)
    return disabled


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:g} hours"


def send_test(ctx: AppContext, endpoint_id: int, *, now: datetime, client: httpx.Client | None = None) -> HookDelivery:
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
    with _client(ctx.settings, client) as http:
        deliver(ctx, http, item, clock=RunClock(ctx, now))
    with ctx.db.session() as session:
        return session.scalars(select(HookDelivery).where(HookDelivery.id == delivery_id)).one()
