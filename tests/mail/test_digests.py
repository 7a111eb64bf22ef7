"""Digests: periods in the site zone across DST, sections per subscriber, one email per period."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from notices.cli import cli
from notices.mail.digests import digest_period, load_snapshot, sections_for
from notices.notice import store
from notices.notice.lifecycle import Filters
from notices.notice.validation import parse_changes
from notices.runtime import jobs
from tests.factories import add_notice, add_subscriber


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(
    ("now", "start", "end", "hours"),
    [
        # An ordinary day: 07:00 to 07:00 is 24 hours.
        ("2026-11-28T09:00+01:00", "2026-11-27T07:00+01:00", "2026-11-28T07:00+01:00", 24),
        # Before today's 07:00 the latest complete period ended yesterday.
        ("2026-11-28T06:59+01:00", "2026-11-26T07:00+01:00", "2026-11-27T07:00+01:00", 24),
        # Spring forward on Sunday 29 March 2026: the period is 23 hours.
        ("2026-03-29T08:00+02:00", "2026-03-28T07:00+01:00", "2026-03-29T07:00+02:00", 23),
        # Fall back on Sunday 25 October 2026: the period is 25 hours.
        ("2026-10-25T08:00+01:00", "2026-10-24T07:00+02:00", "2026-10-25T07:00+01:00", 25),
    ],
)
def test_daily_periods_follow_the_site_clock(settings, now, start, end, hours):
    period = digest_period(settings, "daily", utc(now))
    assert (period.start, period.end) == (utc(start), utc(end))
    assert period.end - period.start == timedelta(hours=hours)
    assert period.key == f"digest:daily:{end[:10]}"


def test_weekly_period_runs_monday_to_monday(settings):
    period = digest_period(settings, "weekly", utc("2026-11-28T09:00+01:00"))
    assert (period.start, period.end) == (utc("2026-11-16T07:00+01:00"), utc("2026-11-23T07:00+01:00"))


def test_events_at_the_period_edges_across_the_autumn_change(ctx, clock):
    """An event at exactly the start is in; one at exactly the end belongs to the next digest."""
    start, end = utc("2026-10-24T07:00+02:00"), utc("2026-10-25T07:00+01:00")
    at_start = add_notice(ctx, title="At start", now=start, starts_at=start + timedelta(days=3))
    in_fold = add_notice(
        ctx, title="In the fold", now=utc("2026-10-25T02:30+01:00"), starts_at=start + timedelta(days=3)
    )
    at_end = add_notice(ctx, title="At end", now=end, starts_at=start + timedelta(days=3))
    jobs.record_transitions(ctx, now=end)
    with ctx.db.session() as session:
        snapshot = load_snapshot(session, digest_period(ctx.settings, "daily", end + timedelta(hours=1)))
        sections = sections_for(snapshot, Filters())
    assert {n.title for n in sections.new} == {at_start.title, in_fold.title}
    assert at_end.title not in [n.title for n in sections.starting + sections.new]


def test_sections_new_changed_starting_ending_active(ctx, clock):
    day_start = utc("2026-11-27T07:00+01:00")
    long_running = add_notice(
        ctx,
        title="Long running",
        now=day_start - timedelta(days=30),
        starts_at=day_start - timedelta(days=20),
        ends_at=None,
    )
    ending = add_notice(
        ctx,
        title="Ending soon",
        now=day_start - timedelta(days=30),
        starts_at=day_start - timedelta(days=20),
        ends_at=day_start + timedelta(days=3),
    )
    starting = add_notice(
        ctx, title="Starting soon", now=day_start - timedelta(days=30), starts_at=day_start + timedelta(days=4)
    )
    changed = add_notice(
        ctx, title="Changed", now=day_start - timedelta(days=30), starts_at=day_start + timedelta(days=20)
    )
    new = add_notice(ctx, title="New", now=day_start + timedelta(hours=2), starts_at=day_start + timedelta(days=30))
    jobs.record_transitions(ctx, now=day_start + timedelta(hours=3))
    with ctx.db.writing() as session, session.begin():
        notice = store.get_notice(session, changed.uid)
        fields = parse_changes(
            {"starts_at": day_start + timedelta(days=25), "ends_at": day_start + timedelta(days=26)},
            current=store.fields_of(notice),
            settings=ctx.settings,
            now=day_start + timedelta(hours=4),
        )
        store.update_notice(session, notice, fields, note="postponed", now=day_start + timedelta(hours=4), author="t")
    with ctx.db.session() as session:
        snapshot = load_snapshot(session, digest_period(ctx.settings, "daily", utc("2026-11-28T09:00+01:00")))
        sections = sections_for(snapshot, Filters())
    assert [n.title for n in sections.new] == [new.title]
    assert [(n.title, [e.detail for e in events]) for n, events in sections.changed] == [(changed.title, ["postponed"])]
    assert [n.title for n in sections.starting] == [starting.title]
    assert [n.title for n in sections.ending] == [ending.title]
    assert [n.title for n in sections.active] == [long_running.title]


def test_two_digest_runs_for_one_period_send_one_email_each(mail_ctx, smtp, clock):
    add_subscriber(mail_ctx, "a@example.org", frequency="daily")
    add_subscriber(mail_ctx, "b@example.org", frequency="daily", language="nl")
    add_notice(mail_ctx, starts_at=clock.now() + timedelta(days=2), now=clock.now() - timedelta(days=1))
    runner = CliRunner()
    first = runner.invoke(cli, ["digest", "run", "--frequency", "daily", "--json"], obj=mail_ctx)
    second = runner.invoke(cli, ["digest", "run", "--frequency", "daily", "--json"], obj=mail_ctx)
    assert json.loads(first.output)["sent"] == 2
    assert json.loads(second.output) | {"period": None} == {
        "period": None,
        "enqueued": 0,
        "already_enqueued": 2,
        "nothing_new": 0,
        "sent": 0,
        "retry": 0,
        "failed": 0,
        "expired": 0,
        "lost": 0,
    }
    assert len(smtp.handler.messages) == 2
    subjects = {m["To"].addresses[0].addr_spec: m["Subject"] for m in smtp.handler.messages}
    assert subjects["a@example.org"] == "Daily notices 28 Nov: 1 new"
    assert subjects["b@example.org"] == "Dagelijks overzicht 28 nov: 1 nieuwe melding"
    body = smtp.handler.to("a@example.org")[0].get_body(("plain",)).get_content()
    assert "NEW" in body and "Plesmanlaan closed" in body


def test_no_email_when_nothing_is_new_for_that_subscriber(mail_ctx, smtp, clock):
    add_subscriber(mail_ctx, "roads@example.org", frequency="daily", categories=["road-closure"])
    add_subscriber(mail_ctx, "events@example.org", frequency="daily", categories=["event"])
    add_notice(
        mail_ctx,
        category="road-closure",
        starts_at=clock.now() + timedelta(days=2),
        now=clock.now() - timedelta(days=1),
    )
    counts = jobs.enqueue_digests(mail_ctx, now=clock.now(), frequency="daily")
    assert (counts["enqueued"], counts["empty"]) == (1, 1)
    jobs.send_pending(mail_ctx, now=clock.now())
    assert [m["To"].addresses[0].addr_spec for m in smtp.handler.messages] == ["roads@example.org"]


def test_dry_run_prints_who_would_get_what_and_sends_nothing(mail_ctx, smtp, clock):
    add_subscriber(mail_ctx, "a@example.org", frequency="daily")
    add_notice(mail_ctx, starts_at=clock.now() + timedelta(days=2), now=clock.now() - timedelta(days=1))
    result = CliRunner().invoke(cli, ["digest", "run", "--frequency", "daily", "--dry-run"], obj=mail_ctx)
    assert result.exit_code == 0, result.output
    assert "a@example.org: 1 new, 0 changed, 0 starting, 0 ending, 0 still active" in result.output
    assert jobs.send_pending(mail_ctx, now=clock.now())["sent"] == 0
    assert smtp.handler.messages == []


def test_the_dry_run_predicts_the_real_run_when_no_scheduler_recorded_the_events(mail_ctx, smtp, clock):
    """Nothing has recorded yesterday's publication yet: the real run catches up first, so must the dry run."""
    add_subscriber(mail_ctx, "a@example.org", frequency="daily")
    add_subscriber(mail_ctx, "events-only@example.org", frequency="daily", categories=["event"])
    add_notice(mail_ctx, starts_at=clock.now() + timedelta(days=20), now=clock.now() - timedelta(days=1))
    runner = CliRunner()
    dry = runner.invoke(cli, ["digest", "run", "--frequency", "daily", "--dry-run", "--json"], obj=mail_ctx)
    predicted = json.loads(dry.output)
    assert [item["email"] for item in predicted["would_send"]] == ["a@example.org"]
    assert predicted["would_send"][0]["new"] == 1
    real = json.loads(runner.invoke(cli, ["digest", "run", "--frequency", "daily", "--json"], obj=mail_ctx).output)
    assert (real["enqueued"], real["sent"], real["nothing_new"]) == (1, 1, predicted["nothing_new"])
    assert [m["To"].addresses[0].addr_spec for m in smtp.handler.messages] == ["a@example.org"]
    assert "1 new" in smtp.handler.messages[0]["Subject"]


