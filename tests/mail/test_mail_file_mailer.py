"""The .eml file mailer fails like an SMTP server saying 4xx: retried with backoff, recorded, given up.

Real faults, not mocks: tests run as root, so a read-only folder would not
stop a write; a file where the folder should be and /dev/full do.
"""

import dataclasses
import os
import re

from sqlalchemy import select

from notices.core.models import Delivery
from notices.mail import outbox
from notices.mail.transports import FileMailer
from notices.runtime import jobs
from tests.factories import add_notice, add_subscriber


def only_delivery(ctx) -> Delivery:
    with ctx.db.session() as session:
        (delivery,) = session.scalars(select(Delivery)).all()
        return delivery


def alert_for_one(ctx, mail_dir, *, max_attempts=3):
    ctx.settings = dataclasses.replace(ctx.settings, max_attempts=max_attempts)
    ctx.mailer = FileMailer(mail_dir)
    add_subscriber(ctx, "tenant@example.org")
    add_notice(ctx)
    jobs.record_transitions(ctx, now=ctx.clock.now())
    jobs.enqueue_alerts(ctx, now=ctx.clock.now())


def attempts_until_given_up(ctx, clock) -> list[tuple[dict, Delivery]]:
    """send_pending at each retry time until the delivery is no longer pending."""
    outcomes = []
    while True:
        counts = jobs.send_pending(ctx, now=clock.now())
        delivery = only_delivery(ctx)
        outcomes.append((counts, delivery))
        if delivery.status != "pending":
            return outcomes
        assert delivery.next_attempt_at > clock.now()
        clock.set(delivery.next_attempt_at)


def test_a_file_where_the_mail_folder_should_be_is_retried_with_backoff_then_given_up(ctx, clock, tmp_path):
    (tmp_path / "mail").write_text("not a folder")
    alert_for_one(ctx, tmp_path / "mail")
    started = clock.now()
    outcomes = attempts_until_given_up(ctx, clock)
    assert [counts for counts, _ in outcomes] == [
        {"sent": 0, "retry": 1, "failed": 0, "expired": 0, "lost": 0},
        {"sent": 0, "retry": 1, "failed": 0, "expired": 0, "lost": 0},
        {"sent": 0, "retry": 0, "failed": 1, "expired": 0, "lost": 0},
    ]
    first, second, last = (delivery for _, delivery in outcomes)
    assert first.next_attempt_at - started == outbox.BACKOFF[0]
    assert second.next_attempt_at - first.next_attempt_at == outbox.BACKOFF[1]
    assert (last.status, last.attempts) == ("failed", 3)
    assert str(tmp_path / "mail") in last.last_error


def test_a_full_disk_leaves_no_partial_message_and_the_retry_writes_it_whole(ctx, clock, tmp_path):
    alert_for_one(ctx, tmp_path / "mail")
    delivery = only_delivery(ctx)
    identifier = outbox.message_id(delivery.id, f"{delivery.subscriber_id}:{delivery.dedup_key}", "example.org")
    (tmp_path / "mail").mkdir()
    name = re.sub(r"[^A-Za-z0-9.-]+", "_", identifier.strip("<>"))
    # The message is written under a hidden name first: that write fails with ENOSPC.
    os.symlink("/dev/full", tmp_path / "mail" / f".{name}.eml.partial")
    assert jobs.send_pending(ctx, now=clock.now())["retry"] == 1
    failed = only_delivery(ctx)
    assert "No space left on device" in failed.last_error
    # Nothing a mail program could open half-written, and no leftover under the hidden name.
    assert list((tmp_path / "mail").iterdir()) == []
    clock.set(failed.next_attempt_at)
    assert jobs.send_pending(ctx, now=clock.now())["sent"] == 1
    (written,) = (tmp_path / "mail").iterdir()
    assert written.name == f"{name}.eml"
    assert written.read_bytes().rstrip().endswith(b"--")  # the closing MIME boundary: the whole message


def test_mail_is_written_once_the_fault_is_gone(ctx, clock, tmp_path):
    (tmp_path / "mail").write_text("not a folder")
    alert_for_one(ctx, tmp_path / "mail")
    assert jobs.send_pending(ctx, now=clock.now())["retry"] == 1
    (tmp_path / "mail").unlink()
    clock.set(only_delivery(ctx).next_attempt_at)
    assert jobs.send_pending(ctx, now=clock.now())["sent"] == 1
    assert [path.suffix for path in (tmp_path / "mail").iterdir()] == [".eml"]
    assert only_delivery(ctx).status == "sent"
