"""Notice bodies are GitHub-flavoured Markdown: what managers write the way they write it
everywhere else shows as they meant it, on the page, in the feeds and in the calendar."""

import feedparser
import lxml.html
import pytest
from icalendar import Calendar

from notices.notice.markup import markdown_to_html
from tests.factories import add_notice

DIVERSIONS = "Diversions for cyclists:\n- via the Einsteinweg\n- via the Sylviusweg\n  - north side only"


def tree(html: str) -> lxml.html.HtmlElement:
    return lxml.html.fragment_fromstring(html, create_parent="div")


def test_a_list_right_under_its_lead_in_line_is_a_list_on_the_page_and_in_the_feed(ctx, client):
    notice = add_notice(ctx, body=DIVERSIONS)
    page = lxml.html.fromstring(client.get(f"/notices/{notice.uid}").text)
    (body,) = page.xpath('//div[@class="body"]')
    assert body.xpath("./p/text()") == ["Diversions for cyclists:"]
    assert [item.text.strip() for item in body.xpath("./ul/li")] == ["via the Einsteinweg", "via the Sylviusweg"]
    assert body.xpath("./ul/li/ul/li/text()") == ["north side only"]  # nested by two spaces
    (entry,) = feedparser.parse(client.get("/feeds/notices.atom").content).entries
    content = tree(entry.content[0].value)
    assert len(content.xpath("//ul/li")) == 3


def test_the_calendar_shows_the_list_as_text_lines(ctx, client):
    add_notice(ctx, body=DIVERSIONS)
    (event,) = Calendar.from_ical(client.get("/calendar/notices.ics").content).walk("VEVENT")
    description = str(event["description"])
    lines = description.splitlines()
    start = lines.index("Diversions for cyclists:")
    assert [line for line in lines[start + 1 :] if line][:3] == [
        "- via the Einsteinweg",
        "- via the Sylviusweg",
        "  - north side only",
    ]


def test_struck_text_keeps_its_marks_in_the_calendar(ctx, client):
    add_notice(ctx, body="Reopened ~~Monday~~ Tuesday.")
    (event,) = Calendar.from_ical(client.get("/calendar/notices.ics").content).walk("VEVENT")
    assert "Reopened ~~Monday~~ Tuesday." in str(event["description"])


def test_a_footnote_number_and_a_superscript_read_as_raised_in_the_calendar(ctx, client):
    add_notice(ctx, body="Closed on Tuesday[^1], 200 m<sup>2</sup> fenced.\n\n[^1]: Unless it rains.")
    (event,) = Calendar.from_ical(client.get("/calendar/notices.ics").content).walk("VEVENT")
    description = str(event["description"])
    # Not "Tuesday1" and "m2": a different word and a different unit to a reader of plain text.
    assert "Closed on Tuesday^1, 200 m^2 fenced." in description
    assert "1. Unless it rains." in description


def test_github_extensions_strikethrough_tables_and_bare_links():
    html = markdown_to_html(
        "Reopened ~~Monday~~ Tuesday, see https://example.org/works.\n\n| Lane | Open |\n|:--|:-:|\n| north | yes |",
        base_url="https://park.example/",
    )
    root = tree(html)
    assert root.xpath("//del/text()") == ["Monday"]
    assert root.xpath("//a/@href") == ["https://example.org/works"]
    assert root.xpath("//th/text()") == ["Lane", "Open"]
    assert root.xpath("//td[@align='center']/text()") == ["yes"]


def test_footnotes_are_numbers_and_a_list_under_a_rule_without_links_that_lead_nowhere():
    html = markdown_to_html(
        "Closed[^1] until Friday[^late].\n\n[^1]: Except buses.\n[^late]: Or *later*.", base_url="https://park.example/"
    )
    root = tree(html)
    assert root.xpath("//p[1]/sup/text()") == ["1", "2"]
    assert root.xpath("//a") == [] and "#fn" not in html and "\u21a9" not in html
    assert root.xpath("//hr/following-sibling::ol/li/p")[0].text.strip() == "Except buses."
    assert [item.text_content().strip() for item in root.xpath("//ol/li")] == ["Except buses.", "Or later."]


