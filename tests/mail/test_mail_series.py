"""A recurring notice in an email: the card (HTML) and the text part carry the rule in words, in
the reader's language, under the notice's times; a single notice's email has no such line."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from notices.mail.compose import preview_alert
from notices.notice.languages import in_language
from notices.notice.templating import make_environment
from tests.factories import add_notice

ZONE = ZoneInfo("Europe/Amsterdam")


def test_an_alert_for_a_series_says_how_it_repeats_in_both_parts_and_languages(ctx, clock):
    notice = add_notice(
        ctx,
        starts_at=datetime(2026, 11, 30, 22, tzinfo=ZONE).astimezone(UTC),
        ends_at=None,
        recurrence="FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;COUNT=5",
        occurrence_minutes=480,
    )
    environment = make_environment(ctx.settings)
    english = preview_alert(environment, ctx.settings, notice, now=clock.now(), language="en")
    line = "Repeats: every 2 weeks on Monday and Thursday, 22:00–06:00, 5 times"
    assert line in english.html and line in english.text
    dutch = preview_alert(
        environment, ctx.settings, in_language(notice, "nl", ctx.settings), now=clock.now(), language="nl"
    )
    line = "Herhaling: om de 2 weken op maandag en donderdag, 22:00–06:00, 5 keer"
    assert line in dutch.html and line in dutch.text


def test_a_single_notice_has_no_repeats_line(ctx, clock):
    mail = preview_alert(make_environment(ctx.settings), ctx.settings, add_notice(ctx), now=clock.now())
    assert "Repeats" not in mail.html and "Repeats" not in mail.text
