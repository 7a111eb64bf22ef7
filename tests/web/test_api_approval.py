"""The approval workflow through the JSON API: every transition, its refusals, the emails and the feeds."""

import feedparser
import pytest
from sqlalchemy import select

from notices.core.models import AuditEntry
from notices.runtime import jobs
from tests.approval_staff import approval_settings, staff_per_role, tokens_per_email  # noqa: F401 (fixtures)
from tests.factories import add_subscriber

NEW = {
    "title": "Gas main burst on the Plesmanlaan",
    "category": "road-closure",
    "severity": "critical",
    "locations": ["plesmanlaan"],
    "starts_at": "+1h",
    "ends_at": "+1d",
}


@pytest.fixture
def api(mail_ctx, app):
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        yield client


def create(api, tokens, who="editor@example.org", **overrides):
    response = api.post("/api/v1/notices", json={**NEW, **overrides}, headers=tokens[who])
    assert response.status_code == 201, response.text
    return response.json()


def feed_titles(api):
    return [entry.title for entry in feedparser.parse(api.get("/feeds/notices.atom").content).entries]


def mails_to(smtp, address):
    return [(message["Subject"], message.get_body(("plain",)).get_content()) for message in smtp.handler.to(address)]


def test_an_editors_critical_notice_is_a_submitted_draft_that_the_public_cannot_see(api, tokens, smtp):
    created = create(api, tokens)
    assert created["status"] == "draft" and created["approval"]["state"] == "submitted"
    assert feed_titles(api) == []
    assert api.get(f"/api/v1/notices/{created['uid']}").status_code == 404
    subjects = [subject for subject, _ in mails_to(smtp, "approver@example.org")]
    assert subjects == ["Waiting for your approval: Gas main burst on the Plesmanlaan"]
    assert mails_to(smtp, "editor@example.org") == []  # the submitter is not asked to approve


def test_an_approver_approves_and_the_notice_is_published_and_alerted(api, tokens, smtp, mail_ctx, clock):
    add_subscriber(mail_ctx, "tenant@example.org")
    uid = create(api, tokens)["uid"]
    jobs.record_transitions(mail_ctx, now=clock.now())
    assert jobs.enqueue_alerts(mail_ctx, now=clock.now())["enqueued"] == 0
    approved = api.post(
        f"/api/v1/notices/{uid}/approve", json={"comment": "checked"}, headers=tokens["approver@example.org"]
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "published"
    assert api.get(f"/api/v1/notices/{uid}").json()["status"] == "upcoming"
    assert len(feed_titles(api)) == 1
    jobs.record_transitions(mail_ctx, now=clock.now())
    assert jobs.enqueue_alerts(mail_ctx, now=clock.now())["enqueued"] == 1
    [(subject, text)] = mails_to(smtp, "editor@example.org")
    assert subject == "Approved: Gas main burst on the Plesmanlaan" and "checked" in text


def test_approving_your_own_submission_is_refused(api, tokens):
    uid = create(api, tokens, who="manager@example.org")["uid"]
    refused = api.post(f"/api/v1/notices/{uid}/approve", json={}, headers=tokens["manager@example.org"])
    assert refused.status_code == 403 and "four eyes" in refused.json()["error"]["message"]
    assert (
        api.get(f"/api/v1/notices/{uid}/approval", headers=tokens["manager@example.org"]).json()["state"] == "submitted"
    )


def test_an_editor_cannot_approve(api, tokens):
    uid = create(api, tokens, who="manager@example.org")["uid"]
    assert api.post(f"/api/v1/notices/{uid}/approve", json={}, headers=tokens["editor@example.org"]).status_code == 403


def test_returning_sends_the_comment_to_the_submitter_and_makes_a_draft(api, tokens, smtp):
    uid = create(api, tokens)["uid"]
    returned = api.post(
        f"/api/v1/notices/{uid}/return", json={"comment": "name the diversion"}, headers=tokens["approver@example.org"]
    )
    assert returned.status_code == 200, returned.text
    body = returned.json()
    assert body["state"] == "draft" and body["review"]["decision_comment"] == "name the diversion"
    [(subject, text)] = mails_to(smtp, "editor@example.org")
    assert subject.startswith("Returned to you:") and "name the diversion" in text


def test_returning_without_a_comment_is_a_422_naming_it(api, tokens):
    uid = create(api, tokens)["uid"]
    answer = api.post(f"/api/v1/notices/{uid}/return", json={}, headers=tokens["approver@example.org"])
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "comment"


def test_a_transition_not_allowed_in_the_state_is_a_409_naming_it(api, tokens):
    uid = create(api, tokens, severity="info")["uid"]
    answer = api.post(f"/api/v1/notices/{uid}/approve", json={}, headers=tokens["approver@example.org"])
    assert answer.status_code == 409 and "the notice is published" in answer.json()["error"]["message"]


def test_a_draft_is_submitted_then_a_second_submit_is_a_409(api, tokens, smtp):
    uid = create(api, tokens, draft=True)["uid"]
    assert smtp.handler.messages == []
    submitted = api.post(
        f"/api/v1/notices/{uid}/submit", json={"comment": "urgent"}, headers=tokens["editor@example.org"]
    )
    assert submitted.status_code == 200 and submitted.json()["state"] == "submitted"
    again = api.post(f"/api/v1/notices/{uid}/submit", json={}, headers=tokens["editor@example.org"])
    assert again.status_code == 409 and "the notice is submitted" in again.json()["error"]["message"]


def test_an_admin_publishes_in_an_emergency_and_the_reason_is_audited(api, tokens, ctx):
    uid = create(api, tokens)["uid"]
    denied = api.post(
        f"/api/v1/notices/{uid}/publish-now", json={"reason": "now"}, headers=tokens["manager@example.org"]
    )
    assert denied.status_code == 403
    done = api.post(
        f"/api/v1/notices/{uid}/publish-now", json={"reason": "gas leak"}, headers=tokens["admin@example.org"]
    )
    assert done.status_code == 200 and done.json()["state"] == "published"
    assert done.json()["review"]["state"] == "bypassed"
    with ctx.db.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "approval.emergency")).one()
    assert (entry.actor, entry.detail) == ("api:admin@example.org", "gas leak")


