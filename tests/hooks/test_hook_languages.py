"""Webhooks and chat messages carry the notice text in the endpoint's language, through the real
queue and sender to a real receiver (webhooks verified with standardwebhooks)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

from notices.runtime import jobs
from tests.factories import add_notice
from tests.hooks.conftest import add_endpoint

BOTH = {"title": {"en": "Plesmanlaan closed", "nl": "Plesmanlaan afgesloten"}}


def run(ctx) -> None:
    jobs.record_transitions(ctx, now=ctx.clock.now())
    jobs.enqueue_hooks(ctx, now=ctx.clock.now())
    jobs.send_hooks(ctx, now=ctx.clock.now())


def test_a_dutch_webhook_gets_the_dutch_text_and_every_language(hook_ctx, clock, receiver):
    clock.set(datetime.now(UTC).replace(microsecond=0))  # receivers check the signature's timestamp
    _, secret = add_endpoint(hook_ctx, receiver.url, language="nl")
    add_notice(hook_ctx, **BOTH)
    run(hook_ctx)
    (request,) = receiver.received
    data = Webhook(secret).verify(request.body, request.headers)["data"]
    assert (data["language"], data["title"]) == ("nl", "Plesmanlaan afgesloten")
    assert data["languages"]["en"]["title"] == "Plesmanlaan closed"


def test_a_dutch_slack_endpoint_gets_the_dutch_title(hook_ctx, clock, receiver):
    add_endpoint(hook_ctx, receiver.url, kind="slack", language="nl")
    add_notice(hook_ctx, **BOTH)
    run(hook_ctx)
    (request,) = receiver.received
    header = json.loads(request.body)["blocks"][0]["text"]["text"]
    assert header.endswith(": Plesmanlaan afgesloten")


def test_an_english_teams_endpoint_gets_the_english_title(hook_ctx, clock, receiver):
    add_endpoint(hook_ctx, receiver.url, kind="teams", language="en")
    add_notice(hook_ctx, **BOTH)
    run(hook_ctx)
    (request,) = receiver.received
    assert "Plesmanlaan closed" in request.body.decode()
    assert "afgesloten" not in request.body.decode()
