"""The email templates' environment is kept from one send run to the next, for the same Settings object only."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from notices.notice.templating import mail_environment
from notices.runtime import jobs
from tests.factories import add_notice, add_subscriber


def test_the_same_settings_get_the_same_environment_and_other_settings_their_own(settings):
    assert mail_environment(settings) is mail_environment(settings)
    renamed = dataclasses.replace(settings, site_name="Another Park")
    assert mail_environment(renamed) is not mail_environment(settings)
    assert mail_environment(renamed).globals["settings"].site_name == "Another Park"
    # Equal contents, another object (a test's own settings): its own environment all the same.
    assert mail_environment(dataclasses.replace(settings)) is not mail_environment(settings)


def test_a_second_run_with_changed_settings_mails_what_they_say(mail_ctx, smtp, clock):
    add_subscriber(mail_ctx, "reader@example.org", frequency="daily")
    add_notice(mail_ctx, now=clock.now() - timedelta(days=1), starts_at=clock.now() + timedelta(days=2))
    jobs.enqueue_digests(mail_ctx, now=clock.now(), frequency="daily")
    jobs.send_pending(mail_ctx, now=clock.now())
    mail_ctx.settings = dataclasses.replace(mail_ctx.settings, site_name="Another Park")
    add_subscriber(mail_ctx, "second@example.org", frequency="daily")
    jobs.enqueue_digests(mail_ctx, now=clock.now(), frequency="daily")
    jobs.send_pending(mail_ctx, now=clock.now())
    (first,) = smtp.handler.to("reader@example.org")
    (second,) = smtp.handler.to("second@example.org")
    assert "Another Park" not in first.as_string()
    assert "Another Park" in second.get_body(("plain",)).get_content()
