"""The console's notice page of a series lists its coming occurrences, each with a form that
cancels only that one (CSRF-protected); a refusal shows the page again, nothing written."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from tests.factories import add_notice, add_user, reload
from tests.web.test_console import csrf_of, log_in


@pytest.fixture
def manager(app, ctx):
    add_user(ctx, "manager@example.org")
    with TestClient(app) as client:
        assert log_in(client).status_code == 303
        yield client


def weekly(ctx):
    return add_notice(
        ctx,
        starts_at="2026-12-01T07:00",
        ends_at=None,
        recurrence="FREQ=WEEKLY;BYDAY=TU;COUNT=3",
        occurrence_minutes=120,
    )


def test_one_occurrence_is_cancelled_from_the_notice_page(ctx, manager):
    notice = weekly(ctx)
    page = manager.get(f"/admin/notices/{notice.uid}")
    actions = etree.HTML(page.text).xpath('//section[@aria-labelledby="occurrences-title"]//form/@action')
    assert actions == [
        f"/admin/notices/{notice.uid}/occurrences/{occurrence_id}/cancel"
        for occurrence_id in ("20261201T060000Z", "20261208T060000Z", "20261215T060000Z")
    ]
    answer = manager.post(
        actions[1], data={"csrf_token": csrf_of(page), "reason": "Fair on the square"}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    found = reload(ctx, notice.uid)
    assert found.occurrence_changes == {"20261208T060000Z": {"cancelled": True, "reason": "Fair on the square"}}
    assert [(e.kind, e.occurrence) for e in found.events] == [("cancelled", "20261208T060000Z")]
    page = manager.get(f"/admin/notices/{notice.uid}")
    assert len(etree.HTML(page.text).xpath('//section[@aria-labelledby="occurrences-title"]//form')) == 2


def test_a_refused_cancellation_writes_nothing(ctx, manager):
    notice = weekly(ctx)
    page = manager.get(f"/admin/notices/{notice.uid}")
    url = f"/admin/notices/{notice.uid}/occurrences/20261209T060000Z/cancel"
    answer = manager.post(url, data={"csrf_token": csrf_of(page), "reason": "x"})
    # The notice page again with the reason, and the status the API answers: no such occurrence (404),
    # no reason given (422).
    assert answer.status_code == 404 and "20261209T060000Z" in answer.text
    empty = manager.post(url.replace("1209", "1208"), data={"csrf_token": csrf_of(page), "reason": " "})
    assert empty.status_code == 422
    assert "tell readers why this occurrence is cancelled" in empty.text
    forged = manager.post(url.replace("1209", "1208"), data={"csrf_token": "forged", "reason": "x"})
    assert forged.status_code in (400, 403)
    assert reload(ctx, notice.uid).version == 1
