"""`notices subscriber ...` and `notices mail ...` from the command line."""

import json

import pytest
from click.testing import CliRunner

from notices.cli import cli


@pytest.fixture
def run(mail_ctx):
    runner = CliRunner()

    def run(*args):
        return runner.invoke(cli, list(args), obj=mail_ctx, catch_exceptions=False)

    return run


def test_add_list_and_remove_a_subscriber(run):
    added = run(
        "subscriber",
        "add",
        "Tenant@Example.org",
        "--frequency",
        "weekly",
        "--category",
        "road-closure",
        "--location",
        "plesmanlaan",
        "--severity",
        "major",
        "--language",
        "nl",
        "--json",
    )
    assert added.exit_code == 0, added.output
    assert json.loads(added.output) | {"created_at": None, "confirmed_at": None} == {
        "email": "tenant@example.org",
        "state": "confirmed",
        "frequency": "weekly",
        "categories": ["road-closure"],
        "locations": ["plesmanlaan"],
        "min_severity": "major",
        "language": "nl",
        "created_at": None,
        "confirmed_at": None,
    }
    listed = json.loads(run("subscriber", "list", "--json").output)
    assert [row["email"] for row in listed] == ["tenant@example.org"]
    assert "unsubscribed" in run("subscriber", "remove", "tenant@example.org").output
    assert (
        json.loads(run("subscriber", "list", "--state", "unsubscribed", "--json").output)[0]["state"] == "unsubscribed"
    )


def test_add_with_confirm_sends_the_opt_in_mail(run, smtp):
    result = run("subscriber", "add", "new@example.org", "--confirm")
    assert "pending" in result.output and "confirmation email sent" in result.output
    (message,) = smtp.handler.to("new@example.org")
    assert message["Subject"].startswith("Confirm your subscription")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["not-an-email"], "EMAIL: 'not-an-email' is not an email address"),
        (["a@example.org", "--category", "roadworks"], "--category: unknown value 'roadworks'"),
        (["a@example.org", "--severity", "urgent"], "--severity: unknown value 'urgent'"),
    ],
)
def test_bad_subscriber_input_is_one_line_with_exit_2(run, args, message):
    result = run("subscriber", "add", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert json.loads(run("subscriber", "list", "--json").output) == []


def test_mail_status_counts_deliveries_per_status(run):
    run("subscriber", "add", "new@example.org", "--confirm")
    assert json.loads(run("mail", "status", "--json").output) == {
        "pending": 0,
        "sending": 0,
        "sent": 1,
        "failed": 0,
        "expired": 0,
    }
