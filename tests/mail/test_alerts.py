"""Immediate alerts and reminders: the right subscribers, once, never stale."""

from datetime import timedelta

from notices.notice import store
from notices.notice.validation import parse_changes
from notices.runtime import jobs
from notices.runtime.scheduler import NoticeScheduler
from tests.factories import add_notice, add_subscriber, reload


def run_jobs(ctx, now):
    jobs.record_transitions(ctx, now=now)
    counts = jobs.enqueue_alerts(ctx, now=now)
    jobs.send_pending(ctx, now=now)
    return counts


def recipients(smtp):
    return sorted(m["To"].addresses[0].addr_spec for m in smtp.handler.messages)


def test_alerts_respect_category_location_and_severity_filters(mail_ctx, smtp, clock):
    add_subscriber(mail_ctx, "all@example.org")
    add_subscriber(mail_ctx, "roads@example.org", categories=["road-closure"])
    add_subscriber(mail_ctx, "gorlaeus@example.org", locations=["gorlaeus"])
    add_subscriber(mail_ctx, "critical@example.org", severity="critical")
    add_subscriber(mail_ctx, "daily@example.org", frequency="daily")
    add_notice(mail_ctx, category="road-closure", severity="major", locations=["plesmanlaan"])
    run_jobs(mail_ctx, clock.now())
    assert recipients(smtp) == ["all@example.org", "roads@example.org"]
    smtp.handler.messages.clear()
    add_notice(mail_ctx, category="utilities", severity="critical", locations=["gorlaeus"])
    run_jobs(mail_ctx, clock.now())
    assert recipients(smtp) == ["all@example.org", "critical@example.org", "gorlaeus@example.org"]


def test_start_reschedule_and_cancel_alert_but_text_edits_do_not(mail_ctx, smtp, clock):
    add_subscriber(mail_ctx, "all@example.org")
    notice = add_notice(
        mail_ctx, starts_at=clock.now() + timedelta(minutes=10), ends_at=clock.now() + timedelta(days=2)
    )
    run_jobs(mail_ctx, clock.now())

    def change(**raw):
        with mail_ctx.db.writing() as session, session.begin():
            current = store.get_notice(session, notice.uid)
            fields = parse_changes(raw, current=store.fields_of(current), settings=mail_ctx.settings, now=clock.now())
            store.update_notice(session, current, fields, note="change", now=clock.now(), author="t")

    change(summary="A typo fixed")
    run_jobs(mail_ctx, clock.now())
    clock.advance(timedelta(minutes=10))
    run_jobs(mail_ctx, clock.now())
    change(ends_at=clock.now() + timedelta(days=5))
    run_jobs(mail_ctx, clock.now())
    with mail_ctx.db.writing() as session, session.begin():
        store.cancel_notice(
            session, store.get_notice(session, notice.uid), reason="done early", now=clock.now(), author="t"
        )
    run_jobs(mail_ctx, clock.now())
    subjects = [m["Subject"].split(":")[0] for m in smtp.handler.messages]
    assert subjects == ["New", "Now in effect", "Rescheduled", "Cancelled"]


def test_no_stale_alerts_after_downtime(mail_ctx, smtp, clock):
    add_subscriber(mail_ctx, "all@example.org")
    add_notice(mail_ctx, starts_at=clock.now() + timedelta(hours=1), ends_at=clock.now() + timedelta(hours=2))
    # The scheduler was down for two days: the notice came and went.
    counts = run_jobs(mail_ctx, clock.now() + timedelta(days=2))
    assert counts["enqueued"] == 0 and counts["stale"] == 2
    assert smtp.handler.messages == []


def test_a_reminder_one_day_before_the_start(mail_ctx, smtp, clock):
    add_subscriber(mail_ctx, "all@example.org")
    notice = add_notice(mail_ctx, starts_at=clock.now() + timedelta(days=3))
    run_jobs(mail_ctx, clock.now())
    smtp.handler.messages.clear()
    assert jobs.next_boundary(mail_ctx, now=clock.now()) == notice.starts_at - timedelta(days=1)
    assert run_jobs(mail_ctx, notice.starts_at - timedelta(days=1, microseconds=1))["reminders"] == 0
    assert run_jobs(mail_ctx, notice.starts_at - timedelta(days=1))["reminders"] == 1
    assert run_jobs(mail_ctx, notice.starts_at - timedelta(hours=20))["reminders"] == 0
    (message,) = smtp.handler.messages
    assert message["Subject"].startswith("Reminder: Road closure: Plesmanlaan closed (from ")
    kinds = [event.kind for event in reload(mail_ctx, notice.uid).events]
    assert "reminder" in kinds


def test_no_reminder_for_a_notice_announced_less_than_a_day_ahead(mail_ctx, smtp, clock):
    add_subscriber(mail_ctx, "all@example.org")
    add_notice(mail_ctx, starts_at=clock.now() + timedelta(hours=5))
    assert run_jobs(mail_ctx, clock.now())["reminders"] == 0
    assert [m["Subject"].split(":")[0] for m in smtp.handler.messages] == ["New"]


def test_the_scheduler_wakes_for_reminders(mail_ctx, clock):
    notice = add_notice(mail_ctx, starts_at=clock.now() + timedelta(days=3))
    scheduler = NoticeScheduler(mail_ctx)
    try:
        scheduler.start(paused=True)
        assert scheduler.planned_wakeup == notice.starts_at - timedelta(days=1)
    finally:
        scheduler.shutdown()


