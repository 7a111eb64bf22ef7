"""The approval rules in the domain: what waits, who may decide, and that nothing leaks before approval."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from notices.core.config import ConfigError, load_settings
from notices.core.errors import Forbidden, InvalidField
from notices.core.models import AuditEntry, NoticeEvent
from notices.core.resources import default_config_path
from notices.core.states import Role
from notices.notice import approval, store
from notices.notice.approval import Stage, WrongState
from notices.notice.validation import parse_changes, parse_new_notice
from notices.people.roles import Actor
from notices.runtime import jobs
from tests.approval_staff import approval_settings, staff_per_role, tokens_per_email  # noqa: F401 (fixtures)
from tests.factories import reload

EDITOR = Actor("api:editor@example.org", "editor@example.org", Role.EDITOR)
APPROVER = Actor("api:approver@example.org", "approver@example.org", Role.APPROVER)
MANAGER = Actor("api:manager@example.org", "manager@example.org", Role.MANAGER)
ADMIN = Actor("api:admin@example.org", "admin@example.org", Role.ADMIN)


def create(ctx, actor=EDITOR, **overrides):
    now = ctx.clock.now()
    raw = {
        "title": "Gas main burst",
        "category": "road-closure",
        "severity": "critical",
        "starts_at": now + timedelta(hours=1),
        "ends_at": now + timedelta(days=1),
        **overrides,
    }
    fields = parse_new_notice(raw, settings=ctx.settings, now=now)
    with ctx.db.writing() as session, session.begin():
        notice, note = approval.create(session, fields, actor=actor, settings=ctx.settings, now=now)
    return notice.uid, note


def act(ctx, uid, transition, **kwargs):
    now = ctx.clock.now()
    with ctx.db.writing() as session, session.begin():
        notice = store.get_notice(session, uid, for_update=True)
        if transition is approval.update or transition is approval.approve or transition is approval.submit:
            kwargs.setdefault("settings", ctx.settings)
        return transition(session, notice, now=now, **kwargs)


def stage(ctx, uid):
    with ctx.db.session() as session:
        return approval.stage_of(session, store.get_notice(session, uid), ctx.clock.now())


def events(ctx, uid):
    with ctx.db.session() as session:
        notice = store.get_notice(session, uid)
        return [e.kind for e in session.scalars(select(NoticeEvent).where(NoticeEvent.notice_id == notice.id))]


def change(ctx, uid, **raw):
    with ctx.db.session() as session:
        current = store.fields_of(store.get_notice(session, uid))
    return parse_changes(raw, current=current, settings=ctx.settings, now=ctx.clock.now())


def test_an_editors_critical_notice_waits_and_records_no_events_until_approved(ctx, staff, clock):
    uid, note = create(ctx)
    assert stage(ctx, uid) is Stage.SUBMITTED
    assert note.kind == "waiting" and set(note.recipients) == {
        "approver@example.org",
        "manager@example.org",
        "admin@example.org",
    }
    clock.advance(timedelta(hours=2))  # past its start: still nothing in public
    jobs.record_transitions(ctx, now=clock.now())
    assert reload(ctx, uid).publish_at is None and events(ctx, uid) == []
    act(ctx, uid, approval.approve, actor=APPROVER, comment="checked")
    jobs.record_transitions(ctx, now=clock.now())
    assert reload(ctx, uid).publish_at == clock.now()
    assert sorted(events(ctx, uid)) == ["published", "started"]


def test_a_notice_of_a_severity_without_approval_publishes_at_once(ctx, staff):
    uid, note = create(ctx, severity="minor")
    assert note is None and stage(ctx, uid) is Stage.PUBLISHED


def test_nobody_approves_their_own_submission_not_even_a_manager(ctx, staff):
    uid, _ = create(ctx, actor=MANAGER)
    with pytest.raises(Forbidden, match="four eyes"):
        act(ctx, uid, approval.approve, actor=MANAGER, comment="")
    assert stage(ctx, uid) is Stage.SUBMITTED
    act(ctx, uid, approval.approve, actor=ADMIN, comment="")
    assert stage(ctx, uid) is Stage.PUBLISHED


def test_an_editor_may_not_approve_and_an_approver_may_not_write(ctx, staff):
    uid, _ = create(ctx, actor=MANAGER)
    with pytest.raises(Forbidden):
        act(ctx, uid, approval.approve, actor=EDITOR, comment="")
    with pytest.raises(Forbidden):
        create(ctx, actor=APPROVER)


def test_a_returned_notice_is_a_draft_again_with_the_comment(ctx, staff):
    uid, _ = create(ctx)
    note = act(ctx, uid, approval.return_, actor=APPROVER, comment="name the diversion")
    assert note.recipients == ("editor@example.org",) and note.comment == "name the diversion"
    assert stage(ctx, uid) is Stage.DRAFT
    with ctx.db.session() as session:
        review = approval.describe(session, store.get_notice(session, uid), ctx.clock.now())["review"]
    assert (review["state"], review["decision_comment"]) == ("returned", "name the diversion")


def test_returning_needs_a_comment(ctx, staff):
    uid, _ = create(ctx)
    with pytest.raises(InvalidField) as error:
        act(ctx, uid, approval.return_, actor=APPROVER, comment="  ")
    assert error.value.field == "comment"


def test_a_transition_the_state_does_not_allow_names_the_state(ctx, staff):
    uid, _ = create(ctx, severity="minor")
    with pytest.raises(WrongState, match="the notice is published"):
        act(ctx, uid, approval.approve, actor=APPROVER, comment="")
    draft, _ = create(ctx, draft=True)
    with pytest.raises(WrongState, match="the notice is draft"):
        act(ctx, draft, approval.return_, actor=APPROVER, comment="no")
    act(ctx, draft, approval.submit, actor=EDITOR, publish_at=None, comment="")
    with pytest.raises(WrongState, match="the notice is submitted"):
        act(ctx, draft, approval.submit, actor=EDITOR, publish_at=None, comment="")


def test_a_submission_scheduled_for_later_is_scheduled_when_approved(ctx, staff, clock):
    uid, _ = create(ctx, publish_at=clock.now() + timedelta(minutes=30))
    act(ctx, uid, approval.approve, actor=APPROVER, comment="")
    assert reload(ctx, uid).publish_at == clock.now() + timedelta(minutes=30)


def test_a_change_of_times_to_a_published_notice_waits_while_the_published_version_stays(ctx, staff, clock):
    uid, _ = create(ctx)
    act(ctx, uid, approval.approve, actor=APPROVER, comment="")
    before = reload(ctx, uid)
    new_end = clock.now() + timedelta(days=3)
    note = act(
        ctx, uid, approval.update, fields=change(ctx, uid, ends_at=new_end), note="extended", minor=False, actor=EDITOR
    )
    assert note.kind == "waiting"
    assert (reload(ctx, uid).ends_at, reload(ctx, uid).version) == (before.ends_at, before.version)
    act(ctx, uid, approval.approve, actor=APPROVER, comment="")
    after = reload(ctx, uid)
    assert (after.ends_at, after.version) == (new_end, before.version + 1)
    assert "rescheduled" in events(ctx, uid)


def test_a_minor_text_fix_skips_approval_and_is_audited(ctx, staff):
    uid, _ = create(ctx)
    act(ctx, uid, approval.approve, actor=APPROVER, comment="")
    note = act(
        ctx,
        uid,
        approval.update,
        fields=change(ctx, uid, title="Gas main burst!"),
        note="typo",
        minor=True,
        actor=EDITOR,
    )
    assert note is None and reload(ctx, uid).title == "Gas main burst!"
    with ctx.db.session() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.target == uid)).all()
    assert "approval.minor" in actions


def test_a_change_of_times_cannot_be_marked_minor(ctx, staff, clock):
    uid, _ = create(ctx)
    act(ctx, uid, approval.approve, actor=APPROVER, comment="")
    with pytest.raises(InvalidField) as error:
        act(
            ctx,
            uid,
            approval.update,
            fields=change(ctx, uid, ends_at=clock.now() + timedelta(days=9)),
            note="x",
            minor=True,
            actor=EDITOR,
        )
    assert error.value.field == "minor"


def test_lowering_the_severity_of_a_critical_notice_still_needs_approval(ctx, staff):
    uid, _ = create(ctx)
    act(ctx, uid, approval.approve, actor=APPROVER, comment="")
    note = act(
        ctx, uid, approval.update, fields=change(ctx, uid, severity="info"), note="less", minor=False, actor=EDITOR
    )
    assert note is not None and reload(ctx, uid).severity == "critical"


def test_an_admin_publishes_in_an_emergency_with_a_reason_and_it_is_audited(ctx, staff):
    uid, _ = create(ctx, actor=ADMIN)
    with pytest.raises(Forbidden):
        act(ctx, uid, approval.publish_in_emergency, actor=MANAGER, reason="urgent")
    with pytest.raises(InvalidField):
        act(ctx, uid, approval.publish_in_emergency, actor=ADMIN, reason="")
    act(ctx, uid, approval.publish_in_emergency, actor=ADMIN, reason="gas leak")
    assert stage(ctx, uid) is Stage.PUBLISHED
    with ctx.db.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "approval.emergency")).one()
    assert (entry.actor, entry.target, entry.detail) == ("api:admin@example.org", uid, "gas leak")


def test_the_shell_operator_is_not_held(ctx, staff):
    uid, note = create(ctx, actor=Actor("cli:root"))
    assert note is None and stage(ctx, uid) is Stage.PUBLISHED


def config_with(tmp_path, line: str):
    """The shipped configuration with another approval_for line."""
    shipped = default_config_path().read_text(encoding="utf-8")
    assert 'approval_for = ["critical", "major"]' in shipped
    config = tmp_path / "notices.toml"
    config.write_text(shipped.replace('approval_for = ["critical", "major"]', line), encoding="utf-8")
    return config


def test_approval_for_names_the_key_when_a_severity_is_unknown(tmp_path):
    config = config_with(tmp_path, 'approval_for = ["critical", "urgent"]')
    with pytest.raises(ConfigError, match=r"editorial\.approval_for: unknown severity 'urgent'"):
        load_settings({"NOTICES_CONFIG": str(config)})


def test_approval_for_defaults_to_critical_and_major_and_may_be_empty(tmp_path):
    assert load_settings({}).approval_for == ("critical", "major")
    config = config_with(tmp_path, "approval_for = []")
    assert load_settings({"NOTICES_CONFIG": str(config)}).approval_for == ()
