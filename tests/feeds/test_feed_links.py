"""Links in notice Markdown work wherever the notice leaves the site: absolute against the base URL,
and a link whose target was refused is plain text, not a dead link."""

import feedparser
import lxml.html
import pytest
import vobject
from icalendar import Calendar

from notices.notice.templating import make_environment
from tests.factories import add_notice

BODY = "See the [details](details.html), the [diversion map](/path) and the [county](https://example.org/roads)."


def hrefs(html: str) -> list[str]:
    return lxml.html.fragment_fromstring(html, create_parent="div").xpath("//a/@href")


def expected_links(settings) -> list[str]:
    return [f"{settings.base_url}/details.html", f"{settings.base_url}/path", "https://example.org/roads"]


@pytest.mark.parametrize("path", ["/feeds/notices.atom", "/feeds/notices.rss", "/feeds/events.atom"])
def test_relative_links_in_a_feed_entry_resolve_to_the_site(ctx, clock, client, path):
    from notices.runtime import jobs

    add_notice(ctx, body=BODY)
    jobs.record_transitions(ctx, now=clock.now())
    response = client.get(path)
    assert response.status_code == 200
    # As a reader that fetched the feed from its URL resolves what is left relative.
    feed = feedparser.parse(response.content, response_headers={"content-location": str(response.url)})
    assert hrefs(feed.entries[0].content[0].value) == expected_links(ctx.settings)


def test_relative_links_in_a_calendar_description_resolve_to_the_site(ctx, client):
    notice = add_notice(ctx, body=BODY)
    body = client.get("/calendar/notices.ics").content
    (event,) = Calendar.from_ical(body).walk("VEVENT")
    description = str(event["description"])
    for link in expected_links(ctx.settings):
        assert f"<{link}>" in description
    (second,) = vobject.readOne(body.decode()).vevent_list
    assert second.uid.value == f"{notice.uid}@notices"
    assert hrefs(second.x_alt_desc.value) == expected_links(ctx.settings)


def test_relative_links_on_the_notice_page_resolve_to_the_site(ctx, client):
    notice = add_notice(ctx, body=BODY)
    page = lxml.html.fromstring(client.get(f"/notices/{notice.uid}").text)
    assert page.xpath('//div[@class="body"]//a/@href') == expected_links(ctx.settings)


def test_the_markdown_filter_of_pages_and_emails_makes_links_absolute(settings):
    html = make_environment(settings).from_string("{{ body | markdown }}").render(body=BODY)
    assert hrefs(html) == expected_links(settings)


@pytest.mark.parametrize(
    "body",
    [
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">click</a>',
        '<a href="data:text/html,x" title="t">click</a>',
    ],
)
def test_a_link_with_a_refused_target_becomes_its_text(ctx, client, body):
    add_notice(ctx, body=f"Before {body} after")
    (entry,) = feedparser.parse(client.get("/feeds/notices.atom").content).entries
    content = lxml.html.fragment_fromstring(entry.content[0].value, create_parent="div")
    assert content.xpath("//a") == []
    assert "Before click after" in content.text_content()
