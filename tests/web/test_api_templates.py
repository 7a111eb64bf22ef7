"""/api/v1/templates and POST /api/v1/notices with "template": saved from a notice or from fields,
used as defaults under the request's own fields; errors as JSON naming the field."""

import pytest
from sqlalchemy import select

from notices.core.models import AuditEntry, NoticeTemplate
from tests.factories import add_notice, add_token, add_user

FIELDS = {
    "title": {"en": "Power outage", "nl": "Stroomonderbreking"},
    "summary": "Planned maintenance.",
    "category": "utilities",
    "severity": "critical",
    "locations": ["gorlaeus"],
}


@pytest.fixture
def manager(ctx):
    add_user(ctx, "manager@example.org")
    return {"Authorization": f"Bearer {add_token(ctx, 'manager@example.org')}"}


@pytest.fixture
def editor(ctx):
    add_user(ctx, "editor@example.org", role="editor")
    return {"Authorization": f"Bearer {add_token(ctx, 'editor@example.org')}"}


def save(client, auth, **body):
    return client.post("/api/v1/templates", json={"name": "Power outage", "fields": FIELDS, **body}, headers=auth)


def test_save_list_get_and_delete(ctx, client, manager):
    saved = save(client, manager, description="Gorlaeus works")
    assert saved.status_code == 201, saved.text
    template = saved.json()
    assert saved.headers["Location"] == f"/api/v1/templates/{template['id']}"
    assert template["fields"]["translations"] == {"nl": {"title": "Stroomonderbreking"}}
    assert template["fields"]["locations"] == ["gorlaeus"]
    listed = client.get("/api/v1/templates", headers=manager).json()
    assert listed["count"] == 1 and listed["templates"][0]["name"] == "Power outage"
    assert client.get("/api/v1/templates/Power outage", headers=manager).json()["id"] == template["id"]
    assert client.get(f"/api/v1/templates/{template['id']}", headers=manager).json()["name"] == "Power outage"
    assert client.delete("/api/v1/templates/power outage", headers=manager).status_code == 204
    missing = client.get("/api/v1/templates/Power outage", headers=manager)
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "template"
    with ctx.db.session() as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["template.save", "template.delete"]


def test_save_from_a_notice(ctx, client, manager):
    notice = add_notice(ctx, title={"en": "Plesmanlaan closed", "nl": "Plesmanlaan dicht"}, severity="major")
    saved = client.post("/api/v1/templates", json={"name": "Closure", "notice": notice.uid}, headers=manager)
    assert saved.status_code == 201, saved.text
    fields = saved.json()["fields"]
    assert (fields["title"], fields["translations"]["nl"]["title"]) == ("Plesmanlaan closed", "Plesmanlaan dicht")
    assert "starts_at" not in fields


def test_a_notice_from_a_template_takes_its_fields_under_the_requests_own(ctx, client, manager):
    save(client, manager)
    created = client.post(
        "/api/v1/notices",
        json={"template": "Power outage", "starts_at": "2026-12-01T22:00", "severity": "major"},
        headers=manager,
    )
    assert created.status_code == 201, created.text
    notice = created.json()
    assert (notice["title"], notice["category"], notice["locations"]) == ("Power outage", "utilities", ["gorlaeus"])
    assert notice["severity"] == "major"  # the request's own field wins
    assert notice["languages"]["nl"]["title"] == "Stroomonderbreking"
    assert notice["starts_at"] == "2026-12-01T22:00:00+01:00"


def test_an_unknown_template_is_a_422_naming_template(ctx, client, manager):
    for name in ("Nothing like it", "\x00", "x" * 100):
        answer = client.post("/api/v1/notices", json={"template": name, "starts_at": "now"}, headers=manager)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["field"] == "template"
    with ctx.db.session() as session:
        assert session.scalar(select(NoticeTemplate.id)) is None


def test_without_a_template_the_title_is_still_required(client, manager):
    answer = client.post("/api/v1/notices", json={"category": "event", "starts_at": "now"}, headers=manager)
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "title"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x\u202ey"}, "name"),
        ({"name": "123"}, "name"),
        ({"fields": {**FIELDS, "category": "nonsense"}}, "category"),
        ({"fields": {**FIELDS, "starts_at": "now"}}, "starts_at"),
        ({"fields": {**FIELDS, "title": {"en": "Outage", "fr": "Panne"}}}, "title.fr"),
        ({"notice": "0b8f3c2e-5d0a-4c59-9a53-2f4e1d7c6b10", "fields": None}, "notice"),
        ({"fields": None}, "fields"),
    ],
)
def test_bad_templates_are_refused_naming_the_field(ctx, client, manager, body, field):
    answer = save(client, manager, **body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field
    with ctx.db.session() as session:
        assert session.scalar(select(NoticeTemplate.id)) is None


def test_a_taken_name_is_a_conflict_naming_name(client, manager):
    save(client, manager)
    again = save(client, manager, name="POWER OUTAGE")
    assert again.status_code == 409
    assert again.json()["error"]["field"] == "name"


def test_editors_use_templates_but_do_not_keep_them(ctx, client, manager, editor):
    assert save(client, editor).status_code == 403
    save(client, manager)
    assert client.get("/api/v1/templates", headers=editor).json()["count"] == 1
    created = client.post("/api/v1/notices", json={"template": "Power outage", "starts_at": "+1d"}, headers=editor)
    assert created.status_code == 201, created.text
    assert client.delete("/api/v1/templates/Power outage", headers=editor).status_code == 403


def test_templates_need_a_token(client):
    assert client.get("/api/v1/templates").status_code == 401
