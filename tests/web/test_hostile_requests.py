"""Hostile requests get a clear 4xx naming what is wrong, never a 500: NUL characters in the URL
or a form (PostgreSQL refuses text holding one), and input longer than the columns behind it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from tests.factories import add_notice, add_user


@pytest.fixture
def browser(app):
    # A 500 must come back as a response here, as a real client would see it, not as an exception.
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def csrf_of(response) -> str:
    return etree.HTML(response.text).xpath('//input[@name="csrf_token"]/@value')[0]


def alert_of(response) -> str:
    return " ".join(etree.HTML(response.text).xpath('string(//*[@role="alert"])').split())


@pytest.mark.parametrize(
    "path",
    [
        "/notices/{uid35}%00",
        "/notices/%00",
        "/notices/{uid}%00",
        "/subscribe/confirm/abc%00def",
        "/preferences/%00",
        "/unsubscribe/x%00",
        "/admin/notices/{uid35}%00",
        "/static/admin.js%00",
    ],
)
def test_a_nul_in_a_page_address_is_a_400(ctx, browser, path):
    uid = add_notice(ctx).uid
    response = browser.get(path.format(uid=uid, uid35=uid[:35]))
    assert response.status_code == 400
    assert "NUL" in response.text


@pytest.mark.parametrize("path", ["/api/v1/notices/{uid35}%00", "/api/v1/notices/%00"])
def test_a_nul_in_an_api_address_is_a_json_400(ctx, browser, path):
    uid = add_notice(ctx).uid
    response = browser.get(path.format(uid35=uid[:35]))
    assert response.status_code == 400
    assert "NUL" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "url",
    [
        "/?category=%00",
        "/feeds/notices.atom?location=a%00b",
        "/api/v1/notices?category=%00",
        "/admin/login?next=/admin%00",
    ],
)
def test_a_nul_in_a_query_parameter_is_a_400_naming_it(browser, url):
    response = browser.get(url)
    assert response.status_code == 400
    name = url.split("?")[1].split("=")[0]
    assert name in response.text and "NUL" in response.text


@pytest.mark.parametrize("field", ["email", "frequency", "language", "severity", "categories", "locations"])
def test_a_nul_in_a_sign_up_field_is_a_form_error_naming_it(browser, field):
    form = browser.get("/subscribe")
    data = {"csrf_token": csrf_of(form), "email": "tenant@example.org", "frequency": "daily", "language": "en"}
    data[field] = "road\x00closure" if field != "email" else "ten\x00ant@example.org"
    response = browser.post("/subscribe", data=data)
    assert response.status_code == 400
    assert alert_of(response).startswith(f"Please check {field}:")
    assert "\x00" not in response.text


def test_a_nul_in_the_login_email_is_a_form_error_naming_it(ctx, browser):
    add_user(ctx, "manager@example.org")
    form = browser.get("/admin/login")
    response = browser.post(
        "/admin/login",
        data={"csrf_token": csrf_of(form), "email": "manager@example.org\x00", "password": "correct horse battery"},
    )
    assert response.status_code == 400
    assert alert_of(response) == "Please check the email: it contains a NUL character."
    assert "\x00" not in response.text


@pytest.mark.parametrize("target", ["/admin\x00", "/admin\r\nSet-Cookie: planted=1"])
def test_a_control_character_in_the_login_target_falls_back_to_the_dashboard(ctx, browser, target):
    add_user(ctx, "manager@example.org")
    form = browser.get("/admin/login")
    response = browser.post(
        "/admin/login",
        follow_redirects=False,
        data={
            "csrf_token": csrf_of(form),
            "email": "manager@example.org",
            "password": "correct horse battery",
            "next": target,
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/admin"


def test_a_very_long_login_email_gets_the_usual_answer(ctx, browser):
    form = browser.get("/admin/login")
    response = browser.post(
        "/admin/login",
        data={"csrf_token": csrf_of(form), "email": "x" * 400 + "@example.org", "password": "correct horse battery"},
    )
    assert response.status_code == 401
    assert alert_of(response) == "Wrong email or password."


def test_a_long_but_valid_address_can_sign_up(browser):
    # 239 characters: valid, and longer than a rate-limit bucket name may be.
    email = "a" * 64 + "@" + "b" * 60 + "." + "b" * 60 + "." + "b" * 40 + ".example.org"
    form = browser.get("/subscribe")
    response = browser.post(
        "/subscribe", data={"csrf_token": csrf_of(form), "email": email, "frequency": "daily", "language": "en"}
    )
    assert response.status_code == 200
    assert "Check your inbox" in response.text
