"""Hook delivery through the outbox to real receivers on 127.0.0.1, on a fixed clock.

Each lifecycle event reaches the endpoints whose filters and event kinds match,
once; retries keep the webhook-id; 410 and other 4xx are final; Retry-After is
honoured; signatures verify with the `standardwebhooks` package as a receiver's would.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from notices.core.models import HookDelivery, HookEndpoint
from notices.hooks import sender, store
from notices.hooks.enqueue import enqueue_new_events
from notices.hooks.outbox import Claim
from notices.notice import store as notice_store
from notices.notice.validation import parse_changes
from notices.runtime import jobs
from tests.factories import add_notice, add_user
from tests.hooks.conftest import add_endpoint


def types_of(receiver) -> Counter:
    return Counter(json.loads(request.body)["type"] for request in receiver.received)


def run(ctx) -> dict[str, int]:
    """What the scheduler does after an event: record, queue, send what is due."""
    jobs.record_transitions(ctx, now=ctx.clock.now())
    jobs.enqueue_alerts(ctx, now=ctx.clock.now())
    jobs.enqueue_hooks(ctx, now=ctx.clock.now())
    return jobs.send_hooks(ctx, now=ctx.clock.now())


def deliveries(ctx) -> list[HookDelivery]:
    with ctx.db.session() as session:
        return list(session.scalars(select(HookDelivery).order_by(HookDelivery.id)))


def test_each_event_kind_reaches_a_matching_endpoint_once_and_a_non_matching_one_never(
    hook_ctx, clock, receiver, other_receiver
):
    ctx = hook_ctx
    add_endpoint(ctx, receiver.url, categories="road-closure", locations="plesmanlaan", severity="minor")
    add_endpoint(ctx, other_receiver.url, categories="utilities")
    start = clock.now() + timedelta(days=2)
    notice = add_notice(ctx, starts_at=start, ends_at=start + timedelta(days=1))
    doomed = add_notice(ctx, title="Sylviusweg closed", starts_at=start)
    run(ctx)  # published (both notices)
    with ctx.db.writing() as session, session.begin():  # changed, as the console does it
        found = notice_store.get_notice(session, notice.uid, for_update=True)
        fields = parse_changes(
            {"summary": "Detour via Einsteinweg"},
            current=notice_store.fields_of(found),
            settings=ctx.settings,
            now=clock.now(),
        )
        notice_store.update_notice(session, found, fields, note="detour", now=clock.now(), author="test")
        enqueue_new_events(session, settings=ctx.settings, now=clock.now())
        cancelled = notice_store.get_notice(session, doomed.uid, for_update=True)
        notice_store.cancel_notice(session, cancelled, reason="postponed", now=clock.now(), author="test")
        enqueue_new_events(session, settings=ctx.settings, now=clock.now())
    run(ctx)
    clock.set(start - timedelta(days=1))  # the reminder, a day ahead
    run(ctx)
    clock.set(start)
    run(ctx)
    clock.set(start + timedelta(days=1))
    run(ctx)
    run(ctx)  # nothing twice
    assert types_of(receiver) == Counter(
        {
            "notice.published": 2,
            "notice.changed": 1,
            "notice.cancelled": 1,
            "notice.reminder": 1,
            "notice.started": 1,
            "notice.ended": 1,
        }
    )
    assert other_receiver.received == []
    assert all(delivery.status == "sent" and delivery.attempts == 1 for delivery in deliveries(ctx))


def test_an_endpoint_gets_only_the_event_kinds_it_asked_for(hook_ctx, clock, receiver):
    ctx = hook_ctx
    add_endpoint(ctx, receiver.url, events="started")
    notice = add_notice(ctx)
    run(ctx)
    clock.set(notice.starts_at)
    run(ctx)
    assert types_of(receiver) == Counter({"notice.started": 1})


def test_two_503s_then_200_arrive_on_the_third_try_with_one_webhook_id(hook_ctx, clock, receiver):
    ctx = hook_ctx
    add_endpoint(ctx, receiver.url)
    receiver.script((503, {}, b"busy"), (503, {}, b"busy"), (200, {}, b"thanks"))
    add_notice(ctx)
    assert run(ctx)["retry"] == 1
    for _ in range(2):
        (waiting,) = deliveries(ctx)
        assert waiting.status == "pending" and waiting.response_code == 503 and waiting.response_excerpt == "busy"
        assert jobs.send_hooks(ctx, now=waiting.next_attempt_at - timedelta(seconds=1))["sent"] == 0  # not yet
        clock.set(waiting.next_attempt_at)
        jobs.send_hooks(ctx, now=clock.now())
    (done,) = deliveries(ctx)
    assert (done.status, done.attempts, done.response_code, done.response_excerpt) == ("sent", 3, 200, "thanks")
    ids = {request.headers["webhook-id"] for request in receiver.received}
    assert len(receiver.received) == 3 and ids == {done.webhook_id}


def test_backoff_grows_with_jitter(hook_ctx, clock, receiver):
    ctx = hook_ctx
    add_endpoint(ctx, receiver.url)
    receiver.script((500, {}, b"oops"))
    add_notice(ctx)
    run(ctx)
    waits = []
    for _ in range(4):
        (waiting,) = deliveries(ctx)
        waits.append(waiting.next_attempt_at - clock.now())
        clock.set(waiting.next_attempt_at)
        jobs.send_hooks(ctx, now=clock.now())
    for attempt, wait in enumerate(waits, start=1):
        ceiling = timedelta(seconds=10 * 2 ** (attempt - 1))
        assert ceiling / 2 <= wait <= ceiling


@pytest.mark.parametrize("code", [410, 400, 404, 301])
def test_a_final_answer_stops_retries(hook_ctx, clock, receiver, code):
    ctx = hook_ctx
    add_endpoint(ctx, receiver.url)
    receiver.script((code, {"location": "https://elsewhere.example.org/"}, b"gone for good"))
    add_notice(ctx)
    assert run(ctx)["failed"] == 1
    clock.advance(timedelta(hours=2))
    assert jobs.send_hooks(ctx, now=clock.now())["sent"] == 0
    (failed,) = deliveries(ctx)
    assert (failed.status, failed.attempts, failed.response_code) == ("failed", 1, code)
    assert len(receiver.received) == 1


@pytest.mark.parametrize("code", [408, 429, 500, 502, 503, 504])
def test_temporary_answers_are_retried(hook_ctx, receiver, code):
    ctx = hook_ctx
    add_endpoint(ctx, receiver.url)
    receiver.script((code, {}, b""))
    add_notice(ctx)
    assert run(ctx)["retry"] == 1


def test_retry_after_is_honoured(hook_ctx, clock, receiver):
    ctx = hook_ctx
    add_endpoint(ctx, receiver.url)
    receiver.script((429, {"retry-after": "120"}, b"slow down"), (200, {}, b"ok"))
    add_notice(ctx)
    run(ctx)
    (waiting,) = deliveries(ctx)
    assert waiting.next_attempt_at == clock.now() + timedelta(seconds=120)
    jobs.send_hooks(ctx, now=clock.now() + timedelta(seconds=119))
    assert len(receiver.received) == 1
    jobs.send_hooks(ctx, now=clock.now() + timedelta(seconds=120))
    assert len(receiver.received) == 2 and deliveries(ctx)[0].status == "sent"


def test_retry_after_as_an_http_date(hook_ctx, clock, receiver):
    ctx = hook_ctx
    add_endpoint(ctx, receiver.url)
    later = clock.now() + timedelta(minutes=10)
    receiver.script((503, {"retry-after": later.strftime("%a, %d %b %Y %H:%M:%S GMT")}, b""))
    add_notice(ctx)
    run(ctx)
    assert deliveries(ctx)[0].next_attempt_at == later


def test_an_unreachable_receiver_is_retried(hook_ctx, clock, receiver):
    ctx = hook_ctx
    add_endpoint(ctx, "http://127.0.0.1:9/nothing-listens-here")
    add_notice(ctx)
    assert run(ctx)["retry"] == 1
    (waiting,) = deliveries(ctx)
    assert waiting.response_code is None and "ConnectError" in waiting.last_error


def test_a_delivery_past_its_validity_expires_instead_of_going_out_stale(hook_ctx, clock, receiver):
    ctx = hook_ctx
    add_endpoint(ctx, receiver.url)
    receiver.script((503, {}, b""))
    add_notice(ctx)
    run(ctx)
    clock.advance(ctx.settings.hooks_validity)
    receiver.script((200, {}, b""))
    assert jobs.send_hooks(ctx, now=clock.now())["expired"] == 1
    assert deliveries(ctx)[0].status == "expired" and len(receiver.received) == 1


def test_events_older_than_the_validity_are_not_queued(hook_ctx, clock, receiver):
    ctx = hook_ctx
    add_endpoint(ctx, receiver.url)
    notice = add_notice(ctx)
    clock.set(notice.ends_at + ctx.settings.hooks_validity)  # the scheduler was down throughout
    run(ctx)
    assert receiver.received == []


def now_for_signatures():
    """Receivers refuse timestamps more than 5 minutes from their own clock: sign at the real time."""
    return datetime.now(UTC).replace(microsecond=0)


def test_signatures_verify_with_standardwebhooks(hook_ctx, clock, receiver):
    ctx = hook_ctx
    clock.set(now_for_signatures())
    _, secret = add_endpoint(ctx, receiver.url)
    add_notice(ctx)
    run(ctx)
    (request,) = receiver.received
    payload = Webhook(secret).verify(request.body, request.headers)
    assert payload["type"] == "notice.published"
    assert request.headers["webhook-timestamp"] == str(int(clock.now().timestamp()))
    with pytest.raises(WebhookVerificationError):
        Webhook(store.new_secret()).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(request.body.replace(b"Plesmanlaan", b"Plesmanlaam"), request.headers)


def test_a_rotated_secret_and_the_old_one_both_verify_during_the_overlap(hook_ctx, clock, receiver):
    ctx = hook_ctx
    clock.set(now_for_signatures())
    endpoint_id, old = add_endpoint(ctx, receiver.url)
    with ctx.db.session() as session, session.begin():
        _, new = store.rotate_secret(session, endpoint_id, overlap=timedelta(hours=1), now=clock.now(), actor="t")
    add_notice(ctx)
    run(ctx)
    (during,) = receiver.received
    for secret in (old, new):
        Webhook(secret).verify(during.body, during.headers)
    # After the overlap only the new one signs.
    with ctx.db.session() as session:
        endpoint = session.get(HookEndpoint, endpoint_id)
        after = tuple(store.signing_secrets(endpoint, clock.now() + timedelta(hours=1)))
    item = sender.Item(
        claim=Claim(1, "t", clock.now()),
        endpoint_id=endpoint_id,
        url=receiver.url,
        secrets=after,
        webhook_id="msg_later",
        body='{"type":"notice.changed"}',
        content_type="application/json",
        attempts=1,
        expires_at=None,
    )
    headers = sender.signature_headers(item, now=clock.now())
    Webhook(new).verify(item.body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(item.body, headers)


def test_a_run_of_failures_disables_the_endpoint_and_tells_the_admins(hook_ctx, clock, receiver, smtp):
    from notices.mail.transports import SMTPMailer

    ctx = hook_ctx
    ctx.mailer = SMTPMailer(smtp.url, timeout=5)
    add_user(ctx, "boss@example.org", role="admin")
    add_user(ctx, "worker@example.org", role="manager")
    endpoint_id, _ = add_endpoint(ctx, receiver.url)
    receiver.script((500, {}, b"down"))
    first = clock.now()
    add_notice(ctx)
    run(ctx)
    clock.set(first + ctx.settings.hooks_disable_after - timedelta(minutes=1))
    add_notice(ctx, title="Einsteinweg closed")
    assert run(ctx)["disabled"] == 0
    clock.set(first + ctx.settings.hooks_disable_after)
    add_notice(ctx, title="Sylviusweg closed")
    assert run(ctx)["disabled"] == 1
    with ctx.db.session() as session:
        endpoint = session.get(HookEndpoint, endpoint_id)
        assert not endpoint.enabled and "failed for 72 hours" in endpoint.disabled_reason
    (mail,) = smtp.handler.messages
    assert mail["To"] == "boss@example.org" and f"integration {endpoint_id}" in mail["Subject"]
    # Disabled: nothing more is sent; enabled again, what is still valid goes out.
    receiver.script((200, {}, b""))
    clock.advance(timedelta(hours=1))
    sent_before = len(receiver.received)
    assert jobs.send_hooks(ctx, now=clock.now())["sent"] == 0 and len(receiver.received) == sent_before
    with ctx.db.session() as session, session.begin():
        store.set_enabled(session, endpoint_id, True, now=clock.now(), actor="boss@example.org")
    assert jobs.send_hooks(ctx, now=clock.now())["sent"] >= 1


def test_a_success_ends_the_run_of_failures(hook_ctx, clock, receiver):
    ctx = hook_ctx
    endpoint_id, _ = add_endpoint(ctx, receiver.url)
    receiver.script((500, {}, b""), (200, {}, b""))
    add_notice(ctx)
    run(ctx)
    with ctx.db.session() as session:
        assert session.get(HookEndpoint, endpoint_id).failing_since == clock.now()
    clock.set(deliveries(ctx)[0].next_attempt_at)
    jobs.send_hooks(ctx, now=clock.now())
    with ctx.db.session() as session:
        endpoint = session.get(HookEndpoint, endpoint_id)
        assert endpoint.failing_since is None and endpoint.last_success_at == clock.now()


def test_the_log_shows_status_attempts_code_and_an_excerpt(hook_ctx, clock, receiver):
    ctx = hook_ctx
    endpoint_id, _ = add_endpoint(ctx, receiver.url)
    receiver.script((503, {}, "<html>\x00\u202e busy ".encode() + b"x" * 5000))
    add_notice(ctx)
    run(ctx)
    with ctx.db.session() as session:
        (entry,) = [store.delivery_data(d) for d in store.delivery_log(session, endpoint_id)]
    assert entry["status"] == "pending" and entry["attempts"] == 1 and entry["response_code"] == 503
    assert entry["response_excerpt"].startswith("<html> busy xxx") and len(entry["response_excerpt"]) == 200


def test_a_test_event_goes_out_at_once_and_is_logged(hook_ctx, clock, receiver):
    ctx = hook_ctx
    endpoint_id, _ = add_endpoint(ctx, receiver.url)
    delivery = sender.send_test(ctx, endpoint_id, now=clock.now())
    assert (delivery.status, delivery.response_code) == ("sent", 200)
    (request,) = receiver.received
    assert json.loads(request.body)["type"] == "notice.test"


def test_a_target_refused_at_send_time_fails_at_once_without_a_request(hook_ctx, clock, receiver):
    ctx = hook_ctx
    add_endpoint(ctx, receiver.url)  # allowed when it was added...
    ctx.settings = dataclasses.replace(ctx.settings, hooks_allow_private_networks=False)  # ...not any more
    add_notice(ctx)
    assert run(ctx)["failed"] == 1
    (refused,) = deliveries(ctx)
    assert refused.status == "failed" and "not a public address (loopback)" in refused.last_error
    assert receiver.received == []


def test_the_purge_forgets_finished_deliveries_after_30_days(hook_ctx, clock, receiver):
    ctx = hook_ctx
    add_endpoint(ctx, receiver.url)
    add_notice(ctx)
    add_notice(ctx, title="Einsteinweg closed")
    run(ctx)
    receiver.script((503, {}, b""))
    add_notice(ctx, title="Sylviusweg closed")
    run(ctx)
    assert [d.status for d in deliveries(ctx)] == ["sent", "sent", "pending"]
    assert jobs.purge(ctx, now=clock.now() + timedelta(days=29))["hook_deliveries"] == 0
    assert jobs.purge(ctx, now=clock.now() + timedelta(days=31))["hook_deliveries"] == 2
    assert [d.status for d in deliveries(ctx)] == ["pending"]
