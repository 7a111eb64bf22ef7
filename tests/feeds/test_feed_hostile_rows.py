"""Rows written before input validation existed cannot break a feed, a calendar or the export.

The rows go straight into the tables (no notice_input), the way old data or a
hand-made SQL fix would: XML 1.0-illegal characters, bidi controls, a 1 MB
word, instants at the ends of what a datetime can hold.
"""

import uuid
from datetime import UTC, datetime, timedelta

import feedparser
import pytest
import vobject
from icalendar import Calendar
from lxml import etree
from sqlalchemy.exc import StatementError

from notices.core.errors import PartialFailure
from notices.core.models import Notice, NoticeEvent
from notices.feeds.atom import build_feed, keyed_entries
from notices.feeds.export import exported_files
from notices.feeds.ical import build_calendar
from notices.runtime import jobs

FEEDS = ["/feeds/notices.atom", "/feeds/notices.rss", "/feeds/events.atom", "/feeds/events.rss"]
CALENDAR = "/calendar/notices.ics"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
MEGABYTE_WORD = "x" * 1_000_000


def insert_row(ctx, **columns) -> Notice:
    """An active, published notice with one 'published' event, written with the ORM, bypassing notice_input."""
    now = ctx.clock.now()
    values = {
        "uid": str(uuid.uuid4()),
        "title": "Plesmanlaan closed",
        "summary": "Follow the diversion.",
        "body": "Use the **Einsteinweg**.",
        "category": "road-closure",
        "severity": "major",
        "locations": ["plesmanlaan"],
        "location_detail": "",
        "publish_at": now - timedelta(days=1),
        "starts_at": now - timedelta(hours=1),
        "ends_at": None,
        "expected_end": "approximately Q3 2027",
        "version": 1,
        "cancel_reason": "",
        "created_at": now - timedelta(days=1),
        "updated_at": now - timedelta(days=1),
    }
    values.update(columns)
    with ctx.db.writing() as session, session.begin():
        notice = Notice(**values)
        session.add(notice)
        session.flush()
        session.add(
            NoticeEvent(
                notice_id=notice.id,
                kind="published",
                version=1,
                occurred_at=now - timedelta(hours=1),
                recorded_at=now,
                detail=values["title"],
            )
        )
    return notice


