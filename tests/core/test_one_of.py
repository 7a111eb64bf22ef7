"""core.db.one_of: looking up more values than one statement binds, on SQLite (in chunks of
VALUES_PER_QUERY) and PostgreSQL (one array parameter), finds exactly the rows there are."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import event, insert, select

from notices.core.db import VALUES_PER_QUERY, one_of
from notices.core.models import Notice, RenderedBody
from notices.notice import store
from tests.factories import add_notice


def test_more_keys_than_one_statement_binds_find_exactly_the_stored_rows(ctx):
    stored = [f"{number:064x}" for number in range(2 * VALUES_PER_QUERY + 3)]
    missing = [f"{number:064x}" for number in range(10_000, 10_300)]
    now = datetime(2026, 11, 30, tzinfo=UTC)
    with ctx.db.session() as session, session.begin():
        session.execute(
            insert(RenderedBody), [{"key": key, "html": f"<p>{key}</p>", "created_at": now} for key in stored]
        )
    statements = []

    def count(_connection, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(ctx.db.engine, "before_cursor_execute", count)
    try:
        with ctx.db.session() as session:
            found = {}
            for wanted in one_of(session, RenderedBody.key, missing + stored):
                found.update(session.execute(select(RenderedBody.key, RenderedBody.html).where(wanted)).all())
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", count)
    assert found == {key: f"<p>{key}</p>" for key in stored}
    selects = [statement for statement in statements if statement.lstrip().upper().startswith("SELECT")]
    values = len(missing) + len(stored)
    expected = 1 if ctx.db.engine.dialect.name == "postgresql" else -(-values // VALUES_PER_QUERY)
    assert len(selects) == expected


def test_no_values_ask_nothing(ctx):
    with ctx.db.session() as session:
        assert one_of(session, Notice.id, []) == []


def test_notices_read_by_id_beyond_one_statement_are_all_read(ctx):
    ids = [add_notice(ctx, title=f"Notice {number}").id for number in range(VALUES_PER_QUERY + 2)]
    with ctx.db.session() as session:
        read = store.notices_by_id(session, [*ids, max(ids) + 1], without_attachments=True)
        assert sorted(notice.id for notice in read) == sorted(ids)
        assert all(notice.attachments == [] for notice in read)
