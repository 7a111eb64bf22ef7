"""End to end in a real browser: Debian's chromium driven by Playwright against a running server
(the `server` and `page` fixtures are in conftest.py)."""

from datetime import timedelta

import feedparser
from playwright.sync_api import expect

from tests.factories import add_user


def test_a_manager_publishes_updates_and_cancels_and_a_tenant_subscribes(ctx, clock, page):
    add_user(ctx, "manager@example.org", password="correct horse battery")
    # Log in.
    page.goto("/admin")
    page.get_by_label("Email").fill("manager@example.org")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    # Write a notice starting in the near future; the live preview follows the typing.
    page.get_by_role("link", name="Write a new notice").click()
    page.get_by_label("Title").fill("Plesmanlaan closed for tree felling")
    page.get_by_label("Category").select_option("road-closure")
    page.get_by_label("Severity").select_option("major")
    page.get_by_label("Plesmanlaan").check()
    page.get_by_label("Starts").fill("+10m")
    page.get_by_label("Ends", exact=False).first.fill("+3h")
    preview = page.frame_locator("#preview-feed")
    expect(preview.get_by_text("Road closure: Plesmanlaan closed for tree felling")).to_be_visible()
    page.get_by_role("button", name="Publish now").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")

    # It is on the public list and in the feed.
    page.goto("/")
    expect(page.get_by_role("link", name="Plesmanlaan closed for tree felling")).to_be_visible()
    feed = feedparser.parse(page.request.get("/feeds/notices.atom").body())
    assert [entry.title for entry in feed.entries] == [
        "Road closure: Plesmanlaan closed for tree felling (from Sat 28 Nov 10:10)"
    ]

    # Update it with a change note.
    page.goto("/admin")
    page.get_by_role("link", name="Plesmanlaan closed for tree felling").click()
    page.get_by_label("Ends", exact=False).first.fill("2026-11-28 18:00")
    page.get_by_label("What changed").fill("works take longer")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("cell", name="works take longer")).to_be_visible()

    # Cancel it: it leaves the public list.
    page.get_by_label("Reason").fill("felling postponed")
    page.get_by_role("button", name="Cancel notice").click()
    expect(page.get_by_text("Cancelled", exact=True)).to_be_visible()
    page.goto("/")
    expect(page.get_by_role("link", name="Plesmanlaan closed for tree felling")).to_have_count(0)

    # A tenant subscribes from the public page.
    page.context.clear_cookies()
    page.goto("/")
    page.get_by_role("link", name="Subscribe by email").click()
    page.get_by_label("Email address").fill("tenant@example.org")
    page.get_by_label("Road closure").check()
    page.get_by_label("A daily digest", exact=False).check()
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    page.screenshot(path=str(ctx.settings.mail_dir.parent / "subscribed.png"))


def test_the_public_page_works_on_a_phone_and_with_the_keyboard(ctx, clock, page, server):
    from tests.factories import add_notice

    add_notice(ctx, title="Power outage Gorlaeus", category="utilities", starts_at=clock.now() + timedelta(hours=2))
    failed = []
    page.on("response", lambda response: response.status >= 400 and failed.append(response.url))
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto("/")
    expect(page.get_by_role("link", name="Power outage Gorlaeus")).to_be_visible()
    # Nothing wider than the phone's screen, here or on the sign-up form.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.goto("/subscribe")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.goto("/")
    # The first Tab reaches the skip link, Enter jumps to the content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    assert failed == []  # nothing the pages load is missing


LONG_WORD = "Plesmanlaan-" + "x" * 150  # a pasted URL or part number: one word, far wider than a phone


def test_a_long_unbreakable_word_does_not_widen_the_pages_on_a_phone(ctx, clock, page):
    from tests.factories import add_notice

    notice = add_notice(
        ctx,
        title=f"Closed {LONG_WORD}",
        summary=f"See {LONG_WORD}",
        location_detail=LONG_WORD,
        body=f"Details: {LONG_WORD}\n\n    {LONG_WORD} in a code block\n\n`{LONG_WORD}`",
        starts_at=clock.now() + timedelta(hours=2),
    )
    page.set_viewport_size({"width": 375, "height": 740})
    for path in ("/", f"/notices/{notice.uid}"):
        page.goto(path)
        expect(page.get_by_text(LONG_WORD, exact=False).first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, path


def test_bidi_controls_in_user_text_cannot_reorder_the_page_around_it(ctx, clock, page):
    from sqlalchemy import update

    from notices.core.models import Notice
    from tests.factories import add_notice

    notice = add_notice(
        ctx, title="Road closed", summary="Detour", location_detail="Gate 2", starts_at=clock.now() + timedelta(hours=2)
    )
    # Written straight to the row, as rows from before input was cleaned are: a right-to-left
    # override (U+202E) that is never closed, and Hebrew, in every field shown on the pages.
    hostile = "\u202eRoad closed \u05e9\u05dc\u05d5\u05dd"
    with ctx.db.session() as session, session.begin():
        session.execute(
            update(Notice)
            .where(Notice.uid == notice.uid)
            .values(title=hostile, summary=hostile, location_detail=hostile, body=hostile)
        )
    page.goto(f"/notices/{notice.uid}")
    # The override is filtered out as every output filters it (notice.templating._filtered), and the
    # text is isolated all the same, as right-to-left script is: the window title has no markup, so
    # first-strong isolates (U+2068...U+2069) close the title before the site's name.
    assert page.title() == f"\u2068Road closed \u05e9\u05dc\u05d5\u05dd\u2069 · {ctx.settings.site_name}"
    assert "\u202e" not in page.content()
    isolation = page.evaluate("""() => ["h1", "article > p[dir]", "bdi", ".body"].map(selector =>
        [selector, getComputedStyle(document.querySelector(selector)).unicodeBidi])""")
    assert all(value in ("isolate", "plaintext") for _, value in isolation), isolation
    page.goto("/")
    heading = page.get_by_role("heading", name="Road closed", exact=False)
    assert heading.evaluate("element => getComputedStyle(element).unicodeBidi") in ("isolate", "plaintext")


def test_the_api_reference_renders_with_nothing_loaded_from_other_sites(page, server):
    elsewhere = []

    def only_this_site(route):
        if route.request.url.startswith(server + "/"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_site)
    page.add_init_script(
        "window.cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', e => window.cspViolations.push("
        "e.violatedDirective + ' ' + e.blockedURI));"
    )
    page.goto("/docs")
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/notices").first).to_be_visible()
    assert page.locator(".opblock").count() >= 5
    assert elsewhere == []
    assert page.evaluate("window.cspViolations") == []
