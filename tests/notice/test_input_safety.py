"""Input refuses what the service cannot represent (far-off times) and drops what breaks output
(XML-illegal characters, bidi controls), with an error naming the field in the CLI and the API."""

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from notices.cli import cli
from notices.core.errors import InvalidField
from notices.core.models import Notice
from notices.notice.validation import parse_new_notice
from tests.factories import add_notice, add_token, add_user

NEW = {"title": "Plesmanlaan closed", "category": "road-closure", "starts_at": "2026-12-01T07:00"}


@pytest.fixture
def run(ctx):
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args), obj=ctx, catch_exceptions=False)


@pytest.fixture
def auth(ctx):
    add_user(ctx, "manager@example.org")
    return {"Authorization": f"Bearer {add_token(ctx, 'manager@example.org')}"}


def count_notices(ctx) -> int:
    with ctx.db.session() as session:
        return session.scalar(select(func.count()).select_from(Notice))


FAR_OFF = [
    ("9999-12-30T10:00", "outside the accepted range"),
    ("0001-01-01T00:00", "outside the range of dates"),
    ("9999-12-31T23:59-01:00", "outside the range of dates"),
    ("+999999999d", "too far from now"),
    ("+99999d", "outside the accepted range"),
    ("1969-12-31T22:59Z", "outside the accepted range"),  # 23:59 on 31 December 1969 in the site zone
]


@pytest.mark.parametrize(("when", "problem"), FAR_OFF)
def test_far_off_times_are_refused_by_the_cli_with_exit_2(ctx, run, when, problem):
    result = run("notice", "add", "--title", "Closed", "--category", "road-closure", "--starts", when)
    assert result.exit_code == 2
    assert result.output.startswith("error: --starts: ") and problem in result.output
    assert "Traceback" not in result.output
    assert count_notices(ctx) == 0


@pytest.mark.parametrize(("when", "problem"), FAR_OFF)
@pytest.mark.parametrize("field", ["starts_at", "ends_at", "publish_at"])
def test_far_off_times_are_a_422_naming_the_field_in_the_api(ctx, client, auth, field, when, problem):
    body = {**NEW, field: when}
    response = client.post("/api/v1/notices", json=body, headers=auth)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    assert problem in response.json()["error"]["message"]
    assert count_notices(ctx) == 0


def test_the_accepted_window_is_configurable(ctx):
    import dataclasses
    from datetime import UTC, datetime

    settings = dataclasses.replace(ctx.settings, latest=datetime(2030, 1, 1, tzinfo=UTC))
    with pytest.raises(InvalidField, match="2030-06-01 is outside the accepted range 1970-01-01 to 2029-12-31"):
        parse_new_notice({**NEW, "ends_at": "2030-06-01T10:00"}, settings=settings, now=ctx.clock.now())


@pytest.mark.parametrize(
    ("when", "problem"),
    [
        ("1969-12-31T23:59", "1969-12-31 is outside the accepted range 1970-01-01 to 2099-12-31"),
        ("1970-01-01T00:00", None),  # (1969-12-31T23:00 in UTC)
        ("2099-12-31T23:59", None),
        ("2100-01-01T00:00", "2100-01-01 is outside the accepted range 1970-01-01 to 2099-12-31"),  # (2099 in UTC)
    ],
)
def test_the_accepted_range_is_of_dates_as_the_site_zone_has_them(ctx, when, problem):
    # The range is said in dates, and the time was typed in the site's zone: the two agree.
    if problem is None:
        fields = parse_new_notice(
            {**NEW, "starts_at": when, "ends_at": None}, settings=ctx.settings, now=ctx.clock.now()
        )
        assert fields.starts_at.astimezone(ctx.settings.timezone).isoformat(timespec="minutes").startswith(when)
    else:
        with pytest.raises(InvalidField, match=problem):
            parse_new_notice({**NEW, "starts_at": when}, settings=ctx.settings, now=ctx.clock.now())


@pytest.mark.parametrize("field", ["title", "summary", "body", "location_detail", "expected_end"])
def test_xml_illegal_characters_and_bidi_controls_are_dropped_from_every_text_field(ctx, field):
    hostile = "A\x00B\x08C\ufffeD\uffffE\ud800F\u202eG\u2066H\u200fI\x85J\U0010ffffK"
    fields = parse_new_notice({**NEW, field: hostile}, settings=ctx.settings, now=ctx.clock.now())
    assert getattr(fields, field) == "ABCDEFGHIJK"


