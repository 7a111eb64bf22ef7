"""The notice feeds as readers see them: parsed with feedparser and lxml, never compared as strings."""

from datetime import timedelta

import feedparser
import lxml.html
import pytest
from lxml import etree

from notices.feeds.catalog import render_feed
from notices.notice.lifecycle import Filters
from tests.factories import add_notice

ATOM = "{http://www.w3.org/2005/Atom}"


def read_feed(client, path="/feeds/notices.atom"):
    response = client.get(path)
    assert response.status_code == 200, response.text
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    etree.fromstring(response.content)  # well-formed for strict XML readers too
    return parsed


def summary_lines(entry) -> list[str]:
    """The summary as a reader shows it: feedparser's sanitised HTML, rendered to lines of text."""
    return lxml.html.fragment_fromstring(entry.summary, create_parent="div").text_content().splitlines()


def entry_ids(client, path="/feeds/notices.atom"):
    return [entry.id for entry in read_feed(client, path).entries]


def test_atom_feed_has_one_entry_per_visible_notice_with_a_stable_id(ctx, client):
    notice = add_notice(ctx, title="Plesmanlaan closed", summary="Follow the diversion.")
    feed = read_feed(client)
    assert feed.version == "atom10"
    (entry,) = feed.entries
    assert entry.id == f"urn:uuid:{notice.uid}"
    assert entry.link == f"{ctx.settings.base_url}/notices/{notice.uid}"
    assert "Plesmanlaan closed" in entry.title
    assert summary_lines(entry)[0] == "Follow the diversion."


def test_rss_feed_carries_the_same_notices(ctx, client):
    notice = add_notice(ctx)
    feed = read_feed(client, "/feeds/notices.rss")
    assert feed.version == "rss20"
    assert [entry.id for entry in feed.entries] == [f"urn:uuid:{notice.uid}"]


def test_times_are_shown_in_the_site_zone(ctx, client):
    # 16:00 in Amsterdam on 14 Nov 2026 is 15:00 UTC.
    add_notice(ctx, starts_at="2026-12-14T16:00", ends_at="2026-12-15T16:00")
    (entry,) = read_feed(client).entries
    assert "from Mon 14 Dec 16:00" in entry.title
    assert "Mon 14 Dec 2026 16:00" in entry.content[0].value


def test_open_ended_notice_says_until_further_notice_with_the_expected_end(ctx, clock, client):
    add_notice(
        ctx,
        starts_at=clock.now() - timedelta(days=1),
        ends_at=None,
        expected_end="approximately Q3 2027",
        publish_at=clock.now() - timedelta(days=2),
    )
    (entry,) = read_feed(client).entries
    assert entry.title.endswith("(until further notice, expected approximately Q3 2027)")


def test_a_notice_enters_at_its_publish_time_and_leaves_at_its_end_without_any_write(ctx, clock, client):
    now = clock.now()
    notice = add_notice(
        ctx,
        publish_at=now + timedelta(minutes=1),
        starts_at=now + timedelta(minutes=2),
        ends_at=now + timedelta(minutes=3),
    )
    assert entry_ids(client) == []
    clock.set(notice.publish_at)
    assert entry_ids(client) == [f"urn:uuid:{notice.uid}"]
    clock.set(notice.ends_at - timedelta(microseconds=1))
    assert entry_ids(client) == [f"urn:uuid:{notice.uid}"]
    clock.set(notice.ends_at)
    assert entry_ids(client) == []


def test_feed_title_follows_the_status(ctx, clock, client):
    now = clock.now()
    add_notice(ctx, starts_at="2026-11-28T12:00", ends_at="2026-12-12T17:00")
    assert read_feed(client).entries[0].title.endswith("(from Sat 28 Nov 12:00)")
    clock.set(now + timedelta(hours=3))
    assert read_feed(client).entries[0].title.endswith("(until Sat 12 Dec 17:00)")


def test_identical_data_gives_identical_bytes(ctx, clock):
    """Rendered twice, not from the cache, at two moments with no boundary between: the same bytes."""
    add_notice(ctx)
    first = render_feed(ctx, "/feeds/notices.atom", Filters(), "", clock.now())
    later = render_feed(ctx, "/feeds/notices.atom", Filters(), "", clock.now() + timedelta(seconds=30))
    assert later.body == first.body


def test_feed_updated_comes_from_the_data(ctx, clock, client):
    notice = add_notice(ctx)
    feed = read_feed(client)
    assert feed.feed.updated_parsed[:6] == notice.updated_at.timetuple()[:6]


def test_filters_by_category_location_and_minimum_severity(ctx, client):
    road = add_notice(ctx, category="road-closure", severity="major", locations=["plesmanlaan"])
    power = add_notice(ctx, category="utilities", severity="critical", locations=["gorlaeus"])
    event = add_notice(ctx, category="event", severity="info", locations=["de-limes"])

    def uids(query):
        return {entry_id.removeprefix("urn:uuid:") for entry_id in entry_ids(client, "/feeds/notices.atom?" + query)}

    assert uids("category=road-closure") == {road.uid}
    assert uids("category=road-closure&category=event") == {road.uid, event.uid}
    assert uids("category=road-closure,utilities") == {road.uid, power.uid}
    assert uids("location=gorlaeus") == {power.uid}
    assert uids("severity=major") == {road.uid, power.uid}


