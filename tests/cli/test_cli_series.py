"""`notices notice` for series: add with --recurrence and --duration, show the occurrences with
their ids in site time, cancel or move one occurrence; bad input exits 2 naming the option."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from notices.cli import cli
from tests.factories import reload

ADD = [
    "notice",
    "add",
    "--title",
    "Market closure",
    "--category",
    "road-closure",
    "--severity",
    "major",
    "--starts",
    "2026-12-01T07:00",
]
WEEKLY = ["--recurrence", "FREQ=WEEKLY;BYDAY=TU;COUNT=10"]


@pytest.fixture
def run(ctx):
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, list(args), obj=ctx, catch_exceptions=False)

    return run


def add_series(run, *extra: str) -> dict:
    result = run(*ADD, *WEEKLY, "--duration", "2h", *extra, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_add_a_series_and_show_its_occurrences_in_site_time(run):
    data = add_series(run, "--skip", "2026-12-15")
    assert (data["recurrence"], data["occurrence_minutes"]) == ("FREQ=WEEKLY;BYDAY=TU;COUNT=10", 120)
    shown = run("notice", "show", data["uid"])
    assert shown.exit_code == 0, shown.output
    assert "recurrence:    FREQ=WEEKLY;BYDAY=TU;COUNT=10, 120 minutes each" in shown.output
    assert "  20261201T060000Z  2026-12-01T07:00:00+01:00 → 2026-12-01T09:00:00+01:00" in shown.output
    assert "  20261215T060000Z  2026-12-15T07:00:00+01:00 cancelled" in shown.output


def test_occurrence_minutes_and_duration_are_the_same(run):
    data = add_series(run)
    result = run(*ADD, *WEEKLY, "--occurrence-minutes", "120", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["ends_at"] == data["ends_at"] == "2027-02-02T09:00:00+01:00"


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--recurrence", "FREQ=MINUTELY", "--duration", "2h"], "--recurrence: FREQ must be one of"),
        (["--recurrence", "FREQ=WEEKLY;BYDAY=WE", "--duration", "2h"], "--recurrence: the start is not an occurrence"),
        (["--recurrence", "FREQ=DAILY", "--duration", "25h"], "--occurrence-minutes: occurrences overlap"),
        ([*WEEKLY, "--duration", "2h", "--ends", "2026-12-01T09:00"], "--ends: a series ends with its rule"),
        ([*WEEKLY], "--occurrence-minutes: is required for a series"),
        ([*WEEKLY, "--duration", "two hours"], "--duration: 'two hours' is not a duration"),
        ([*WEEKLY, "--duration", "2h", "--occurrence-minutes", "120"], "give one of them"),
        ([*WEEKLY, "--occurrence-minutes", "-5"], "--occurrence-minutes: must be a whole number"),
        ([*WEEKLY, "--duration", "2h", "--skip", "2026-12-02"], "--skip: the series has no occurrence on 2026-12-02"),
    ],
)
def test_bad_series_input_exits_2_naming_the_field(run, extra, words):
    result = run(*ADD, *extra)
    assert result.exit_code == 2, result.output
    assert words in result.output
    assert "Traceback" not in result.output


def test_cancel_one_occurrence_then_move_another(ctx, run):
    uid = add_series(run)["uid"]
    cancelled = run("notice", "cancel", uid[:8], "--occurrence", "20261208T060000Z", "--reason", "Fair", "--json")
    assert cancelled.exit_code == 0, cancelled.output
    data = json.loads(cancelled.output)
    assert (data["status"], data["version"]) == ("upcoming", 2)
    assert [(o["id"], o["reason"]) for o in data["exceptions"]] == [("20261208T060000Z", "Fair")]
    again = run("notice", "cancel", uid, "--occurrence", "20261208T060000Z", "--reason", "Fair")
    assert again.exit_code == 2 and "already cancelled" in again.output
    unknown = run("notice", "cancel", uid, "--occurrence", "20261209T060000Z", "--reason", "x")
    assert unknown.exit_code == 2 and "20261209T060000Z" in unknown.output
    moved = run(
        "notice", "move-occurrence", uid, "20261215T060000Z", "--starts", "2026-12-16T07:00", "--note", "a day later"
    )
    assert moved.exit_code == 0, moved.output
    assert "20261215T060000Z  2026-12-15T07:00:00+01:00 moved to 2026-12-16T07:00:00+01:00" in moved.output
    bad = run("notice", "move-occurrence", uid, "20261222T060000Z", "--starts", "soon", "--note", "x")
    assert bad.exit_code == 2 and "--starts:" in bad.output
    events = [(e.kind, e.occurrence, e.detail) for e in reload(ctx, uid).events]
    assert events == [
        ("cancelled", "20261208T060000Z", "Fair"),
        ("rescheduled", "20261215T060000Z", "a day later"),
    ]


def test_import_takes_series(ctx, run, tmp_path: Path):
    file = tmp_path / "notices.yaml"
    file.write_text(
        "- title: Market closure\n"
        "  category: road-closure\n"
        "  starts_at: 2026-12-01T07:00\n"
        "  recurrence: FREQ=WEEKLY;BYDAY=TU;COUNT=3\n"
        "  occurrence_minutes: 120\n"
        "  skip: [2026-12-08]\n",
        encoding="utf-8",
    )
    result = run("notice", "import", str(file), "--json")
    assert result.exit_code == 0, result.output
    (data,) = json.loads(result.output)
    assert [o["id"] for o in data["upcoming_occurrences"]] == ["20261201T060000Z", "20261215T060000Z"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(file.read_text().replace("BYDAY=TU", "BYDAY=MO"), encoding="utf-8")
    refused = run("notice", "import", str(bad))
    assert refused.exit_code == 2 and "notice 1: recurrence:" in refused.output
