"""The console's integrations pages through HTTP: admins only, CSRF, secrets shown once, test sends, the log."""

from __future__ import annotations

import dataclasses

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from notices.core.models import HookEndpoint
from notices.hooks import store
from notices.web import create_app
from tests.factories import add_user
from tests.hook_receiver import receiving
from tests.hooks.test_delivery import now_for_signatures
from tests.web.test_console import csrf_of, log_in


@pytest.fixture
def local_ctx(ctx):
    """Receivers run on 127.0.0.1 over http: the test allows both, as the README says to for local tests."""
    ctx.settings = dataclasses.replace(ctx.settings, hooks_allow_http=True, hooks_allow_private_networks=True)
    return ctx


def admin_browser(ctx):
    add_user(ctx, "admin@example.org", role="admin")
    client = TestClient(create_app(ctx.settings, ctx=ctx))
    assert log_in(client, email="admin@example.org").status_code == 303
    return client


@pytest.fixture
def admin(local_ctx):
    with admin_browser(local_ctx) as client:
        yield client


@pytest.fixture
def admin_at_real_time(local_ctx, clock):
    """Signed sends need the real time (receivers refuse stale timestamps); log in at that time
    too, or the session made at the fixed clock has expired by evening."""
    clock.set(now_for_signatures())
    with admin_browser(local_ctx) as client:
        yield client


@pytest.fixture
def receiver():
    with receiving() as found:
        yield found


def alerts(response) -> list[str]:
    return ["".join(node.itertext()).strip() for node in etree.HTML(response.text).xpath('//*[@role="alert"]')]


def statuses(response) -> list[str]:
    return ["".join(node.itertext()).strip() for node in etree.HTML(response.text).xpath('//*[@role="status"]')]


def new_secret(response) -> str | None:
    found = etree.HTML(response.text).xpath('//code[@id="new-secret"]/text()')
    return found[0] if found else None


def add(client, url, **fields):
    form = client.get("/admin/integrations")
    data = {"csrf_token": csrf_of(form), "url": url, "kind": "webhook", **fields}
    return client.post("/admin/integrations", data=data)


def count_endpoints(ctx) -> int:
    with ctx.db.session() as session:
        return session.scalar(select(func.count()).select_from(HookEndpoint))


def only_endpoint(ctx) -> HookEndpoint:
    with ctx.db.session() as session:
        (endpoint,) = store.list_endpoints(session)
        session.expunge(endpoint)
        return endpoint


def test_only_admins_see_integrations(local_ctx):
    add_user(local_ctx, "manager@example.org")
    with TestClient(create_app(local_ctx.settings, ctx=local_ctx)) as client:
        assert client.get("/admin/integrations", follow_redirects=False).status_code == 303
        log_in(client)
        assert client.get("/admin/integrations").status_code == 403
        assert 'href="/admin/integrations"' not in client.get("/admin").text


def test_an_admin_adds_a_webhook_and_sees_its_secret_once(admin, local_ctx, receiver):
    answer = add(admin, receiver.url + "?token=not-for-display", events=["published", "cancelled"], language="nl")
    assert answer.status_code == 200
    secret = new_secret(answer)
    assert secret and secret.startswith("whsec_")
    endpoint = only_endpoint(local_ctx)
    assert (endpoint.events, endpoint.language, endpoint.enabled) == (["published", "cancelled"], "nl", True)
    listing = admin.get("/admin/integrations")
    page = admin.get(f"/admin/integrations/{endpoint.id}")
    for later in (listing, page):
        assert secret not in later.text and new_secret(later) is None
        # The path and query (where Slack and Teams keep their credentials) are not shown.
        assert "not-for-display" not in later.text and "/hook" not in later.text
    assert f"http://127.0.0.1:{receiver.url.split(':')[2].split('/')[0]}/…" in listing.text


def test_a_private_target_is_refused_without_the_flag_and_nothing_is_stored(ctx):
    with admin_browser(ctx) as client:
        answer = add(client, "https://169.254.169.254/latest/meta-data/")
        assert answer.status_code == 400
        assert alerts(answer) == [
            "Please check url: 169.254.169.254 is not a public address (link-local); hooks go to public "
            "addresses only ([hooks] allow_private_networks = true is for local testing)"
        ]
        # The form keeps what was typed.
        assert etree.HTML(answer.text).xpath('//input[@name="url"]/@value') == [
            "https://169.254.169.254/latest/meta-data/"
        ]
        assert add(client, "http://93.184.216.34/hook").status_code == 400
    assert count_endpoints(ctx) == 0


def test_a_hostile_url_is_refused_and_shown_escaped(admin, local_ctx):
    answer = add(admin, 'javascript:"><script>alert(1)</script>')
    assert answer.status_code == 400
    assert "<script>alert(1)</script>" not in answer.text
    assert alerts(answer) == ["Please check url: must start with https://"]
    assert count_endpoints(local_ctx) == 0


def test_forms_without_the_csrf_token_are_refused(admin, local_ctx, receiver):
    assert admin.post("/admin/integrations", data={"url": receiver.url, "kind": "webhook"}).status_code == 403
    assert count_endpoints(local_ctx) == 0
    add(admin, receiver.url)
    endpoint = only_endpoint(local_ctx)
    for action in ("", "/test", "/rotate", "/remove"):
        assert admin.post(f"/admin/integrations/{endpoint.id}{action}", data={}).status_code == 403
    assert count_endpoints(local_ctx) == 1 and receiver.received == []