def test_unknown_filter_value_is_a_400_listing_the_valid_values(client):
    response = client.get("/feeds/notices.atom?category=roadworks")
    assert response.status_code == 400
    assert "unknown category 'roadworks'" in response.text
    assert "road-closure" in response.text


def test_hostile_text_gives_a_well_formed_feed(ctx, client):
    add_notice(
        ctx,
        title="Closure ]]> <script>alert(1)</script> \u202eRTL \U0001f6a7",
        summary="bad \x00\x1f chars \ufffe",
        body="<img src=x onerror=alert(1)> [link](javascript:alert(1)) ]]>",
    )
    feed = read_feed(client)
    content = feed.entries[0].content[0].value
    assert "onerror" not in content
    assert "javascript:" not in content
    assert "<script>" not in content
    assert "\U0001f6a7" in feed.entries[0].title


def test_the_home_page_lists_notices_and_links_the_feeds(ctx, client):
    notice = add_notice(ctx, title="Plesmanlaan closed")
    response = client.get("/")
    assert response.status_code == 200
    page = etree.HTML(response.text)
    alternates = page.xpath('//link[@rel="alternate"]/@href')
    assert "/feeds/notices.atom" in alternates and "/feeds/notices.rss" in alternates
    assert page.xpath(f'//a[@href="/notices/{notice.uid}"]/text()') == ["Plesmanlaan closed"]


def test_the_notice_page_shows_a_published_notice_and_hides_drafts(ctx, client):
    published = add_notice(ctx, title="Published one")
    draft = add_notice(ctx, title="Draft one", draft=True)
    assert "Published one" in client.get(f"/notices/{published.uid}").text
    assert client.get(f"/notices/{draft.uid}").status_code == 404
    assert client.get("/notices/not-a-uid").status_code == 404


def test_livez_reports_the_database(client):
    response = client.get("/livez")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_feed_times_in_the_autumn_fold_carry_their_offset(ctx, clock, client):
    clock.set(parse_site(ctx, "2026-10-20T12:00"))
    add_notice(ctx, starts_at="2026-10-25T02:30+02:00", ends_at="2026-10-25T02:30+01:00")
    (entry,) = read_feed(client).entries
    assert "Sun 25 Oct 2026 02:30 (+02:00) – Sun 25 Oct 2026 02:30 (+01:00)" in entry.content[0].value


def parse_site(ctx, text):
    from notices.notice.times import parse_instant

    return parse_instant(text, zone=ctx.settings.timezone, now=ctx.clock.now())


def test_the_home_page_filters_with_a_form(ctx, client):
    add_notice(ctx, title="Road one", category="road-closure")
    add_notice(ctx, title="Party", category="event", severity="info")
    page = etree.HTML(client.get("/", params={"category": "event", "location": "", "severity": ""}).text)
    assert page.xpath("//article//h2/a/text()") == ["Party"]
    assert page.xpath('//select[@name="category"]/option[@selected]/@value') == ["event"]
    # The feed links follow the filter, so "subscribe to what I see" works.
    assert "/feeds/notices.atom?category=event" in page.xpath('//link[@rel="alternate"]/@href')


def test_the_favicon_request_is_answered_without_an_error(client):
    # Browsers ask for /favicon.ico on every site; a 404 would show in every console.
    assert client.get("/favicon.ico").status_code == 204


def test_rss_channel_link_is_the_website_not_the_feed(ctx, client):
    add_notice(ctx)
    response = client.get("/feeds/notices.rss")
    assert etree.fromstring(response.content).findtext("channel/link") == ctx.settings.absolute_url("/")
    assert read_feed(client, "/feeds/notices.rss").feed.link == ctx.settings.absolute_url("/")


@pytest.mark.parametrize("path", ["/feeds/notices.rss", "/feeds/notices.atom"])
def test_markup_typed_in_a_summary_shows_as_typed(ctx, client, path):
    add_notice(ctx, summary="Use <b>both</b> lanes & the <i>bus</i> stop")
    (entry,) = read_feed(client, path).entries
    shown = lxml.html.fragment_fromstring(entry.summary, create_parent="div")
    assert shown.xpath("//b|//i") == []
    assert summary_lines(entry)[0] == "Use <b>both</b> lanes & the <i>bus</i> stop"


@pytest.mark.parametrize(
    "path", ["/feeds/notices.atom", "/feeds/notices.rss", "/feeds/events.atom", "/feeds/events.rss"]
)
def test_the_summary_says_when_and_where(ctx, clock, client, path):
    from notices.runtime import jobs

    add_notice(
        ctx,
        summary="Follow the diversion.",
        starts_at="2026-12-14T16:00",
        ends_at="2026-12-15T16:00",
        locations=["plesmanlaan"],
        location_detail="between the roundabouts",
    )
    jobs.record_transitions(ctx, now=clock.now())
    (entry,) = read_feed(client, path).entries
    lines = summary_lines(entry)
    assert "Follow the diversion." in lines
    assert "When: Mon 14 Dec 2026 16:00 – Tue 15 Dec 2026 16:00" in lines
    assert "Where: Plesmanlaan; between the roundabouts" in lines
