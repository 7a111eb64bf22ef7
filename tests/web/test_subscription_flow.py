"""Sign-up with double opt-in, the preference centre and unsubscribing, through the web pages."""

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import select

from notices.core.models import Delivery, Subscriber
from notices.runtime import jobs
from notices.web import create_app
from tests.factories import add_notice, add_subscriber


@pytest.fixture
def browser(app):
    with TestClient(app) as client:
        yield client


def csrf_field(response) -> str:
    return etree.HTML(response.text).xpath('//input[@name="csrf_token"]/@value')[0]


def sign_up(browser, email, **fields):
    form = browser.get("/subscribe")
    data = {"csrf_token": csrf_field(form), "email": email, "frequency": "immediate", "language": "en", **fields}
    return browser.post("/subscribe", data=data)


def link_in(message, path):
    text = message.get_body(("plain",)).get_content()
    return re.search(rf"http://127\.0\.0\.1:8000({path}/[^\s]+)", text).group(1)


def subscriber_state(ctx, email):
    with ctx.db.session() as session:
        return session.scalar(select(Subscriber.state).where(Subscriber.email == email))


def test_double_opt_in_end_to_end(mail_ctx, smtp, browser, clock):
    response = sign_up(browser, "New.Tenant@Example.org", categories="road-closure")
    assert response.status_code == 200
    assert "Check your inbox" in response.text
    # Published before confirmation: a pending address gets no alert.
    add_notice(mail_ctx, title="Closure before confirming")
    jobs.record_transitions(mail_ctx, now=clock.now())
    jobs.enqueue_alerts(mail_ctx, now=clock.now())
    jobs.send_pending(mail_ctx, now=clock.now())
    (confirmation,) = smtp.handler.to("new.tenant@example.org")
    assert confirmation["Subject"] == "Confirm your subscription to Bio Science Park notices"
    confirm_path = link_in(confirmation, "/subscribe/confirm")
    # A mail scanner following the link changes nothing.
    page = browser.get(confirm_path)
    assert page.status_code == 200
    assert subscriber_state(mail_ctx, "new.tenant@example.org") == "pending"
    done = browser.post(confirm_path, data={"csrf_token": csrf_field(page)})
    assert "You are subscribed" in done.text
    assert subscriber_state(mail_ctx, "new.tenant@example.org") == "confirmed"
    # Now alerts arrive, and only for the chosen category.
    add_notice(mail_ctx, title="After confirming", category="road-closure")
    add_notice(mail_ctx, title="Other topic", category="event", severity="info")
    jobs.record_transitions(mail_ctx, now=clock.now())
    jobs.enqueue_alerts(mail_ctx, now=clock.now())
    jobs.send_pending(mail_ctx, now=clock.now())
    subjects = [message["Subject"] for message in smtp.handler.to("new.tenant@example.org")]
    assert len(subjects) == 2 and "After confirming" in subjects[1]


def test_the_confirmation_link_expires(mail_ctx, smtp, browser, clock):
    sign_up(browser, "late@example.org")
    jobs.send_pending(mail_ctx, now=clock.now())
    confirm_path = link_in(smtp.handler.to("late@example.org")[0], "/subscribe/confirm")
    with pytest.MonkeyPatch.context() as patch:
        import time as time_module

        real = time_module.time
        patch.setattr(time_module, "time", lambda: real() + 73 * 3600)  # itsdangerous reads time.time()
        page = browser.get(confirm_path)
    assert page.status_code == 400
    assert "expired" in page.text


def test_the_same_answer_whether_or_not_the_address_is_known(mail_ctx, smtp, browser):
    add_subscriber(mail_ctx, "known@example.org")
    known = sign_up(browser, "known@example.org")
    unknown = sign_up(browser, "unknown@example.org")
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("known@example.org", "X") == unknown.text.replace("unknown@example.org", "X")
    # The confirmed address gets a link to its preferences, and its preferences are unchanged.
    jobs.send_pending(mail_ctx, now=mail_ctx.clock.now())
    (message,) = smtp.handler.to("known@example.org")
    assert "already subscribed" in message.get_body(("plain",)).get_content()
    assert subscriber_state(mail_ctx, "known@example.org") == "confirmed"


def test_invalid_sign_up_names_the_field_and_keeps_the_input(browser, mail_ctx):
    response = sign_up(browser, "not-an-address", categories="road-closure")
    assert response.status_code == 400
    page = etree.HTML(response.text)
    assert "Please check email:" in "".join(page.xpath('//*[@role="alert"]//text()'))
    assert page.xpath('//input[@name="categories"][@value="road-closure"]/@checked') != []
    with mail_ctx.db.session() as session:
        assert session.scalars(select(Subscriber)).all() == []


