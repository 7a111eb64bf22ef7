"""config/nginx/local.conf in front of the app: plain feeds from the export, the rest proxied,
and each client known by its own address behind it."""

import dataclasses
import ipaddress
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import feedparser
import httpx
import pytest
import uvicorn
import yaml
from lxml import etree

from notices.core.config import load_settings
from notices.runtime import jobs
from notices.web import create_app
from tests.factories import add_notice
from tests.smtp_sink import free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "nginx" / "local.conf"


@pytest.fixture
def app_port(ctx):
    port = free_port()
    # Three sign-ups an hour per client address instead of 30, so the limit is reached quickly.
    settings = dataclasses.replace(ctx.settings, signup_limit_per_ip=3)
    app = create_app(settings, ctx=dataclasses.replace(ctx, settings=settings))
    # As `notices serve` runs it: X-Forwarded-For believed from the trusted proxies only.
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", forwarded_allow_ips=list(settings.trusted_proxies)
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield port
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def front(app_port, tmp_path):
    """nginx with the shipped site config; only ports and the export folder substituted, as run-multi does."""
    export = tmp_path / "public"
    export.mkdir()
    port = free_port()
    site = CONFIG.read_text()
    site = re.sub(r"server 127\.0\.0\.1:8001;\s*server 127\.0\.0\.1:8002;", f"server 127.0.0.1:{app_port};", site)
    site = site.replace("listen 8000;", f"listen 127.0.0.1:{port};").replace("/srv/notices", str(export))
    (tmp_path / "site.conf").write_text(site)
    # Started as root, nginx's workers would become "nobody", who cannot read pytest's 0700 folders.
    user = "user root;\n" if os.geteuid() == 0 else ""
    (tmp_path / "nginx.conf").write_text(
        f"{user}daemon off; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\n"
        "events { worker_connections 64; }\n"
        f"http {{ access_log off; client_body_temp_path {tmp_path}/b; proxy_temp_path {tmp_path}/p; "
        f"fastcgi_temp_path {tmp_path}/f; uwsgi_temp_path {tmp_path}/u; scgi_temp_path {tmp_path}/s; "
        f"include {tmp_path}/site.conf; }}\n"
    )
    process = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")])
    deadline = time.monotonic() + 10
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/livez", timeout=1)
            break
        except OSError:
            assert time.monotonic() < deadline, (tmp_path / "error.log").read_text()
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", export
    process.terminate()
    process.wait(timeout=10)


def fetch(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.headers, response.read()


def test_plain_feeds_come_from_the_export_and_filtered_ones_from_the_app(ctx, front):
    base, export = front
    add_notice(ctx, title="Road works", category="road-closure")
    add_notice(ctx, title="Open day", category="event", severity="info")
    jobs.export_feeds(ctx, now=ctx.clock.now(), directory=export)
    headers, body = fetch(f"{base}/feeds/notices.atom")
    assert body == (export / "feeds/notices.atom").read_bytes()
    assert headers["Content-Type"] == "application/atom+xml"
    assert not re.fullmatch(r'"[0-9a-f]{32}"', headers["ETag"])  # nginx's own ETag: a file
    headers, body = fetch(f"{base}/feeds/notices.atom?category=event")
    assert re.fullmatch(r'"[0-9a-f]{32}"', headers["ETag"])  # the app's ETag: rendered
    assert [entry.title.split(" (")[0] for entry in feedparser.parse(body).entries] == ["Event: Open day"]
    headers, body = fetch(f"{base}/calendar/notices.ics")
    assert headers["Content-Type"] == "text/calendar" and body.startswith(b"BEGIN:VCALENDAR")
    headers, body = fetch(f"{base}/")
    assert b"Road works" in body and headers["Content-Type"].startswith("text/html")


def sign_up_through(base: str, source: str, email: str, forwarded_for: str | None = None) -> int:
    """A sign-up from a client at `source` (another loopback address: nginx sees a distinct peer)."""
    with httpx.Client(base_url=base, transport=httpx.HTTPTransport(local_address=source), timeout=10) as client:
        form = client.get("/subscribe")
        token = etree.HTML(form.text).xpath('//input[@name="csrf_token"]/@value')[0]
        headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
        return client.post(
            "/subscribe",
            headers=headers,
            data={"csrf_token": token, "email": email, "frequency": "daily", "language": "en"},
        ).status_code


def test_behind_nginx_each_client_has_its_own_limits_and_cannot_pose_as_another(front):
    base, _ = front
    # The first client claims other addresses; nginx appends the real one, and that one counts.
    statuses = [sign_up_through(base, "127.0.0.2", f"a{n}@example.org", f"203.0.113.{n}") for n in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert sign_up_through(base, "127.0.0.3", "b@example.org") == 200


def test_compose_trusts_exactly_its_nginx():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    nginx_address = compose["services"]["nginx"]["networks"]["default"]["ipv4_address"]
    web_environment = compose["services"]["web"]["environment"]
    trusted = load_settings({"NOTICES_TRUSTED_PROXIES": web_environment["NOTICES_TRUSTED_PROXIES"]})
    assert trusted.trusted_proxies == (nginx_address,)
    subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(nginx_address) in ipaddress.ip_network(subnet)
