"""Fixtures of the browser tests: the app on a live server, and Debian's chromium driven by Playwright."""

import os
import threading
import time

import pytest
import uvicorn
from playwright.sync_api import sync_playwright

from notices.web import create_app
from tests.smtp_sink import free_port

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
    port = free_port()
    config = uvicorn.Config(create_app(ctx.settings, ctx=ctx), host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page(server, tmp_path):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=server, viewport={"width": 1000, "height": 1200})
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        browser.close()
