"""The approval workflow from the shell: `notices notice submit|approve|return|publish-now|queue`, --as EMAIL."""

import json
from email import message_from_bytes, policy

import pytest
from click.testing import CliRunner

from notices.cli import cli
from tests.approval_staff import approval_settings, staff_per_role, tokens_per_email  # noqa: F401 (fixtures)

ADD = ["notice", "add", "--title", "Gas main burst", "--category", "road-closure", "--severity", "critical"]
ADD += ["--starts", "+1h", "--ends", "+1d"]


@pytest.fixture
def run(ctx, staff):
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, list(args), obj=ctx, catch_exceptions=False)

    return run


def add(run, *extra):
    result = run(*ADD, *extra, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["uid"]


def state(run, uid):
    listed = json.loads(run("notice", "show", uid, "--json").output)
    return listed["status"]


def mail_subjects(settings, address):
    found = []
    for path in sorted(settings.mail_dir.glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["To"] == address:
            found.append(message["Subject"])
    return found


def test_add_as_an_editor_submits_a_critical_notice_instead_of_publishing_it(ctx, run):
    uid = add(run, "--as", "editor@example.org")
    assert state(run, uid) == "draft"
    queue = json.loads(run("notice", "queue", "--json").output)
    assert [(row["uid"], row["submitted_by"]) for row in queue] == [(uid, "editor@example.org")]
    assert mail_subjects(ctx.settings, "approver@example.org") == ["Waiting for your approval: Gas main burst"]


def test_add_as_the_shell_operator_publishes_as_before(run):
    uid = add(run)
    assert state(run, uid) == "upcoming"


def test_approve_publishes_and_tells_the_submitter(ctx, run):
    uid = add(run, "--as", "editor@example.org")
    result = run("notice", "approve", uid, "--comment", "fine", "--as", "approver@example.org")
    assert result.exit_code == 0, result.output
    assert "published" in result.output and state(run, uid) == "upcoming"
    assert mail_subjects(ctx.settings, "editor@example.org") == ["Approved: Gas main burst"]


def test_approving_your_own_submission_exits_2(run):
    uid = add(run, "--as", "manager@example.org")
    result = run("notice", "approve", uid, "--as", "manager@example.org")
    assert result.exit_code == 2 and "four eyes" in result.output
    assert state(run, uid) == "draft"


def test_return_needs_a_comment_and_makes_a_draft_again(ctx, run):
    uid = add(run, "--as", "editor@example.org")
    assert run("notice", "return", uid, "--as", "approver@example.org").exit_code == 2
    result = run("notice", "return", uid, "--comment", "name the diversion", "--as", "approver@example.org")
    assert result.exit_code == 0, result.output
    assert "draft" in result.output and "name the diversion" in result.output
    assert mail_subjects(ctx.settings, "editor@example.org") == ["Returned to you: Gas main burst"]


def test_a_transition_not_allowed_in_the_state_exits_2_naming_it(run):
    uid = add(run, "--as", "editor@example.org")
    run("notice", "return", uid, "--comment", "no", "--as", "approver@example.org")
    result = run("notice", "approve", uid, "--as", "approver@example.org")
    assert result.exit_code == 2 and "cannot approve: the notice is draft" in result.output


def test_submit_a_draft_then_approve_it(run):
    uid = add(run, "--draft", "--as", "editor@example.org")
    result = run("notice", "submit", uid, "--comment", "please", "--as", "editor@example.org", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["state"] == "submitted"
    assert run("notice", "approve", uid, "--as", "approver@example.org").exit_code == 0
    assert state(run, uid) == "upcoming"


def test_publish_as_an_editor_submits_the_draft(run):
    uid = add(run, "--draft", "--as", "editor@example.org")
    result = run("notice", "publish", uid, "--as", "editor@example.org")
    assert result.exit_code == 0, result.output
    assert "submitted for approval" in result.output and state(run, uid) == "draft"


def test_publish_now_in_an_emergency_is_for_admins(run):
    uid = add(run, "--as", "editor@example.org")
    denied = run("notice", "publish-now", uid, "--reason", "gas leak", "--as", "manager@example.org")
    assert denied.exit_code == 2 and "only an admin" in denied.output
    done = run("notice", "publish-now", uid, "--reason", "gas leak", "--as", "admin@example.org")
    assert done.exit_code == 0, done.output
    assert state(run, uid) == "upcoming"


def test_update_as_an_editor_holds_a_change_of_times(run):
    uid = add(run, "--as", "editor@example.org")
    run("notice", "approve", uid, "--as", "approver@example.org")
    result = run("notice", "update", uid, "--ends", "+3d", "--note", "extended", "--as", "editor@example.org", "--json")
    assert result.exit_code == 0, result.output
    assert "waits for approval" in result.output
    minor = run(
        "notice", "update", uid, "--title", "Gas main burst!", "--note", "typo", "--minor", "--as", "editor@example.org"
    )
    assert minor.exit_code == 2 and "the notice is submitted" in minor.output


def test_an_unknown_user_in_as_exits_2(run):
    result = run(*ADD, "--as", "nobody@example.org")
    assert result.exit_code == 2 and "--as: no active user" in result.output


def test_cancel_is_for_writers_as_in_the_console_and_the_api(run):
    uid = add(run)
    denied = run("notice", "cancel", uid, "--reason", "false alarm", "--as", "approver@example.org")
    assert denied.exit_code == 2 and "the approver role may not write notices" in denied.output
    assert state(run, uid) == "upcoming"
    done = run("notice", "cancel", uid, "--reason", "false alarm", "--as", "editor@example.org")
    assert done.exit_code == 0, done.output
    assert state(run, uid) == "cancelled"
