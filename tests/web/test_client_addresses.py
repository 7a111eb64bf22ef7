"""Who the client is, behind a proxy and without one: the address rate limits are counted by,
and login limits that a stranger cannot turn against an account's owner.

Real `notices serve` processes, reached from other loopback addresses (127.0.0.2, ...) by
binding the client socket's source address, so the server sees a peer that is not 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from fastapi.testclient import TestClient
from lxml import etree

from notices.core.config import ConfigError, load_settings
from notices.core.resources import default_config_path
from notices.people import accounts
from tests.factories import add_user
from tests.smtp_sink import free_port

PASSWORD = "correct horse battery"


def csrf_of(response) -> str:
    return etree.HTML(response.text).xpath('//input[@name="csrf_token"]/@value')[0]


@pytest.fixture
def serve(ctx, tmp_path):
    """Start `notices serve` with these trusted proxies; returns its base URL."""
    processes = []
    # Three sign-ups an hour per client address instead of 30, so the limit is reached quickly.
    config = tmp_path / "notices.toml"
    config.write_text(default_config_path().read_text().replace("limit_per_ip = 30", "limit_per_ip = 3"))

    def start(*, trusted_proxies: str, workers: int = 1) -> str:
        port = free_port()
        environ = {
            **os.environ,
            "NOTICES_DATABASE_URL": ctx.settings.database_url,
            "NOTICES_CONFIG": str(config),
            "NOTICES_TRUSTED_PROXIES": trusted_proxies,
            "NOTICES_MAIL_DIR": str(tmp_path / "mail"),
            # One key for every worker, or a form signed by one is refused by another.
            "NOTICES_SECRET_KEY": "client-address-test-key",
            "PYTHONUNBUFFERED": "1",
        }
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "notices",
                "serve",
                "--no-scheduler",
                "--no-access-log",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        processes.append(process)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:  # wait until it answers, not for the clock
            try:
                if httpx.get(f"{base}/livez", timeout=2).status_code == 200:
                    return base
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                pytest.fail(f"notices serve exited: {process.stderr.read() if process.stderr else ''}")
            assert time.monotonic() < deadline, "notices serve did not come up"
            time.sleep(0.1)

    yield start
    for process in processes:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def client_at(base: str, address: str) -> httpx.Client:
    """An HTTP client whose connections come from `address` (any 127.x.y.z is this machine)."""
    return httpx.Client(base_url=base, transport=httpx.HTTPTransport(local_address=address), timeout=20)


def sign_up(client: httpx.Client, email: str, forwarded_for: str | None = None) -> int:
    form = client.get("/subscribe")
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    data = {"csrf_token": csrf_of(form), "email": email, "frequency": "daily", "language": "en"}
    return client.post("/subscribe", data=data, headers=headers).status_code


def log_in(client: httpx.Client, email: str, password: str) -> int:
    form = client.get("/admin/login")
    data = {"csrf_token": csrf_of(form), "email": email, "password": password, "next": "/admin"}
    return client.post("/admin/login", data=data).status_code


@pytest.mark.parametrize("workers", [1, 2])
def test_behind_a_trusted_proxy_each_client_has_its_own_limits(serve, workers):
    base = serve(trusted_proxies="127.0.0.2", workers=workers)
    with client_at(base, "127.0.0.2") as proxy:
        assert [sign_up(proxy, f"first{n}@example.org", "203.0.113.7") for n in range(4)] == [200, 200, 200, 429]
        # Another client behind the same proxy is not held back by the first one.
        assert sign_up(proxy, "second@example.org", "203.0.113.8") == 200
        # A proxy appends the address it saw to what the client sent: that address counts, not the claim.
        assert sign_up(proxy, "third@example.org", "198.51.100.1, 203.0.113.7") == 429


def test_a_trusted_network_is_given_in_cidr_notation(serve):
    base = serve(trusted_proxies="10.9.9.9, 127.0.0.0/29")
    with client_at(base, "127.0.0.3") as proxy:
        assert [sign_up(proxy, f"first{n}@example.org", "203.0.113.7") for n in range(4)] == [200, 200, 200, 429]
        assert sign_up(proxy, "second@example.org", "203.0.113.8") == 200


def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(serve):
    base = serve(trusted_proxies="127.0.0.2")
    with client_at(base, "127.0.0.3") as stranger:
        # Every request claims another address; all count against the peer's own.
        statuses = [sign_up(stranger, f"s{n}@example.org", f"203.0.113.{n}") for n in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_a_strangers_failed_logins_do_not_lock_the_manager_out(ctx, serve):
    add_user(ctx, "manager@example.org", password=PASSWORD)
    base = serve(trusted_proxies="")
    with client_at(base, "127.0.0.4") as stranger:
        statuses = [log_in(stranger, "manager@example.org", "not the password") for _ in range(30)]
    assert statuses[0] == 401 and statuses[-1] == 429  # the stranger is held back...
    with client_at(base, "127.0.0.5") as manager:  # ...the manager, at their own desk, is not
        assert log_in(manager, "manager@example.org", PASSWORD) == 303


def test_trusted_proxies_are_addresses_or_networks():
    settings = load_settings({"NOTICES_TRUSTED_PROXIES": "172.30.0.10, 10.0.0.0/8,::1"})
    assert settings.trusted_proxies == ("172.30.0.10", "10.0.0.0/8", "::1")
    assert load_settings({}).trusted_proxies == ("127.0.0.1", "::1")
    assert load_settings({"NOTICES_TRUSTED_PROXIES": ""}).trusted_proxies == ()


@pytest.mark.parametrize("value", ["nginx", "*", "10.0.0.5/8"])
def test_a_trusted_proxy_that_is_no_address_stops_start_up_naming_the_key(value):
    with pytest.raises(ConfigError, match=r"^web\.trusted_proxies \(NOTICES_TRUSTED_PROXIES\): "):
        load_settings({"NOTICES_TRUSTED_PROXIES": value})


@pytest.fixture
def few_attempts_per_account(monkeypatch):
    # The account-wide allowance is 100 a quarter; 3 shows the same rule with three password checks.
    monkeypatch.setattr(accounts, "LOGIN_LIMIT_PER_ACCOUNT", 3)


def strangers_guess(ctx, email: str, count: int) -> None:
    """`count` wrong passwords for `email`, each from another address (a botnet's way)."""
    for n in range(count):
        with ctx.db.writing() as session, session.begin(), contextlib.suppress(accounts.LoginThrottled):
            accounts.authenticate(
                session, email=email, password="a guess", client=f"198.51.100.{n}", now=ctx.clock.now()
            )


def console_log_in(client: TestClient, email: str = "manager@example.org", password: str = PASSWORD) -> int:
    form = client.get("/admin/login")
    data = {"csrf_token": csrf_of(form), "email": email, "password": password, "next": "/admin"}
    return client.post("/admin/login", data=data, follow_redirects=False).status_code


def test_many_strangers_cannot_lock_the_owner_out_of_a_browser_they_logged_in_from(ctx, app, few_attempts_per_account):
    add_user(ctx, "manager@example.org", password=PASSWORD)
    with TestClient(app) as known, TestClient(app) as new:
        assert console_log_in(known) == 303  # leaves the known-browser cookie
        known.post("/admin/logout", data={"csrf_token": csrf_of(known.get("/admin"))})
        strangers_guess(ctx, "manager@example.org", 5)
        assert console_log_in(new) == 429  # an unknown browser waits out the guessing...
        assert console_log_in(known) == 303  # ...the owner's own browser does not


def test_the_known_browser_cookie_is_for_one_account_only(ctx, app, few_attempts_per_account):
    add_user(ctx, "manager@example.org", password=PASSWORD)
    add_user(ctx, "other@example.org", password=PASSWORD)
    with TestClient(app) as browser:
        assert console_log_in(browser) == 303
        strangers_guess(ctx, "other@example.org", 5)
        assert console_log_in(browser, "other@example.org") == 429


def test_a_known_browser_is_still_limited_by_its_own_mistakes(ctx, app):
    add_user(ctx, "manager@example.org", password=PASSWORD)
    with TestClient(app) as browser:
        assert console_log_in(browser) == 303
        cookie = browser.cookies.get("notices_device")
        for _ in range(10):
            assert console_log_in(browser, password="not the password") == 401
        assert browser.cookies.get("notices_device") == cookie
        assert console_log_in(browser) == 429


def test_the_known_browser_cookie_is_httponly_strict_and_only_for_the_login_form(ctx, app):
    add_user(ctx, "manager@example.org", password=PASSWORD)
    with TestClient(app) as browser:
        form = browser.get("/admin/login")
        response = browser.post(
            "/admin/login",
            follow_redirects=False,
            data={"csrf_token": csrf_of(form), "email": "manager@example.org", "password": PASSWORD},
        )
    device = next(value for value in response.headers.get_list("set-cookie") if value.startswith("notices_device="))
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in device.split(";")[1:]}
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "samesite=strict"
    assert attributes["path"] == "Path=/admin/login"
    assert "manager" not in device  # names the account by a digest only
