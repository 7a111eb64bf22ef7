"""Each front end answers an error its own way, whatever raised it: the API in its JSON shape,
pages in plain text, console forms by showing the form again with what is wrong."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from tests.factories import add_notice, add_token, add_user

UNKNOWN_UID = "0b6a3c1e-6f1d-4a43-9d55-2d7b8f0a1c2e"


def csrf_of(response) -> str:
    return etree.HTML(response.text).xpath('//input[@name="csrf_token"]/@value')[0]


def logged_in(app, ctx, email: str, role: str) -> TestClient:
    add_user(ctx, email, role=role)
    browser = TestClient(app)
    form = browser.get("/admin/login")
    data = {"csrf_token": csrf_of(form), "email": email, "password": "correct horse battery"}
    assert browser.post("/admin/login", data=data, follow_redirects=False).status_code == 303
    return browser


@pytest.fixture
def manager(app, ctx):
    with logged_in(app, ctx, "manager@example.org", "manager") as browser:
        yield browser


@pytest.fixture
def admin(app, ctx):
    with logged_in(app, ctx, "admin@example.org", "admin") as browser:
        yield browser


def plain(response) -> tuple[int, str, str]:
    return response.status_code, response.headers["content-type"], response.text


def test_the_api_answers_an_unknown_notice_with_a_404_naming_the_uid(client):
    response = client.get(f"/api/v1/notices/{UNKNOWN_UID}")
    assert response.status_code == 404
    assert response.json() == {"error": {"field": "uid", "message": f"no notice with uid '{UNKNOWN_UID}'"}}


def test_the_api_names_the_body_field_of_an_unknown_choice_with_a_422(ctx, client):
    add_user(ctx, "manager@example.org")
    token = add_token(ctx, "manager@example.org")
    response = client.post(
        "/api/v1/notices",
        headers={"Authorization": f"Bearer {token}"},
        json={"title": "Closed", "category": "parade", "starts_at": "2026-12-01T07:00"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "category"
    assert response.json()["error"]["message"].startswith("unknown category 'parade'; valid values are ")


def test_a_page_answers_an_unknown_notice_in_plain_text(client):
    assert plain(client.get(f"/notices/{UNKNOWN_UID}")) == (404, "text/plain; charset=utf-8", "No such notice\n")


def test_the_console_answers_an_unknown_notice_with_a_404(manager):
    response = manager.get(f"/admin/notices/{UNKNOWN_UID}")
    assert response.status_code == 404 and response.headers["content-type"] == "text/plain; charset=utf-8"
    assert UNKNOWN_UID in response.text


def test_publishing_a_published_notice_again_is_a_409_that_says_so(ctx, manager):
    notice = add_notice(ctx)
    token = csrf_of(manager.get(f"/admin/notices/{notice.uid}"))
    response = manager.post(f"/admin/notices/{notice.uid}/publish", data={"csrf_token": token})
    assert plain(response) == (409, "text/plain; charset=utf-8", "The notice is already published.\n")


def test_cancelling_a_cancelled_notice_shows_the_form_with_why(ctx, manager):
    notice = add_notice(ctx)
    token = csrf_of(manager.get(f"/admin/notices/{notice.uid}"))
    manager.post(f"/admin/notices/{notice.uid}/cancel", data={"csrf_token": token, "reason": "postponed"})
    again = manager.post(f"/admin/notices/{notice.uid}/cancel", data={"csrf_token": token, "reason": "twice"})
    assert again.status_code == 400
    alert = "".join(etree.HTML(again.text).xpath('//*[@id="form-error"]//text()'))
    assert alert == "Please check notice: the notice is already cancelled"


def test_a_manager_is_told_that_the_users_page_is_for_admins(manager):
    assert plain(manager.get("/admin/users")) == (403, "text/plain; charset=utf-8", "Your role may not do this.\n")


def test_a_token_for_an_unknown_user_is_a_404(admin):
    token = csrf_of(admin.get("/admin/users"))
    response = admin.post("/admin/users/999999/tokens", data={"csrf_token": token, "name": "intranet"})
    assert plain(response) == (404, "text/plain; charset=utf-8", "No such user.\n")


def test_adding_a_user_twice_shows_the_form_with_the_field(admin):
    token = csrf_of(admin.get("/admin/users"))
    data = {"csrf_token": token, "email": "new@example.org", "role": "manager", "password": "a long enough one"}
    admin.post("/admin/users", data=data)
    again = admin.post("/admin/users", data=data)
    assert again.status_code == 400
    alert = " ".join("".join(etree.HTML(again.text).xpath('//*[@role="alert"]//text()')).split())
    assert alert == "Please check email: a user new@example.org exists already"


def test_publishing_a_cancelled_draft_is_a_409_not_a_server_error(ctx, manager):
    draft = add_notice(ctx, draft=True)
    token = csrf_of(manager.get(f"/admin/notices/{draft.uid}"))
    manager.post(f"/admin/notices/{draft.uid}/cancel", data={"csrf_token": token, "reason": "not needed"})
    response = manager.post(f"/admin/notices/{draft.uid}/publish", data={"csrf_token": token})
    assert plain(response) == (
        409,
        "text/plain; charset=utf-8",
        "the notice is cancelled; cancelled notices cannot be changed\n",
    )
