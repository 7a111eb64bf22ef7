"""Public pages give the notice text in the ?lang= language (page language negotiation is
the interface's own business; this is the notice text)."""

from lxml import etree

from tests.factories import add_notice

BOTH = {"title": {"en": "Plesmanlaan closed", "nl": "Plesmanlaan afgesloten"}}


def _h1(html: str) -> str:
    return "".join(etree.HTML(html).xpath("//h1//text()")).strip()


def test_the_notice_page_gives_the_dutch_text_for_lang_nl(ctx, client):
    notice = add_notice(ctx, **BOTH, starts_at=ctx.clock.now())
    assert _h1(client.get(f"/notices/{notice.uid}").text) == "Plesmanlaan closed"
    assert _h1(client.get(f"/notices/{notice.uid}?lang=nl").text) == "Plesmanlaan afgesloten"
    # Picked with ?lang= (the switch), Dutch stays for this reader's next visit too.
    assert _h1(client.get(f"/notices/{notice.uid}").text) == "Plesmanlaan afgesloten"


def test_the_notice_page_marks_english_text_shown_for_lang_nl(ctx, client):
    notice = add_notice(ctx, title="Power outage", starts_at=ctx.clock.now())
    assert _h1(client.get(f"/notices/{notice.uid}?lang=nl").text) == "Power outage (in English)"


def test_the_home_page_lists_dutch_titles_and_links_the_dutch_feeds(ctx, client):
    add_notice(ctx, **BOTH, starts_at=ctx.clock.now())
    page = client.get("/?lang=nl").text
    assert "Plesmanlaan afgesloten" in page and "Plesmanlaan closed" not in page
    feeds = etree.HTML(page).xpath('//link[@type="application/atom+xml"]/@href')
    assert "/feeds/notices.atom?lang=nl" in feeds
