"""The "Repeats" fieldset in a real browser (Debian's chromium, Playwright): build "every first
Tuesday 07:00-09:00 until 30 June 2027", see the summary live, save, and find the summary on the
notice page and the next occurrence in the Atom feed."""

import feedparser
from playwright.sync_api import expect

from tests.factories import add_user


def test_a_manager_builds_a_monthly_series_and_readers_see_it(ctx, page):
    add_user(ctx, "manager@example.org", password="correct horse battery")
    page.goto("/admin")
    page.get_by_label("Email").fill("manager@example.org")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Write a new notice").click()

    page.get_by_label("Title").fill("Weekly market on the square")
    page.get_by_label("Category").select_option("road-closure")
    page.get_by_label("Plesmanlaan").check()
    page.get_by_label("Starts").fill("2026-12-01 07:00")
    repeats = page.locator("#repeats")
    # Before a choice only the choices show; the script hides the parts that do not apply.
    expect(repeats.get_by_label("Day of the week")).to_be_hidden()
    repeats.get_by_label("every N months").check()
    expect(repeats.get_by_label("Day of the week")).to_be_visible()
    expect(repeats.get_by_label("Monday")).to_be_hidden()  # the weekly days
    repeats.get_by_label("the", exact=True).check()
    repeats.get_by_label("Which one in the month").select_option("1")
    repeats.get_by_label("Day of the week").select_option("TU")
    repeats.get_by_label("on", exact=True).check()
    repeats.get_by_label("Last date").fill("2027-06-30")
    repeats.get_by_label("Each time until", exact=False).fill("09:00")
    # The live preview says the rule in words, as the server will.
    expect(page.locator("#repeat-summary")).to_have_text("every first Tuesday, 07:00–09:00, until 30 June 2027")
    page.get_by_role("button", name="Publish now").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    # The builder comes back filled in from the stored rule.
    expect(repeats.get_by_label("every N months")).to_be_checked()
    expect(repeats.get_by_label("Day of the week")).to_have_value("TU")

    page.get_by_role("link", name="public page").click()
    expect(page.get_by_text("every first Tuesday, 07:00–09:00, until 30 June 2027")).to_be_visible()
    expect(page.locator("ul.occurrences li").first).to_have_text("Tue 1 Dec 07:00–09:00")

    feed = feedparser.parse(page.request.get("/feeds/notices.atom").body())
    assert [entry.title for entry in feed.entries] == [
        "Road closure: Weekly market on the square (next Tue 1 Dec 07:00)"
    ]
