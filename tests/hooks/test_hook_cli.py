"""`notices hook ...` against real receivers: add (secret once), list, test, log, rotate, remove; clear errors."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from notices.cli import cli
from notices.core.models import HookEndpoint
from notices.runtime import jobs
from tests.factories import add_notice


@pytest.fixture
def run(hook_ctx):
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, list(args), obj=hook_ctx, catch_exceptions=False)

    return run


def endpoint_count(ctx) -> int:
    with ctx.db.session() as session:
        return session.scalar(select(func.count()).select_from(HookEndpoint))


def test_add_shows_the_secret_once_and_list_never(hook_ctx, run, receiver):
    added = run(
        "hook",
        "add",
        receiver.url,
        "--kind",
        "webhook",
        "--category",
        "road-closure,utilities",
        "--location",
        "plesmanlaan",
        "--severity",
        "major",
        "--events",
        "published,started",
        "--language",
        "nl",
    )
    assert added.exit_code == 0, added.output
    secret = re.search(r"whsec_\S+", added.output).group(0)
    listed = run("hook", "list")
    assert "road-closure,utilities" in listed.output and "severity >= major" in listed.output
    as_json = run("hook", "list", "--json")
    (data,) = json.loads(as_json.output)
    assert data["events"] == ["published", "started"] and data["language"] == "nl"
    assert secret not in listed.output + as_json.output and "whsec_" not in listed.output + as_json.output


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["https://127.0.0.1/", "--kind", "discord"], "--kind"),
        (["http://127.0.0.1:9/"], None),  # http is allowed in this test's settings: see below
        (["ftp://h.example.org/"], "URL"),
        (["https://127.0.0.1/", "--events", "published,exploded"], "--events"),
        (["https://127.0.0.1/", "--category", "nope"], "--category"),
        (["https://127.0.0.1/", "--severity", "huge"], "--severity"),
        (["https://127.0.0.1/\u202e/"], "URL"),
    ],
)
def test_bad_input_is_one_line_naming_the_option_and_nothing_is_added(hook_ctx, run, args, named):
    result = run("hook", "add", *args)
    if named is None:
        assert result.exit_code == 0
        return
    assert result.exit_code == 2
    assert named in result.output and "Traceback" not in result.output
    assert endpoint_count(hook_ctx) == 0


def test_http_is_refused_without_allow_http(ctx):
    result = CliRunner().invoke(cli, ["hook", "add", "http://h.example.org/"], obj=ctx)
    assert result.exit_code == 2 and "URL: must start with https://" in result.output


def test_test_log_rotate_and_remove(hook_ctx, run, receiver, clock):
    from datetime import UTC, datetime

    clock.set(datetime.now(UTC).replace(microsecond=0))
    secret = re.search(r"whsec_\S+", run("hook", "add", receiver.url).output).group(0)
    (endpoint_id,) = [data["id"] for data in json.loads(run("hook", "list", "--json").output)]
    tested = run("hook", "test", str(endpoint_id))
    assert tested.exit_code == 0 and tested.output.startswith("sent: HTTP 200")
    Webhook(secret).verify(receiver.received[0].body, receiver.received[0].headers)

    rotated = run("hook", "rotate", str(endpoint_id), "--overlap-hours", "1")
    new_secret = re.search(r"whsec_\S+", rotated.output).group(0)
    receiver.script((503, {}, b"maintenance until noon"))
    add_notice(hook_ctx)
    jobs.record_transitions(hook_ctx, now=clock.now())
    jobs.send_hooks(hook_ctx, now=clock.now())
    for key in (secret, new_secret):
        Webhook(key).verify(receiver.received[1].body, receiver.received[1].headers)

    log = run("hook", "log", str(endpoint_id))
    first, second = log.output.splitlines()
    assert "notice.published  pending  attempts 1  HTTP 503  maintenance until noon" in first
    assert "notice.test  sent  attempts 1  HTTP 200" in second
    entries = json.loads(run("hook", "log", str(endpoint_id), "--json").output)
    assert [entry["status"] for entry in entries] == ["pending", "sent"]

    assert run("hook", "remove", str(endpoint_id)).exit_code == 0
    gone = run("hook", "log", str(endpoint_id))
    assert gone.exit_code == 2 and f"no hook endpoint with id {endpoint_id}" in gone.output


def test_a_failed_test_exits_1_with_the_answer(hook_ctx, run, receiver):
    receiver.script((404, {}, b"no such hook"))
    run("hook", "add", receiver.url)
    (endpoint_id,) = [data["id"] for data in json.loads(run("hook", "list", "--json").output)]
    result = run("hook", "test", str(endpoint_id))
    assert result.exit_code == 1 and "failed: HTTP 404 no such hook" in result.output


def test_disable_and_enable(hook_ctx, run, receiver):
    run("hook", "add", receiver.url)
    (endpoint_id,) = [data["id"] for data in json.loads(run("hook", "list", "--json").output)]
    assert "DISABLED" in (run("hook", "disable", str(endpoint_id)) and run("hook", "list").output)
    run("hook", "enable", str(endpoint_id))
    assert "enabled" in run("hook", "list").output


def test_the_log_shows_times_in_the_site_zone_with_its_offset(hook_ctx, run, receiver, clock):
    run("hook", "add", receiver.url)
    (endpoint_id,) = [data["id"] for data in json.loads(run("hook", "list", "--json").output)]
    run("hook", "test", str(endpoint_id))
    site = clock.now().astimezone(hook_ctx.settings.timezone)
    assert site.utcoffset() != timedelta(0)  # the site is not on UTC, or this would prove nothing

    (line,) = run("hook", "log", str(endpoint_id)).output.splitlines()
    assert line.startswith(f"{site.isoformat(timespec='seconds')}  notice.test  sent")
    (entry,) = json.loads(run("hook", "log", str(endpoint_id), "--json").output)
    assert entry["created_at"] == entry["sent_at"] == site.isoformat(timespec="seconds")
