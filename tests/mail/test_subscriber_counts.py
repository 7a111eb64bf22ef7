"""Subscriber counts (console and API) are counted by the database, not by loading every subscriber."""

from sqlalchemy import event

from notices.mail import subscriptions
from tests.factories import add_subscriber


def test_counts_per_state_frequency_topic_and_place(ctx):
    add_subscriber(ctx, "all@example.org", frequency="daily")  # no filter: counts for every topic and place
    add_subscriber(ctx, "road@example.org", categories=["road-closure", "traffic"], locations=["plesmanlaan"])
    add_subscriber(ctx, "event@example.org", categories=["event"], frequency="weekly")
    add_subscriber(ctx, "place@example.org", locations=["sylviusweg", "einsteinweg"])
    add_subscriber(ctx, "waiting@example.org", state="pending", categories=["event"])
    with ctx.db.session() as session:
        counts = subscriptions.subscriber_counts(session, ctx.settings)
    assert counts["total"] == 4 and counts["pending"] == 1
    assert counts["unsubscribed"] == counts["suppressed"] == 0
    assert counts["by_frequency"] == {"immediate": 2, "daily": 1, "weekly": 1}
    by_category, by_location = counts["by_category"], counts["by_location"]
    assert (by_category["road-closure"], by_category["traffic"], by_category["event"]) == (3, 3, 3)
    assert by_category["construction"] == 2  # the unfiltered one and the one filtering on places only
    assert (by_location["plesmanlaan"], by_location["sylviusweg"], by_location["wassenaarseweg"]) == (3, 3, 2)


def test_no_subscriber_row_is_read_to_count(ctx):
    for n in range(30):
        add_subscriber(ctx, f"s{n}@example.org", categories=["event"] if n % 2 else [])
    statements: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(ctx.db.engine, "before_cursor_execute", remember)
    try:
        with ctx.db.session() as session:
            counts = subscriptions.subscriber_counts(session, ctx.settings)
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", remember)
    assert counts["total"] == 30 and counts["by_category"]["event"] == 30 and counts["by_category"]["safety"] == 15
    reads = [s for s in statements if s.startswith("SELECT")]
    assert reads and all("count(" in s or "sum(" in s for s in reads), reads
