"""`notices template list|show|save|rename|delete` and `notices notice add --template`: clear
one-line errors with exit code 2, nothing half-written."""

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from notices.cli import cli
from notices.core.models import Notice, NoticeTemplate
from tests.factories import add_notice, add_user


@pytest.fixture
def run(ctx):
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, list(args), obj=ctx, catch_exceptions=False)

    return run


def count(ctx, model) -> int:
    with ctx.db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_save_a_notice_as_a_template_and_start_a_notice_from_it(ctx, run):
    notice = add_notice(ctx, title={"en": "Plesmanlaan closed", "nl": "Plesmanlaan afgesloten"}, severity="major")
    saved = run("template", "save", notice.uid[:8], "--name", "Road closure", "--description", "Any road")
    assert saved.exit_code == 0, saved.output
    assert "saved template" in saved.output
    listed = run("template", "list")
    assert "Road closure" in listed.output and "road-closure" in listed.output
    shown = json.loads(run("template", "show", "road closure", "--json").output)
    assert shown["fields"]["translations"]["nl"]["title"] == "Plesmanlaan afgesloten"
    added = run("notice", "add", "--template", "Road closure", "--starts", "2026-12-01T07:00", "--draft", "--json")
    assert added.exit_code == 0, added.output
    data = json.loads(added.output)
    assert (data["status"], data["title"], data["severity"]) == ("draft", "Plesmanlaan closed", "major")
    assert data["languages"]["nl"]["title"] == "Plesmanlaan afgesloten"
    assert data["starts_at"] == "2026-12-01T07:00:00+01:00"


def test_options_win_over_the_template(ctx, run, tmp_path):
    fields = tmp_path / "outage.json"
    fields.write_text(json.dumps({"title": "Power outage", "category": "utilities", "severity": "critical"}))
    assert run("template", "save", "--name", "Power outage", "--file", str(fields)).exit_code == 0
    added = run(
        "notice", "add", "--template", "Power outage", "--title", "Gorlaeus power off", "--starts", "+1d", "--json"
    )
    data = json.loads(added.output)
    assert (data["title"], data["category"], data["severity"]) == ("Gorlaeus power off", "utilities", "critical")


def test_rename_and_delete(ctx, run, tmp_path):
    fields = tmp_path / "outage.json"
    fields.write_text(json.dumps({"title": "Power outage", "category": "utilities"}))
    run("template", "save", "--name", "Power outage", "--file", str(fields))
    assert run("template", "rename", "Power outage", "Outage").exit_code == 0
    assert "Outage" in run("template", "show", "Outage").output
    assert run("template", "delete", "Outage").output.strip() == "deleted template Outage"
    assert count(ctx, NoticeTemplate) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["template", "save", "--name", "X"], "give a notice UID or --file"),
        (["template", "show", "nothing"], "no template 'nothing'"),
        (["template", "delete", "nothing"], "no template 'nothing'"),
        (["notice", "add", "--template", "nothing", "--starts", "now"], "--template: no template 'nothing'"),
    ],
)
def test_bad_input_exits_2_with_one_line(ctx, run, args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_bad_names_and_fields_are_named(ctx, run, tmp_path):
    notice = add_notice(ctx)
    bad_name = run("template", "save", notice.uid, "--name", "Road\x00closure")
    assert bad_name.exit_code == 2 and "--name: contains control" in bad_name.output
    fields = tmp_path / "bad.json"
    fields.write_text(json.dumps({"title": "X", "category": "nonsense"}))
    bad_field = run("template", "save", "--name", "X", "--file", str(fields))
    assert bad_field.exit_code == 2 and "--file: category:" in bad_field.output
    fields.write_text("{not json")
    assert "not valid JSON" in run("template", "save", "--name", "X", "--file", str(fields)).output
    assert count(ctx, NoticeTemplate) == 0


def test_a_notice_from_a_template_still_needs_its_start(ctx, run, tmp_path):
    fields = tmp_path / "outage.json"
    fields.write_text(json.dumps({"title": "Power outage", "category": "utilities"}))
    run("template", "save", "--name", "Power outage", "--file", str(fields))
    result = run("notice", "add", "--template", "Power outage")
    assert result.exit_code == 2 and "--starts: is required" in result.output
    assert count(ctx, Notice) == 0


def test_editors_may_not_save_templates(ctx, run):
    add_user(ctx, "editor@example.org", role="editor")
    notice = add_notice(ctx)
    result = run("template", "save", notice.uid, "--name", "X", "--as", "editor@example.org")
    assert result.exit_code == 2 and "may not save" in result.output


def test_demo_ships_three_templates_with_dutch_text(ctx, run):
    assert run("demo").exit_code == 0
    data = json.loads(run("template", "list", "--json").output)
    assert [item["name"] for item in data] == ["Event parking", "Power outage", "Road closure"]
    assert all(item["fields"]["translations"]["nl"]["title"] for item in data)
    again = run("demo")
    assert "0 demo templates" in again.output and count(ctx, NoticeTemplate) == 3
