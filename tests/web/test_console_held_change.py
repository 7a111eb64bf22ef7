"""A change waiting for approval, beside the published notice on its console page: every field,
the changed ones marked, in a table with headers (no script needed)."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from tests.approval_staff import approval_settings, staff_per_role, tokens_per_email  # noqa: F401 (fixtures)
from tests.factories import add_notice
from tests.web.test_console import log_in


@pytest.fixture
def approver(app, staff):
    with TestClient(app) as client:
        assert log_in(client, "approver@example.org").status_code == 303
        yield client


def hold_a_change(client, tokens, uid: str, **changes) -> None:
    held = client.patch(
        f"/api/v1/notices/{uid}", json={"note": "closure extended", **changes}, headers=tokens["editor@example.org"]
    )
    assert held.status_code == 202, held.text


def table_of(html: str) -> dict[str, dict[str, str]]:
    """The held change's rows by field: the row header, the two values and the marker, as text."""
    (table,) = etree.HTML(html).xpath('//table[@id="held-change-table"]')
    found = {}
    for row in table.xpath("./tbody/tr"):
        (header,) = row.xpath("./th")
        cells = [" ".join("".join(cell.itertext()).split()) for cell in row.xpath("./td")]
        found[row.get("data-field")] = {
            "header": " ".join("".join(header.itertext()).split()),
            "published": cells[0],
            "proposed": cells[1],
            "marker": cells[2],
            "class": row.get("class") or "",
        }
    return found


def test_the_approver_sees_the_published_and_the_proposed_version_field_by_field(ctx, client, tokens, approver):
    notice = add_notice(ctx, title={"en": "Plesmanlaan closed", "nl": "Plesmanlaan dicht"})
    hold_a_change(
        client,
        tokens,
        notice.uid,
        ends_at=(notice.ends_at + timedelta(days=14)).isoformat(),
        title={"nl": "Plesmanlaan afgesloten"},
    )
    html = approver.get(f"/admin/notices/{notice.uid}").text
    rows = table_of(html)
    changed = {field for field, row in rows.items() if row["marker"] == "changed"}
    assert changed == {"title.nl", "ends_at"}
    assert {field for field, row in rows.items() if "changed" in row["class"]} == changed
    assert rows["title.nl"] | {"class": ""} == {
        "header": "Title (Nederlands)",
        "published": "Plesmanlaan dicht",
        "proposed": "Plesmanlaan afgesloten",
        "marker": "changed",
        "class": "",
    }
    zone = ctx.settings.timezone
    assert etree.HTML(html).xpath('//tr[@data-field="ends_at"]/td/time/@datetime') == [
        notice.ends_at.astimezone(zone).isoformat(timespec="seconds"),
        (notice.ends_at + timedelta(days=14)).astimezone(zone).isoformat(timespec="seconds"),
    ]
    assert rows["title"] == {
        "header": "Title (English)",
        "published": "Plesmanlaan closed",
        "proposed": "Plesmanlaan closed",
        "marker": "same",
        "class": "",
    }
    # Every text field in every language, and the times, places and kind of notice.
    assert set(rows) >= {
        "title",
        "summary",
        "body",
        "location_detail",
        "expected_end",
        "title.nl",
        "body.nl",
        "category",
        "severity",
        "locations",
        "starts_at",
        "ends_at",
        "publish_at",
    }
    assert rows["locations"]["published"] == rows["locations"]["proposed"] == "Plesmanlaan"
    page = etree.HTML(html)
    assert page.xpath('//table[@id="held-change-table"]/thead//th/@scope') == ["col"] * 4
    assert set(page.xpath('//table[@id="held-change-table"]/tbody//th/@scope')) == {"row"}
    assert page.xpath('//table[@id="held-change-table"]/caption/text()') == ["Published and proposed, field by field"]
    # A Dutch text says it is Dutch, for screen readers.
    assert page.xpath('//tr[@data-field="title.nl"]/td/span[@lang="nl"]/text()') == [
        "Plesmanlaan dicht",
        "Plesmanlaan afgesloten",
    ]
    assert page.xpath('//*[@id="held-change-summary"]/text()') == ["2 fields change."]


def test_the_comparison_speaks_the_page_language(ctx, client, tokens, approver):
    notice = add_notice(ctx)
    hold_a_change(client, tokens, notice.uid, severity="critical")
    rows = table_of(approver.get(f"/admin/notices/{notice.uid}?lang=nl").text)
    assert rows["severity"]["marker"] == "gewijzigd"
    assert rows["title"]["header"] == "Titel (English)"


def test_a_series_shows_its_rule_beside_the_proposed_one(ctx, client, tokens, approver):
    notice = add_notice(
        ctx, recurrence="FREQ=WEEKLY;COUNT=4", occurrence_minutes=120, ends_at=None, title="Market on P3"
    )
    hold_a_change(client, tokens, notice.uid, recurrence="FREQ=WEEKLY;COUNT=6")
    rows = table_of(approver.get(f"/admin/notices/{notice.uid}").text)
    assert (rows["recurrence"]["published"], rows["recurrence"]["proposed"]) == (
        "FREQ=WEEKLY;COUNT=4",
        "FREQ=WEEKLY;COUNT=6",
    )
    assert rows["recurrence"]["marker"] == "changed"
    assert rows["occurrence_minutes"]["marker"] == "same"


def test_no_comparison_without_a_waiting_change(ctx, client, tokens, approver):
    notice = add_notice(ctx)
    assert not etree.HTML(approver.get(f"/admin/notices/{notice.uid}").text).xpath('//*[@id="held-change"]')
    # A first publication waiting for approval has nothing published to compare with.
    draft = client.post(
        "/api/v1/notices",
        json={"title": "Gas main", "category": "road-closure", "severity": "critical", "starts_at": "+1h"},
        headers=tokens["editor@example.org"],
    ).json()
    assert draft["approval"]["state"] == "submitted"
    assert not etree.HTML(approver.get(f"/admin/notices/{draft['uid']}").text).xpath('//*[@id="held-change"]')
