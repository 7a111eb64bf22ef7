"""Templates in a real browser: save a notice as a template, start a new notice from it, see the
form filled in, pick the times, publish."""

import feedparser
import pytest
from playwright.sync_api import expect, sync_playwright

from notices.web import create_app
from tests.factories import add_notice, add_user
from tests.live_server import serving
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture
def server(ctx):
    with serving(create_app(ctx.settings, ctx=ctx)) as url:
        yield url


@pytest.fixture
def page(ctx, server):
    add_user(ctx, "manager@example.org")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=server, viewport={"width": 1000, "height": 1200})
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto("/admin")
        page.get_by_label("Email").fill("manager@example.org")
        page.get_by_label("Password").fill("correct horse battery")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
        yield page
        browser.close()


def test_save_as_template_then_publish_a_new_notice_from_it(ctx, page):
    notice = add_notice(
        ctx,
        title={"en": "Gorlaeus power outage", "nl": "Stroomonderbreking Gorlaeus"},
        summary="Planned maintenance on the medium-voltage station.",
        category="utilities",
        severity="critical",
        locations=["gorlaeus"],
    )
    page.goto(f"/admin/notices/{notice.uid}")
    page.get_by_label("Template name").fill("Power outage")
    page.get_by_role("button", name="Save as template").click()
    expect(page.get_by_role("status")).to_contain_text("Template “Power outage” saved.")

    page.get_by_role("link", name="New notice from template").click()
    expect(page.locator("#template-used")).to_contain_text("Power outage")
    expect(page.get_by_label("Title", exact=True)).to_have_value("Gorlaeus power outage")
    expect(page.locator("#title-nl")).to_have_value("Stroomonderbreking Gorlaeus")
    expect(page.get_by_label("Category")).to_have_value("utilities")
    expect(page.get_by_label("Severity")).to_have_value("critical")
    expect(page.get_by_label("Starts")).to_have_value("")

    page.get_by_label("Title", exact=True).fill("Lorentz building power outage")
    page.get_by_label("Starts").fill("2026-12-03 22:00")
    page.get_by_label("Ends", exact=False).first.fill("2026-12-04 02:00")
    page.get_by_role("button", name="Publish now").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")

    titles = [entry.title for entry in feedparser.parse(page.request.get("/feeds/notices.atom").body()).entries]
    assert any("Lorentz building power outage" in title for title in titles)
