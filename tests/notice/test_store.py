"""The SQL store on SQLite and PostgreSQL: aware UTC, revisions, events, visible set."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from notices.core import site_state
from notices.core.models import Notice
from notices.notice import store
from notices.notice.validation import parse_changes
from tests.factories import add_notice, reload


def test_times_come_back_aware_utc(ctx):
    start = datetime(2026, 11, 14, 16, 0, tzinfo=UTC) + timedelta(microseconds=123)
    created = add_notice(ctx, starts_at=start, ends_at=None)
    loaded = reload(ctx, created.uid)
    assert loaded.starts_at == start
    assert loaded.starts_at.utcoffset() == timedelta(0)
    assert loaded.created_at == ctx.clock.now()


def test_times_come_back_in_utc_itself_on_every_database(ctx):
    # One written in another zone reads back in UTC (datetime.UTC itself, whatever zone a
    # PostgreSQL session runs in).
    start = datetime(2026, 11, 14, 17, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
    created = add_notice(ctx, starts_at=start, ends_at=None)
    loaded = reload(ctx, created.uid)
    assert loaded.starts_at == start
    assert loaded.starts_at.tzinfo is UTC
    assert loaded.created_at.tzinfo is UTC


def test_naive_datetimes_are_refused(ctx):
    created = add_notice(ctx)
    with ctx.db.session() as session, session.begin():
        notice = session.get(Notice, created.id)
        notice.starts_at = datetime(2026, 11, 14, 16, 0)
        with pytest.raises(Exception, match="naive"):
            session.flush()


def test_times_compare_in_time_order_whatever_the_input_offset(ctx):
    later = add_notice(ctx, starts_at=datetime(2026, 12, 1, 10, 0, tzinfo=UTC), ends_at=None)
    earlier_wall_later = add_notice(ctx, starts_at=datetime.fromisoformat("2026-12-01T11:30+02:00"), ends_at=None)
    with ctx.db.session() as session:
        uids = session.scalars(select(Notice.uid).order_by(Notice.starts_at)).all()
    assert uids == [earlier_wall_later.uid, later.uid]


def test_create_writes_revision_one(ctx):
    created = reload(ctx, add_notice(ctx).uid)
    assert created.version == 1
    assert [(r.version, r.change_note) for r in created.revisions] == [(1, "created")]


def _update(ctx, notice, note="changed", **raw):
    now = ctx.clock.now()
    with ctx.db.writing() as session, session.begin():
        current = store.get_notice(session, notice.uid)
        fields = parse_changes(raw, current=store.fields_of(current), settings=ctx.settings, now=now)
        store.update_notice(session, current, fields, note=note, now=now, author="test")
    return reload(ctx, notice.uid)


def test_update_bumps_version_and_keeps_the_change_note(ctx):
    notice = add_notice(ctx)
    updated = _update(ctx, notice, note="closure extended to 12 December", ends_at="2026-12-12T17:00")
    assert updated.version == 2
    assert updated.ends_at == datetime(2026, 12, 12, 16, 0, tzinfo=UTC)
    assert [r.change_note for r in updated.revisions] == ["created", "closure extended to 12 December"]
    assert updated.revisions[-1].snapshot["ends_at"] == "2026-12-12T16:00:00+00:00"


def test_changing_times_records_rescheduled_other_changes_updated(ctx):
    notice = add_notice(ctx)
    _update(ctx, notice, title="Plesmanlaan fully closed")
    updated = _update(ctx, notice, ends_at="2026-12-12T17:00")
    assert [(e.kind, e.version) for e in updated.events] == [("updated", 2), ("rescheduled", 3)]


def test_updating_with_identical_values_is_refused(ctx):
    notice = add_notice(ctx)
    with pytest.raises(store.NoticeConflict, match="nothing to change"):
        _update(ctx, notice, title=notice.title)


def test_cancel_keeps_the_notice_with_its_reason(ctx):
    notice = add_notice(ctx)
    with ctx.db.writing() as session, session.begin():
        store.cancel_notice(
            session, store.get_notice(session, notice.uid), reason="works postponed", now=ctx.clock.now(), author="test"
        )
    cancelled = reload(ctx, notice.uid)
    assert cancelled.cancel_reason == "works postponed"
    assert cancelled.cancelled_at == ctx.clock.now()
    assert [e.kind for e in cancelled.events] == ["cancelled"]
    with ctx.db.session() as session:
        assert store.visible_notices(session, ctx.clock.now()) == []
        with pytest.raises(store.NoticeConflict, match="already cancelled"):
            store.cancel_notice(
                session, store.get_notice(session, notice.uid), reason="again", now=ctx.clock.now(), author="test"
            )


def test_visible_set_from_the_database_at_the_exact_instants(ctx):
    now = ctx.clock.now()
    notice = add_notice(ctx, starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=2))
    with ctx.db.session() as session:
        at = lambda moment: [n.uid for n in store.visible_notices(session, moment)]  # noqa: E731
        assert at(now) == [notice.uid]
        assert at(now + timedelta(hours=2) - timedelta(microseconds=1)) == [notice.uid]
        assert at(now + timedelta(hours=2)) == []


def test_next_boundary_from_the_database(ctx):
    now = ctx.clock.now()
    add_notice(ctx, starts_at=now + timedelta(hours=3), ends_at=now + timedelta(hours=5))
    add_notice(ctx, publish_at=now + timedelta(hours=1), starts_at=now + timedelta(hours=4), ends_at=None)
    add_notice(ctx, draft=True, starts_at=now + timedelta(minutes=5))
    cancelled = add_notice(ctx, starts_at=now + timedelta(minutes=10))
    with ctx.db.session() as session, session.begin():
        store.cancel_notice(session, store.get_notice(session, cancelled.uid), reason="off", now=now, author="t")
    with ctx.db.session() as session:
        assert store.next_boundary_after(session, now) == now + timedelta(hours=1)
        assert store.next_boundary_after(session, now + timedelta(hours=1)) == now + timedelta(hours=3)
        assert store.next_boundary_after(session, now + timedelta(hours=4)) == now + timedelta(hours=5)
        assert store.next_boundary_after(session, now + timedelta(hours=5)) is None


def test_unique_uid_prefix_finds_the_notice(ctx):
    notice = add_notice(ctx)
    with ctx.db.session() as session:
        assert store.get_notice(session, notice.uid[:8]).uid == notice.uid
        with pytest.raises(store.NoticeNotFound):
            store.get_notice(session, "abc")


def test_writes_bump_the_data_version(ctx):
    with ctx.db.session() as session:
        before = site_state.data_version(session)
    add_notice(ctx)
    with ctx.db.session() as session:
        assert site_state.data_version(session) == before + 1


def explain(session, statement) -> str:
    """The query plan of a SQLAlchemy statement, as text, on either database."""
    dialect = session.get_bind().dialect
    sql = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    prefix = "EXPLAIN QUERY PLAN " if dialect.name == "sqlite" else "EXPLAIN "
    return "\n".join(str(row) for row in session.execute(text(prefix + sql)).all())


def test_visible_query_uses_the_partial_indexes(ctx):
    """The visible-notices query must not scan ended history."""
    with ctx.db.session() as session:
        if ctx.db.dialect == "postgresql":
            session.execute(text("SET LOCAL enable_seqscan = off"))  # a tiny table: make the planner show its options
        plan = explain(session, store.live_candidates_query(ctx.clock.now()))
    assert "ix_notices_live_ends_at" in plan
    assert "ix_notices_open_ended" in plan


def test_drafts_are_listed_as_drafts_also_after_their_end_has_passed(ctx):
    now = ctx.clock.now()
    stale_draft = add_notice(ctx, draft=True, starts_at=now - timedelta(days=3), ends_at=now - timedelta(days=2))
    fresh_draft = add_notice(ctx, draft=True, starts_at=now + timedelta(days=1))
    add_notice(ctx)  # published: not a draft
    with ctx.db.session() as session:
        drafts = store.list_notices(session, now, {store.Status.DRAFT})
    assert [notice.uid for notice in drafts] == [stale_draft.uid, fresh_draft.uid]
