"""The outcome writer runs outbox's outcome statements on the driver's own cursor
(core.driver_statements): what it stores must be what SQLAlchemy's path stores, fenced the same way."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from notices.core.models import Delivery
from notices.mail import outbox
from notices.mail.outcomes import _DriverConnection
from tests.mail.test_outcome_connection_lost import claims_for

COMPARED = (
    "status",
    "sent_at",
    "outcome_at",
    "message_id",
    "smtp_reply",
    "last_error",
    "lease_until",
    "next_attempt_at",
)


def outcomes_for(claims, now):
    sent, retry, failed = claims
    return [
        outbox.sent(sent, now=now, message_id="<same@example.org>", reply="250 2.0.0 queued as ABC"),
        outbox.retry(retry, now=now, attempts=1, max_attempts=5, error="451 try again later"),
        outbox.failed(failed, now=now, error="554 refused ⚠"),
    ]


def stored(ctx, claims):
    with ctx.db.session() as session:
        rows = {row.id: row for row in session.scalars(select(Delivery))}
        # As the database holds them: SQLite keeps instants as text, compared as text by every query.
        raw = {
            row_id: (sent_at, outcome_at, next_attempt_at)
            for row_id, sent_at, outcome_at, next_attempt_at in session.execute(
                text("SELECT id, sent_at, outcome_at, next_attempt_at FROM deliveries")
            )
        }
    return [
        (tuple(getattr(rows[claim.delivery_id], name) for name in COMPARED), raw[claim.delivery_id]) for claim in claims
    ]


def test_the_driver_path_stores_what_sqlalchemys_path_stores(ctx):
    claims = claims_for(ctx, 6)
    now = ctx.clock.now() + timedelta(seconds=1, microseconds=123456)
    by_sqlalchemy, by_driver = claims[:3], claims[3:]
    with ctx.db.writing() as session, session.begin():
        assert outbox.record_outcomes(session, outcomes_for(by_sqlalchemy, now)) == 3
    connection = _DriverConnection(ctx.db)
    try:
        assert connection.write(outcomes_for(by_driver, now)) == 3
    finally:
        connection.close()
    expected = stored(ctx, by_sqlalchemy)
    assert [values for values, _ in expected][0][:2] == ("sent", now)
    assert expected[1][0][0] == "pending" and expected[1][0][-1] > now  # the retry waits for its backoff
    assert stored(ctx, by_driver) == expected


def test_the_driver_path_writes_nothing_for_a_claim_no_longer_held(ctx, caplog):
    claims = claims_for(ctx, 2)
    now = ctx.clock.now()
    taken_over = outbox.Claim(claims[0].delivery_id, owner=outbox.new_owner())
    connection = _DriverConnection(ctx.db)
    try:
        written = connection.write(
            [
                outbox.sent(taken_over, now=now, message_id="<a@example.org>", reply="250 ok"),
                outbox.sent(claims[1], now=now, message_id="<b@example.org>", reply="250 ok"),
            ]
        )
    finally:
        connection.close()
    assert written == 1
    assert "1 deliveries: claim lost" in caplog.text
    with ctx.db.session() as session:
        statuses = dict(session.execute(select(Delivery.id, Delivery.status)).all())
    assert statuses[claims[0].delivery_id] == "sending" and statuses[claims[1].delivery_id] == "sent"


def test_a_group_that_fails_leaves_nothing_written_and_the_next_one_goes_through(ctx):
    claims = claims_for(ctx, 2)
    now = ctx.clock.now()
    connection = _DriverConnection(ctx.db)
    try:
        with pytest.raises(ValueError, match="naive"):
            connection.write(
                [
                    outbox.sent(claims[1], now=now, message_id="<fine@example.org>", reply="250 ok"),
                    outbox.sent(claims[0], now=now.replace(tzinfo=None), message_id="<bad@example.org>", reply="250"),
                ]
            )
        # The same connection, its transaction rolled back rather than left open.
        assert connection.write([outbox.sent(claims[0], now=now, message_id="<a@example.org>", reply="250 ok")]) == 1
    finally:
        connection.close()
    with ctx.db.session() as session:
        statuses = dict(session.execute(select(Delivery.id, Delivery.status)).all())
    assert statuses[claims[0].delivery_id] == "sent"
    assert statuses[claims[1].delivery_id] == "sending"  # nothing of the failed group stayed
