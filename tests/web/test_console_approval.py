"""The approval workflow in the console: buttons with CSRF, the queue, refusals shown on the page, the audit filters."""

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import select

from notices.core.models import AuditEntry
from tests.approval_staff import approval_settings, staff_per_role, tokens_per_email  # noqa: F401 (fixtures)
from tests.factories import reload

FORM = {
    "action": "publish",
    "title": "Gas main burst",
    "category": "road-closure",
    "severity": "critical",
    "locations": ["plesmanlaan"],
    "starts_at": "2026-12-01 07:00",
    "ends_at": "2026-12-02 07:00",
    "expected_end": "",
}


def csrf_of(response) -> str:
    return etree.HTML(response.text).xpath('//input[@name="csrf_token"]/@value')[0]


def text_of(response, xpath) -> str:
    return " ".join(" ".join(node.itertext()) for node in etree.HTML(response.text).xpath(xpath))


@pytest.fixture
def login(app, staff):
    clients = []

    def login(email):
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        form = client.get("/admin/login")
        answer = client.post(
            "/admin/login",
            data={"csrf_token": csrf_of(form), "email": email, "password": "correct horse battery", "next": "/admin"},
            follow_redirects=False,
        )
        assert answer.status_code == 303
        return client

    yield login
    for client in clients:
        client.__exit__(None, None, None)


def create(client, **overrides):
    form = client.get("/admin/notices/new")
    created = client.post(
        "/admin/notices", data={"csrf_token": csrf_of(form), **FORM, **overrides}, follow_redirects=False
    )
    assert created.status_code == 303, created.text
    return created.headers["location"].split("?")[0].rsplit("/", 1)[1]


def press(client, uid, action, **fields):
    page = client.get(f"/admin/notices/{uid}")
    return client.post(
        f"/admin/notices/{uid}/{action}", data={"csrf_token": csrf_of(page), **fields}, follow_redirects=True
    )


def test_an_editors_notice_waits_in_the_approvers_queue_and_is_published_on_approval(ctx, login):
    editor, approver = login("editor@example.org"), login("approver@example.org")
    uid = create(editor)
    assert reload(ctx, uid).publish_at is None
    assert "submitted" in text_of(editor.get(f"/admin/notices/{uid}"), '//*[@id="approval-state"]')
    assert "Gas main burst" in text_of(approver.get("/admin"), '//*[@id="approval-queue"]')
    assert "Gas main burst" in text_of(approver.get("/admin/approvals"), '//*[@id="approval-queue"]')
    approved = press(approver, uid, "approve", comment="checked")
    assert approved.status_code == 200
    assert "published" in text_of(approved, '//*[@id="approval-state"]')
    assert reload(ctx, uid).publish_at is not None
    assert text_of(approver.get("/admin"), '//*[@id="approval-queue"]') == ""


def test_the_console_refuses_approving_your_own_submission_on_the_page(ctx, login):
    manager = login("manager@example.org")
    uid = create(manager)
    refused = press(manager, uid, "approve")
    assert refused.status_code == 403
    assert "four eyes" in text_of(refused, '//*[@id="form-error"]')
    assert reload(ctx, uid).publish_at is None


def test_return_shows_the_comment_to_the_writer_and_the_draft_can_be_submitted_again(ctx, login):
    editor, approver = login("editor@example.org"), login("approver@example.org")
    uid = create(editor)
    press(approver, uid, "return", comment="name the diversion")
    page = editor.get(f"/admin/notices/{uid}")
    assert "draft" in text_of(page, '//*[@id="approval-state"]')
    assert text_of(page, '//*[@id="approval-comment"]') == "name the diversion"
    submitted = press(editor, uid, "submit", comment="diversion named")
    assert "submitted" in text_of(submitted, '//*[@id="approval-state"]')


def test_a_transition_not_allowed_shows_the_state(ctx, login):
    editor, approver = login("editor@example.org"), login("approver@example.org")
    uid = create(editor, action="draft")
    refused = press(approver, uid, "approve")
    assert refused.status_code == 409
    assert "cannot approve: the notice is draft" in text_of(refused, '//*[@id="form-error"]')


def test_an_admin_publishes_in_an_emergency_and_the_audit_log_highlights_it(ctx, login):
    editor, admin = login("editor@example.org"), login("admin@example.org")
    uid = create(editor)
    press(admin, uid, "publish-now", reason="gas leak")
    assert reload(ctx, uid).publish_at is not None
    audit = admin.get(f"/admin/audit?notice={uid}")
    highlighted = etree.HTML(audit.text).xpath('//tr[contains(@class, "emergency")]')
    assert len(highlighted) == 1 and "gas leak" in " ".join(highlighted[0].itertext())
    assert "Emergency publication" in " ".join(highlighted[0].itertext())


def test_the_audit_log_filters_by_notice_and_by_person(ctx, login):
    editor, approver, manager = login("editor@example.org"), login("approver@example.org"), login("manager@example.org")
    first, second = create(editor, title="First"), create(editor, title="Second")
    press(approver, first, "approve")
    rows = etree.HTML(manager.get(f"/admin/audit?notice={first}").text).xpath("//tbody/tr/td[4]/a/text()")
    assert rows and set(rows) == {first}
    page = etree.HTML(manager.get("/admin/audit?who=approver@example.org").text)
    assert set(page.xpath("//tbody/tr/td[2]/text()")) <= {"console:approver@example.org", "approver@example.org"}
    assert "approval.approve" in page.xpath("//tbody/tr/td[3]/text()")
    with ctx.db.session() as session:
        assert second in set(session.scalars(select(AuditEntry.target)))


def test_a_minor_text_fix_from_the_form_is_applied_without_approval(ctx, login):
    editor, approver = login("editor@example.org"), login("approver@example.org")
    uid = create(editor)
    press(approver, uid, "approve")
    page = editor.get(f"/admin/notices/{uid}")
    saved = editor.post(
        f"/admin/notices/{uid}",
        data={"csrf_token": csrf_of(page), **FORM, "title": "Gas main burst!", "note": "typo", "minor": "1"},
        follow_redirects=True,
    )
    assert saved.status_code == 200
    assert reload(ctx, uid).title == "Gas main burst!"