def test_visible_text_in_any_script_is_kept(ctx):
    text = (
        "Straße \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627 \U0001f6a7 \U0001f468\u200d\U0001f469 tab\there"
    )
    fields = parse_new_notice({**NEW, "body": text}, settings=ctx.settings, now=ctx.clock.now())
    assert fields.body == text


def test_a_title_of_only_invisible_characters_is_refused(ctx):
    with pytest.raises(InvalidField, match="title: is required"):
        parse_new_notice({**NEW, "title": "\u202e\u200f\x00"}, settings=ctx.settings, now=ctx.clock.now())


def test_api_stores_cleaned_text(ctx, client, auth):
    response = client.post(
        "/api/v1/notices", headers=auth, json={**NEW, "title": "Closed \u202eevil", "expected_end": "Q3 \ufffe2027"}
    )
    assert response.status_code == 201, response.text
    assert (response.json()["title"], response.json()["expected_end"]) == ("Closed evil", "Q3 2027")


def test_change_notes_and_cancel_reasons_are_cleaned(ctx, run):
    notice = add_notice(ctx)
    result = run("notice", "update", notice.uid, "--summary", "new", "--note", "moved \u202e\x00back", "--json")
    assert result.exit_code == 0, result.output
    result = run("notice", "cancel", notice.uid, "--reason", "rain \ufffe\u2067storm", "--json")
    assert json.loads(result.output)["cancel_reason"] == "rain storm"
    shown = json.loads(run("notice", "show", notice.uid, "--json").output)
    assert [revision["change_note"] for revision in shown["revisions"]][1] == "moved back"


@pytest.mark.parametrize("field", ["title", "summary", "body", "location_detail", "expected_end"])
def test_a_lone_surrogate_is_a_422_naming_the_field_in_the_api(ctx, client, auth, field):
    # "\ud800" as JSON writes it: half of a surrogate pair, which no text can hold ("body" is a
    # field of a notice as well as where a request's values are).
    raw = '{"title": "Closed", "category": "road-closure", "starts_at": "2026-12-01T07:00", "%s": "a\\ud800b"}' % field  # noqa: UP031
    response = client.post(
        "/api/v1/notices", content=raw.encode(), headers={**auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == {
        "field": field,
        "message": "must be text, without lone surrogates such as \\ud800",
    }
    assert count_notices(ctx) == 0


def test_a_lone_surrogate_as_a_language_is_a_422_naming_it(ctx, client, auth):
    raw = '{"title": {"\\ud800": "Gesloten"}, "category": "road-closure", "starts_at": "2026-12-01T07:00"}'
    response = client.post(
        "/api/v1/notices", content=raw.encode(), headers={**auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == "title.\\ud800"  # (as its escape: no text holds it)
    assert count_notices(ctx) == 0


def test_the_lone_surrogate_problem_is_said_in_the_readers_language(ctx, client, auth):
    raw = '{"title": "Dicht", "category": "road-closure", "starts_at": "2026-12-01T07:00", "body": "a\\ud800b"}'
    headers = {**auth, "Content-Type": "application/json", "Accept-Language": "nl"}
    response = client.post("/api/v1/notices", content=raw.encode(), headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == {
        "field": "body",
        "message": "moet tekst zijn, zonder losse surrogaten zoals \\ud800",
    }


@pytest.mark.parametrize(
    ("when", "accepted"),
    [("2099-12-31T23:00", True), ("2100-01-01T00:00", False), ("1970-01-01T00:00", True), ("1969-12-31T23:59", False)],
)
def test_the_accepted_range_is_of_the_sites_dates_west_of_utc_too(ctx, when, accepted):
    # In New York 2099-12-31T23:00 is 2100-01-01T04:00 in UTC, and 1970-01-01T00:00 is 05:00 UTC.
    import dataclasses
    from zoneinfo import ZoneInfo

    settings = dataclasses.replace(ctx.settings, timezone=ZoneInfo("America/New_York"))
    raw = {**NEW, "starts_at": when, "ends_at": None}
    if accepted:
        assert parse_new_notice(raw, settings=settings, now=ctx.clock.now()).starts_at.tzinfo is not None
    else:
        with pytest.raises(InvalidField, match="outside the accepted range 1970-01-01 to 2099-12-31"):
            parse_new_notice(raw, settings=settings, now=ctx.clock.now())