def test_enqueuing_again_after_new_sign_ups_adds_only_theirs(mail_ctx, smtp, clock, monkeypatch):
    """Digests are enqueued in chunks (one INSERT each); a chunk mixing old and new subscribers counts each right."""
    from notices.mail import digests

    monkeypatch.setattr(digests, "ENQUEUE_CHUNK", 2)
    add_notice(mail_ctx, starts_at=clock.now() + timedelta(days=2), now=clock.now() - timedelta(days=1))
    for name in ("a", "b", "c"):
        add_subscriber(mail_ctx, f"{name}@example.org", frequency="daily")
    first = jobs.enqueue_digests(mail_ctx, now=clock.now(), frequency="daily")
    assert (first["enqueued"], first["already"]) == (3, 0)
    for name in ("d", "e"):
        add_subscriber(mail_ctx, f"{name}@example.org", frequency="daily")
    second = jobs.enqueue_digests(mail_ctx, now=clock.now(), frequency="daily")
    assert (second["enqueued"], second["already"]) == (2, 3)
    assert jobs.send_pending(mail_ctx, now=clock.now())["sent"] == 5
    assert sorted(m["To"].addresses[0].addr_spec for m in smtp.handler.messages) == [
        f"{name}@example.org" for name in "abcde"
    ]
