"""The dashboard's outbox chart: the last 24 hours of deliveries per site-time hour, next to today's counts."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from playwright.sync_api import expect

from notices.mail import outbox
from tests.factories import add_user
from tests.outbox_samples import add_outcomes
from tests.web.test_console import log_in

# The test clock says 2026-11-28 09:00 UTC: 10:00 in Amsterdam. The 07:00 digest went out at 06:00 UTC.
DIGEST_HOUR = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
SEEDED = [
    ("sent", DIGEST_HOUR + timedelta(seconds=30), 120),
    ("retried", DIGEST_HOUR + timedelta(minutes=10), 3),
    ("failed", DIGEST_HOUR + timedelta(minutes=59, seconds=59), 2),
    ("expired", datetime(2026, 11, 28, 2, 0, tzinfo=UTC), 1),  # 03:00 site time
    ("sent", datetime(2026, 11, 27, 12, 0, tzinfo=UTC), 5),  # yesterday 13:00: in the chart, not today
    ("sent", datetime(2026, 11, 27, 9, 59, tzinfo=UTC), 7),  # yesterday 10:59: older than the chart
    ("sent", datetime(2026, 11, 28, 9, 0, tzinfo=UTC), 1),  # this very hour, 10:00
]


@pytest.fixture
def seeded(ctx):
    add_outcomes(ctx, SEEDED)
    return ctx


def test_outcomes_are_counted_per_site_time_hour_for_the_last_24_hours(seeded):
    zone = seeded.settings.timezone
    with seeded.db.session() as session:
        hours = outbox.hourly_outcomes(session, now=seeded.clock.now(), zone=zone)
    assert len(hours) == 24
    assert [hour.start.strftime("%d %H:%M") for hour in (hours[0], hours[-1])] == ["27 11:00", "28 10:00"]
    by_hour = {hour.start.strftime("%d %H"): hour.counts for hour in hours}
    assert by_hour["28 07"] == {"sent": 120, "retried": 3, "failed": 2, "expired": 0}
    assert by_hour["28 03"] == {"sent": 0, "retried": 0, "failed": 0, "expired": 1}
    assert by_hour["27 13"]["sent"] == 5 and by_hour["28 10"]["sent"] == 1
    assert sum(sum(hour.counts.values()) for hour in hours) == 120 + 3 + 2 + 1 + 5 + 1  # not the 7 older ones


def test_hours_are_the_sites_wall_clock_hours_also_with_a_half_hour_offset(seeded):
    kolkata = ZoneInfo("Asia/Kolkata")  # UTC+05:30: its hours start at :30 UTC
    with seeded.db.session() as session:
        hours = outbox.hourly_outcomes(session, now=seeded.clock.now(), zone=kolkata)
    by_hour = {hour.start.strftime("%H:%M"): hour.counts for hour in hours}
    # 06:00:30 and 06:10 UTC are 11:30 and 11:40 there; 06:59:59 UTC is 12:29:59, the next hour.
    assert by_hour["11:00"] == {"sent": 120, "retried": 3, "failed": 0, "expired": 0}
    assert by_hour["12:00"] == {"sent": 0, "retried": 0, "failed": 2, "expired": 0}


def test_a_delivery_once_sent_counts_as_sent_in_the_hour_it_went(ctx, clock):
    """The sender records when each outcome happened: a retry, then the send an hour later."""
    add_outcomes(ctx, [("retried", clock.now() - timedelta(hours=2), 1)])
    with ctx.db.writing() as session, session.begin():
        claim = outbox.claim_batch(ctx.db, now=clock.now(), limit=10, lease=timedelta(minutes=5))[0]
        outbox.mark_sent(session, claim, now=clock.now(), message_id="<m@x>", reply="250 ok")
    with ctx.db.session() as session:
        hours = outbox.hourly_outcomes(session, now=clock.now(), zone=ctx.settings.timezone)
    assert hours[-1].counts == {"sent": 1, "retried": 0, "failed": 0, "expired": 0}
    assert sum(hour.counts["retried"] for hour in hours) == 0


@pytest.fixture
def manager(app, seeded):
    add_user(seeded, "manager@example.org")
    with TestClient(app) as client:
        assert log_in(client).status_code == 303
        yield client


def test_the_dashboard_draws_a_bar_per_hour_with_todays_counts_beside_it(manager):
    html = etree.HTML(manager.get("/admin").text)
    chart = html.xpath('//svg[@id="outbox-chart"]')[0]
    assert chart.get("role") == "img"
    assert chart.xpath("./title")[0].text and chart.xpath("./desc")[0].text
    hours = chart.xpath('./g[@class="hour"]')
    assert len(hours) == 24
    digest = chart.xpath('./g[@data-hour="07:00"]')[0]
    counts = {rect.get("data-outcome"): int(rect.get("data-count")) for rect in digest.xpath("./rect[@data-outcome]")}
    assert counts == {"sent": 120, "retried": 3, "failed": 2}
    tallest = max(float(rect.get("height")) for rect in chart.xpath(".//rect[@data-outcome]"))
    assert float(digest.xpath('./rect[@data-outcome="sent"]')[0].get("height")) == tallest
    quiet = chart.xpath('./g[@data-hour="05:00"]')[0]
    assert quiet.get("data-total") == "0" and not quiet.xpath("./rect[@data-outcome]")
    today = html.xpath('//p[@id="outbox-today"]')[0]
    # Today (site time) began at 00:00: the 13:00 of yesterday is not in it.
    assert "".join(today.itertext()).split(":", 1)[1].split() == [
        "121", "sent,", "3", "retried,", "2", "failed,", "1", "expired."
    ]  # fmt: skip
    row = html.xpath('//table[@id="outbox-table"]//tr[th/time[@datetime="2026-11-28T07:00:00+01:00"]]')[0]
    assert [cell.text for cell in row.xpath("./td")] == ["120", "3", "2", "0"]


def test_an_empty_outbox_draws_an_empty_chart(app, ctx):
    add_user(ctx, "manager@example.org")
    with TestClient(app) as client:
        log_in(client)
        html = etree.HTML(client.get("/admin").text)
    assert len(html.xpath('//svg[@id="outbox-chart"]/g[@class="hour"]')) == 24
    assert not html.xpath('//svg[@id="outbox-chart"]//rect[@data-outcome]')


def test_the_chart_renders_in_a_browser_with_the_digest_hour_tallest(seeded, page):
    add_user(seeded, "manager@example.org", password="correct horse battery")
    page.goto("/admin")
    page.get_by_label("Email").fill("manager@example.org")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    chart = page.get_by_role("img", name="Emails per hour, last 24 hours")
    expect(chart).to_be_visible()
    digest = page.locator('#outbox-chart g[data-hour="07:00"] rect[data-outcome="sent"]').bounding_box()
    evening = page.locator('#outbox-chart g[data-hour="13:00"] rect[data-outcome="sent"]').bounding_box()
    failed = page.locator('#outbox-chart g[data-hour="07:00"] rect[data-outcome="failed"]').bounding_box()
    assert digest and evening and failed
    assert digest["height"] > 10 * evening["height"] > 0
    assert failed["y"] + failed["height"] <= digest["y"] + 0.5  # stacked on top of the sent ones
    assert abs(digest["x"] - failed["x"]) < 0.5
    page.get_by_text("The same as a table").click()
    expect(page.locator("#outbox-table")).to_be_visible()