def read_feed(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.text[:500]
    etree.fromstring(response.content)  # strict XML readers
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


def read_calendar(client):
    response = client.get(CALENDAR)
    assert response.status_code == 200, response.text[:500]
    (event,) = Calendar.from_ical(response.content).walk("VEVENT")
    (second,) = vobject.readOne(response.content.decode()).vevent_list  # an independent parser agrees
    return event, second


def assert_every_output_renders(client):
    for path in FEEDS:
        assert read_feed(client, path).entries
    read_calendar(client)


def test_noncharacters_in_the_expected_end_leave_every_feed_readable(ctx, client):
    insert_row(ctx, expected_end="approximately Q3\ufffe 2027\uffff")
    for path in FEEDS[:2]:
        (entry,) = read_feed(client, path).entries
        assert "until further notice (expected approximately Q3 2027)" in entry.content[0].value
    event, second = read_calendar(client)
    assert "approximately Q3 2027" in str(event["description"])
    assert "approximately Q3 2027" in second.description.value


def test_c0_controls_in_every_text_field_leave_every_feed_readable(ctx, client):
    controls = "\x01\x02\x08\x0b\x0c\x1b\x1f"
    insert_row(
        ctx,
        title=f"Plesmanlaan{controls} closed",
        summary=f"Follow{controls} the diversion.",
        body=f"Use the{controls} Einsteinweg.",
        location_detail=f"north{controls} side",
        expected_end=f"Q3{controls} 2027",
    )
    assert_every_output_renders(client)
    (entry,) = read_feed(client, "/feeds/notices.atom").entries
    assert "Plesmanlaan closed" in entry.title


def test_a_nul_byte_in_the_text_leaves_every_feed_readable(ctx, client):
    try:
        insert_row(ctx, title="Plesmanlaan\x00 closed", summary="Follow\x00 the diversion.", expected_end="Q3\x00 2027")
    except (ValueError, StatementError) as refused:
        # PostgreSQL cannot hold a NUL in text at all: no such row can exist there.
        assert ctx.db.dialect == "postgresql", refused
        return
    assert_every_output_renders(client)


def test_noncharacters_spelled_as_character_references_in_the_body_leave_every_feed_readable(ctx, client):
    # The Markdown body may carry raw HTML; the sanitiser turns &#xFFFE; into the character itself.
    insert_row(ctx, body="Before &#xFFFE;&#xFFFF;&#1;&#x1F; after")
    assert_every_output_renders(client)
    (entry,) = read_feed(client, "/feeds/notices.atom").entries
    assert "Before  after" in entry.content[0].value


@pytest.mark.parametrize("path", ["/feeds/notices.atom", "/feeds/notices.rss"])
def test_bidi_controls_cannot_reverse_a_feed_title(ctx, client, path):
    insert_row(
        ctx, title=f"Plesmanlaan {BIDI}closed", summary=f"Follow {BIDI}the diversion.", expected_end=f"Q3 {BIDI}2027"
    )
    (entry,) = read_feed(client, path).entries
    assert entry.title.startswith("Road closure: Plesmanlaan closed (until further notice")
    assert not set(BIDI) & set(entry.title + entry.summary + entry.content[0].value)


def test_bidi_controls_cannot_reverse_a_calendar_summary(ctx, client):
    insert_row(
        ctx, title=f"Plesmanlaan {BIDI}closed", body=f"Use the {BIDI}Einsteinweg.", location_detail=f"north {BIDI}side"
    )
    event, second = read_calendar(client)
    assert str(event["summary"]).startswith("Road closure: Plesmanlaan closed")
    for text in (str(event["summary"]), str(event["description"]), str(event["location"]), second.summary.value):
        assert not set(BIDI) & set(text)


def test_bidi_controls_in_an_event_note_are_removed(ctx, clock, client):
    notice = insert_row(ctx)
    with ctx.db.writing() as session, session.begin():
        session.add(
            NoticeEvent(
                notice_id=notice.id,
                kind="updated",
                version=2,
                occurred_at=clock.now(),
                recorded_at=clock.now(),
                detail=f"closure {BIDI}extended",
            )
        )
    entries = read_feed(client, "/feeds/events.atom").entries
    assert "closure extended" in entries[0].content[0].value


def test_a_one_megabyte_word_leaves_every_feed_readable(ctx, client):
    insert_row(ctx, body=MEGABYTE_WORD, location_detail=MEGABYTE_WORD)
    assert_every_output_renders(client)


@pytest.mark.parametrize(
    "starts_at",
    [
        datetime(9999, 12, 30, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
    ],
)
def test_a_start_at_either_end_of_the_calendar_leaves_every_output_readable(ctx, clock, client, starts_at):
    insert_row(ctx, publish_at=clock.now() - timedelta(days=1), starts_at=starts_at)
    assert_every_output_renders(client)


def test_an_end_at_the_last_representable_instant_leaves_every_output_readable(ctx, clock, client):
    insert_row(ctx, ends_at=datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), expected_end="")
    assert_every_output_renders(client)


def test_the_static_export_writes_every_file_for_a_poisoned_row(ctx, clock, tmp_path):
    insert_row(
        ctx,
        title="Plesmanlaan \u202eclosed",
        expected_end="Q3\ufffe 2027",
        starts_at=datetime(9999, 12, 30, tzinfo=UTC),
    )
    counts = jobs.export_feeds(ctx, now=clock.now(), directory=tmp_path)
    assert counts["written"] == len(exported_files(ctx.settings))  # every feed in every language
    for path in FEEDS:
        assert feedparser.parse((tmp_path / path.lstrip("/")).read_bytes()).entries
    assert Calendar.from_ical((tmp_path / CALENDAR.lstrip("/")).read_bytes()).walk("VEVENT")


def test_a_row_no_renderer_foresaw_costs_its_own_entry_and_the_export_names_it(ctx, clock, client, tmp_path):
    good = insert_row(ctx, title="Einsteinweg closed")
    bad = insert_row(ctx, title="Broken row", locations=42)  # not a list: a hand edit, an old version
    for path in FEEDS:
        titles = [entry.title for entry in read_feed(client, path).entries]
        assert any("Einsteinweg closed" in title for title in titles) and not any("Broken row" in t for t in titles)
    calendar = Calendar.from_ical(client.get(CALENDAR).content)
    assert [str(event["uid"]) for event in calendar.walk("VEVENT")] == [f"{good.uid}@notices"]
    with pytest.raises(
        PartialFailure, match=f"export-feeds: 2 failed: event published of notice {bad.uid}.*; notice {bad.uid}"
    ) as failure:
        jobs.export_feeds(ctx, now=clock.now(), directory=tmp_path)
    # Every file is there (every feed in every language), without the broken entry.
    assert failure.value.counts["written"] == len(exported_files(ctx.settings))
    assert "Einsteinweg closed" in (tmp_path / "feeds" / "notices.atom").read_text()


def unsaved_notice(ctx, **columns) -> Notice:
    now = ctx.clock.now()
    return Notice(
        **{
            "uid": str(uuid.uuid4()),
            "title": "Plesmanlaan closed",
            "summary": "",
            "body": "",
            "category": "road-closure",
            "severity": "major",
            "locations": ["plesmanlaan"],
            "location_detail": "",
            "publish_at": now - timedelta(days=1),
            "starts_at": now - timedelta(hours=1),
            "ends_at": None,
            "expected_end": "",
            "version": 1,
            "cancelled_at": None,
            "cancel_reason": "",
            "created_at": now,
            "updated_at": now,
        }
        | columns
    )


def test_lone_surrogates_no_database_can_hold_still_render(ctx, clock):
    # Neither SQLite nor PostgreSQL stores them, but a notice built in memory
    # (the preview) reaches the same renderers.
    notice = unsaved_notice(ctx, title="Plesmanlaan \ud800closed", summary="a\udfffb", expected_end="Q3 \udc00 2027")
    settings = ctx.settings
    entries = keyed_entries([notice], settings=settings, fmt="atom", now=clock.now(), language=None, fragments=None)
    body = build_feed(
        entries,
        settings=settings,
        fmt="atom",
        self_url=settings.absolute_url("/feeds/notices.atom"),
        updated=None,
        now=clock.now(),
    )
    (entry,) = feedparser.parse(body).entries
    assert "Plesmanlaan closed" in entry.title
    (event,) = Calendar.from_ical(build_calendar([notice], settings=settings, now=clock.now())).walk("VEVENT")
    assert "Plesmanlaan closed" in str(event["summary"])


@pytest.mark.parametrize("page", ["/", "/notices/{uid}"])
def test_pages_show_a_start_at_the_last_representable_instant(ctx, client, page):
    notice = insert_row(ctx, starts_at=datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
    assert client.get(page.format(uid=notice.uid)).status_code == 200
