"""Error messages in the reader's language: the console's forms in the page's language, the API's
`message` in the language the request asks for (`?lang=`, then Accept-Language), English by
default. The field a message names stays as it is: programs read it."""

import dataclasses

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from lxml import etree

from notices.cli import cli
from tests.factories import add_token, add_user
from tests.web.test_console import count_notices, csrf_of, log_in

NEW = {
    "title": "Plesmanlaan closed",
    "category": "road-closure",
    "severity": "major",
    "locations": ["plesmanlaan"],
    "starts_at": "2026-12-01T07:00",
    "ends_at": "2026-11-30T07:00",
}


@pytest.fixture
def manager(app, ctx):
    add_user(ctx, "manager@example.org")
    with TestClient(app) as client:
        assert log_in(client).status_code == 303
        yield client


@pytest.fixture
def auth(ctx):
    add_user(ctx, "manager@example.org")
    return {"Authorization": f"Bearer {add_token(ctx, 'manager@example.org')}"}


def _form_error(html: str) -> str:
    (error,) = etree.HTML(html).xpath('//*[@id="form-error"]')
    return " ".join("".join(error.itertext()).split())


def _new_notice(client, **fields):
    form = client.get("/admin/notices/new")
    data = {**NEW, "csrf_token": csrf_of(form), "action": "publish", **fields}
    return client.post("/admin/notices", data=data, follow_redirects=False)


def test_a_console_form_error_is_in_dutch_for_a_dutch_reader(ctx, manager):
    manager.get("/admin?lang=nl")  # the switch: the console stays Dutch from here on
    answer = _new_notice(manager)
    assert answer.status_code == 400
    assert _form_error(answer.text) == "Controleer ends_at: moet na starts_at liggen"
    assert count_notices(ctx) == 0


def test_a_dutch_console_names_the_daylight_saving_gap_in_dutch(manager):
    answer = _new_notice(manager, starts_at="2027-03-28 02:30", ends_at="")
    assert "does not exist" in _form_error(answer.text)  # English until the reader picks Dutch
    manager.get("/admin?lang=nl")
    answer = _new_notice(manager, starts_at="2027-03-28 02:30", ends_at="")
    assert _form_error(answer.text) == (
        "Controleer starts_at: 2027-03-28 02:30 bestaat niet in Europe/Amsterdam "
        "(de klok slaat dat uur over voor de zomertijd)"
    )


def test_the_live_preview_names_the_problem_in_the_console_language(manager):
    form = manager.get("/admin/notices/new", headers={"Accept-Language": "nl"})
    answer = manager.post(
        "/admin/preview",
        data={**NEW, "csrf_token": csrf_of(form), "title": ""},
        headers={"Accept-Language": "nl"},
    )
    assert answer.json()["error"] == {"field": "title", "message": "is verplicht"}


def test_an_api_error_is_in_dutch_when_the_request_asks_for_dutch(client, auth):
    answer = client.post("/api/v1/notices", json=NEW, headers={**auth, "Accept-Language": "nl-NL, en;q=0.5"})
    assert answer.status_code == 422
    assert answer.json() == {"error": {"field": "ends_at", "message": "moet na starts_at liggen"}}
    assert "Accept-Language" in answer.headers["Vary"]


def test_lang_asks_for_dutch_errors_too_and_beats_accept_language(client, auth):
    answer = client.post(
        "/api/v1/notices?lang=nl", json={**NEW, "title": "x" * 201}, headers={**auth, "Accept-Language": "en"}
    )
    assert answer.status_code == 422
    assert answer.json()["error"] == {
        "field": "title",
        "message": "is te lang; er zijn ten hoogste 200 tekens toegestaan",
    }
    gap = client.post(
        "/api/v1/notices?lang=nl", json={**NEW, "starts_at": "2027-03-28T02:30", "ends_at": None}, headers=auth
    )
    assert gap.json()["error"] == {
        "field": "starts_at",
        "message": "2027-03-28 02:30 bestaat niet in Europe/Amsterdam (de klok slaat dat uur over voor de zomertijd)",
    }


def test_an_api_error_is_in_english_by_default(client, auth):
    answer = client.post("/api/v1/notices", json=NEW, headers=auth)
    assert answer.json() == {"error": {"field": "ends_at", "message": "must be after starts_at"}}
    unknown = client.get("/api/v1/notices/0000000000", headers={"Accept-Language": "de, fr"})
    assert unknown.status_code == 404
    assert unknown.json()["error"] == {"field": "uid", "message": "no notice with uid '0000000000'"}


def test_api_errors_outside_validation_follow_the_language_too(client):
    assert client.get("/api/v1/notices/0000000000?lang=nl").json()["error"]["message"] == (
        "geen melding met uid '0000000000'"
    )
    bad_filter = client.get("/api/v1/notices?severity=huge", headers={"Accept-Language": "nl"})
    assert bad_filter.status_code == 400
    assert bad_filter.json()["error"]["field"] == "severity"
    assert bad_filter.json()["error"]["message"].startswith("onbekende severity 'huge'; geldige waarden zijn info,")
    no_token = client.post("/api/v1/notices", json=NEW, headers={"Accept-Language": "nl"})
    assert (no_token.status_code, no_token.json()["error"]["message"]) == (401, "een Bearer-token is nodig")


def test_the_command_line_speaks_the_site_language(ctx):
    runner = CliRunner()
    add = ["notice", "add", "--title", "Plesmanlaan", "--category", "road-closure", "--starts", "2026-12-01T07:00"]
    english = runner.invoke(cli, [*add, "--ends", "2026-11-30T07:00"], obj=ctx)
    assert (english.exit_code, english.stderr.strip()) == (2, "error: --ends: must be after starts_at")
    dutch_site = dataclasses.replace(
        ctx, settings=dataclasses.replace(ctx.settings, language="nl", languages=("nl", "en"))
    )
    dutch = runner.invoke(cli, [*add, "--ends", "2026-11-30T07:00"], obj=dutch_site, env={"LANG": "en_GB.UTF-8"})
    assert (dutch.exit_code, dutch.stderr.strip()) == (2, "error: --ends: moet na starts_at liggen")


def test_a_conflict_and_a_refusal_are_in_dutch_when_the_request_asks_for_dutch(ctx, client, auth):
    created = client.post("/api/v1/notices", json={**NEW, "ends_at": "2026-12-02T07:00"}, headers=auth)
    uid = created.json()["uid"]
    assert client.post(f"/api/v1/notices/{uid}/cancel", json={"reason": "postponed"}, headers=auth).status_code == 200
    again = client.post(f"/api/v1/notices/{uid}/cancel?lang=nl", json={"reason": "again"}, headers=auth)
    assert (again.status_code, again.json()["error"]["message"]) == (409, "de melding is al geannuleerd")
    add_user(ctx, "approver@example.org", role="approver")
    approver = {"Authorization": f"Bearer {add_token(ctx, 'approver@example.org')}", "Accept-Language": "nl"}
    refused = client.post("/api/v1/notices", json=NEW, headers=approver)
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "je rol mag geen meldingen wijzigen"
    english = client.post("/api/v1/notices", json=NEW, headers={**approver, "Accept-Language": "en"})
    assert english.json()["error"]["message"] == "your role may not change notices"
