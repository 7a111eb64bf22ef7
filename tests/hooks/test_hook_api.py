"""/api/v1/hooks: admins only; the secret once; JSON errors naming the field; test and log."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from standardwebhooks.webhooks import Webhook

from notices.web import create_app
from tests.factories import add_token, add_user


@pytest.fixture
def api(hook_ctx):
    add_user(hook_ctx, "admin@example.org", role="admin")
    add_user(hook_ctx, "manager@example.org", role="manager")
    tokens = {role: add_token(hook_ctx, f"{role}@example.org") for role in ("admin", "manager")}
    with TestClient(create_app(hook_ctx.settings, ctx=hook_ctx)) as client:
        client.tokens = {role: {"Authorization": f"Bearer {token}"} for role, token in tokens.items()}
        yield client


def test_only_admins_manage_hooks(api):
    assert api.get("/api/v1/hooks").status_code == 401
    refused = api.get("/api/v1/hooks", headers=api.tokens["manager"])
    assert refused.status_code == 403 and refused.json()["error"]["message"] == "only admins manage integrations"
    assert api.get("/api/v1/hooks", headers=api.tokens["admin"]).json() == []


def test_add_change_rotate_test_log_and_remove(api, hook_ctx, clock, receiver):
    clock.set(datetime.now(UTC).replace(microsecond=0))
    admin = api.tokens["admin"]
    added = api.post(
        "/api/v1/hooks",
        headers=admin,
        json={"url": receiver.url, "categories": ["road-closure"], "severity": "major", "events": ["published"]},
    )
    assert added.status_code == 201, added.text
    hook = added.json()
    secret, hook_id = hook["secret"], hook["id"]
    assert secret.startswith("whsec_") and hook["min_severity"] == "major" and hook["events"] == ["published"]
    assert "secret" not in api.get(f"/api/v1/hooks/{hook_id}", headers=admin).json()
    assert secret not in api.get("/api/v1/hooks", headers=admin).text

    changed = api.patch(f"/api/v1/hooks/{hook_id}", headers=admin, json={"severity": None, "language": "nl"})
    assert changed.status_code == 200 and changed.json()["min_severity"] is None
    assert changed.json()["language"] == "nl" and changed.json()["categories"] == ["road-closure"]
    assert api.patch(f"/api/v1/hooks/{hook_id}", headers=admin, json={"enabled": False}).json()["enabled"] is False

    rotated = api.post(f"/api/v1/hooks/{hook_id}/rotate", headers=admin, json={"overlap_hours": 2})
    new_secret = rotated.json()["secret"]
    assert new_secret != secret and rotated.json()["previous_valid_until"]

    tested = api.post(f"/api/v1/hooks/{hook_id}/test", headers=admin)
    assert tested.status_code == 200 and tested.json()["status"] == "sent" and tested.json()["response_code"] == 200
    (request,) = receiver.received
    for key in (secret, new_secret):
        Webhook(key).verify(request.body, request.headers)
    (entry,) = api.get(f"/api/v1/hooks/{hook_id}/log", headers=admin).json()
    assert entry["type"] == "notice.test" and entry["attempts"] == 1

    assert api.delete(f"/api/v1/hooks/{hook_id}", headers=admin).status_code == 204
    gone = api.get(f"/api/v1/hooks/{hook_id}", headers=admin)
    assert gone.status_code == 404 and gone.json()["error"]["message"] == f"no hook endpoint with id {hook_id}"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://h.example.org/"}, "url"),
        ({"url": "https://127.0.0.1/", "kind": "discord"}, "kind"),
        ({"url": "https://127.0.0.1/", "events": ["exploded"]}, "events.0"),
        ({"url": "https://127.0.0.1/", "categories": ["nope"]}, "categories"),
        ({"url": "https://127.0.0.1/", "secret": "whsec_mine"}, "secret"),
        ({"url": "https://127.0.0.1/\u0000"}, "url"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(api, body, field):
    answer = api.post("/api/v1/hooks", headers=api.tokens["admin"], json=body)
    assert answer.status_code == 422 and answer.json()["error"]["field"] == field
    assert api.get("/api/v1/hooks", headers=api.tokens["admin"]).json() == []
