"""Feeds, calendars, CAP and GeoJSON in the reader's language (?lang=), with a marked fallback."""

import json

import pytest
from icalendar import Calendar
from lxml import etree

from notices.notice import store
from notices.notice.validation import parse_changes
from tests.factories import add_notice
from tests.feeds.geo_samples import CLOSURE_WITH_DIVERSION
from tests.webclient import parse_feed

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
PLAIN = {"accept-encoding": "identity"}
BOTH = {
    "title": {"en": "Plesmanlaan closed", "nl": "Plesmanlaan afgesloten"},
    "summary": {"en": "Follow the yellow signs.", "nl": "Volg de gele borden."},
    "expected_end": {"en": "approximately Q3 2027", "nl": "ongeveer Q3 2027"},
}


def test_the_dutch_atom_feed_has_dutch_titles_and_xml_lang_nl(ctx, client):
    add_notice(ctx, **BOTH, ends_at=None, starts_at=ctx.clock.now())
    response = client.get("/feeds/notices.atom?lang=nl", headers=PLAIN)
    parsed = parse_feed(response)
    assert etree.fromstring(response.content).get(XML_LANG) == "nl"
    (entry,) = parsed.entries
    assert entry.title == "Wegafsluiting: Plesmanlaan afgesloten (tot nader order, verwacht ongeveer Q3 2027)"
    assert "Volg de gele borden." in entry.summary


def test_the_default_feed_stays_in_the_default_language(ctx, client):
    add_notice(ctx, **BOTH, ends_at=None, starts_at=ctx.clock.now())
    response = client.get("/feeds/notices.atom", headers=PLAIN)
    (entry,) = parse_feed(response).entries
    assert etree.fromstring(response.content).get(XML_LANG) == "en"
    assert entry.title.startswith("Road closure: Plesmanlaan closed (")


def test_the_dutch_rss_feed_says_its_language(ctx, client):
    add_notice(ctx, **BOTH)
    response = client.get("/feeds/notices.rss?lang=nl", headers=PLAIN)
    parsed = parse_feed(response)
    assert etree.fromstring(response.content).findtext("channel/language") == "nl"
    assert parsed.entries[0].title.startswith("Wegafsluiting: Plesmanlaan afgesloten (")


def test_a_notice_without_dutch_shows_the_english_text_marked_in_the_dutch_feed(ctx, client):
    add_notice(ctx, title="Power outage", category="utilities")
    (entry,) = parse_feed(client.get("/feeds/notices.atom?lang=nl", headers=PLAIN)).entries
    assert "Power outage (in English)" in entry.title


def test_each_language_is_its_own_cached_feed_with_its_own_etag(ctx, client):
    add_notice(ctx, **BOTH)
    english = client.get("/feeds/notices.atom", headers=PLAIN)
    dutch = client.get("/feeds/notices.atom?lang=nl", headers=PLAIN)
    assert english.headers["etag"] != dutch.headers["etag"]
    again = client.get("/feeds/notices.atom?lang=nl", headers={**PLAIN, "if-none-match": english.headers["etag"]})
    assert again.status_code == 200
    assert "Plesmanlaan afgesloten" in parse_feed(again).entries[0].title


def test_an_unknown_lang_is_a_400_naming_the_valid_ones(client):
    response = client.get("/feeds/notices.atom?lang=de")
    assert response.status_code == 400
    assert "en, nl" in response.text


