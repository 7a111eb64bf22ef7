"""`--geometry FILE` on add and update, `notice show --json`, import: shapes round-trip, bad ones exit 2."""

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from notices.cli import cli
from notices.core.models import Notice, NoticeEvent
from tests.factories import add_notice

CLOSURE = {"type": "LineString", "coordinates": [[4.4745, 52.1692], [4.47, 52.17], [4.465, 52.1707]]}
ADD = ["notice", "add", "--title", "Plesmanlaan closed", "--category", "road-closure", "--starts", "now"]


@pytest.fixture
def run(ctx):
    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        return runner.invoke(cli, list(args), obj=ctx, catch_exceptions=False, input=input)

    return run


def count(ctx, model) -> int:
    with ctx.db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_add_with_a_geometry_file_and_show_it_as_json(ctx, run, tmp_path):
    path = tmp_path / "closure.geojson"
    path.write_text(json.dumps(CLOSURE), encoding="utf-8")
    added = run(*ADD, "--geometry", str(path), "--json")
    assert added.exit_code == 0, added.output
    uid = json.loads(added.output)["uid"]
    shown = json.loads(run("notice", "show", uid, "--json").output)
    assert shown["geometry"] == {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "geometry": CLOSURE, "properties": {"role": "closure"}}],
    }
    assert "geometry:      closure" in run("notice", "show", uid).output


def test_geometry_from_standard_input(ctx, run):
    added = run(*ADD, "--geometry", "-", "--json", input=json.dumps(CLOSURE))
    assert added.exit_code == 0, added.output
    assert json.loads(added.output)["geometry"]["features"][0]["geometry"] == CLOSURE


def test_bad_geometry_exits_2_naming_the_field_and_writes_nothing(ctx, run, tmp_path):
    path = tmp_path / "swapped.geojson"
    path.write_text(json.dumps({"type": "Point", "coordinates": [52.1663, 4.4817]}), encoding="utf-8")
    result = run(*ADD, "--geometry", str(path))
    assert result.exit_code == 2
    assert "geometry: coordinates: [52.1663, 4.4817] looks like [latitude, longitude]" in result.output
    assert "Traceback" not in result.output
    missing = run(*ADD, "--geometry", str(tmp_path / "nowhere.geojson"))
    assert missing.exit_code == 2 and "--geometry: cannot read" in missing.output
    assert count(ctx, Notice) == 0


def test_changing_the_geometry_is_a_change_like_any_other(ctx, run, tmp_path):
    notice = add_notice(ctx, starts_at=ctx.clock.now())
    path = tmp_path / "closure.geojson"
    path.write_text(json.dumps(CLOSURE), encoding="utf-8")
    changed = run("notice", "update", notice.uid, "--geometry", str(path), "--note", "closed stretch drawn", "--json")
    assert changed.exit_code == 0, changed.output
    assert json.loads(changed.output)["version"] == 2
    removed = run("notice", "update", notice.uid, "--geometry", "", "--note", "shape removed", "--json")
    assert (json.loads(removed.output)["version"], json.loads(removed.output)["geometry"]) == (3, None)
    history = json.loads(run("notice", "show", notice.uid, "--json").output)
    assert [item["change_note"] for item in history["revisions"]] == [
        "created",
        "closed stretch drawn",
        "shape removed",
    ]
    with ctx.db.session() as session:
        kinds = session.scalars(select(NoticeEvent.kind).where(NoticeEvent.version > 1).order_by(NoticeEvent.id))
        assert list(kinds) == ["rescheduled", "rescheduled"]
    same = run("notice", "update", notice.uid, "--geometry", "", "--note", "again")
    assert same.exit_code == 2 and "nothing to change" in same.output


def test_import_carries_geometry_and_refuses_a_bad_one(ctx, run, tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(
        "- title: Plesmanlaan closed\n  category: road-closure\n  starts_at: 2026-12-01 07:00\n"
        "  geometry:\n    type: LineString\n    coordinates: [[4.4745, 52.1692], [4.465, 52.1707]]\n",
        encoding="utf-8",
    )
    imported = run("notice", "import", str(good), "--json")
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.output)[0]["geometry"]["features"][0]["properties"]["role"] == "closure"
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            [
                {"title": "Fine", "category": "event", "starts_at": "2026-12-05T14:00"},
                {"title": "Bad", "category": "event", "starts_at": "2026-12-05T14:00", "geometry": {"type": "Blob"}},
            ]
        ),
        encoding="utf-8",
    )
    refused = run("notice", "import", str(bad))
    assert refused.exit_code == 2 and "notice 2: geometry: type: 'Blob' is not a supported" in refused.output
    assert count(ctx, Notice) == 1


def test_the_readme_import_example_with_shapes_imports_as_written(ctx, run, tmp_path):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    (block,) = [block for block in re.findall(r"```yaml\n(.*?)```", readme, flags=re.S) if "geometry:" in block]
    path = tmp_path / "readme.yaml"
    path.write_text(block, encoding="utf-8")
    imported = run("notice", "import", str(path), "--json")
    assert imported.exit_code == 0, imported.output
    (notice,) = json.loads(imported.output)
    roles = [feature["properties"]["role"] for feature in notice["geometry"]["features"]]
    assert roles == ["closure", "diversion"]
