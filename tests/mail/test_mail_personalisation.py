"""Shared digests and alerts are personalised per recipient whatever the notice says."""

import dataclasses
import re
from datetime import timedelta

from sqlalchemy import select

from notices.core.models import Subscriber
from notices.people.link_tokens import LinkSigner
from notices.runtime import jobs
from tests.factories import add_notice, add_subscriber
from tests.mail_samples import alert_mail, digest_mail, visible_text

# What the service used to personalise shared messages with, the recipient's own
# address and template syntax: a notice may say any of it.
OLD_MARKERS = [
    "notices-placeholder-to@placeholder.invalid",
    "<notices-placeholder-message-id@placeholder.invalid>",
    "NOTICES-PLACEHOLDER-MANAGE-URL",
    "NOTICES-PLACEHOLDER-UNSUBSCRIBE-URL",
    "NOTICES-PLACEHOLDER-UNSUBSCRIBE-MAILTO",
]
RECIPIENTS = ("first@example.org", "second@example.org")
HOSTILE = {
    "title": (
        "Gate notices-placeholder-to@placeholder.invalid NOTICES-PLACEHOLDER-MANAGE-URL "
        "first@example.org {{ x }} {% if %}"
    ),
    "summary": " ".join([*OLD_MARKERS, *RECIPIENTS, "{{ links.manage_url }}", "{% raw %}", "{#", "#}"]),
    "body": "Mail "
    + " and ".join(f"`{marker}`" for marker in OLD_MARKERS)
    + " or second@example.org, {{ notice.title }} {%- endif %}.",
}
BODY_WORDS = [*OLD_MARKERS, "second@example.org", "{{ notice.title }}", "{%- endif %}"]


def subscriber_ids(ctx) -> dict[str, int]:
    with ctx.db.session() as session:
        return dict(session.execute(select(Subscriber.email, Subscriber.id)).all())


def assert_personal_and_intact(ctx, arrived_list, *, with_body: bool) -> None:
    signer, ids = LinkSigner(ctx.settings.secret_key), subscriber_ids(ctx)
    assert sorted(arrived.recipient for arrived in arrived_list) == sorted(RECIPIENTS)
    for arrived in arrived_list:
        message = arrived.message
        assert [address.addr_spec for address in message["To"].addresses] == [arrived.recipient]
        text = message.get_body(("plain",)).get_content()
        html = " ".join(visible_text(message.get_body(("html",)).get_content()).split())
        for part in (text, html):
            assert HOSTILE["title"] in part
            assert HOSTILE["summary"] in " ".join(part.split())
        if with_body:
            for word in BODY_WORDS:
                assert word in text and word in html
        # Every link in the message and its List-Unsubscribe header are this recipient's own.
        everything = " ".join(
            [
                message["List-Unsubscribe"],
                message.get_body(("plain",)).get_content(),
                message.get_body(("html",)).get_content(),
            ]
        )
        tokens = re.findall(r"/(unsubscribe|preferences)/([A-Za-z0-9_.-]+)", everything)
        assert {
            signer.verify("manage" if kind == "preferences" else "unsubscribe", token)[0] for kind, token in tokens
        } == {ids[arrived.recipient]}
        assert len(tokens) >= 5  # the header, and both links in both parts


def test_alerts_and_reminders_reach_each_recipient_intact_whatever_the_notice_says(sink_ctx, clock, sink):
    kinds = alert_mail(sink_ctx, clock, sink, recipients=RECIPIENTS, **HOSTILE)
    assert set(kinds) == {"alert:published", "reminder", "alert:started", "alert:rescheduled", "alert:cancelled"}
    for arrived_list in kinds.values():
        assert_personal_and_intact(sink_ctx, arrived_list, with_body=True)


def test_digests_reach_each_recipient_intact_whatever_the_notices_say(sink_ctx, clock, sink):
    arrived_list = digest_mail(sink_ctx, clock, sink, recipients=RECIPIENTS, **HOSTILE)
    assert_personal_and_intact(sink_ctx, arrived_list, with_body=False)


def test_a_digest_that_cannot_be_shared_is_rendered_for_each_recipient(sink_ctx, clock, sink):
    # A word no line can hold makes the parts quoted-printable, which is not filled in per recipient.
    word = "https://example.org/" + "x" * 1200
    arrived_list = digest_mail(sink_ctx, clock, sink, recipients=RECIPIENTS, **HOSTILE | {"summary": word})
    signer, ids = LinkSigner(sink_ctx.settings.secret_key), subscriber_ids(sink_ctx)
    assert sorted(arrived.recipient for arrived in arrived_list) == sorted(RECIPIENTS)
    for arrived in arrived_list:
        message = arrived.message
        assert message.get_body(("html",))["Content-Transfer-Encoding"] == "quoted-printable"
        assert word in message.get_body(("plain",)).get_content()
        tokens = re.findall(r"/unsubscribe/([A-Za-z0-9_.-]+)", message.get_body(("plain",)).get_content())
        assert [signer.verify("unsubscribe", token)[0] for token in tokens] == [ids[arrived.recipient]]


def test_links_too_long_to_share_a_line_are_rendered_for_each_recipient(sink_ctx, sink, clock):
    # A long base URL: two of the recipient's links no longer fit on the line the stand-ins shared.
    sink_ctx.settings = dataclasses.replace(sink_ctx.settings, base_url="https://notices.example.org/" + "p" * 420)
    for address in RECIPIENTS:
        add_subscriber(sink_ctx, address, frequency="daily")
    add_notice(sink_ctx, starts_at=clock.now() + timedelta(days=2))
    clock.set((clock.now() + timedelta(days=1)).replace(hour=6, minute=30))
    jobs.enqueue_digests(sink_ctx, now=clock.now(), frequency="daily")
    assert jobs.send_pending(sink_ctx, now=clock.now())["sent"] == 2
    signer, ids = LinkSigner(sink_ctx.settings.secret_key), subscriber_ids(sink_ctx)
    for arrived in sink.handler.arrived:
        assert max(len(line) for line in arrived.raw.split(b"\r\n")) <= 998
        html = arrived.message.get_body(("html",)).get_content()
        hrefs = re.findall(r'href="[^"]*/(unsubscribe|preferences)/([^"]+)"', html)
        assert {
            signer.verify("manage" if kind == "preferences" else "unsubscribe", token)[0] for kind, token in hrefs
        } == {ids[arrived.recipient]}
