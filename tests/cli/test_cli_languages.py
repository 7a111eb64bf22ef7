"""`notices notice`: the text in every language (--title-nl and the like), shown and imported."""

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from notices.cli import cli
from notices.core.models import Notice
from tests.factories import reload


@pytest.fixture
def run(ctx):
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, list(args), obj=ctx, catch_exceptions=False)

    return run


def count_notices(ctx) -> int:
    with ctx.db.session() as session:
        return session.scalar(select(func.count()).select_from(Notice))


ADD = ["notice", "add", "--category", "road-closure", "--starts", "+1h", "--location", "plesmanlaan"]


def test_add_takes_the_dutch_text_beside_the_default(ctx, run):
    result = run(
        *ADD,
        "--title",
        "Plesmanlaan closed",
        "--title-nl",
        "Plesmanlaan afgesloten",
        "--expected-end-nl",
        "ongeveer Q3 2027",
        "--json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["title"] == "Plesmanlaan closed"
    assert data["languages"]["nl"]["title"] == "Plesmanlaan afgesloten"
    assert reload(ctx, data["uid"]).translations == {
        "nl": {"title": "Plesmanlaan afgesloten", "expected_end": "ongeveer Q3 2027"}
    }


def test_update_changes_one_language_and_the_revision_carries_both(ctx, run):
    uid = json.loads(run(*ADD, "--title", "Plesmanlaan closed", "--json").output)["uid"]
    result = run("notice", "update", uid, "--title-nl", "Plesmanlaan dicht", "--note", "Dutch added")
    assert result.exit_code == 0, result.output
    latest = reload(ctx, uid).revisions[-1].snapshot
    assert (latest["title"], latest["translations"]) == ("Plesmanlaan closed", {"nl": {"title": "Plesmanlaan dicht"}})


def test_show_prints_every_language(ctx, run):
    uid = json.loads(run(*ADD, "--title", "Plesmanlaan closed", "--title-nl", "Plesmanlaan dicht", "--json").output)[
        "uid"
    ]
    shown = run("notice", "show", uid).output
    assert "title:         Plesmanlaan closed" in shown
    assert "title.nl:      Plesmanlaan dicht" in shown


def test_show_says_when_a_language_has_no_text_of_its_own(ctx, run):
    uid = json.loads(run(*ADD, "--title", "Plesmanlaan closed", "--json").output)["uid"]
    assert "nl:            - (no text of its own: readers get the en text)" in run("notice", "show", uid).output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--title", "Plesmanlaan closed", "--title-nl", "x" * 201], "title.nl: is 201 characters long"),
        (["--title-nl", "Plesmanlaan dicht"], "title.en: is required"),
        (["--title", "A", "--title-en", "B"], "--title and --title-en: give one of them"),
    ],
)
def test_a_bad_second_language_is_exit_2_naming_it_and_nothing_written(ctx, run, args, message):
    result = run(*ADD, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert count_notices(ctx) == 0


def test_import_carries_every_language(ctx, run, tmp_path):
    source = tmp_path / "notices.yaml"
    source.write_text(
        "- title: {en: Plesmanlaan closed, nl: Plesmanlaan afgesloten}\n"
        "  body: {en: Follow the signs., nl: Volg de borden.}\n"
        "  category: road-closure\n  starts_at: '2026-12-01T07:00'\n",
        encoding="utf-8",
    )
    result = run("notice", "import", str(source), "--json")
    assert result.exit_code == 0, result.output
    (imported,) = json.loads(result.output)
    assert imported["languages"]["nl"]["body"] == "Volg de borden."
    assert imported["languages"]["en"]["title"] == "Plesmanlaan closed"


def test_import_refuses_an_unknown_language_naming_it(ctx, run, tmp_path):
    source = tmp_path / "notices.json"
    source.write_text(
        json.dumps([{"title": {"en": "Closed", "de": "Gesperrt"}, "category": "event", "starts_at": "+1h"}])
    )
    result = run("notice", "import", str(source))
    assert result.exit_code == 2
    assert "notice 1: title.de: unknown language" in result.output
    assert count_notices(ctx) == 0


def test_show_json_lists_each_revisions_text_in_every_language(ctx, run):
    uid = json.loads(run(*ADD, "--title", "Plesmanlaan closed", "--json").output)["uid"]
    run("notice", "update", uid, "--title-nl", "Plesmanlaan dicht", "--note", "Dutch added")
    revisions = json.loads(run("notice", "show", uid, "--json").output)["revisions"]
    assert [revision["languages"]["nl"]["title"] for revision in revisions] == ["", "Plesmanlaan dicht"]
    assert [revision["languages"]["en"]["title"] for revision in revisions] == ["Plesmanlaan closed"] * 2
