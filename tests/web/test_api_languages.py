"""The JSON API takes notice text per language and gives it in the language asked for."""

import pytest
from sqlalchemy import func, select

from notices.core.models import Notice
from tests.factories import add_token, add_user, reload

NEW = {
    "title": {"en": "Plesmanlaan closed", "nl": "Plesmanlaan afgesloten"},
    "summary": {"en": "Follow the signs.", "nl": "Volg de borden."},
    "category": "road-closure",
    "severity": "major",
    "locations": ["plesmanlaan"],
    "starts_at": "2026-12-01T07:00",
    "expected_end": {"en": "approximately Q3 2027", "nl": "ongeveer Q3 2027"},
}


@pytest.fixture
def auth(ctx):
    add_user(ctx, "manager@example.org")
    return {"Authorization": f"Bearer {add_token(ctx, 'manager@example.org')}"}


def _count(ctx) -> int:
    with ctx.db.session() as session:
        return session.scalar(select(func.count()).select_from(Notice))


def test_a_notice_in_two_languages_round_trips(client, auth):
    uid = client.post("/api/v1/notices", json=NEW, headers=auth).json()["uid"]
    notice = client.get(f"/api/v1/notices/{uid}").json()
    assert (notice["language"], notice["title"], notice["expected_end"]) == (
        "en",
        "Plesmanlaan closed",
        "approximately Q3 2027",
    )
    assert notice["languages"]["nl"] == {
        "title": "Plesmanlaan afgesloten",
        "summary": "Volg de borden.",
        "body": "",
        "location_detail": "",
        "expected_end": "ongeveer Q3 2027",
    }
    dutch = client.get(f"/api/v1/notices/{uid}", params={"lang": "nl"}).json()
    assert (dutch["language"], dutch["title"], dutch["summary"]) == ("nl", "Plesmanlaan afgesloten", "Volg de borden.")


def test_a_plain_string_is_the_default_language_and_other_languages_fall_back(client, auth):
    plain = {**NEW, "title": "Plesmanlaan closed", "summary": "Follow the signs.", "expected_end": ""}
    uid = client.post("/api/v1/notices", json=plain, headers=auth).json()["uid"]
    dutch = client.get(f"/api/v1/notices/{uid}", params={"lang": "nl"}).json()
    assert dutch["title"] == "Plesmanlaan closed"
    assert dutch["languages"]["nl"]["title"] == ""
    assert dutch["languages"]["en"]["title"] == "Plesmanlaan closed"


def test_the_list_gives_the_text_in_the_language_asked_for(client, auth):
    client.post("/api/v1/notices", json=NEW, headers=auth)
    listed = client.get("/api/v1/notices", params={"lang": "nl"}).json()["notices"]
    assert [notice["title"] for notice in listed] == ["Plesmanlaan afgesloten"]


def test_an_unknown_lang_query_is_a_400_naming_it(client):
    answer = client.get("/api/v1/notices", params={"lang": "de"})
    assert answer.status_code == 400
    assert answer.json()["error"]["field"] == "lang"


def test_a_change_to_one_language_keeps_the_other(ctx, client, auth):
    uid = client.post("/api/v1/notices", json=NEW, headers=auth).json()["uid"]
    changed = client.patch(
        f"/api/v1/notices/{uid}", headers=auth, json={"title": {"nl": "Plesmanlaan dicht"}, "note": "shorter"}
    )
    assert changed.status_code == 200, changed.text
    notice = reload(ctx, uid)
    assert (notice.title, notice.translations["nl"]["title"]) == ("Plesmanlaan closed", "Plesmanlaan dicht")
    assert notice.revisions[-1].snapshot["translations"]["nl"]["title"] == "Plesmanlaan dicht"
    assert notice.revisions[-1].snapshot["title"] == "Plesmanlaan closed"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": {"de": "Plesmanlaan gesperrt"}}, "title.de"),
        ({"title": {"en": "Plesmanlaan closed", "nl": "x" * 201}}, "title.nl"),
        ({"expected_end": {"nl": "ongeveer\nQ3"}, "title": {"nl": "y" * 201}}, "title.nl"),
        ({"title": {"nl": "Plesmanlaan dicht"}}, "title.en"),
        ({"summary": {"nl": 5}}, "summary.nl"),
    ],
)
def test_a_bad_text_in_any_language_is_refused_naming_field_and_language(ctx, client, auth, change, field):
    answer = client.post("/api/v1/notices", json={**NEW, **change}, headers=auth)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field
    assert _count(ctx) == 0


def test_a_bad_second_language_in_a_change_writes_nothing(ctx, client, auth):
    uid = client.post("/api/v1/notices", json=NEW, headers=auth).json()["uid"]
    answer = client.patch(
        f"/api/v1/notices/{uid}",
        headers=auth,
        json={"title": {"en": "New English title", "nl": "z" * 201}, "note": "both"},
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "title.nl"
    notice = reload(ctx, uid)
    assert (notice.version, notice.title) == (1, "Plesmanlaan closed")


def test_hostile_text_in_the_second_language_is_cleaned_like_the_first(ctx, client, auth):
    hostile = "Plesmanlaan\u202e dicht\x00\ufffe"
    uid = client.post(
        "/api/v1/notices", json={**NEW, "title": {"en": "Plesmanlaan closed", "nl": hostile}}, headers=auth
    ).json()["uid"]
    assert reload(ctx, uid).translations["nl"]["title"] == "Plesmanlaan dicht"
