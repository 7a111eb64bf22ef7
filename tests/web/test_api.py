"""The JSON API: public reads, Bearer-token writes, errors as JSON that name the field."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from notices.core.models import AuditEntry
from notices.notice.validation import TEXT_LIMITS
from notices.people import accounts
from tests.factories import add_notice, add_subscriber, add_token, add_user, reload

NEW = {
    "title": "Plesmanlaan closed",
    "category": "road-closure",
    "severity": "major",
    "locations": ["plesmanlaan"],
    "starts_at": "2026-12-01T07:00",
    "expected_end": "approximately Q3 2027",
}


@pytest.fixture
def api(client):
    return client


@pytest.fixture
def auth(ctx):
    add_user(ctx, "manager@example.org")
    return {"Authorization": f"Bearer {add_token(ctx, 'manager@example.org')}"}


def test_create_get_update_and_cancel(ctx, api, auth):
    created = api.post("/api/v1/notices", json=NEW, headers=auth)
    assert created.status_code == 201, created.text
    notice = created.json()
    assert (notice["status"], notice["starts_at"], notice["ends_at"]) == ("upcoming", "2026-12-01T07:00:00+01:00", None)
    assert api.get(f"/api/v1/notices/{notice['uid']}").json()["title"] == "Plesmanlaan closed"
    changed = api.patch(
        f"/api/v1/notices/{notice['uid']}",
        headers=auth,
        json={"ends_at": "2026-12-12T17:00", "note": "closure extended to 12 December"},
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["version"], changed.json()["ends_at"]) == (2, "2026-12-12T17:00:00+01:00")
    cancelled = api.post(f"/api/v1/notices/{notice['uid']}/cancel", headers=auth, json={"reason": "postponed"})
    assert cancelled.json()["status"] == "cancelled"
    again = api.post(f"/api/v1/notices/{notice['uid']}/cancel", headers=auth, json={"reason": "again"})
    assert again.status_code == 409
    assert again.json() == {"error": {"field": None, "message": "the notice is already cancelled"}}
    with ctx.db.session() as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["notice.create", "notice.update", "notice.cancel"]


def test_list_takes_the_feed_filters(ctx, api):
    road = add_notice(ctx, category="road-closure")
    add_notice(ctx, category="event", severity="info")
    listed = api.get("/api/v1/notices", params={"category": "road-closure"}).json()
    assert [item["uid"] for item in listed["notices"]] == [road.uid] and listed["count"] == 1
    bad = api.get("/api/v1/notices", params={"location": "atlantis"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "location"


def test_drafts_are_not_public(ctx, api):
    draft = add_notice(ctx, draft=True)
    assert api.get(f"/api/v1/notices/{draft.uid}").status_code == 404
    listed = api.get("/api/v1/notices", params={"status": "draft"})
    assert listed.status_code == 401 and listed.json()["error"]["field"] == "status"
    assert listed.headers["www-authenticate"] == "Bearer"


def test_a_token_shows_drafts_and_scheduled_notices(ctx, api, auth, clock):
    draft = add_notice(ctx, draft=True)
    scheduled = add_notice(ctx, publish_at=clock.now() + timedelta(hours=1))
    assert api.get(f"/api/v1/notices/{draft.uid}", headers=auth).json()["status"] == "draft"
    listed = api.get("/api/v1/notices", params=[("status", "draft"), ("status", "scheduled")], headers=auth).json()
    assert {item["uid"]: item["status"] for item in listed["notices"]} == {
        draft.uid: "draft",
        scheduled.uid: "scheduled",
    }


def test_the_status_filter_picks_notices_by_status(ctx, api, clock):
    ended = add_notice(ctx, now=clock.now() - timedelta(days=3))
    upcoming = add_notice(ctx)
    assert [item["uid"] for item in api.get("/api/v1/notices", params={"status": "ended"}).json()["notices"]] == [
        ended.uid
    ]
    assert [item["uid"] for item in api.get("/api/v1/notices").json()["notices"]] == [upcoming.uid]
    both = api.get("/api/v1/notices", params=[("status", "ended"), ("status", "upcoming")]).json()
    assert {item["uid"] for item in both["notices"]} == {ended.uid, upcoming.uid}


def test_an_unknown_status_is_a_400_naming_status(api):
    response = api.get("/api/v1/notices", params={"status": "bogus"})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "status"
    assert (
        "valid values are draft, scheduled, upcoming, active, ended, cancelled" in response.json()["error"]["message"]
    )


def test_a_json_body_on_a_list_request_is_ignored(ctx, api, clock):
    add_notice(ctx, now=clock.now() - timedelta(days=3))  # ended
    upcoming = add_notice(ctx)
    response = api.request("GET", "/api/v1/notices", json={"status": ["ended", "cancelled"]})
    assert [item["uid"] for item in response.json()["notices"]] == [upcoming.uid]


@pytest.mark.parametrize(
    ("name", "value"),
    [("category", "Road-Closure"), ("location", "atlantis"), ("severity", "huge"), ("category", "road-closure,event")],
)
def test_filter_values_are_spelled_exactly_as_the_schema_lists_them(api, name, value):
    response = api.get("/api/v1/notices", params={name: value})
    assert response.status_code == 400 and response.json()["error"]["field"] == name


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({**NEW, "starts_at": "2026-03-29T02:30"}, 422, "starts_at"),
        ({**NEW, "category": "roadworks"}, 422, "category"),
        ({**NEW, "ends_at": "2026-11-30T07:00"}, 422, "ends_at"),
        ({**NEW, "surprise": True}, 422, "surprise"),
        ({key: value for key, value in NEW.items() if key != "title"}, 422, "title"),
        ({**NEW, "locations": "plesmanlaan"}, 422, "locations"),
        ({**NEW, "draft": 0}, 422, "draft"),
        ({**NEW, "draft": "true"}, 422, "draft"),
        ({**NEW, "category": "Road-Closure"}, 422, "category"),
        ({**NEW, "title": "x" * 201}, 422, "title"),
    ],
)
def test_invalid_bodies_name_the_field_and_write_nothing(ctx, api, auth, body, status, field):
    response = api.post("/api/v1/notices", json=body, headers=auth)
    assert response.status_code == status
    assert response.json()["error"]["field"] == field
    assert api.get("/api/v1/notices").json()["count"] == 0


def test_malformed_json_is_a_400(api, auth):
    response = api.post("/api/v1/notices", content=b"{not json", headers={**auth, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "body"


def test_missing_unknown_and_revoked_tokens_get_the_same_401(ctx, api, auth):
    missing = api.post("/api/v1/notices", json=NEW)
    unknown = api.post("/api/v1/notices", json=NEW, headers={"Authorization": "Bearer ntc_nonsense"})
    with ctx.db.writing() as session, session.begin():
        token_id = session.scalar(select(accounts.ApiToken.id))
        accounts.revoke_token(session, token_id, now=ctx.clock.now())
    revoked = api.post("/api/v1/notices", json=NEW, headers=auth)
    assert missing.status_code == unknown.status_code == revoked.status_code == 401
    assert unknown.json() == revoked.json() == {"error": {"field": None, "message": "the token is not valid"}}
    assert missing.headers["www-authenticate"] == "Bearer"


def test_subscriber_counts_need_a_token(ctx, api, auth):
    add_subscriber(ctx, "a@example.org", categories=["road-closure"])
    add_subscriber(ctx, "b@example.org")
    assert api.get("/api/v1/subscribers/counts").status_code == 401
    counts = api.get("/api/v1/subscribers/counts", headers=auth).json()
    assert counts["total"] == 2
    assert counts["by_category"]["road-closure"] == 2 and counts["by_category"]["event"] == 1


def test_openapi_documents_the_api_with_examples(api):
    schema = api.get("/openapi.json").json()
    assert {
        "/api/v1/notices",
        "/api/v1/notices/{uid}",
        "/api/v1/notices/{uid}/cancel",
        "/api/v1/subscribers/counts",
    } <= set(schema["paths"])
    assert schema["components"]["schemas"]["NoticeCreate"]["examples"][0]["category"] == "road-closure"
    assert api.get("/docs").status_code == 200


def test_openapi_length_limits_are_the_real_ones(api):
    schemas = api.get("/openapi.json").json()["components"]["schemas"]
    for model in ("NoticeCreate", "NoticeUpdate"):
        # Each text field: a string (the default language) or one string per language, same limit.
        forms = {name: schemas[model]["properties"][name]["anyOf"] for name in TEXT_LIMITS}
        plain = {name: forms[name][0]["maxLength"] for name in TEXT_LIMITS}
        per_language = {name: forms[name][1]["additionalProperties"]["maxLength"] for name in TEXT_LIMITS}
        assert plain == per_language == TEXT_LIMITS, model
    assert schemas["NoticeCreate"]["properties"]["draft"]["type"] == "boolean"


def test_openapi_lists_the_sites_categories_and_locations(ctx, api):
    schema = api.get("/openapi.json").json()
    create = schema["components"]["schemas"]["NoticeCreate"]["properties"]
    assert create["category"]["enum"] == list(ctx.settings.categories)
    assert create["locations"]["items"]["enum"] == list(ctx.settings.locations)
    parameters = {parameter["name"]: parameter for parameter in schema["paths"]["/api/v1/notices"]["get"]["parameters"]}
    assert parameters["status"]["in"] == "query"
    assert parameters["status"]["schema"]["items"]["enum"] == [
        "draft",
        "scheduled",
        "upcoming",
        "active",
        "ended",
        "cancelled",
    ]
    assert parameters["location"]["schema"]["items"]["enum"] == list(ctx.settings.locations)


def test_every_response_with_a_notice_carries_its_version_as_etag(ctx, api, auth):
    created = api.post("/api/v1/notices", json=NEW, headers=auth)
    uid = created.json()["uid"]
    assert created.headers["etag"] == '"1"' and created.headers["location"] == f"/api/v1/notices/{uid}"
    assert api.get(f"/api/v1/notices/{uid}").headers["etag"] == '"1"'
    changed = api.patch(f"/api/v1/notices/{uid}", headers=auth, json={"summary": "Diversion", "note": "diversion"})
    assert changed.headers["etag"] == '"2"'
    assert (
        api.post(f"/api/v1/notices/{uid}/cancel", headers=auth, json={"reason": "postponed"}).headers["etag"] == '"3"'
    )


def test_a_change_to_a_stale_version_is_a_412_and_changes_nothing(ctx, api, auth):
    notice = add_notice(ctx, summary="Diversion via Einsteinweg")
    api.patch(f"/api/v1/notices/{notice.uid}", headers=auth, json={"summary": "Diversion via Sylviusweg", "note": "v2"})
    stale = api.patch(
        f"/api/v1/notices/{notice.uid}",
        headers={**auth, "If-Match": '"1"'},
        json={"summary": "Diversion via Wassenaarseweg", "note": "from version 1"},
    )
    assert stale.status_code == 412
    error = stale.json()["error"]
    assert error["field"] == "If-Match"
    assert "changed by someone else since you read it" in error["message"]
    assert 'send If-Match: "2"' in error["message"]
    assert stale.headers["etag"] == '"2"'
    current = reload(ctx, notice.uid)
    assert (current.version, current.summary) == (2, "Diversion via Sylviusweg")


@pytest.mark.parametrize("if_match", ['"1"', '"7", "1"', "*"])
def test_a_change_to_the_current_version_goes_through(ctx, api, auth, if_match):
    notice = add_notice(ctx)
    response = api.patch(
        f"/api/v1/notices/{notice.uid}",
        headers={**auth, "If-Match": if_match},
        json={"summary": "Diversion via Einsteinweg", "note": "diversion"},
    )
    assert response.status_code == 200 and response.headers["etag"] == '"2"'


@pytest.mark.parametrize("if_match", ['W/"1"', "1", '"2"'])
def test_only_the_exact_strong_tag_matches(ctx, api, auth, if_match):
    notice = add_notice(ctx)
    response = api.patch(
        f"/api/v1/notices/{notice.uid}",
        headers={**auth, "If-Match": if_match},
        json={"summary": "Diversion via Einsteinweg", "note": "diversion"},
    )
    assert response.status_code == 412


def test_cancelling_a_stale_version_is_a_412(ctx, api, auth):
    notice = add_notice(ctx)
    api.patch(f"/api/v1/notices/{notice.uid}", headers=auth, json={"ends_at": "2026-12-12T17:00", "note": "extended"})
    stale = api.post(
        f"/api/v1/notices/{notice.uid}/cancel", headers={**auth, "If-Match": '"1"'}, json={"reason": "postponed"}
    )
    assert stale.status_code == 412 and stale.json()["error"]["field"] == "If-Match"
    assert reload(ctx, notice.uid).cancelled_at is None
    current = api.post(
        f"/api/v1/notices/{notice.uid}/cancel", headers={**auth, "If-Match": '"2"'}, json={"reason": "postponed"}
    )
    assert current.status_code == 200 and current.json()["status"] == "cancelled"


def test_openapi_documents_if_match_and_412(api):
    paths = api.get("/openapi.json").json()["paths"]
    for path, method in (("/api/v1/notices/{uid}", "patch"), ("/api/v1/notices/{uid}/cancel", "post")):
        operation = paths[path][method]
        assert {"name": "If-Match", "in": "header"}.items() <= next(
            parameter for parameter in operation["parameters"] if parameter["name"] == "If-Match"
        ).items()
        assert "412" in operation["responses"]
        assert "ETag" in operation["responses"]["200"]["headers"]


def test_a_note_of_blanks_is_refused(ctx, api, auth):
    notice = add_notice(ctx)
    response = api.patch(f"/api/v1/notices/{notice.uid}", headers=auth, json={"summary": "x", "note": "   "})
    assert response.status_code == 422 and response.json()["error"]["field"] == "note"
    assert reload(ctx, notice.uid).version == 1
