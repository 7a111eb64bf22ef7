"""A recurring notice in the feeds: one entry per series saying when the next occurrence is, in
feed order by that occurrence, with bytes (and ETag) that change only at occurrence boundaries;
occurrence events only when configured; GeoJSON, closures.json and CAP at the current or next occurrence."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from lxml import etree

from notices.core.models import NoticeEvent
from notices.feeds import catalog
from notices.notice import store
from notices.notice.lifecycle import NO_FILTERS
from tests.factories import add_notice
from tests.feeds.geo_samples import CLOSURE
from tests.webclient import parse_feed

ZONE = ZoneInfo("Europe/Amsterdam")
CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


def first_tuesdays(ctx, **extra):
    """Every first Tuesday 07:00-09:00 from 1 December 2026 (the clock says 28 November) to June 2027."""
    return add_notice(
        ctx,
        starts_at=local(2026, 12, 1, 7),
        ends_at=None,
        recurrence="FREQ=MONTHLY;BYDAY=1TU;UNTIL=20270630",
        occurrence_minutes=120,
        **extra,
    )


def test_the_entry_title_names_the_next_occurrence_in_the_readers_language(ctx, client):
    notice = first_tuesdays(ctx)
    (entry,) = parse_feed(client.get("/feeds/notices.atom")).entries
    assert entry.title == "Road closure: Plesmanlaan closed (next Tue 1 Dec 07:00)"
    assert "every first Tuesday, 07:00–09:00, until 30 June 2027" in entry.content[0].value
    assert "every first Tuesday, 07:00–09:00, until 30 June 2027" in entry.summary
    (dutch,) = parse_feed(client.get("/feeds/notices.atom?lang=nl")).entries
    assert dutch.title.endswith("(volgende di 1 dec 07:00)")
    assert "elke eerste dinsdag, 07:00–09:00, tot en met 30 juni 2027" in dutch.content[0].value
    assert entry.link.endswith(f"/notices/{notice.uid}")


def test_the_phrase_moves_on_at_each_occurrence_boundary_and_only_there(ctx, clock):
    first_tuesdays(ctx)

    def rendered(now):
        return catalog.render_feed(ctx, "/feeds/notices.atom", NO_FILTERS, "", now)

    before = rendered(local(2026, 11, 29, 12))
    assert before.valid_until == local(2026, 12, 1, 7)  # the first occurrence starts
    assert rendered(local(2026, 11, 30, 23)).body == before.body  # same bytes: same ETag
    during = rendered(local(2026, 12, 1, 8))
    assert b"until Tue 1 Dec 09:00" in during.body
    assert during.valid_until == local(2026, 12, 1, 9)
    assert during.last_modified == local(2026, 12, 1, 7)
    after = rendered(local(2026, 12, 1, 10))
    assert b"next Tue 5 Jan 2027 07:00" in after.body
    assert after.last_modified == local(2026, 12, 1, 9)
    assert after.valid_until == local(2027, 1, 5, 7)
    assert rendered(local(2026, 12, 20)).body == after.body
    # The entry's <updated> is the notice's, not the boundary's: readers do not see it as edited.
    assert parse_feed_bytes(after.body).entries[0].updated == parse_feed_bytes(before.body).entries[0].updated


def parse_feed_bytes(body: bytes):
    import feedparser

    return feedparser.parse(body)


def test_series_are_ordered_by_their_current_or_next_occurrence(ctx, clock):
    now = clock.now()
    # A daily series that began a week ago: its next occurrence is tomorrow 22:00.
    nightly = add_notice(
        ctx,
        now=now - timedelta(days=8),
        title="Night works",
        starts_at=local(2026, 11, 21, 22),
        ends_at=None,
        recurrence="FREQ=DAILY",
        occurrence_minutes=60,
    )
    soon = add_notice(ctx, title="Soon", starts_at=local(2026, 11, 28, 20), ends_at=local(2026, 11, 28, 21))
    later = add_notice(ctx, title="Later", starts_at=local(2026, 11, 29, 12), ends_at=local(2026, 11, 29, 13))
    body = catalog.render_feed(ctx, "/feeds/notices.atom", NO_FILTERS, "", now).body
    titles = [entry.title.split(" (")[0] for entry in parse_feed_bytes(body).entries]
    # 28 November 10:00: Soon (20:00 today), Night works (22:00 today), Later (tomorrow).
    assert titles == [f"Road closure: {n.title}" for n in (soon, nightly, later)]


def add_event(ctx, uid: str, kind: str, occurrence: str, occurred_at: datetime) -> None:
    with ctx.db.session() as session, session.begin():
        notice = store.get_notice(session, uid)
        session.add(
            NoticeEvent(
                notice_id=notice.id,
                kind=kind,
                version=notice.version,
                occurrence=occurrence,
                occurred_at=occurred_at,
                recorded_at=occurred_at,
                detail="",
            )
        )


def test_occurrence_events_are_in_the_event_feed_only_when_configured(ctx, clock):
    notice = first_tuesdays(ctx)
    add_event(ctx, notice.uid, "published", "", clock.now())
    add_event(ctx, notice.uid, "started", "20261201T060000Z", local(2026, 12, 1, 7))
    add_event(ctx, notice.uid, "ended", "20261201T060000Z", local(2026, 12, 1, 9))
    now = local(2026, 12, 1, 10)

    def titles(context):
        body = catalog.render_feed(context, "/feeds/events.atom", NO_FILTERS, "", now).body
        return [entry.title for entry in parse_feed_bytes(body).entries]

    assert [title.split(":")[0] for title in titles(ctx)] == ["New"]
    configured = dataclasses.replace(ctx, settings=dataclasses.replace(ctx.settings, feed_occurrence_events=True))
    assert titles(configured) == [
        "Now in effect: Road closure: Plesmanlaan closed (Tue 1 Dec 07:00–09:00)",
        "New: Road closure: Plesmanlaan closed",
    ]


def test_geojson_closures_and_cap_use_the_current_or_next_occurrence(ctx, client, clock):
    notice = first_tuesdays(ctx, geometry={"type": "LineString", "coordinates": CLOSURE})
    (feature, *_) = json.loads(client.get("/feeds/notices.geojson").content)["features"]
    assert (feature["properties"]["starts"], feature["properties"]["ends"]) == (
        "2026-12-01T07:00:00+01:00",
        "2026-12-01T09:00:00+01:00",
    )
    (incident,) = json.loads(client.get("/feeds/closures.json").content)["incidents"]
    assert (incident["starttime"], incident["endtime"]) == ("2026-12-01T07:00:00+01:00", "2026-12-01T09:00:00+01:00")
    document = etree.fromstring(client.get(f"/cap/{notice.uid}.xml").content)
    info = document.find(f"{CAP}info")
    assert info.findtext(f"{CAP}onset") == "2026-12-01T07:00:00+01:00"
    assert info.findtext(f"{CAP}expires") == "2026-12-01T09:00:00+01:00"
    assert "every first Tuesday" in info.findtext(f"{CAP}description")
    # After the first occurrence the feeds move on to the next (CAP too, as a new message: see test_cap).
    clock.set(local(2026, 12, 2))
    (feature, *_) = json.loads(client.get("/feeds/notices.geojson").content)["features"]
    assert feature["properties"]["starts"] == "2027-01-05T07:00:00+01:00"
