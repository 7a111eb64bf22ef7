"""The README's receiver-side signature check, run as written against real deliveries."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from standardwebhooks.webhooks import Webhook

from notices.hooks import store
from notices.runtime import jobs
from tests.factories import add_notice
from tests.hooks.conftest import add_endpoint

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def readme_verify():
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", README, flags=re.S) if "def verify(" in b]
    namespace: dict = {}
    exec(block, namespace)  # noqa: S102 - the README's own example, run as a reader would paste it
    return namespace["verify"]


def test_the_readme_check_accepts_our_signatures_and_refuses_others(hook_ctx, clock, receiver):
    verify = readme_verify()
    clock.set(datetime.now(UTC).replace(microsecond=0))  # the check compares with the real time
    endpoint_id, old = add_endpoint(hook_ctx, receiver.url)
    add_notice(hook_ctx)
    jobs.record_transitions(hook_ctx, now=clock.now())
    jobs.send_hooks(hook_ctx, now=clock.now())
    with hook_ctx.db.session() as session, session.begin():
        _, new = store.rotate_secret(session, endpoint_id, overlap=timedelta(hours=1), now=clock.now(), actor="t")
    jobs.send_hooks(hook_ctx, now=clock.now())  # nothing due; a test event signed with both:
    from notices.hooks import sender

    sender.send_test(hook_ctx, endpoint_id, now=clock.now())
    first, rotated = receiver.received
    assert verify(old, first.headers, first.body)
    assert verify(old, rotated.headers, rotated.body) and verify(new, rotated.headers, rotated.body)
    assert not verify(new, first.headers, first.body)
    assert not verify(old, first.headers, first.body + b" ")
    assert not verify(store.new_secret(), first.headers, first.body)
    # Correctly signed, but 301 s old: a replay.
    then = clock.now() - timedelta(seconds=301)
    signature = Webhook(old).sign(first.headers["webhook-id"], then, first.body.decode())
    replayed = first.headers | {"webhook-timestamp": str(int(then.timestamp())), "webhook-signature": signature}
    assert not verify(old, replayed, first.body)
    recent = replayed | {"webhook-timestamp": str(int(clock.now().timestamp()))}
    recent["webhook-signature"] = Webhook(old).sign(first.headers["webhook-id"], clock.now(), first.body.decode())
    assert verify(old, recent, first.body)
