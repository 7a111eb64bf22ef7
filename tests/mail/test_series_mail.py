"""Mail for a series (through a real SMTP server): one alert when it is published, none per
occurrence; a reminder before each occurrence (on both sides of a change of clocks); a
cancelled or moved occurrence alerted once, naming it; digests list the dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from notices.notice import approval, series, store
from notices.people.roles import Actor
from notices.runtime import jobs
from tests.factories import add_notice, add_subscriber

ZONE = ZoneInfo("Europe/Amsterdam")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


# Tuesdays 07:00–09:00 local: two before the clocks go back on 25 October, two after.
STARTS = [local(2026, 10, day, 7) for day in (13, 20, 27)] + [local(2026, 11, 3, 7)]
IDS = [start.strftime("%Y%m%dT%H%M%SZ") for start in STARTS]
PUBLISHED = local(2026, 10, 5, 10)


def weekly(ctx, **extra):
    return add_notice(
        ctx,
        now=PUBLISHED,
        title="Market closure",
        starts_at=STARTS[0],
        ends_at=None,
        recurrence="FREQ=WEEKLY;BYDAY=TU;COUNT=4",
        occurrence_minutes=120,
        **extra,
    )


def run_jobs(ctx, now):
    jobs.record_transitions(ctx, now=now)
    counts = jobs.enqueue_alerts(ctx, now=now)
    jobs.send_pending(ctx, now=now)
    return counts


def subjects(smtp) -> list[str]:
    return [message["Subject"].split(":")[0] for message in smtp.handler.messages]


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def change(ctx, uid, now, operation, note):
    with ctx.db.writing() as session, session.begin():
        notice = store.get_notice(session, uid, for_update=True)
        fields = operation(store.fields_of(notice))
        approval.update(
            session, notice, fields, note=note, minor=False, actor=Actor(label="t"), settings=ctx.settings, now=now
        )


def test_one_alert_for_the_series_and_a_reminder_before_each_occurrence(mail_ctx, smtp):
    add_subscriber(mail_ctx, "all@example.org")
    weekly(mail_ctx)
    run_jobs(mail_ctx, PUBLISHED)
    assert subjects(smtp) == ["New"]
    for start in STARTS:
        # The scheduler wakes a day before each occurrence (lead time 1 day): 07:00 local the day before.
        assert jobs.next_boundary(mail_ctx, now=start - timedelta(days=2)) == start - timedelta(days=1)
        assert run_jobs(mail_ctx, start - timedelta(days=1))["reminders"] == 1
        assert run_jobs(mail_ctx, start - timedelta(days=1))["reminders"] == 0  # twice: once
        run_jobs(mail_ctx, start)
        run_jobs(mail_ctx, start + timedelta(hours=2))
    # No "Now in effect" per occurrence: the reminders told each start.
    assert subjects(smtp) == ["New"] + ["Reminder"] * 4
    reminders = smtp.handler.messages[1:]
    # Each reminder names its own occurrence, 07:00–09:00 local on both sides of 25 October.
    assert "Tue 13 Oct 2026 07:00–09:00" in text_of(reminders[0])
    assert "Tue 27 Oct 2026 07:00–09:00" in text_of(reminders[2])


def test_a_cancelled_occurrence_is_alerted_once_and_not_reminded_of(mail_ctx, smtp):
    add_subscriber(mail_ctx, "all@example.org")
    notice = weekly(mail_ctx)
    run_jobs(mail_ctx, PUBLISHED)
    now = PUBLISHED + timedelta(days=1)
    change(
        mail_ctx,
        notice.uid,
        now,
        lambda fields: series.cancel_occurrence(fields, IDS[1], reason="Fair on the square", now=now),
        "Fair on the square",
    )
    run_jobs(mail_ctx, now)
    run_jobs(mail_ctx, now)
    assert subjects(smtp) == ["New", "Cancelled"]
    cancelled = smtp.handler.messages[1]
    assert "Only this occurrence is cancelled: Tue 20 Oct 2026 07:00–09:00" in text_of(cancelled)
    assert "Fair on the square" in text_of(cancelled)
    smtp.handler.messages.clear()
    for start in STARTS:
        run_jobs(mail_ctx, start - timedelta(days=1))
        run_jobs(mail_ctx, start + timedelta(hours=2))
    assert subjects(smtp) == ["Reminder"] * 3  # not before the cancelled one


def test_a_moved_occurrence_is_alerted_once_with_its_new_time(mail_ctx, smtp):
    add_subscriber(mail_ctx, "all@example.org")
    notice = weekly(mail_ctx)
    run_jobs(mail_ctx, PUBLISHED)
    now = PUBLISHED + timedelta(days=1)
    change(
        mail_ctx,
        notice.uid,
        now,
        lambda fields: series.move_occurrence(
            fields, IDS[2], starts_at=local(2026, 10, 28, 10), ends_at=local(2026, 10, 28, 11), now=now
        ),
        "moved a day",
    )
    run_jobs(mail_ctx, now)
    assert subjects(smtp) == ["New", "Rescheduled"]
    assert "Only this occurrence has moved, to Wed 28 Oct 2026 10:00–11:00" in text_of(smtp.handler.messages[1])
    smtp.handler.messages.clear()
    run_jobs(mail_ctx, local(2026, 10, 27, 10))
    assert subjects(smtp) == ["Reminder"]
    assert "Wed 28 Oct 2026 10:00" in text_of(smtp.handler.messages[0])


def test_cancelling_the_series_is_told_once(mail_ctx, smtp):
    add_subscriber(mail_ctx, "all@example.org")
    notice = weekly(mail_ctx)
    run_jobs(mail_ctx, PUBLISHED)
    run_jobs(mail_ctx, STARTS[0] - timedelta(days=1))
    run_jobs(mail_ctx, STARTS[0] + timedelta(hours=1))
    with mail_ctx.db.writing() as session, session.begin():
        store.cancel_notice(
            session,
            store.get_notice(session, notice.uid),
            reason="stopped",
            now=STARTS[0] + timedelta(hours=3),
            author="t",
        )
    run_jobs(mail_ctx, STARTS[0] + timedelta(hours=3))
    for start in STARTS[1:]:
        run_jobs(mail_ctx, start - timedelta(days=1))
        run_jobs(mail_ctx, start)
    assert subjects(smtp) == ["New", "Reminder", "Cancelled"]


def test_a_digest_lists_the_dates_of_the_period(mail_ctx, smtp):
    add_subscriber(mail_ctx, "daily@example.org", frequency="daily")
    notice = weekly(mail_ctx)
    now = PUBLISHED + timedelta(days=1)
    change(
        mail_ctx,
        notice.uid,
        now,
        lambda fields: series.cancel_occurrence(fields, IDS[1], reason="Fair on the square", now=now),
        "Fair on the square",
    )
    # The daily digest of Wednesday 14 October 07:00: the date of its day, and those of the coming week.
    digest_time = local(2026, 10, 14, 7, 30)
    counts = jobs.enqueue_digests(mail_ctx, now=digest_time, frequency="daily")
    assert counts["enqueued"] == 1
    jobs.send_pending(mail_ctx, now=digest_time)
    (digest,) = smtp.handler.messages
    text = text_of(digest)
    assert "DATES OF RECURRING NOTICES" in text
    assert "Tue 13 Oct 2026 07:00–09:00" in text
    assert "Tue 20 Oct 2026 07:00–09:00 (cancelled: Fair on the square)" in text
    assert "27 Oct" not in text  # beyond the week ahead


def html_of(message) -> str:
    return message.get_body(("html",)).get_content()


def test_an_occurrence_alert_names_its_date_once_in_both_parts_and_languages(mail_ctx, smtp):
    add_subscriber(mail_ctx, "en@example.org")
    add_subscriber(mail_ctx, "nl@example.org", language="nl")
    notice = weekly(mail_ctx)
    run_jobs(mail_ctx, PUBLISHED)
    now = PUBLISHED + timedelta(days=1)
    change(
        mail_ctx,
        notice.uid,
        now,
        lambda fields: series.cancel_occurrence(fields, IDS[1], reason="Fair on the square", now=now),
        "Fair on the square",
    )
    run_jobs(mail_ctx, now)
    (english,) = [m for m in smtp.handler.to("en@example.org") if m["Subject"].startswith("Cancelled")]
    (dutch,) = [m for m in smtp.handler.to("nl@example.org") if m["Subject"].startswith("Geannuleerd")]
    for message in (english, dutch):
        assert "2026 07:00–09:00" in text_of(message) and "2026 07:00–09:00" in html_of(message)
        assert "20 Oct 2026 09:00" not in text_of(message) and "20 okt 2026 09:00" not in text_of(message)
    assert "Only this occurrence is cancelled: Tue 20 Oct 2026 07:00–09:00" in text_of(english)
    assert "di 20 okt 2026 07:00–09:00" in text_of(dutch)


def test_a_digest_names_the_occurrence_that_starts_soon_not_the_whole_series(mail_ctx, smtp):
    add_subscriber(mail_ctx, "en@example.org", frequency="daily")
    add_subscriber(mail_ctx, "nl@example.org", frequency="daily", language="nl")
    weekly(mail_ctx)
    # The daily digest of Monday 12 October: the series was published a week before; its first
    # occurrence, Tuesday 07:00–09:00, starts within the week ahead.
    digest_time = local(2026, 10, 12, 7, 30)
    assert jobs.enqueue_digests(mail_ctx, now=digest_time, frequency="daily")["enqueued"] == 2
    jobs.send_pending(mail_ctx, now=digest_time)
    (english,) = smtp.handler.to("en@example.org")
    (dutch,) = smtp.handler.to("nl@example.org")
    for part in (text_of(english), html_of(english)):
        assert "Next occurrence: Tue 13 Oct 2026 07:00–09:00" in part
        assert "3 Nov 2026 09:00" not in part  # the series' last end is not when it starts
    for part in (text_of(dutch), html_of(dutch)):
        assert "Volgende keer: di 13 okt 2026 07:00–09:00" in part