@pytest.mark.parametrize("reference", ["&#xFFFE;", "&#xffff;", "&#65534;", "&#65535;", "&#x0FFFE;"])
def test_a_reference_to_a_noncharacter_leaves_nothing_behind(reference):
    # cmark-gfm writes these as a single byte that is not UTF-8; the text around them must survive.
    for text in (f"Before {reference} after", f"[link](https://example.org/{reference})", f"`{reference}`"):
        html = markdown_to_html(text, base_url="https://park.example/")
        assert "\ufffe" not in html and "\uffff" not in html
    assert markdown_to_html(f"Before {reference} after", base_url="https://park.example/") == "<p>Before  after</p>"


def test_raw_html_is_sanitised_and_a_task_box_stays_readable():
    html = markdown_to_html(
        "<b>bold</b> <script>alert(1)</script><img src=x onerror=alert(1)>\n\n- [ ] bring a permit",
        base_url="https://park.example/",
    )
    root = tree(html)
    assert root.xpath("//b/text()") == ["bold"]
    assert root.xpath("//script | //img | //input") == []
    assert "alert" not in html
    assert root.xpath("//li/text()") == ["[ ] bring a permit"]


@pytest.mark.parametrize(
    "empty",
    # With nothing but characters the output filter removes too: a bidi control, a noncharacter.
    ["##", "## <br>", "### &nbsp;", "## <b></b>", "## [](https://example.org/)", "## &#x202E;", "## \u2066\x00"],
)
def test_a_heading_without_text_is_left_out_and_the_rest_stays(empty):
    html = markdown_to_html(f"Before.\n\n{empty}\n\nAfter.", base_url="https://park.example/")
    assert html == "<p>Before.</p>\n<p>After.</p>"
    assert markdown_to_html(empty, base_url="https://park.example/") == ""
    # A heading with text stays, with whatever else it holds.
    assert markdown_to_html("## <br>Works", base_url="https://park.example/") == "<h2><br>Works</h2>"


def test_the_notice_page_shows_no_empty_heading(ctx, client):
    notice = add_notice(ctx, body="## <br>\n\nThe road is closed.\n\n##\n\nSee the map.")
    root = lxml.html.fromstring(client.get(f"/notices/{notice.uid}").text)
    headings = root.xpath("//main//*[self::h1 or self::h2 or self::h3 or self::h4]")
    assert headings and all(heading.text_content().strip() for heading in headings)
    assert root.xpath("//main//p[normalize-space()='The road is closed.']")


def test_a_level_one_heading_is_a_heading_below_the_notice_title(ctx, client):
    # "# Diversion" is how most people write a heading; the page's one <h1> is the notice's title,
    # so the body's headings go a level down, and keep their order ("##" under "#").
    body = (
        "# Diversion\n\nVia the Einsteinweg.\n\n## Cyclists\n\nNorth side.\n\n"
        "<h1 class='x'>Deliveries</h1>\n\nNorth gate."
    )
    notice = add_notice(ctx, body=body)
    page = lxml.html.fromstring(client.get(f"/notices/{notice.uid}").text)
    (html,) = page.xpath('//div[@class="body"]')
    assert html.xpath("./h2/text()") == ["Diversion", "Deliveries"]
    assert html.xpath("./h3/text()") == ["Cyclists"]
    assert [text.strip() for text in html.xpath("./text()") if text.strip()] == []  # no bare line of text
    assert len(page.xpath("//h1")) == 1
    (entry,) = feedparser.parse(client.get("/feeds/notices.atom").content).entries
    assert tree(entry.content[0].value).xpath("//h2/text() | //h3/text()") == ["Diversion", "Cyclists", "Deliveries"]
    (event,) = Calendar.from_ical(client.get("/calendar/notices.ics").content).walk("VEVENT")
    assert "Diversion\n---------\n\nVia the Einsteinweg." in str(event["description"])


@pytest.mark.parametrize(("markdown", "tag"), [("##### Small print", "h5"), ("###### Smaller print", "h6")])
def test_every_heading_level_is_a_heading(markdown, tag):
    # (Levels 5 and 6 lost their tags, as level 1 did, and showed as bare lines.)
    assert markdown_to_html(f"{markdown}\n\nText.", base_url="https://park.example/") == (
        f"<{tag}>{markdown.lstrip('# ')}</{tag}>\n<p>Text.</p>"
    )
