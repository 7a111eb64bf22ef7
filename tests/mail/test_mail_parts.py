"""The text part says what the HTML part says: text-only mail programs, previews and watches miss nothing."""

import re

import pytest

from tests.mail_samples import (
    KINDS,
    LANGUAGES,
    every_kind,
    html_links,
    part,
    visible_text,
)

BODY = """Switch off **sensitive equipment** before 22:00. See [the detour map](https://example.org/detour.html).

## Access during the works
- Gate 1: closed
- Gate 2: open, see <https://example.org/gate-2>

| Day | Hours |
|-----|-------|
| Friday | 16:00-22:00 |

    shutdown --room B2.14
    restart after 06:00

> Questions? Mail [the facility desk](mailto:desk@example.org).
"""
TEXT = {"summary": "Night works on the cable duct", "body": BODY, "location_detail": "Gate 4 to gate 6"}


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.casefold()))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_text_part_has_every_word_and_link_of_the_html_part(sink_ctx, clock, sink, language):
    kinds = every_kind(sink_ctx, clock, sink, language=language, **TEXT)
    assert set(kinds) == set(KINDS)
    missing = {}
    for kind, arrived in kinds.items():
        message = arrived.message
        text, html = part(message, "plain"), part(message, "html")
        lost = sorted(words(visible_text(html)) - words(text)) + sorted(
            href for href in html_links(html) if href not in text
        )
        if lost:
            missing[kind] = lost
    assert missing == {}


@pytest.mark.parametrize("kind", ["alert:published", "reminder"])
def test_alerts_and_reminders_carry_the_notice_body_as_readable_text(sink_ctx, clock, sink, kind):
    text = part(every_kind(sink_ctx, clock, sink, **TEXT)[kind].message, "plain")
    assert "Switch off sensitive equipment before 22:00. See the detour map <https://example.org/detour.html>." in text
    assert "- Gate 1: closed\n- Gate 2: open, see https://example.org/gate-2\n" in text
    assert "\n    shutdown --room B2.14\n    restart after 06:00\n" in text
    assert "**" not in text and "<strong>" not in text


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # First, it stopped the alert: the conversion raised IndexError and no mail was written.
        ("## <br>\n\nAfter the works.", "\n\nAfter the works.\n"),
        # After a paragraph, its underline went under that paragraph, which then read as a heading.
        ("Before the works.\n\n## <br>\n\nAfter the works.", "\n\nBefore the works.\n\nAfter the works.\n"),
    ],
)
def test_a_heading_of_nothing_but_a_line_break_is_left_out_of_the_text(sink_ctx, clock, sink, body, expected):
    text = part(every_kind(sink_ctx, clock, sink, body=body)["alert:published"].message, "plain")
    assert expected in text


@pytest.mark.parametrize("detail", ["Gate 4 to gate 6", "Gate 4\nto gate 6\n\n"])
@pytest.mark.parametrize("kind", ["alert:published", "reminder", "digest"])
def test_where_says_the_location_detail_after_the_locations(sink_ctx, clock, sink, kind, detail):
    # "Gate 4 to gate 6" tells a tenant whether the closure is in their way: feeds, calendars and
    # the page say it, and so does mail, in both parts, on the notice's line (the detail may have
    # been typed on several).
    message = every_kind(sink_ctx, clock, sink, **(TEXT | {"location_detail": detail}))[kind].message
    assert "Plesmanlaan; Gate 4 to gate 6" in part(message, "plain")
    assert "Plesmanlaan; Gate 4 to gate 6" in " ".join(visible_text(part(message, "html")).split())
