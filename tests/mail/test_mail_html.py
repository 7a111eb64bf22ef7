"""The HTML part as structure: heading order, and user text that cannot turn the rest of a line around."""

from datetime import timedelta

import lxml.html
import pytest
from sqlalchemy import update

from notices.core.models import Notice
from notices.runtime import jobs
from tests.factories import add_notice, add_subscriber
from tests.mail_samples import KINDS, LANGUAGES, every_kind, part

BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def heading_levels(html: str) -> list[int]:
    tree = lxml.html.fromstring(html)
    return [int(str(element.tag)[1]) for element in tree.iter("h1", "h2", "h3", "h4", "h5", "h6")]


@pytest.mark.parametrize("language", LANGUAGES)
def test_headings_start_at_h1_and_never_skip_a_level(sink_ctx, clock, sink, language):
    kinds = every_kind(sink_ctx, clock, sink, language=language, body="## Access\n\nGate 2 stays open.")
    assert set(kinds) == set(KINDS)
    skipped = {}
    for kind, arrived in kinds.items():
        levels = heading_levels(part(arrived.message, "html"))
        deepest = 0
        for level in levels:
            if level > deepest + 1:
                skipped[kind] = levels
            deepest = max(deepest, level) if level > deepest else level
        assert levels[0] == 1, kind
    assert skipped == {}


def mail_about_an_old_row(ctx, clock, sink, **text):
    """An alert and a digest about a notice whose stored text predates input checks."""
    add_subscriber(ctx, "now@example.org")
    add_subscriber(ctx, "daily@example.org", frequency="daily")
    notice = add_notice(ctx, starts_at=clock.now() + timedelta(days=2))
    with ctx.db.writing() as session, session.begin():
        session.execute(update(Notice).where(Notice.uid == notice.uid).values(**text))
    jobs.record_transitions(ctx, now=clock.now())
    jobs.enqueue_alerts(ctx, now=clock.now())
    jobs.send_pending(ctx, now=clock.now())
    clock.set((clock.now() + timedelta(days=1)).replace(hour=6, minute=30))
    jobs.enqueue_digests(ctx, now=clock.now(), frequency="daily")
    jobs.send_pending(ctx, now=clock.now())
    arrived = {arrived.recipient: arrived for arrived in sink.handler.arrived}
    assert set(arrived) == {"now@example.org", "daily@example.org"}
    return arrived.values()


TITLE = "Gate \u202eclosed\u202c for \u2067traffic\u2069 \u200eand\u200f \u061cbikes \u202a\u202b\u202d\u2066\u2068x"


def test_bidi_controls_in_a_title_never_reach_a_mail_header(sink_ctx, clock, sink):
    for arrived in mail_about_an_old_row(sink_ctx, clock, sink, title=TITLE):
        message = arrived.message
        if arrived.recipient == "now@example.org":  # the alert's subject names the notice
            assert "Gate closed for traffic and bikes x" in message["Subject"]
        for name, value in message.items():
            assert not set(BIDI_CONTROLS) & set(str(value)), name


def test_bidi_controls_cannot_reverse_the_rest_of_a_heading(sink_ctx, clock, sink):
    for arrived in mail_about_an_old_row(sink_ctx, clock, sink, title=TITLE, summary="Use \u202ethe north gate"):
        html = part(arrived.message, "html")
        assert not set(BIDI_CONTROLS) & set(html + part(arrived.message, "plain"))
        tree = lxml.html.fromstring(html)
        # User text sits in <bdi>: whatever direction it has, the heading around it keeps its own.
        titles = tree.xpath("//*[self::h1 or self::h2 or self::h3]//bdi")
        assert titles and all(bdi.text_content() == "Gate closed for traffic and bikes x" for bdi in titles)