def test_an_admin_changes_filters_events_language_and_turns_it_off(admin, local_ctx, receiver):
    add(admin, receiver.url)
    endpoint = only_endpoint(local_ctx)
    page = admin.get(f"/admin/integrations/{endpoint.id}")
    data = {
        "csrf_token": csrf_of(page),
        "categories": ["road-closure", "traffic"],
        "locations": "plesmanlaan",
        "severity": "major",
        "events": ["started", "ended"],
        "language": "nl",
    }  # "enabled" not ticked
    answer = admin.post(f"/admin/integrations/{endpoint.id}", data=data)
    assert answer.status_code == 200 and statuses(answer) == ["The changes are saved."]
    changed = only_endpoint(local_ctx)
    assert changed.categories == ["road-closure", "traffic"] and changed.locations == ["plesmanlaan"]
    assert (changed.min_severity, changed.events, changed.language) == ("major", ["started", "ended"], "nl")
    assert changed.enabled is False and changed.url == receiver.url
    assert "disabled" in admin.get("/admin/integrations").text
    admin.post(f"/admin/integrations/{endpoint.id}", data={**data, "enabled": "on"})
    assert only_endpoint(local_ctx).enabled is True


def test_a_bad_choice_is_named_and_nothing_changes(admin, local_ctx, receiver):
    add(admin, receiver.url)
    endpoint = only_endpoint(local_ctx)
    page = admin.get(f"/admin/integrations/{endpoint.id}")
    data = {"csrf_token": csrf_of(page), "categories": "no-such-topic", "language": "en", "enabled": "on"}
    answer = admin.post(f"/admin/integrations/{endpoint.id}", data=data)
    assert answer.status_code == 400
    assert alerts(answer)[0].startswith("Please check categories:")
    assert only_endpoint(local_ctx).categories == []


def test_a_test_send_reaches_the_receiver_signed_and_shows_in_the_log(admin_at_real_time, local_ctx, receiver):
    admin = admin_at_real_time
    secret = new_secret(add(admin, receiver.url))
    endpoint = only_endpoint(local_ctx)
    page = admin.get(f"/admin/integrations/{endpoint.id}")
    answer = admin.post(f"/admin/integrations/{endpoint.id}/test", data={"csrf_token": csrf_of(page)})
    assert statuses(answer) == ["Test sent: sent (HTTP 200)."]
    (request,) = receiver.received
    Webhook(secret).verify(request.body, request.headers)
    rows = etree.HTML(answer.text).xpath("//table/tbody/tr")
    assert len(rows) == 1
    cells = ["".join(cell.itertext()).strip() for cell in rows[0].xpath("td")]
    assert cells[1:4] == ["notice.test", "sent", "1"] and cells[5:7] == ["200", "ok"]


def test_the_log_shows_a_failing_answer_with_its_code_and_body(admin, local_ctx, receiver):
    receiver.script((503, {}, b"busy <b>now</b>"))
    add(admin, receiver.url)
    endpoint = only_endpoint(local_ctx)
    page = admin.get(f"/admin/integrations/{endpoint.id}")
    answer = admin.post(f"/admin/integrations/{endpoint.id}/test", data={"csrf_token": csrf_of(page)})
    cells = ["".join(cell.itertext()).strip() for cell in etree.HTML(answer.text).xpath("//table/tbody/tr[1]/td")]
    assert cells[5:7] == ["503", "busy <b>now</b>"]  # escaped: shown as text
    assert "<b>now</b>" not in answer.text


def test_rotating_shows_a_new_secret_once_and_both_sign_during_the_overlap(admin_at_real_time, local_ctx, receiver):
    admin = admin_at_real_time
    first = new_secret(add(admin, receiver.url))
    endpoint = only_endpoint(local_ctx)
    page = admin.get(f"/admin/integrations/{endpoint.id}")
    answer = admin.post(f"/admin/integrations/{endpoint.id}/rotate", data={"csrf_token": csrf_of(page)})
    second = new_secret(answer)
    assert second and second != first
    assert new_secret(admin.get(f"/admin/integrations/{endpoint.id}")) is None
    admin.post(f"/admin/integrations/{endpoint.id}/test", data={"csrf_token": csrf_of(answer)})
    (request,) = receiver.received
    Webhook(first).verify(request.body, request.headers)
    Webhook(second).verify(request.body, request.headers)


def test_removing_an_endpoint_takes_it_off_the_list(admin, local_ctx, receiver):
    add(admin, receiver.url)
    endpoint = only_endpoint(local_ctx)
    page = admin.get(f"/admin/integrations/{endpoint.id}")
    answer = admin.post(f"/admin/integrations/{endpoint.id}/remove", data={"csrf_token": csrf_of(page)})
    assert answer.status_code == 200 and statuses(answer) == ["The endpoint is removed."]
    assert count_endpoints(local_ctx) == 0
    assert admin.get(f"/admin/integrations/{endpoint.id}").status_code == 404
