"""Submit -> approve in a real browser: an editor and an approver, each in a browser context of their own."""

import feedparser
import pytest
from playwright.sync_api import expect, sync_playwright

from notices.web import create_app
from tests.approval_staff import approval_settings, staff_per_role, tokens_per_email  # noqa: F401 (fixtures)
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