def test_sign_ups_are_rate_limited_per_address_across_processes(mail_ctx, browser, app):
    for _ in range(mail_ctx.settings.signup_limit_per_address):
        assert sign_up(browser, "spam@example.org").status_code == 200
    # Another web process (another app on the same database) sees the same count.
    with TestClient(create_app(mail_ctx.settings, ctx=mail_ctx)) as other:
        assert sign_up(other, "spam@example.org").status_code == 429
    assert sign_up(browser, "someone-else@example.org").status_code == 200


def test_a_post_without_the_csrf_token_or_from_another_site_is_refused(browser):
    browser.get("/subscribe")
    assert browser.post("/subscribe", data={"email": "a@example.org"}).status_code == 403
    form = browser.get("/subscribe")
    foreign = browser.post(
        "/subscribe",
        data={"csrf_token": csrf_field(form), "email": "a@example.org"},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403


def test_unconfirmed_sign_ups_are_purged_after_3_days(mail_ctx, browser, clock):
    sign_up(browser, "forgetful@example.org")
    clock.advance(timedelta(hours=71))
    assert jobs.purge(mail_ctx, now=clock.now())["unconfirmed"] == 0
    clock.advance(timedelta(hours=2))
    assert jobs.purge(mail_ctx, now=clock.now())["unconfirmed"] == 1
    assert subscriber_state(mail_ctx, "forgetful@example.org") is None


def _first_alert(mail_ctx, smtp, email):
    add_notice(mail_ctx)
    jobs.record_transitions(mail_ctx, now=mail_ctx.clock.now())
    jobs.enqueue_alerts(mail_ctx, now=mail_ctx.clock.now())
    jobs.send_pending(mail_ctx, now=mail_ctx.clock.now())
    return smtp.handler.to(email)[0]


def test_one_click_unsubscribe_works_without_cookies_and_twice(mail_ctx, smtp, app):
    add_subscriber(mail_ctx, "leaving@example.org")
    message = _first_alert(mail_ctx, smtp, "leaving@example.org")
    url = re.search(r"<(http[^>]+)>", message["List-Unsubscribe"]).group(1)
    path = url.removeprefix(mail_ctx.settings.base_url)
    with TestClient(app) as client:
        # A scanner's GET only shows a page.
        assert client.get(path).status_code == 200
        assert subscriber_state(mail_ctx, "leaving@example.org") == "confirmed"
        # What a mail client sends for one-click (RFC 8058): no cookies, this body.
        for _ in range(2):
            client.cookies.clear()
            response = client.post(
                path,
                content="List-Unsubscribe=One-Click",
                follow_redirects=False,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert "cookie" not in response.request.headers
            assert response.status_code == 200
            assert not response.is_redirect
    assert subscriber_state(mail_ctx, "leaving@example.org") == "unsubscribed"


def test_unsubscribed_addresses_get_nothing_more(mail_ctx, smtp, browser):
    add_subscriber(mail_ctx, "leaving@example.org")
    message = _first_alert(mail_ctx, smtp, "leaving@example.org")
    path = link_in(message, "/unsubscribe")
    browser.post(path)
    add_notice(mail_ctx, title="After leaving")
    jobs.record_transitions(mail_ctx, now=mail_ctx.clock.now())
    jobs.enqueue_alerts(mail_ctx, now=mail_ctx.clock.now())
    jobs.send_pending(mail_ctx, now=mail_ctx.clock.now())
    assert len(smtp.handler.to("leaving@example.org")) == 1


def test_a_tampered_link_is_refused(browser):
    assert browser.get("/unsubscribe/WzEsMV0.forged.signature").status_code == 400
    assert browser.post("/unsubscribe/WzEsMV0.forged.signature").status_code == 400


def test_the_preference_centre_changes_filters_frequency_and_language(mail_ctx, smtp, browser):
    add_subscriber(mail_ctx, "tenant@example.org")
    message = _first_alert(mail_ctx, smtp, "tenant@example.org")
    path = link_in(message, "/preferences")
    page = browser.get(path)
    assert page.status_code == 200
    saved = browser.post(
        path,
        data={
            "csrf_token": csrf_field(page),
            "frequency": "weekly",
            "language": "nl",
            "categories": ["utilities", "safety"],
            "severity": "major",
        },
    )
    assert "Your preferences are saved" in saved.text
    with mail_ctx.db.session() as session:
        subscriber = session.scalars(select(Subscriber)).one()
    assert (subscriber.frequency, subscriber.language, subscriber.categories, subscriber.min_severity) == (
        "weekly",
        "nl",
        ["utilities", "safety"],
        "major",
    )
    bad = browser.post(path, data={"csrf_token": csrf_field(page), "frequency": "hourly"})
    assert bad.status_code == 400 and "Please check frequency" in bad.text


def test_every_email_carries_the_links(mail_ctx, smtp):
    add_subscriber(mail_ctx, "tenant@example.org")
    message = _first_alert(mail_ctx, smtp, "tenant@example.org")
    html = message.get_body(("html",)).get_content()
    assert "/preferences/" in html and "/unsubscribe/" in html
    with mail_ctx.db.session() as session:
        assert session.scalars(select(Delivery.status)).all() == ["sent"]
