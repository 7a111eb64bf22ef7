"""Hooks tests talk to real receivers on 127.0.0.1, which the settings must allow."""

from __future__ import annotations

import dataclasses

import pytest

from notices.hooks import store
from tests.hook_receiver import receiving


@pytest.fixture
def hook_ctx(ctx):
    ctx.settings = dataclasses.replace(ctx.settings, hooks_allow_http=True, hooks_allow_private_networks=True)
    return ctx


@pytest.fixture
def receiver():
    with receiving() as found:
        yield found


@pytest.fixture
def other_receiver():
    with receiving("/other") as found:
        yield found


def add_endpoint(ctx, url: str, **raw) -> tuple[int, str]:
    """An endpoint on `url` (a webhook for every event unless told otherwise); its id and secret."""
    with ctx.db.session() as session, session.begin():
        endpoint, secret = store.add_endpoint(
            session, store.parse_endpoint({"url": url, **raw}, ctx.settings), now=ctx.clock.now(), actor="test"
        )
        return endpoint.id, secret
