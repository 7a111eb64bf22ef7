"""The `notices` command: clear one-line errors with exit code 2, nothing half-written."""

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from notices.cli import cli
from notices.core.models import Notice
from tests.factories import add_notice


@pytest.fixture
def run(ctx):
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, list(args), obj=ctx, catch_exceptions=False)

    return run


def count_notices(ctx) -> int:
    with ctx.db.session() as session:
        return session.scalar(select(func.count()).select_from(Notice))


ADD = [
    "notice",
    "add",
    "--title",
    "Plesmanlaan closed",
    "--category",
    "road-closure",
    "--severity",
    "major",
    "--location",
    "plesmanlaan",
    "--location",
    "sylviusweg",
]


def test_add_prints_the_new_notice_as_json(ctx, run):
    result = run(*ADD, "--starts", "2026-11-14T16:00", "--expected-end", "approximately Q3 2027", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["status"] == "active"
    assert data["starts_at"] == "2026-11-14T16:00:00+01:00"
    assert data["ends_at"] is None
    assert data["expected_end"] == "approximately Q3 2027"
    assert data["locations"] == ["plesmanlaan", "sylviusweg"]


def test_body_can_come_from_a_file(ctx, run, tmp_path):
    body = tmp_path / "body.md"
    body.write_text("Follow the **yellow** signs.", encoding="utf-8")
    result = run(*ADD, "--starts", "+1h", "--body-file", str(body), "--json")
    assert json.loads(result.output)["body"] == "Follow the **yellow** signs."


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--starts", "2026-03-29T02:30"], "--starts: 2026-03-29 02:30 does not exist in Europe/Amsterdam"),
        (["--starts", "2026-10-25T02:30"], "--starts: 2026-10-25 02:30 happens twice"),
        (["--starts", "next friday"], "--starts: 'next friday' is not a time"),
        (["--starts", "+1h", "--ends", "+30m"], "--ends: must be after starts_at"),
        (["--starts", "+1h", "--category", "roadworks"], "--category: unknown value 'roadworks'"),
        (["--starts", "+1h", "--location", "mars"], "--location: unknown value 'mars'"),
        (["--starts", "+1h", "--severity", "huge"], "--severity: unknown value 'huge'"),
        (["--starts", "+1h", "--draft", "--publish-at", "+1h"], "--publish-at: a draft has no publication time"),
        ([], "--starts: is required"),
    ],
)
def test_invalid_input_is_one_line_exit_2_and_nothing_written(ctx, run, args, message):
    result = run(*ADD, *args)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [result.output.strip()]
    assert message in result.output
    assert "Traceback" not in result.output
    assert count_notices(ctx) == 0


def test_list_shows_upcoming_and_active_by_default(ctx, clock, run):
    now = clock.now()
    active = add_notice(ctx, title="Active one", starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1))
    add_notice(
        ctx,
        title="Ended one",
        publish_at=now - timedelta(days=3),
        starts_at=now - timedelta(days=2),
        ends_at=now - timedelta(days=1),
    )
    data = json.loads(run("notice", "list", "--json").output)
    assert [item["uid"] for item in data] == [active.uid]
    ended = json.loads(run("notice", "list", "--status", "ended", "--json").output)
    assert [item["title"] for item in ended] == ["Ended one"]


def test_show_includes_status_and_recorded_events(ctx, clock, run):
    notice = add_notice(ctx, starts_at=clock.now() - timedelta(minutes=1))
    assert run("jobs", "record-transitions").exit_code == 0
    data = json.loads(run("notice", "show", notice.uid, "--json").output)
    assert data["status"] == "active"
    assert [event["kind"] for event in data["events"]] == ["published", "started"]


def test_update_with_a_note_and_cancel_with_a_reason(ctx, run):
    notice = add_notice(ctx)
    updated = run(
        "notice",
        "update",
        notice.uid[:8],
        "--ends",
        "2026-12-12T17:00",
        "--note",
        "closure extended to 12 December",
        "--json",
    )
    assert updated.exit_code == 0, updated.output
    assert json.loads(updated.output)["version"] == 2
    cancelled = run("notice", "cancel", notice.uid, "--reason", "works postponed", "--json")
    data = json.loads(cancelled.output)
    assert (data["status"], data["cancel_reason"]) == ("cancelled", "works postponed")
    again = run("notice", "cancel", notice.uid, "--reason", "again")
    assert again.exit_code == 2 and "already cancelled" in again.output


def test_update_of_an_unknown_notice_names_it(run):
    result = run("notice", "update", "00000000-0000-0000-0000-000000000000", "--title", "x", "--note", "n")
    assert result.exit_code == 2
    assert "no notice with uid" in result.output


def test_draft_is_published_later(ctx, run):
    draft = json.loads(run(*ADD, "--starts", "+1d", "--draft", "--json").output)
    assert draft["status"] == "draft"
    published = json.loads(run("notice", "publish", draft["uid"], "--json").output)
    assert published["status"] == "upcoming"


def test_import_is_all_or_nothing(ctx, run, tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(
        "- title: Plesmanlaan closed\n  category: road-closure\n  starts_at: 2026-12-01 07:00\n"
        "  expected_end: approximately Q3 2027\n"
        "- title: Open day\n  category: event\n  starts_at: '2026-12-05T14:00'\n  ends_at: '2026-12-05T17:00'\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            [
                {"title": "Fine", "category": "event", "starts_at": "2026-12-05T14:00"},
                {"title": "Broken", "category": "event", "starts_at": "2026-03-29T02:15"},
            ]
        )
    )
    result = run("notice", "import", str(bad))
    assert result.exit_code == 2
    assert "notice 2: starts_at: 2026-03-29 02:15 does not exist" in result.output
    assert count_notices(ctx) == 0
    result = run("notice", "import", str(good), "--json")
    assert result.exit_code == 0, result.output
    imported = json.loads(result.output)
    assert [item["starts_at"] for item in imported] == ["2026-12-01T07:00:00+01:00", "2026-12-05T14:00:00+01:00"]


def test_demo_loads_once(ctx, run):
    assert "loaded 7 demo notices, 3 demo templates and 4 demo subscribers" in run("demo", "--if-empty").output
    assert "not loaded" in run("demo", "--if-empty").output
    statuses = {item["title"]: item["status"] for item in json.loads(run("notice", "list", "--all", "--json").output)}
    assert statuses["Plesmanlaan closed between Sylviusweg and Einsteinweg"] == "active"
    assert statuses["Sylviusweg resurfacing"] == "ended"
    assert statuses["Cable works on the Einsteinweg"] == "scheduled"


def test_list_status_draft_shows_a_draft_whose_end_has_passed(ctx, clock, run):
    stale = add_notice(
        ctx, draft=True, starts_at=clock.now() - timedelta(days=3), ends_at=clock.now() - timedelta(days=2)
    )
    listed = json.loads(run("notice", "list", "--status", "draft", "--json").output)
    assert [(item["uid"], item["status"]) for item in listed] == [(stale.uid, "draft")]
