"""Paged notice lists (notice.history): the SQL of a first page reads an index range, never the whole table."""

from datetime import timedelta

import pytest
from sqlalchemy import text

from notices.core import cursors
from notices.notice import history
from notices.notice.lifecycle import Status
from tests.factories import add_notice
from tests.notice.test_store import explain
from tests.paging_samples import ended_rows, insert_rows

HISTORY = 5_000


@pytest.fixture
def long_history(ctx):
    """A moderately large history, with planner statistics as a real database would have them."""
    insert_rows(ctx.db, ended_rows(HISTORY, now=ctx.clock.now()))
    add_notice(ctx)  # and one upcoming notice
    with ctx.db.engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    return ctx


def _plan(ctx, criteria, after=None) -> str:
    with ctx.db.session() as session:
        query = history.page_query(session, criteria, now=ctx.clock.now(), limit=history.DEFAULT_LIMIT + 1, after=after)
        return explain(session, query)


def _walks_an_index_in_order(ctx, plan: str) -> None:
    if ctx.db.dialect == "postgresql":
        assert "Seq Scan on notices" not in plan, plan
        assert "Sort" not in plan.split("Index")[0], plan  # no sort above the index scan: rows come in order
        assert "Limit" in plan, plan
    else:
        assert "SCAN notices\n" not in plan + "\n" and "SCAN notices'" not in plan, plan
        assert "TEMP B-TREE" not in plan, plan


@pytest.mark.parametrize(("newest_first", "public_only"), [(False, True), (True, False), (False, False)])
def test_the_first_page_of_ended_notices_reads_the_index_in_order(long_history, newest_first, public_only):
    # public_only: what the API lists without a token; newest_first: the console's ended list.
    criteria = history.Criteria(statuses=frozenset({Status.ENDED}), newest_first=newest_first, public_only=public_only)
    plan = _plan(long_history, criteria)
    assert "ix_notices_starts_at" in plan, plan
    _walks_an_index_in_order(long_history, plan)


def test_a_deep_page_starts_at_its_cursor_in_the_index(long_history):
    criteria = history.Criteria(statuses=frozenset({Status.ENDED}), public_only=True)
    deep = cursors.Position(long_history.clock.now() - timedelta(days=200), 10**6)
    plan = _plan(long_history, criteria, after=deep)
    assert "ix_notices_starts_at" in plan, plan
    _walks_an_index_in_order(long_history, plan)


def test_the_default_page_looks_only_at_live_notices(long_history):
    plan = _plan(long_history, history.Criteria(statuses=frozenset({Status.UPCOMING, Status.ACTIVE}), public_only=True))
    assert "ix_notices_live_ends_at" in plan and "ix_notices_open_ended" in plan, plan
    if long_history.db.dialect == "postgresql":
        assert "Seq Scan on notices" not in plan, plan


def test_a_page_of_ended_notices_in_one_place_and_category_holds_what_it_should(long_history):
    now = long_history.clock.now()
    criteria = history.Criteria(
        statuses=frozenset({Status.ENDED}), categories=frozenset({"traffic"}), locations=frozenset({"einsteinweg"})
    )
    with long_history.db.session() as session:
        found = history.page(session, criteria, now=now, limit=10)
    assert len(found.notices) == 10 and found.next is not None
    assert all(n.category == "traffic" and n.locations == ["einsteinweg"] for n in found.notices)
    keys = [(n.starts_at, n.id) for n in found.notices]
    assert keys == sorted(keys)
