"""The JSON API: public reads, Bearer-token writes, errors as JSON that name the field."""

import pytest
from sqlalchemy import select

from notices import accounts
from notices.models import AuditEntry
from tests.factories import add_notice, add_subscriber, add_token, add_user

NEW = {"title": "Plesmanlaan closed", "category": "road-closure", "severity": "major",
       "locations": ["plesmanlaan"], "starts_at": "2026-12-01T07:00", "expected_end": "approximately Q3 2027"}


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
    changed = api.patch(f"/api/v1/notices/{notice['uid']}", headers=auth,
                        json={"ends_at": "2026-12-12T17:00", "note": "closure extended to 12 December"})
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
    assert api.get("/api/v1/notices", params={"status": "draft"}).json()["count"] == 0


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({**NEW, "starts_at": "2026-03-29T02:30"}, 422, "starts_at"),
        ({**NEW, "category": "roadworks"}, 422, "category"),
        ({**NEW, "ends_at": "2026-11-30T07:00"}, 422, "ends_at"),
        ({**NEW, "surprise": True}, 422, "surprise"),
        ({key: value for key, value in NEW.items() if key != "title"}, 422, "title"),
        ({**NEW, "locations": "plesmanlaan"}, 422, "locations"),
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
    assert {"/api/v1/notices", "/api/v1/notices/{uid}", "/api/v1/notices/{uid}/cancel",
            "/api/v1/subscribers/counts"} <= set(schema["paths"])
    assert schema["components"]["schemas"]["NoticeCreate"]["examples"][0]["category"] == "road-closure"
    assert api.get("/docs").status_code == 200
