"""What endpoints receive: the Standard Webhooks body, the Slack message and the Teams card."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime

import lxml.html
import pytest
from markdown_it import MarkdownIt

from notices.core.errors import InvalidField
from notices.core.safe_text import strip_unsafe
from notices.hooks.payloads import EVENT_TYPES, HookEvent, render
from notices.notice.presenters import notice_data
from notices.notice.wording import Words
from tests.conftest import DEFAULT_NOW
from tests.factories import add_notice
from tests.hooks.chat_shapes import card_texts, check_adaptive_card_message, check_block_kit_message

HOSTILE_TITLES = [
    "<!channel> Plesmanlaan closed",
    "<!here|here> and <@U024BE7LH> and <#C024BE7LH> and <!subteam^S123>",
    "<https://evil.example/|click me> please",
    "*bold* _italic_ ~struck~ `code` ```block```",
    "]]></text><script>alert(1)</script>",
    "Closed\ufffe\ufffftoday\x00 with NUL",
    "Closed \u202eyadot\u202c and \u2066isolated\u2069",
    "# Heading\n- list item\n> quote\n1. numbered",
    "[a link](https://evil.example/) ![img](https://evil.example/x.png)",
    "{{DATE(2026-11-28T09:00:00Z, SHORT)}} {{TIME(2026-11-28T09:00:00Z)}}",
    "Fish &amp; chips &lt;b&gt; & <b>bold</b>",
    "https://evil.example/looks-like-an-address",
    "backslash \\*not bold\\* and \\\\",
]


@pytest.fixture
def event(ctx):
    notice = add_notice(
        ctx,
        title="Plesmanlaan closed",
        summary="Both lanes closed for cable works.",
        location_detail="between Sylviusweg and Einsteinweg",
    )
    data = notice_data(notice, zone=ctx.settings.timezone, now=DEFAULT_NOW)
    return HookEvent(
        event_id="evt_0001",
        type="notice.published",
        occurred_at=DEFAULT_NOW,
        notice=data,
        url=ctx.settings.absolute_url(f"/notices/{notice.uid}"),
    )


def with_notice(event: HookEvent, **changes) -> HookEvent:
    return HookEvent(
        event_id=event.event_id,
        type=changes.pop("type", event.type),
        occurred_at=event.occurred_at,
        notice={**event.notice, **changes},
        url=event.url,
    )


def rendered(kind, event, settings, language="en"):
    body, content_type = render(kind, event, language, settings)
    assert content_type == "application/json"
    assert isinstance(body, bytes)
    return json.loads(body.decode("utf-8"))


# Webhook -------------------------------------------------------------------------------------


def test_a_webhook_body_has_the_standard_webhooks_shape_and_the_notice_as_the_api_shows_it(event, settings):
    body = rendered("webhook", event, settings)
    assert set(body) == {"type", "timestamp", "data"}
    assert body["type"] == "notice.published"
    assert datetime.fromisoformat(body["timestamp"]) == DEFAULT_NOW
    assert body["timestamp"].endswith("Z")
    assert body["data"] == event.notice
    assert body["data"]["version"] == 1


def test_a_webhook_body_is_compact_utf8_json(event, settings):
    body, _ = render("webhook", with_notice(event, title="Straße gesperrt – 通知"), "en", settings)
    assert "Straße gesperrt – 通知".encode() in body
    assert b": " not in body and b", " not in body


def test_a_webhook_body_drops_characters_no_receiver_should_get_from_old_rows(event, settings):
    title = "Closed\x00\ufffe\ud800 \u202etoday"
    body, _ = render("webhook", with_notice(event, title=title), "en", settings)
    assert json.loads(body)["data"]["title"] == "Closed today"


@pytest.mark.parametrize("kind", ["webhook", "slack", "teams"])
@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_event_type_renders_for_every_kind(event, settings, kind, event_type):
    body = rendered(kind, with_notice(event, type=event_type), settings)
    if kind == "webhook":
        assert body["type"] == event_type
    elif kind == "slack":
        check_block_kit_message(body)
    else:
        check_adaptive_card_message(body)


def test_an_unknown_kind_or_event_type_is_refused_naming_the_field(event, settings):
    with pytest.raises(InvalidField) as kind:
        render("discord", event, "en", settings)
    assert kind.value.field == "kind"
    with pytest.raises(InvalidField) as event_type:
        render("slack", with_notice(event, type="notice.exploded"), "en", settings)
    assert event_type.value.field == "type"


# Slack ---------------------------------------------------------------------------------------


def slack_texts(message) -> list[tuple[str, str]]:
    """(type, text) of every text object in a Block Kit message."""
    found = []
    for block in message["blocks"]:
        for key in ("text",):
            if key in block:
                found.append((block[key]["type"], block[key]["text"]))
        for field in block.get("fields", []) + block.get("elements", []):
            found.append((field["type"], field["text"]))
    return found


def test_a_slack_message_is_block_kit_with_headline_when_where_summary_and_links(event, settings):
    message = rendered("slack", event, settings)
    check_block_kit_message(message)
    header = message["blocks"][0]
    assert header["type"] == "header"
    assert header["text"]["text"] == "New · Road closure · major: Plesmanlaan closed"
    texts = [text for _, text in slack_texts(message)]
    assert "Both lanes closed for cable works." in texts
    # 10:00 in Amsterdam plus the factory's hour: site time, not UTC.
    assert "When: Sat 28 Nov 2026 11:00 – Sun 29 Nov 2026 10:00" in texts
    assert "Where: Plesmanlaan (between Sylviusweg and Einsteinweg)" in texts
    links = message["blocks"][-1]
    assert links["type"] == "context"
    assert links["elements"][0] == {
        "type": "mrkdwn",
        "text": f"<{event.url}|View notice>  ·  <{event.url}#map|Map>",
    }
    assert message["text"].startswith("New · Road closure · major: Plesmanlaan closed — Sat 28 Nov 2026 11:00")


def test_a_slack_message_speaks_the_endpoint_language(event, settings):
    message = rendered("slack", event, settings, language="nl")
    check_block_kit_message(message)
    assert message["blocks"][0]["text"]["text"] == "Nieuw · Wegafsluiting · groot: Plesmanlaan closed (in English)"
    period = Words("nl", settings).time(datetime(2026, 11, 28, 10, 0, tzinfo=UTC))
    assert any(text.startswith(f"Wanneer: {period} – ") for _, text in slack_texts(message))
    assert "Bekijk melding" in message["blocks"][-1]["elements"][0]["text"]


def test_a_cancelled_notice_says_why(event, settings):
    cancelled = with_notice(event, type="notice.cancelled", cancel_reason="Works postponed to spring")
    message = rendered("slack", cancelled, settings)
    assert message["blocks"][0]["text"]["text"].startswith("Cancelled · ")
    assert ("plain_text", "Reason: Works postponed to spring") in slack_texts(message)
    card = rendered("teams", cancelled, settings)
    assert "Works postponed to spring" in card_texts(card)


def test_an_open_ended_notice_says_until_further_notice(event, settings):
    open_ended = with_notice(event, ends_at=None, expected_end="approximately Q3 2027")
    texts = [text for _, text in slack_texts(rendered("slack", open_ended, settings))]
    assert "When: Sat 28 Nov 2026 11:00 – until further notice (expected approximately Q3 2027)" in texts


def unescape_slack(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_a_hostile_title_stays_plain_text_in_slack(event, settings, title):
    message = rendered("slack", with_notice(event, title=title, summary=title), settings)
    check_block_kit_message(message)
    expected = " ".join(strip_unsafe(title).split())
    for kind, text in slack_texts(message) + [("fallback", message["text"])]:
        if kind == "mrkdwn":
            # The one mrkdwn text is our links line, whatever the notice says.
            assert text == f"<{event.url}|View notice>  ·  <{event.url}#map|Map>"
            continue
        assert kind in ("plain_text", "fallback")
        # No control character survives, so no <!channel>, <@U…>, <url|text> can form.
        assert "<" not in text and ">" not in text
        assert not re.search(r"&(?!amp;|lt;|gt;)", text), "every & is an entity"
        assert not re.search("[\x00\ufffe\uffff\u202a-\u202e\u2066-\u2069]", text)
    header = unescape_slack(message["blocks"][0]["text"]["text"])
    assert header == f"New · Road closure · major: {expected}"
    assert unescape_slack(message["blocks"][1]["text"]["text"]) == strip_unsafe(title).strip()


def test_a_one_megabyte_word_is_cut_to_what_slack_accepts(event, settings):
    word = "&" * 1_000_000
    message = rendered("slack", with_notice(event, title=word, summary=word, location_detail=word), settings)
    check_block_kit_message(message)
    assert message["blocks"][0]["text"]["text"].endswith("&amp;…")
    assert len(json.dumps(message)) < 40_000


# Teams ---------------------------------------------------------------------------------------


def test_a_teams_message_is_an_adaptive_card_with_the_same_content(event, settings):
    message = rendered("teams", event, settings)
    check_adaptive_card_message(message)
    card = message["attachments"][0]["content"]
    headline, title, summary, facts = card["body"]
    assert headline["text"] == "New · Road closure · major"
    assert headline["color"] == "Attention"
    assert title["text"] == "Plesmanlaan closed"
    assert summary["text"] == "Both lanes closed for cable works."
    assert facts["facts"] == [
        {"title": "When", "value": "Sat 28 Nov 2026 11:00 – Sun 29 Nov 2026 10:00"},
        {"title": "Where", "value": "Plesmanlaan \\(between Sylviusweg and Einsteinweg\\)"},
    ]
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "View notice", "url": event.url},
        {"type": "Action.OpenUrl", "title": "Map", "url": event.url + "#map"},
    ]


def test_a_teams_card_speaks_the_endpoint_language(event, settings):
    card = rendered("teams", event, settings, language="nl")["attachments"][0]["content"]
    assert card["body"][0]["text"] == "Nieuw · Wegafsluiting · groot"
    assert [fact["title"] for fact in card["body"][3]["facts"]] == ["Wanneer", "Waar"]
    assert [action["title"] for action in card["actions"]] == ["Bekijk melding", "Kaart"]


def shown_by_markdown(text: str) -> tuple[set[str], str]:
    """What a CommonMark renderer makes of a card text: the tags it uses and the words it shows."""
    rendered_html = MarkdownIt("commonmark").render(text)
    tags = set(re.findall(r"<([a-z0-9]+)", rendered_html))
    shown = lxml.html.fragment_fromstring(rendered_html, create_parent="div").text_content()
    return tags, shown


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_a_hostile_title_shows_as_typed_in_a_teams_card(event, settings, title):
    message = rendered("teams", with_notice(event, title=title, summary=title, location_detail=title), settings)
    check_adaptive_card_message(message)
    card = message["attachments"][0]["content"]
    one_line = " ".join(strip_unsafe(title).split())
    tags, shown = shown_by_markdown(card["body"][1]["text"])
    assert tags == {"p"}, f"Markdown made {tags} of {title!r}"
    assert shown.strip() == one_line
    for text in card_texts(message):
        tags, _ = shown_by_markdown(text)
        assert tags <= {"p", "br"}, f"Markdown made {tags} of {text!r}"
        assert "{{" not in text, "an Adaptive Card DATE/TIME function could form"
        assert not re.search("[\x00\ufffe\uffff\u202a-\u202e\u2066-\u2069]", text)
    # The summary keeps its lines, each shown as typed.
    _, summary = shown_by_markdown(card["body"][2]["text"])
    assert summary.split() == strip_unsafe(title).split()


def test_a_one_megabyte_word_is_cut_in_a_teams_card(event, settings):
    word = "*" * 1_000_000
    message = rendered("teams", with_notice(event, title=word, summary=word), settings)
    check_adaptive_card_message(message)
    assert len(json.dumps(message)) < 28_000
    tags, shown = shown_by_markdown(message["attachments"][0]["content"]["body"][1]["text"])
    assert tags == {"p"} and set(shown.strip()) == {"*", "…"}


def test_html_entities_in_a_title_are_not_decoded_by_the_card(event, settings):
    message = rendered("teams", with_notice(event, title="&lt;b&gt; &amp;"), settings)
    _, shown = shown_by_markdown(message["attachments"][0]["content"]["body"][1]["text"])
    assert shown.strip() == "&lt;b&gt; &amp;" != html.unescape("&lt;b&gt; &amp;")