def test_a_change_of_times_is_held_with_202_and_a_minor_text_fix_is_applied(api, tokens):
    uid = create(api, tokens)["uid"]
    api.post(f"/api/v1/notices/{uid}/approve", json={}, headers=tokens["approver@example.org"])
    held = api.patch(
        f"/api/v1/notices/{uid}", json={"ends_at": "+3d", "note": "extended"}, headers=tokens["editor@example.org"]
    )
    assert held.status_code == 202 and held.json()["approval"]["state"] == "submitted"
    assert held.json()["version"] == 2  # the published version stays
    blocked = api.patch(
        f"/api/v1/notices/{uid}", json={"title": "x", "note": "n"}, headers=tokens["editor@example.org"]
    )
    assert blocked.status_code == 409  # one submission at a time
    api.post(f"/api/v1/notices/{uid}/return", json={"comment": "not yet"}, headers=tokens["approver@example.org"])
    fixed = api.patch(
        f"/api/v1/notices/{uid}",
        json={"title": "Gas main burst on Plesmanlaan", "note": "typo", "minor": True},
        headers=tokens["editor@example.org"],
    )
    assert fixed.status_code == 200 and fixed.json()["title"] == "Gas main burst on Plesmanlaan"


def test_hostile_text_in_a_comment_reaches_the_email_clean(api, tokens, smtp):
    uid = create(api, tokens, title="Gas \u202emain\x00 burst {{ settings }}")["uid"]
    comment = "fix the \u202ediversion\u202c <script>alert(1)</script> \ufffe {% raw %}"
    api.post(f"/api/v1/notices/{uid}/return", json={"comment": comment}, headers=tokens["approver@example.org"])
    [message] = smtp.handler.to("editor@example.org")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for part in (message["Subject"], text, html):
        assert "\u202e" not in part and "\x00" not in part and "\ufffe" not in part
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "{{ settings }}" in message["Subject"]  # shown as typed, never evaluated


def test_a_cancelled_submission_leaves_the_queue(api, tokens, ctx):
    from notices.notice import approval

    uid = create(api, tokens)["uid"]
    cancelled = api.post(
        f"/api/v1/notices/{uid}/cancel", json={"reason": "false alarm"}, headers=tokens["editor@example.org"]
    )
    assert cancelled.status_code == 200
    with ctx.db.session() as session:
        assert approval.queue(session) == []
    answer = api.post(f"/api/v1/notices/{uid}/approve", json={}, headers=tokens["approver@example.org"])
    assert answer.status_code == 409 and "cancelled" in answer.json()["error"]["message"]


def dutch_feed_titles(api):
    return [entry.title for entry in feedparser.parse(api.get("/feeds/notices.atom?lang=nl").content).entries]


def test_the_dutch_text_waits_with_the_submission_and_goes_live_with_the_approval(api, tokens):
    title = {"en": "Gas main burst on the Plesmanlaan", "nl": "Gaslek op de Plesmanlaan"}
    uid = create(api, tokens, title=title)["uid"]
    assert dutch_feed_titles(api) == []
    api.post(f"/api/v1/notices/{uid}/approve", json={}, headers=tokens["approver@example.org"])
    [live] = dutch_feed_titles(api)
    assert "Gaslek op de Plesmanlaan" in live
    held = api.patch(
        f"/api/v1/notices/{uid}",
        json={"ends_at": "+3d", "title": {"nl": "Gaslek op de Plesmanlaan: langer dicht"}, "note": "extended"},
        headers=tokens["editor@example.org"],
    )
    assert held.status_code == 202
    [still] = dutch_feed_titles(api)
    assert "Gaslek op de Plesmanlaan" in still and "langer dicht" not in still  # the change waits
    api.post(f"/api/v1/notices/{uid}/approve", json={}, headers=tokens["approver@example.org"])
    [changed] = dutch_feed_titles(api)
    assert "Gaslek op de Plesmanlaan: langer dicht" in changed
    answer = api.get(f"/api/v1/notices/{uid}").json()
    assert answer["title"] == "Gas main burst on the Plesmanlaan"  # the English text was not touched
    assert answer["languages"]["nl"]["title"] == "Gaslek op de Plesmanlaan: langer dicht"
