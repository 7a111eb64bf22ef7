"""CAP 1.2: every document valid against the OASIS schema, parsed back with cap-tools (xsdata)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest
from cap_tools import Alert, MsgType
from lxml import etree
from shapely.geometry import Polygon, shape
from xsdata.formats.dataclass.parsers import XmlParser

from notices.notice import store
from notices.notice.validation import parse_changes
from tests.factories import add_notice
from tests.feeds.geo_samples import CLOSURE, CLOSURE_WITH_DIVERSION, WORKS_AREA

ZONE = ZoneInfo("Europe/Amsterdam")
SCHEMA = etree.XMLSchema(etree.parse(str(Path(__file__).parent / "schemas" / "CAP-v1.2.xsd")))


def read_cap(client, uid) -> tuple[Alert, etree._Element, object]:
    response = client.get(f"/cap/{uid}.xml")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/cap+xml")
    document = etree.fromstring(response.content)
    SCHEMA.assertValid(document)
    return XmlParser().from_bytes(response.content, Alert), document, response


def change(ctx, uid, note="changed", **values):
    with ctx.db.writing() as session, session.begin():
        notice = store.get_notice(session, uid)
        fields = parse_changes(values, current=store.fields_of(notice), settings=ctx.settings, now=ctx.clock.now())
        store.update_notice(session, notice, fields, note=note, now=ctx.clock.now(), author="test")


def cancel(ctx, uid, reason):
    with ctx.db.writing() as session, session.begin():
        store.cancel_notice(session, store.get_notice(session, uid), reason=reason, now=ctx.clock.now(), author="t")


def test_a_closure_is_an_alert_in_each_language_with_its_area(ctx, client):
    notice = add_notice(ctx, geometry=CLOSURE_WITH_DIVERSION, ends_at=None, starts_at=ctx.clock.now())
    alert, _, _ = read_cap(client, notice.uid)
    assert alert.msg_type is MsgType.ALERT
    assert (alert.status.value, alert.scope.value, alert.sender) == ("Actual", "Public", ctx.settings.mail_from)
    assert [info.language for info in alert.infos] == ["en", "nl"]
    english = alert.infos[0]
    assert [category.value for category in english.categories] == ["Transport"]
    assert (english.urgency.value, english.severity.value, english.certainty.value) == (
        "Immediate",
        "Moderate",
        "Observed",
    )
    assert english.expires is None  # until further notice
    assert english.web == f"{ctx.settings.base_url}/notices/{notice.uid}"
    assert english.instruction.endswith(f"/notices/{notice.uid}#map")
    (area,) = english.areas
    assert area.area_desc == "Plesmanlaan"
    (polygon,) = area.polygons  # the closed line, buffered; the diversion is not the affected area
    pairs = [tuple(float(number) for number in pair.split(",")) for pair in polygon.split()]
    outline = Polygon([(lon, lat) for lat, lon in pairs])  # CAP writes latitude first
    assert pairs[0] == pairs[-1] and outline.is_valid
    closed = shape({"type": "LineString", "coordinates": CLOSURE})
    assert outline.contains(closed) and outline.area < closed.length * 0.001


def test_an_upcoming_notice_with_an_end_is_future_and_expires(ctx, client):
    notice = add_notice(
        ctx, category="construction", severity="critical", geometry={"type": "Polygon", "coordinates": WORKS_AREA}
    )
    alert, document, _ = read_cap(client, notice.uid)
    info = alert.infos[0]
    assert (info.urgency.value, info.severity.value, info.certainty.value) == ("Future", "Severe", "Likely")
    assert info.expires is not None and info.onset is not None
    assert [category.value for category in info.categories] == ["Infra"]
    assert len(info.areas[0].polygons) == 1


def test_a_point_becomes_a_circle(ctx, client):
    notice = add_notice(ctx, locations=["station-leiden-centraal"], category="traffic")
    alert, _, _ = read_cap(client, notice.uid)
    (circle,) = alert.infos[0].areas[0].circles
    assert circle == "52.166300,4.481700 0.05"


def test_each_version_is_a_message_that_references_the_earlier_ones(ctx, client, clock):
    notice = add_notice(ctx, geometry=CLOSURE_WITH_DIVERSION)
    first, _, first_response = read_cap(client, notice.uid)
    clock.advance(timedelta(minutes=5))
    change(ctx, notice.uid, geometry={"type": "LineString", "coordinates": CLOSURE[:2]}, note="shorter closure")
    second, _, second_response = read_cap(client, notice.uid)
    assert second.msg_type is MsgType.UPDATE and second.identifier != first.identifier
    assert second.references == f"{first.sender},{first.identifier},{first.sent}"
    assert second_response.headers["etag"] != first_response.headers["etag"]
    clock.advance(timedelta(minutes=5))
    cancel(ctx, notice.uid, "works postponed")
    third, document, _ = read_cap(client, notice.uid)
    assert third.msg_type is MsgType.CANCEL and third.note == "works postponed"
    assert third.references.split() == [
        f"{first.sender},{first.identifier},{first.sent}",
        f"{second.sender},{second.identifier},{second.sent}",
    ]


def test_the_same_version_is_the_same_message_and_304s(ctx, client, clock):
    notice = add_notice(ctx)
    _, _, response = read_cap(client, notice.uid)
    clock.advance(timedelta(hours=3))  # the notice started meanwhile
    again = client.get(f"/cap/{notice.uid}.xml")
    assert again.content == response.content
    cached = client.get(f"/cap/{notice.uid}.xml", headers={"if-none-match": response.headers["etag"]})
    assert (cached.status_code, cached.content) == (304, b"")


def test_drafts_unknown_and_malformed_names_are_404(ctx, client):
    draft = add_notice(ctx, draft=True)
    for path in (f"/cap/{draft.uid}.xml", "/cap/00000000-0000-0000-0000-000000000000.xml", f"/cap/{draft.uid}"):
        assert client.get(path).status_code == 404


def test_hostile_text_still_validates(ctx, client):
    notice = add_notice(ctx, title="A" * 180 + " <alert> & \u202e", summary="bidi \u202e and \x0b control")
    alert, _, _ = read_cap(client, notice.uid)
    assert len(alert.infos[0].headline) <= 160


@pytest.mark.parametrize("query", ["", "?category=road-closure"])
def test_the_atom_index_links_every_current_message(ctx, client, query):
    road = add_notice(ctx, geometry=CLOSURE_WITH_DIVERSION)
    add_notice(ctx, category="event", severity="info")
    cancelled = add_notice(ctx, starts_at=ctx.clock.now())
    cancel(ctx, cancelled.uid, "called off")
    add_notice(ctx, draft=True)
    response = client.get("/feeds/cap.atom" + query)
    assert response.status_code == 200
    feed = feedparser.parse(response.content)
    assert feed.bozo == 0 and feed.version == "atom10"
    links = {link.href: link.type for entry in feed.entries for link in entry.links if link.rel == "alternate"}
    uids = {href.rsplit("/", 1)[1].removesuffix(".xml") for href in links}
    assert {road.uid, cancelled.uid} <= uids and set(links.values()) == {"application/cap+xml"}
    assert len(uids) == (2 if query else 3)  # the event is not a road closure; the draft is never there
    for href in links:
        alert, _, _ = read_cap(client, href.rsplit("/", 1)[1].removesuffix(".xml"))
        assert any(entry.id == alert.identifier for entry in feed.entries)


def test_a_series_message_follows_its_occurrences_with_a_new_identifier_at_each_boundary(ctx, client, clock):
    # Tuesdays 07:00–09:00 local from 1 December 2026 (the clock: Saturday 28 November 10:00 local).
    notice = add_notice(
        ctx,
        starts_at="2026-12-01T07:00",
        ends_at=None,
        recurrence="FREQ=WEEKLY;BYDAY=TU;COUNT=3",
        occurrence_minutes=120,
    )
    first, _, first_response = read_cap(client, notice.uid)
    assert first.msg_type is MsgType.ALERT
    assert (str(first.infos[0].onset), str(first.infos[0].expires)) == (
        "2026-12-01T07:00:00+01:00",
        "2026-12-01T09:00:00+01:00",
    )
    assert first.infos[0].urgency.value == "Future"
    # The first occurrence is under way: an Update saying so, sent at its start.
    clock.set(datetime(2026, 12, 1, 7, 30, tzinfo=ZONE).astimezone(UTC))
    under_way, _, under_way_response = read_cap(client, notice.uid)
    assert under_way.msg_type is MsgType.UPDATE and under_way.identifier != first.identifier
    assert str(under_way.sent) == "2026-12-01T07:00:00+01:00"
    assert under_way.references == f"{first.sender},{first.identifier},{first.sent}"
    assert (under_way.infos[0].urgency.value, under_way.infos[0].certainty.value) == ("Immediate", "Observed")
    assert under_way_response.headers["etag"] != first_response.headers["etag"]
    # Over: the next Tuesday is the onset; the message supersedes the one before.
    clock.set(datetime(2026, 12, 2, 12, tzinfo=ZONE).astimezone(UTC))
    over, _, over_response = read_cap(client, notice.uid)
    assert (str(over.infos[0].onset), str(over.infos[0].expires)) == (
        "2026-12-08T07:00:00+01:00",
        "2026-12-08T09:00:00+01:00",
    )
    assert over.infos[0].urgency.value == "Future"
    assert over.references.split() == [
        f"{first.sender},{first.identifier},{first.sent}",
        f"{under_way.sender},{under_way.identifier},{under_way.sent}",
    ]
    # The same boundary is the same message: a day later, still the same bytes, and a 304.
    clock.set(datetime(2026, 12, 3, 12, tzinfo=ZONE).astimezone(UTC))
    again = client.get(f"/cap/{notice.uid}.xml")
    assert again.content == over_response.content
    cached = client.get(f"/cap/{notice.uid}.xml", headers={"if-none-match": over_response.headers["etag"]})
    assert cached.status_code == 304
    # The index links the message hubs should fetch now: its entry is the boundary's message.
    index = feedparser.parse(client.get("/feeds/cap.atom").content)
    assert [entry.id for entry in index.entries] == [over.identifier]


def test_the_cap_index_reads_revisions_in_one_query_not_one_per_notice(ctx):
    from sqlalchemy import event

    from notices.feeds.catalog import render_feed
    from notices.notice.lifecycle import Filters

    def selects_and_entries() -> tuple[int, int]:
        selects: list[str] = []

        def count_select(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001 - SQLAlchemy's hook
            if statement.lstrip().upper().startswith("SELECT"):
                selects.append(statement)

        event.listen(ctx.db.engine, "before_cursor_execute", count_select)
        try:
            body = render_feed(ctx, "/feeds/cap.atom", Filters(), "", ctx.clock.now()).body
        finally:
            event.remove(ctx.db.engine, "before_cursor_execute", count_select)
        return len(selects), len(feedparser.parse(body).entries)

    uids = [add_notice(ctx, title=f"Works {index}").uid for index in range(3)]
    change(ctx, uids[1], summary="Second version")  # a notice with two messages
    few = selects_and_entries()
    for index in range(20):
        add_notice(ctx, title=f"More works {index}")
    many = selects_and_entries()
    assert (few[1], many[1]) == (3, 23)
    assert many[0] == few[0]  # as many queries for 23 notices as for 3
