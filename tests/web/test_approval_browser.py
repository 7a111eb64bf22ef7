"""Submit -> approve in a real browser: an editor and an approver, each in a browser context of their own."""

import feedparser
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect, sync_playwright

from notices.web import create_app
from tests.approval_staff import approval_settings, staff_per_role, tokens_per_email  # noqa: F401 (fixtures)
from tests.factories import add_notice, reload
from tests.live_server import serving
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture
def server(ctx):
    with serving(create_app(ctx.settings, ctx=ctx)) as url:
        yield url


@pytest.fixture
def browser(server):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def logged_in(browser, server, email):
    context = browser.new_context(base_url=server, viewport={"width": 1000, "height": 1200})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/admin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    return page


def test_an_editor_submits_and_an_approver_approves_in_two_browsers(ctx, staff, browser, server):
    editor = logged_in(browser, server, "editor@example.org")
    approver = logged_in(browser, server, "approver@example.org")

    # The editor writes a critical notice and presses "Publish now": it waits for approval.
    editor.get_by_role("link", name="Write a new notice").click()
    editor.get_by_label("Title").fill("Gas main burst on the Plesmanlaan")
    editor.get_by_label("Category").select_option("road-closure")
    editor.get_by_label("Severity").select_option("critical")
    editor.get_by_label("Starts").fill("+10m")
    editor.get_by_role("button", name="Publish now").click()
    expect(editor.locator("#approval-state")).to_contain_text("submitted")
    assert feedparser.parse(editor.request.get("/feeds/notices.atom").body()).entries == []

    # The approver sees it in the queue, opens it and approves it.
    approver.reload()
    approver.locator("#approval-queue").get_by_role("link", name="Gas main burst on the Plesmanlaan").click()
    approver.get_by_label("Comment", exact=False).first.fill("checked with the city")
    approver.get_by_role("button", name="Approve", exact=True).click()
    expect(approver.locator("#approval-state")).to_contain_text("published")

    # The editor sees the decision; the notice is in the feed.
    editor.reload()
    expect(editor.locator("#approval-review")).to_contain_text("approved")
    titles = [entry.title for entry in feedparser.parse(editor.request.get("/feeds/notices.atom").body()).entries]
    assert len(titles) == 1 and "Gas main burst on the Plesmanlaan" in titles[0]


def test_an_approver_compares_a_held_change_without_script_and_approves_it(ctx, staff, tokens, browser, server):
    notice = add_notice(ctx, title={"en": "Plesmanlaan closed", "nl": "Plesmanlaan dicht"})
    with TestClient(create_app(ctx.settings, ctx=ctx)) as api:
        held = api.patch(
            f"/api/v1/notices/{notice.uid}",
            json={"note": "closure extended", "ends_at": "+30d", "title": {"nl": "Plesmanlaan afgesloten"}},
            headers=tokens["editor@example.org"],
        )
        assert held.status_code == 202, held.text
    context = browser.new_context(base_url=server, java_script_enabled=False, viewport={"width": 1000, "height": 1200})
    approver = context.new_page()
    approver.set_default_timeout(15_000)
    approver.goto("/admin")
    approver.get_by_label("Email").fill("approver@example.org")
    approver.get_by_label("Password").fill("correct horse battery")
    approver.get_by_role("button", name="Log in").click()
    approver.goto(f"/admin/notices/{notice.uid}")

    table = approver.get_by_role("table", name="Published and proposed, field by field")
    expect(table).to_be_visible()
    expect(table.get_by_role("columnheader")).to_have_text(["Field", "Published", "Proposed", "Changed?"])
    dutch_title = table.get_by_role("row", name="Title (Nederlands)")
    expect(dutch_title.get_by_role("cell")).to_have_text(["Plesmanlaan dicht", "Plesmanlaan afgesloten", "changed"])
    expect(table.get_by_role("row", name="Title (English)").get_by_role("cell").last).to_have_text("same")
    expect(table.get_by_role("row", name="Ends").get_by_role("cell").last).to_have_text("changed")
    # The changed rows stand out by more than their words: a background the others lack.
    changed_background = table.get_by_role("row", name="Ends").evaluate("row => getComputedStyle(row).backgroundColor")
    same_background = table.get_by_role("row", name="Starts").evaluate("row => getComputedStyle(row).backgroundColor")
    assert changed_background != same_background

    approver.get_by_role("button", name="Approve", exact=True).click()
    expect(approver.locator("#approval-state")).to_contain_text("published")
    expect(approver.locator("#held-change")).to_have_count(0)
    assert reload(ctx, notice.uid).translations["nl"]["title"] == "Plesmanlaan afgesloten"
    context.close()
