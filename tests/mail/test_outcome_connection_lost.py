"""The outcome writer holds one connection for a run (mail.outcomes): when that connection is lost
between two groups (a database restart, a killed backend), the next group is written on a new one
and no outcome is lost."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import event, select, text

from notices.core.models import Delivery
from notices.mail import outbox
from notices.mail.outcomes import OutcomeWriter
from notices.runtime import jobs
from tests.factories import add_notice, add_subscriber


def claims_for(ctx, count):
    for number in range(count):
        add_subscriber(ctx, f"tenant{number}@example.org")
    add_notice(ctx)
    now = ctx.clock.now()
    jobs.record_transitions(ctx, now=now)
    jobs.enqueue_alerts(ctx, now=now)
    return outbox.claim_batch(ctx.db, now=now, limit=count, lease=timedelta(minutes=5))


def lose(ctx, dbapi_connection) -> None:
    """What a database restart does to the writer's connection, done from outside the writer."""
    if ctx.db.engine.dialect.name == "postgresql":
        with ctx.db.engine.connect() as connection:
            killed = connection.execute(
                text("SELECT pg_terminate_backend(:pid)"), {"pid": dbapi_connection.info.backend_pid}
            ).scalar()
        assert killed
    else:
        dbapi_connection.close()  # SQLite has no server: the connection itself goes


def test_a_group_after_the_connection_was_lost_is_written_on_a_new_one(ctx):
    claims = claims_for(ctx, 3)
    assert len(claims) == 3
    now = ctx.clock.now()
    checked_out = []  # the DBAPI connections the writer thread took from the pool

    def note(dbapi_connection, _record, _proxy) -> None:
        if threading.current_thread().name == "notices-outcomes":
            checked_out.append(dbapi_connection)

    event.listen(ctx.db.engine, "checkout", note)
    writer = OutcomeWriter(ctx.db)
    writer.start()
    try:
        writer.put(outbox.sent(claims[0], now=now, message_id="<first@example.org>", reply="250 first"))
        writer.wait_for_own()
        assert writer.error is None and len(checked_out) == 1
        lose(ctx, checked_out[0])
        # Two outcomes after the loss: the one in the group that meets the dead connection, and one after it.
        writer.put(outbox.sent(claims[1], now=now, message_id="<second@example.org>", reply="250 second"))
        writer.wait_for_own()
        writer.put(outbox.failed(claims[2], now=now, error="554 refused"))
    finally:
        writer.close()
        event.remove(ctx.db.engine, "checkout", note)
    assert writer.error is None
    assert len(checked_out) == 2  # the lost connection, then the one the rest were written on
    with ctx.db.session() as session:
        rows = {row.id: row for row in session.scalars(select(Delivery))}
    assert [(rows[claim.delivery_id].status, rows[claim.delivery_id].message_id) for claim in claims] == [
        ("sent", "<first@example.org>"),
        ("sent", "<second@example.org>"),
        ("failed", ""),
    ]
    assert rows[claims[1].delivery_id].smtp_reply == "250 second"
    assert all(row.lease_until is None for row in rows.values())