def test_user_text_cannot_add_mail_headers(mail_ctx, smtp, clock):
    add_subscriber(mail_ctx, "all@example.org")
    add_notice(mail_ctx, title="Closure\r\nBcc: victim@example.org\r\nX-Evil: 1", summary="x\r\nBcc: y@example.org")
    run_jobs(mail_ctx, clock.now())
    (message,) = smtp.handler.messages
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert "\n" not in message["Subject"] and "\r" not in message["Subject"]
    assert recipients(smtp) == ["all@example.org"]


def change_notice(ctx, uid, now, **raw):
    with ctx.db.writing() as session, session.begin():
        current = store.get_notice(session, uid)
        fields = parse_changes(raw, current=store.fields_of(current), settings=ctx.settings, now=now)
        store.update_notice(session, current, fields, note="change", now=now, author="t")


def test_a_text_edit_does_not_send_the_reminder_again(mail_ctx, smtp, clock):
    add_subscriber(mail_ctx, "all@example.org")
    notice = add_notice(mail_ctx, starts_at=clock.now() + timedelta(days=3))
    run_jobs(mail_ctx, clock.now())
    reminder_time = notice.starts_at - timedelta(days=1)
    assert run_jobs(mail_ctx, reminder_time)["reminders"] == 1
    change_notice(mail_ctx, notice.uid, reminder_time + timedelta(hours=1), summary="Typo fixed")
    assert run_jobs(mail_ctx, reminder_time + timedelta(hours=2))["reminders"] == 0
    subjects = [m["Subject"].split(":")[0] for m in smtp.handler.messages]
    assert subjects == ["New", "Reminder"]


def test_a_moved_start_makes_a_new_reminder_due(mail_ctx, smtp, clock):
    add_subscriber(mail_ctx, "all@example.org")
    notice = add_notice(mail_ctx, starts_at=clock.now() + timedelta(days=3))
    run_jobs(mail_ctx, clock.now())
    reminder_time = notice.starts_at - timedelta(days=1)
    assert run_jobs(mail_ctx, reminder_time)["reminders"] == 1
    new_start = notice.starts_at + timedelta(days=2)
    change_notice(mail_ctx, notice.uid, reminder_time, starts_at=new_start, ends_at=new_start + timedelta(days=1))
    assert run_jobs(mail_ctx, reminder_time)["reminders"] == 0
    assert run_jobs(mail_ctx, new_start - timedelta(days=1, hours=1))["reminders"] == 0
    assert run_jobs(mail_ctx, new_start - timedelta(days=1))["reminders"] == 1
    subjects = [m["Subject"].split(":")[0] for m in smtp.handler.messages]
    assert subjects == ["New", "Reminder", "Rescheduled", "Reminder"]


def test_cancelling_a_notice_never_announced_tells_nobody(mail_ctx, smtp, clock, client):
    add_subscriber(mail_ctx, "all@example.org")
    scheduled = add_notice(
        mail_ctx, publish_at=clock.now() + timedelta(days=1), starts_at=clock.now() + timedelta(days=3)
    )
    run_jobs(mail_ctx, clock.now())
    with mail_ctx.db.writing() as session, session.begin():
        store.cancel_notice(
            session, store.get_notice(session, scheduled.uid), reason="called off", now=clock.now(), author="t"
        )
    clock.advance(timedelta(days=2))  # past the publication time it never reached
    run_jobs(mail_ctx, clock.now())
    assert smtp.handler.messages == []
    assert [event.kind for event in reload(mail_ctx, scheduled.uid).events] == []
    assert scheduled.uid not in client.get("/feeds/events.atom").text
    assert scheduled.uid not in client.get("/calendar/notices.ics").text
    assert client.get(f"/notices/{scheduled.uid}").status_code == 404


def test_a_notice_cancelled_before_it_was_announced_is_not_public_in_the_api(mail_ctx, clock, client):
    scheduled = add_notice(
        mail_ctx, publish_at=clock.now() + timedelta(days=1), starts_at=clock.now() + timedelta(days=3)
    )
    with mail_ctx.db.writing() as session, session.begin():
        store.cancel_notice(
            session, store.get_notice(session, scheduled.uid), reason="called off", now=clock.now(), author="t"
        )
    clock.advance(timedelta(days=2))
    assert client.get(f"/api/v1/notices/{scheduled.uid}").status_code == 404
    listed = client.get("/api/v1/notices", params={"status": "cancelled"}).json()
    assert scheduled.uid not in [item["uid"] for item in listed["notices"]]


def test_a_reminder_still_waiting_when_the_start_moves_is_dropped_for_the_new_one(mail_ctx, smtp, clock):
    add_subscriber(mail_ctx, "all@example.org")
    notice = add_notice(mail_ctx, starts_at=clock.now() + timedelta(days=3))
    run_jobs(mail_ctx, clock.now())
    reminder_time = notice.starts_at - timedelta(days=1)
    jobs.record_transitions(mail_ctx, now=reminder_time)
    assert jobs.enqueue_alerts(mail_ctx, now=reminder_time)["reminders"] == 1  # enqueued, not sent yet
    new_start = notice.starts_at + timedelta(hours=6)
    change_notice(mail_ctx, notice.uid, reminder_time, starts_at=new_start, ends_at=new_start + timedelta(days=1))
    counts = jobs.send_pending(mail_ctx, now=reminder_time)
    assert counts["expired"] == 1  # the reminder of the old start
    assert [m["Subject"].split(":")[0] for m in smtp.handler.messages] == ["New"]
