"""Alerts, reminders and digests carry the notice text in the subscriber's language, and the
default language's text, marked, where the notice has none in it. Read from the wire bytes
under policy.strict."""

import email
from email import policy

import lxml.html

from tests.factories import add_subscriber
from tests.mail_samples import alert_mail, digest_mail, part

BOTH = {
    "title": {"en": "Plesmanlaan closed", "nl": "Plesmanlaan afgesloten"},
    "body": {"en": "Cyclists use the **Einsteinweg**.", "nl": "Fietsers nemen de **Einsteinweg**."},
}


def _read(arrived):
    message = email.message_from_bytes(arrived.raw, policy=policy.strict)
    html_text = lxml.html.fromstring(part(message, "html")).text_content()
    return message["Subject"], part(message, "plain"), html_text


def test_a_dutch_subscribers_alerts_and_reminder_carry_the_dutch_text(sink_ctx, clock, sink):
    kinds = alert_mail(sink_ctx, clock, sink, language="nl", **BOTH)
    for kind in ("alert:published", "reminder", "alert:started", "alert:rescheduled"):
        (arrived,) = kinds[kind]
        subject, text, html = _read(arrived)
        assert "Plesmanlaan afgesloten" in subject, kind
        for shown in (text, html):
            assert "Plesmanlaan afgesloten" in shown, kind
            assert "Fietsers nemen de" in shown, kind
            assert "Plesmanlaan closed" not in shown and "(in English)" not in shown, kind


def test_an_english_subscriber_gets_the_english_text_of_the_same_notice(sink_ctx, clock, sink):
    (arrived,) = alert_mail(sink_ctx, clock, sink, language="en", **BOTH)["alert:published"]
    subject, text, html = _read(arrived)
    assert "Plesmanlaan closed" in subject
    assert "Cyclists use the" in text and "Cyclists use the" in html
    assert "afgesloten" not in text + html


def test_without_dutch_text_a_dutch_alert_shows_the_english_marked(sink_ctx, clock, sink):
    (arrived,) = alert_mail(sink_ctx, clock, sink, language="nl", title="Power outage", body="Servers off.")[
        "alert:published"
    ]
    subject, text, html = _read(arrived)
    assert "Power outage (in English)" in subject
    for shown in (text, html):
        assert "Power outage (in English)" in shown
        assert "(in English)\n" in shown or "(in English)Servers off." in shown.replace("\n", "")


def test_a_dutch_subscribers_digest_carries_the_dutch_text(sink_ctx, clock, sink):
    (arrived,) = digest_mail(sink_ctx, clock, sink, language="nl", **BOTH)
    subject, text, html = _read(arrived)
    assert "Plesmanlaan afgesloten" in text and "Plesmanlaan afgesloten" in html
    assert "Plesmanlaan closed" not in text + html
    assert "Plesmanlaan afgesloten (in English)" not in text + html
    # One of the digest's notices has its expected end in English only: that field falls back, marked.
    assert "approximately Q3 2027 (in English)" in text


def test_a_dutch_digest_marks_the_english_text_of_a_notice_without_dutch(sink_ctx, clock, sink):
    (arrived,) = digest_mail(sink_ctx, clock, sink, language="nl", title="Power outage")
    _, text, html = _read(arrived)
    assert "Power outage (in English)" in text and "Power outage (in English)" in html


def test_english_and_dutch_digests_of_one_run_each_get_their_own_text(sink_ctx, clock, sink):
    # The run renders one shared copy per language and content: the copies must not mix.
    add_subscriber(sink_ctx, "en@example.org", frequency="daily", language="en")
    arrived = digest_mail(sink_ctx, clock, sink, language="nl", recipients=("nl@example.org",), **BOTH)
    texts = {item.recipient: _read(item)[1] for item in arrived}
    assert "Plesmanlaan afgesloten" in texts["nl@example.org"] and "Plesmanlaan closed" not in texts["nl@example.org"]
    assert "Plesmanlaan closed" in texts["en@example.org"] and "afgesloten" not in texts["en@example.org"]


def test_hostile_dutch_text_is_as_safe_in_mail_as_english(sink_ctx, clock, sink):
    hostile = {
        "title": {"en": "Closed", "nl": "Dicht \u202e{{ settings }} <b>x</b>\ufeff"},
        "body": {"en": "ok", "nl": "<script>alert(1)</script>{% raw %}" + "w" * 3000},
    }
    (arrived,) = alert_mail(sink_ctx, clock, sink, language="nl", **hostile)["alert:published"]
    message = email.message_from_bytes(arrived.raw, policy=policy.strict)
    assert message.defects == []
    html = part(message, "html")
    assert "<script>" not in html and "<b>x</b>" not in html
    assert "\u202e" not in message["Subject"] and "\u202e" not in html
    assert "{{ settings }}" in message["Subject"]  # shown as typed, never evaluated
