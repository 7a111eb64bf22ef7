"""Emails link to the notice page's map (they never embed a picture from elsewhere)."""

import lxml.html

from notices.runtime import jobs
from tests.factories import add_notice, add_subscriber
from tests.map_samples import CLOSURE_WITH_DIVERSION, store_geometry


def alerts_for(mail_ctx, clock, smtp):
    jobs.record_transitions(mail_ctx, now=clock.now())
    jobs.enqueue_alerts(mail_ctx, now=clock.now())
    jobs.send_pending(mail_ctx, now=clock.now())
    return {message["To"].addresses[0].addr_spec: message for message in smtp.handler.messages}


def parts(message) -> tuple[str, str]:
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def test_an_alert_about_a_notice_with_a_place_links_to_its_map_in_both_parts(mail_ctx, smtp, clock):
    add_subscriber(mail_ctx, "en@example.org")
    add_subscriber(mail_ctx, "nl@example.org", language="nl")
    notice = add_notice(mail_ctx, starts_at=clock.now())
    store_geometry(mail_ctx, notice.uid, CLOSURE_WITH_DIVERSION)
    messages = alerts_for(mail_ctx, clock, smtp)
    link = mail_ctx.settings.absolute_url(f"/notices/{notice.uid}#map")
    for address, words in (("en@example.org", "See it on the map"), ("nl@example.org", "Bekijk het op de kaart")):
        text, html = parts(messages[address])
        assert f"{words}: {link}" in text
        page = lxml.html.fromstring(html)
        assert [anchor.text_content() for anchor in page.xpath("//a[@href=$link]", link=link)] == [words]
        assert not page.xpath("//img")


def test_an_alert_about_a_notice_without_a_place_has_no_map_link(mail_ctx, smtp, clock):
    add_subscriber(mail_ctx, "en@example.org")
    add_notice(mail_ctx, locations=[], starts_at=clock.now())  # no shapes of its own, no located places
    text, html = parts(alerts_for(mail_ctx, clock, smtp)["en@example.org"])
    assert "#map" not in text and "#map" not in html
