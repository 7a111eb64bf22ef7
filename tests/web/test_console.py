"""The facility managers' console through HTTP: login, forms, CSRF, roles."""

import dataclasses
import re

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import func, select

from notices.core.models import AuditEntry, Notice
from notices.web import create_app
from tests.factories import add_notice, add_user, reload


def csrf_of(response) -> str:
    return etree.HTML(response.text).xpath('//input[@name="csrf_token"]/@value')[0]


def log_in(client, email="manager@example.org", password="correct horse battery"):
    form = client.get("/admin/login")
    return client.post(
        "/admin/login",
        data={"csrf_token": csrf_of(form), "email": email, "password": password, "next": "/admin"},
        follow_redirects=False,
    )


@pytest.fixture
def browser(app, ctx):
    add_user(ctx, "manager@example.org")
    with TestClient(app) as client:
        yield client


@pytest.fixture
def manager(browser):
    assert log_in(browser).status_code == 303
    return browser


def count_notices(ctx):
    with ctx.db.session() as session:
        return session.scalar(select(func.count()).select_from(Notice))


def test_the_console_needs_a_login(browser):
    response = browser.get("/admin", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login?next=/admin"


def test_wrong_password_and_unknown_email_get_the_same_answer(browser):
    wrong = log_in(browser, password="not the password")
    unknown = log_in(browser, email="nobody@example.org")
    assert wrong.status_code == unknown.status_code == 401
    message = lambda r: etree.HTML(r.text).xpath('//*[@role="alert"]/text()')  # noqa: E731
    assert message(wrong) == message(unknown) == ["Wrong email or password."]


def test_login_attempts_are_rate_limited(browser):
    for _ in range(10):
        assert log_in(browser, password="wrong password").status_code == 401
    assert log_in(browser).status_code == 429  # even the right password waits now


def test_the_session_cookie_is_httponly_lax_and_rotates_at_login(browser):
    first = log_in(browser)
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    session_one = browser.cookies.get("notices_session")
    # Logging in again while holding a session id: a new id replaces it, never the one sent.
    log_in(browser)
    session_two = browser.cookies.get("notices_session")
    assert session_two and session_two != session_one
    # A session id planted before login (fixation) is not adopted either.
    browser.cookies.clear()
    form = browser.get("/admin/login")
    planted = {"Cookie": f"notices_session=planted-by-an-attacker; notices_csrf={browser.cookies.get('notices_csrf')}"}
    browser.cookies.clear()
    response = browser.post(
        "/admin/login",
        headers=planted,
        follow_redirects=False,
        data={"csrf_token": csrf_of(form), "email": "manager@example.org", "password": "correct horse battery"},
    )
    issued = re.search(r"notices_session=([^;]+)", response.headers["set-cookie"]).group(1)
    assert issued not in ("planted-by-an-attacker", session_one, session_two)
    browser.cookies.clear()
    assert browser.get("/admin", headers=planted, follow_redirects=False).status_code == 303


def test_the_session_cookie_is_secure_on_https(ctx):
    settings = dataclasses.replace(ctx.settings, base_url="https://notices.example.org")
    add_user(ctx, "manager@example.org")
    with TestClient(
        create_app(settings, ctx=dataclasses.replace(ctx, settings=settings)), base_url="https://testserver"
    ) as client:
        assert "Secure" in log_in(client).headers["set-cookie"]


def test_logout_ends_the_session(manager):
    dashboard = manager.get("/admin")
    manager.post("/admin/logout", data={"csrf_token": csrf_of(dashboard)})
    assert manager.get("/admin", follow_redirects=False).status_code == 303


def test_create_update_and_cancel_a_notice(ctx, manager):
    form = manager.get("/admin/notices/new")
    created = manager.post(
        "/admin/notices",
        data={
            "csrf_token": csrf_of(form),
            "action": "publish",
            "title": "Plesmanlaan closed",
            "category": "road-closure",
            "severity": "major",
            "locations": ["plesmanlaan"],
            "starts_at": "2026-12-01 07:00",
            "ends_at": "",
            "expected_end": "approximately Q3 2027",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    edit_url = created.headers["location"].split("?")[0]
    page = manager.get(edit_url)
    values = {
        name: etree.HTML(page.text).xpath(f'//input[@name="{name}"]/@value')[0]
        for name in ("title", "starts_at", "expected_end")
    }
    assert values == {
        "title": "Plesmanlaan closed",
        "starts_at": "2026-12-01 07:00",
        "expected_end": "approximately Q3 2027",
    }
    updated = manager.post(
        edit_url,
        data={
            "csrf_token": csrf_of(page),
            "title": "Plesmanlaan closed",
            "category": "road-closure",
            "severity": "major",
            "locations": ["plesmanlaan"],
            "starts_at": "2026-12-01 07:00",
            "ends_at": "2026-12-12 17:00",
            "note": "closure extended to 12 December",
        },
        follow_redirects=True,
    )
    assert "closure extended to 12 December" in updated.text
    cancelled = manager.post(
        edit_url + "/cancel", data={"csrf_token": csrf_of(updated), "reason": "postponed"}, follow_redirects=True
    )
    assert "Cancelled" in cancelled.text
    with ctx.db.session() as session:
        actors = set(session.scalars(select(AuditEntry.actor)))
    assert "console:manager@example.org" in actors


def test_a_dst_mistake_is_shown_on_the_form_and_nothing_is_written(ctx, manager):
    form = manager.get("/admin/notices/new")
    response = manager.post(
        "/admin/notices",
        data={
            "csrf_token": csrf_of(form),
            "action": "publish",
            "title": "Night works",
            "category": "construction",
            "starts_at": "2026-03-29 02:30",
        },
    )
    assert response.status_code == 400
    alert = "".join(etree.HTML(response.text).xpath('//*[@role="alert"]//text()'))
    assert "starts_at" in alert and "does not exist in Europe/Amsterdam" in alert
    assert etree.HTML(response.text).xpath('//input[@name="title"]/@value') == ["Night works"]
    assert count_notices(ctx) == 0


def test_save_as_draft_and_schedule(ctx, manager, clock):
    form = manager.get("/admin/notices/new")
    base = {"csrf_token": csrf_of(form), "title": "Open day", "category": "event", "starts_at": "2026-12-05 14:00"}
    manager.post("/admin/notices", data={**base, "action": "draft"})
    manager.post("/admin/notices", data={**base, "action": "schedule", "publish_at": "2026-12-01 09:00"})
    missing = manager.post("/admin/notices", data={**base, "action": "schedule"})
    assert missing.status_code == 400 and "publish_at" in missing.text
    dashboard = manager.get("/admin").text
    assert re.search(r"Scheduled \(1\)", dashboard) and re.search(r"Drafts \(1\)", dashboard)


def test_duplicate_prefills_the_form(ctx, manager):
    notice = add_notice(ctx, title="Plesmanlaan closed", summary="Diversion via Einsteinweg")
    form = etree.HTML(manager.get(f"/admin/notices/new?duplicate={notice.uid}").text)
    assert form.xpath('//input[@name="title"]/@value') == ["Plesmanlaan closed (copy)"]
    assert form.xpath('//input[@name="summary"]/@value') == ["Diversion via Einsteinweg"]


def test_posts_without_csrf_or_from_another_origin_are_refused(ctx, manager):
    data = {"action": "publish", "title": "X", "category": "event", "starts_at": "+1h"}
    assert manager.post("/admin/notices", data=data).status_code == 403
    token = csrf_of(manager.get("/admin/notices/new"))
    foreign = manager.post(
        "/admin/notices", data={**data, "csrf_token": token}, headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    assert count_notices(ctx) == 0


def test_the_live_preview_renders_page_feed_and_email(manager):
    token = csrf_of(manager.get("/admin/notices/new"))
    preview = manager.post(
        "/admin/preview",
        data={
            "csrf_token": token,
            "title": "Plesmanlaan <b>closed</b>",
            "category": "road-closure",
            "starts_at": "2026-12-01 07:00",
            "body": "Follow the **yellow** signs <script>x()</script>",
        },
    ).json()
    assert "Plesmanlaan &lt;b&gt;closed&lt;/b&gt;" in preview["page"]
    assert "<strong>yellow</strong>" in preview["feed"] and "<script>" not in preview["feed"]
    assert preview["email_subject"].startswith("New: Road closure: Plesmanlaan <b>closed</b> (from ")
    error = manager.post(
        "/admin/preview", data={"csrf_token": token, "title": "x", "category": "event", "starts_at": "2026-10-25 02:30"}
    ).json()
    assert error["error"]["field"] == "starts_at"


def test_managers_cannot_manage_users_admins_can(ctx, manager, app):
    assert manager.get("/admin/users").status_code == 403
    add_user(ctx, "admin@example.org", role="admin")
    with TestClient(app) as admin:
        log_in(admin, "admin@example.org")
        page = admin.get("/admin/users")
        added = admin.post(
            "/admin/users",
            data={
                "csrf_token": csrf_of(page),
                "email": "new@example.org",
                "role": "manager",
                "password": "a long enough one",
            },
        )
        assert "new@example.org can now log in" in added.text
        user_id = etree.HTML(added.text).xpath('//form[contains(@action, "/tokens")]/@action')[0].split("/")[3]
        token_page = admin.post(
            f"/admin/users/{user_id}/tokens", data={"csrf_token": csrf_of(added), "name": "intranet"}
        )
        token = etree.HTML(token_page.text).xpath('//code[@id="new-token"]/text()')[0]
        assert token.startswith("ntc_")
        assert admin.get("/api/v1/subscribers/counts", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        audit = admin.get("/admin/audit").text
        assert "user.create" in audit and "token.create" in audit


def test_pages_carry_security_headers(browser):
    headers = browser.get("/admin/login").headers
    assert "frame-ancestors 'self'" in headers["content-security-policy"]
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"


def form_fields(page) -> dict:
    """What the browser would submit from the notice form as it stands (text inputs, selects, checkboxes)."""
    form = etree.HTML(page.text).xpath('//form[@id="notice-form"]')[0]
    data: dict = {
        name: form.xpath(f'.//input[@name="{name}"]/@value')[0]
        if form.xpath(f'.//input[@name="{name}"]/@value')
        else ""
        for name in form.xpath('.//input[@type="text" or @type="hidden"]/@name')
    }
    for menu in form.xpath(".//select"):
        data[menu.get("name")] = (menu.xpath("./option[@selected]/@value") or menu.xpath("./option/@value"))[0]
    data["locations"] = form.xpath('.//input[@name="locations"][@checked]/@value')
    data["body"] = "".join(form.xpath('.//textarea[@name="body"]/text()'))
    return data


def someone_else_changes(ctx, uid: str, **changes) -> None:
    from notices.notice import store
    from notices.notice.validation import parse_changes

    with ctx.db.writing() as session, session.begin():
        notice = store.get_notice(session, uid)
        fields = parse_changes(changes, current=store.fields_of(notice), settings=ctx.settings, now=ctx.clock.now())
        store.update_notice(
            session,
            notice,
            fields,
            note="extended by a colleague",
            now=ctx.clock.now(),
            author="console:colleague@example.org",
        )


def test_the_notice_form_carries_the_version_it_shows(ctx, manager):
    notice = add_notice(ctx)
    someone_else_changes(ctx, notice.uid, summary="Diversion via Einsteinweg")
    assert form_fields(manager.get(f"/admin/notices/{notice.uid}"))["version"] == "2"


def test_saving_over_someone_elses_newer_change_is_refused_with_what_to_do(ctx, manager):
    notice = add_notice(ctx, summary="Diversion via Einsteinweg")
    opened = form_fields(manager.get(f"/admin/notices/{notice.uid}"))
    someone_else_changes(ctx, notice.uid, ends_at="2026-12-12T17:00")
    response = manager.post(
        f"/admin/notices/{notice.uid}", data={**opened, "summary": "Diversion via Sylviusweg", "note": "new diversion"}
    )
    assert response.status_code == 409
    alert = " ".join("".join(etree.HTML(response.text).xpath('//*[@id="form-conflict"]//text()')).split())
    assert "changed by someone else since you opened it" in alert
    assert "you opened version 1; it is now version 2" in alert
    assert "console:colleague@example.org: extended by a colleague" in alert
    assert "save again to replace version 2" in alert and "open version 2" in alert
    # Nothing was overwritten: the colleague's end stays, and the summary is the old one.
    current = reload(ctx, notice.uid)
    assert (current.version, current.summary) == (2, "Diversion via Einsteinweg")
    assert current.ends_at is not None
    # The user's own typing is still in the form.
    again = form_fields(response)
    assert (again["summary"], again["note"]) == ("Diversion via Sylviusweg", "new diversion")


def test_saving_again_after_seeing_the_conflict_replaces_the_newer_version(ctx, manager):
    notice = add_notice(ctx)
    opened = form_fields(manager.get(f"/admin/notices/{notice.uid}"))
    someone_else_changes(ctx, notice.uid, summary="Diversion via Einsteinweg")
    conflict = manager.post(
        f"/admin/notices/{notice.uid}", data={**opened, "summary": "Diversion via Sylviusweg", "note": "new diversion"}
    )
    assert conflict.status_code == 409
    saved = manager.post(f"/admin/notices/{notice.uid}", data=form_fields(conflict), follow_redirects=False)
    assert saved.status_code == 303
    current = reload(ctx, notice.uid)
    assert (current.version, current.summary) == (3, "Diversion via Sylviusweg")


def test_a_form_error_keeps_the_version_opened_so_a_later_change_is_still_caught(ctx, manager):
    notice = add_notice(ctx)
    opened = form_fields(manager.get(f"/admin/notices/{notice.uid}"))
    error = manager.post(f"/admin/notices/{notice.uid}", data={**opened, "ends_at": "yesterday", "note": "fix"})
    assert error.status_code == 400
    someone_else_changes(ctx, notice.uid, summary="Diversion via Einsteinweg")
    retried = manager.post(f"/admin/notices/{notice.uid}", data={**form_fields(error), "ends_at": "2026-12-12 17:00"})
    assert retried.status_code == 409
    assert reload(ctx, notice.uid).summary == "Diversion via Einsteinweg"
