"""The console's long lists page: ended notices and the audit log, each page after the one before."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from notices.core.models import AuditEntry, table_of
from tests.factories import add_user
from tests.paging_samples import ended_rows, insert_rows
from tests.web.test_console import log_in


@pytest.fixture
def manager(app, ctx):
    add_user(ctx, "manager@example.org")
    with TestClient(app) as client:
        assert log_in(client).status_code == 303
        yield client


def walk(client, url: str, rows_xpath: str) -> tuple[list[str], int]:
    """Follow the rel=next links from `url` to the end: every row's text, and the number of pages."""
    texts, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.text
        html = etree.HTML(response.text)
        texts += ["".join(row.itertext()) for row in html.xpath(rows_xpath)]
        pages += 1
        following = html.xpath('//a[@rel="next"]/@href')
        url = following[0] if following else ""
    return texts, pages


def test_ended_notices_page_from_the_latest_start_back(manager, ctx):
    rows = ended_rows(120, now=ctx.clock.now())
    insert_rows(ctx.db, rows)
    titles, pages = walk(manager, "/admin/ended", "//main//table/tbody/tr/td[1]")
    expected = [r["title"] for r in sorted(rows, key=lambda r: (r["starts_at"], r["uid"]), reverse=True)]
    assert titles == expected and pages == 3


def test_the_dashboard_links_to_every_ended_notice(manager):
    html = etree.HTML(manager.get("/admin").text)
    assert html.xpath('//a[@href="/admin/ended"]')


def _audit(ctx, count: int, *, actor: str = "console:ann@example.org", start=None) -> list[dict]:
    start = start or datetime(2026, 11, 1, tzinfo=UTC)
    # Several entries in one instant: the id breaks the tie, newest first.
    entries = [
        {
            "at": start + timedelta(minutes=i // 2),
            "actor": actor,
            "action": "notice.update",
            "target": f"t{i}",
            "detail": "",
        }
        for i in range(count)
    ]
    with ctx.db.engine.begin() as connection:
        connection.execute(table_of(AuditEntry).insert(), entries)
    return entries


def test_the_audit_log_pages_newest_first_and_keeps_its_filters(manager, ctx):
    _audit(ctx, 230)
    _audit(ctx, 5, actor="api:bob@example.org")
    targets, pages = walk(manager, "/admin/audit?who=ann@example.org", "//main//table/tbody/tr/td[4]")
    assert targets == [f"t{i}" for i in reversed(range(230))] and pages == 3
    second = etree.HTML(manager.get("/admin/audit?who=ann@example.org").text).xpath('//a[@rel="next"]/@href')[0]
    assert "who=ann%40example.org" in second
    back = etree.HTML(manager.get(second).text).xpath('//a[text()="Newest entries"]/@href')
    assert back == ["/admin/audit?who=ann%40example.org"]


@pytest.mark.parametrize("url", ["/admin/audit?cursor=nonsense", "/admin/ended?cursor=%E2%80%AE"])
def test_a_tampered_cursor_gets_a_clear_error_page(manager, url):
    response = manager.get(url)
    assert response.status_code == 422
    assert "cursor" in response.text and "Traceback" not in response.text