def test_lang_is_spelled_one_way(client):
    response = client.get("/feeds/notices.atom?lang=NL", follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == "/feeds/notices.atom?lang=nl"


def test_the_dutch_event_feed_has_the_dutch_text_as_it_was(ctx, client):
    notice = add_notice(ctx, **BOTH, starts_at=ctx.clock.now())
    with ctx.db.writing() as session, session.begin():
        row = store.get_notice(session, notice.uid)
        store.record_due_events(session, row, ctx.clock.now())
    response = client.get("/feeds/events.atom?lang=nl", headers=PLAIN)
    assert etree.fromstring(response.content).get(XML_LANG) == "nl"
    titles = [entry.title for entry in parse_feed(response).entries]
    assert titles and all("Plesmanlaan afgesloten" in title for title in titles)


def _event(client, query: str):
    calendar = Calendar.from_ical(client.get(f"/calendar/notices.ics{query}").content)
    (event,) = calendar.walk("VEVENT")
    return event


def test_the_dutch_calendar_has_dutch_text_with_language_parameters(ctx, client):
    add_notice(ctx, **BOTH, location_detail={"en": "at the roundabout", "nl": "bij de rotonde"})
    event = _event(client, "?lang=nl")
    assert str(event["SUMMARY"]) == "Wegafsluiting: Plesmanlaan afgesloten"
    assert event["SUMMARY"].params["LANGUAGE"] == "nl"
    assert event["DESCRIPTION"].params["LANGUAGE"] == "nl"
    assert str(event["LOCATION"]).endswith("bij de rotonde")
    assert event["LOCATION"].params["LANGUAGE"] == "nl"


def test_a_fallback_in_the_calendar_is_marked_and_says_its_real_language(ctx, client):
    add_notice(ctx, title="Power outage", category="utilities")
    event = _event(client, "?lang=nl")
    assert str(event["SUMMARY"]).endswith("Power outage (in English)")
    assert event["SUMMARY"].params["LANGUAGE"] == "en"


def test_cap_has_an_info_block_per_language_with_its_own_text(ctx, client):
    notice = add_notice(ctx, **BOTH, starts_at=ctx.clock.now())
    document = etree.fromstring(client.get(f"/cap/{notice.uid}.xml").content)
    ns = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
    headlines = {
        info.findtext("cap:language", namespaces=ns): info.findtext("cap:headline", namespaces=ns)
        for info in document.findall("cap:info", ns)
    }
    assert headlines == {"en": "Plesmanlaan closed", "nl": "Plesmanlaan afgesloten"}


@pytest.mark.parametrize("path", ["/feeds/notices.geojson", "/feeds/closures.json"])
def test_geojson_and_closures_take_lang(ctx, client, path):
    add_notice(ctx, **BOTH, starts_at=ctx.clock.now(), geometry=CLOSURE_WITH_DIVERSION)
    document = json.loads(client.get(f"{path}?lang=nl").content)
    assert "Plesmanlaan afgesloten" in json.dumps(document, ensure_ascii=False)
    assert "Plesmanlaan closed" not in json.dumps(document, ensure_ascii=False)


def test_hostile_dutch_text_is_as_safe_in_the_feed_as_english(ctx, client):
    notice = add_notice(ctx, title={"en": "Closed", "nl": "Dicht"})
    # A row written before input was checked (or by hand): the renderers must defend again.
    with ctx.db.writing() as session, session.begin():
        row = store.get_notice(session, notice.uid)
        row.translations = {"nl": {"title": "Dicht\x00\ufffe\u202e<b>]]>", "body": "<script>x</script>" + "w" * 5000}}
    response = client.get("/feeds/notices.atom?lang=nl", headers=PLAIN)
    (entry,) = parse_feed(response).entries
    assert "\u202e" not in entry.title and "\ufffe" not in entry.title
    assert "<script>" not in entry.content[0].value


def test_a_change_to_the_dutch_text_reaches_the_dutch_feed(ctx, client):
    notice = add_notice(ctx, **BOTH)
    client.get("/feeds/notices.atom?lang=nl", headers=PLAIN)  # cached
    with ctx.db.writing() as session, session.begin():
        row = store.get_notice(session, notice.uid)
        fields = parse_changes(
            {"title": {"nl": "Plesmanlaan dicht"}},
            current=store.fields_of(row),
            settings=ctx.settings,
            now=ctx.clock.now(),
        )
        store.update_notice(session, row, fields, note="shorter", now=ctx.clock.now(), author="t")
    (entry,) = parse_feed(client.get("/feeds/notices.atom?lang=nl", headers=PLAIN)).entries
    assert "Plesmanlaan dicht" in entry.title
