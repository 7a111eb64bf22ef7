"""The messages themselves: personal links, line lengths, encodings, languages."""

import email
import re
from datetime import timedelta
from email import policy

from notices.mail.message import MAIL_POLICY
from notices.mail.transports import as_seven_bit
from notices.people.link_tokens import LinkSigner
from notices.runtime import jobs
from tests.factories import add_notice, add_subscriber


def digest_for_two(mail_ctx, clock, **notice):
    first = add_subscriber(mail_ctx, "first@example.org", frequency="daily")
    second = add_subscriber(mail_ctx, "second@example.org", frequency="daily")
    add_notice(mail_ctx, now=clock.now() - timedelta(days=1), starts_at=clock.now() + timedelta(days=2), **notice)
    jobs.enqueue_digests(mail_ctx, now=clock.now(), frequency="daily")
    jobs.send_pending(mail_ctx, now=clock.now())
    return first, second


def test_recipients_of_the_same_digest_get_their_own_links_and_ids(mail_ctx, smtp, clock):
    ids = dict(zip(("first@example.org", "second@example.org"), digest_for_two(mail_ctx, clock), strict=True))
    signer = LinkSigner(mail_ctx.settings.secret_key)
    message_ids = set()
    for address, subscriber_id in ids.items():
        (message,) = smtp.handler.to(address)
        raw = message.as_string()
        assert "placeholder" not in raw.lower()
        token = re.search(r"/unsubscribe/([^>\s]+)>", message["List-Unsubscribe"]).group(1)
        assert signer.verify("unsubscribe", token) == (subscriber_id, 1)
        for part in ("plain", "html"):
            body = message.get_body((part,)).get_content()
            tokens = set(re.findall(r"/(?:unsubscribe|preferences)/([A-Za-z0-9_.-]+)", body))
            assert {signer.verify("unsubscribe" if t == token else "manage", t)[0] for t in tokens} == {subscriber_id}
        message_ids.add(message["Message-ID"])
    assert len(message_ids) == 2


def test_every_line_fits_smtp_even_for_a_body_without_spaces(mail_ctx, smtp, clock):
    digest_for_two(mail_ctx, clock, body="https://example.org/" + "x" * 5000, summary="word " * 300)
    assert len(smtp.handler.messages) == 2  # the real server refuses lines over 1000 octets
    body = smtp.handler.messages[0].get_body(("plain",)).get_content()
    assert "word word" in body


def test_a_server_without_8bitmime_gets_quoted_printable():
    original = email.message.EmailMessage(policy=MAIL_POLICY)
    original["To"] = "tenant@example.org"
    original.set_content("Straße – closed\n", cte="8bit")
    converted = as_seven_bit(original.as_bytes())
    assert converted.isascii()
    parsed = email.message_from_bytes(converted, policy=policy.default)
    assert parsed["Content-Transfer-Encoding"] == "quoted-printable"
    assert b"=0D" not in converted  # no stray carriage returns encoded into the text
    assert parsed.get_content().replace("\r\n", "\n") == "Straße – closed\n"


def test_dutch_subscribers_get_dutch_mail(mail_ctx, smtp, clock):
    add_subscriber(mail_ctx, "nl@example.org", language="nl")
    add_notice(
        mail_ctx,
        title={"en": "Plesmanlaan closed", "nl": "Plesmanlaan dicht"},
        expected_end={"en": "approximately Q3 2027", "nl": "ongeveer Q3 2027"},
        ends_at=None,
        starts_at=clock.now() - timedelta(minutes=1),
    )
    jobs.record_transitions(mail_ctx, now=clock.now())
    jobs.enqueue_alerts(mail_ctx, now=clock.now())
    jobs.send_pending(mail_ctx, now=clock.now())
    subjects = [m["Subject"] for m in smtp.handler.to("nl@example.org")]
    assert subjects == [
        "Nieuw: Wegafsluiting: Plesmanlaan dicht (tot nader order, verwacht ongeveer Q3 2027)",
        "Nu van kracht: Wegafsluiting: Plesmanlaan dicht (tot nader order, verwacht ongeveer Q3 2027)",
    ]
    text = smtp.handler.to("nl@example.org")[0].get_body(("plain",)).get_content()
    assert "za 28 nov 2026 09:59" in text and "Afmelden:" in text


def test_html_part_has_inlined_css_and_absolute_links(mail_ctx, smtp, clock):
    digest_for_two(mail_ctx, clock)
    html = smtp.handler.messages[0].get_body(("html",)).get_content()
    assert "<style" not in html
    assert 'style="' in html
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert hrefs and all(href.startswith(mail_ctx.settings.base_url) for href in hrefs)
