"""Fixtures of the browser tests: the app on a live server, and Debian's chromium driven by Playwright."""

import os

import pytest
from playwright.sync_api import sync_playwright

from notices.web import create_app
from tests.live_server import serving

CHROMIUM = os.environ.get("NOTICES_TEST_CHROMIUM", "/usr/bin/chromium")
# The flags this machine needs: no sandbox as root, and no calls home that a closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def server(ctx):
    with serving(create_app(ctx.settings, ctx=ctx)) as url:
        yield url


@pytest.fixture
def page(server, tmp_path):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=server, viewport={"width": 1000, "height": 1200})
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        browser.close()
