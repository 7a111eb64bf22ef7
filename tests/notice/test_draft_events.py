"""The store records lifecycle events only for published notices, whoever asks."""

from datetime import timedelta

from notices.notice import store
from tests.factories import add_notice, reload


def test_recording_due_events_for_a_draft_records_nothing(ctx, clock):
    # A draft whose start and end have passed: its times would call for every event if it were published.
    now = clock.now()
    draft = add_notice(ctx, draft=True, starts_at=now - timedelta(hours=2), ends_at=now - timedelta(hours=1))
    with ctx.db.writing() as session, session.begin():
        assert store.record_due_events(session, store.get_notice(session, draft.uid), now) == []
    assert reload(ctx, draft.uid).events == []
