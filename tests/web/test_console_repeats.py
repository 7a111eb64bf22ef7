"""The console's "Repeats" fieldset without JavaScript: the server builds the rule from the form's
choices, names the field at fault, re-fills the builder when a series is edited, and shows a rule
it cannot express as editable RRULE text."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import func, select

from notices.core.models import Notice
from notices.notice import recurrence
from tests.factories import add_notice, add_token, add_user, reload
from tests.web.test_console import csrf_of, log_in

ZONE = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def manager(app, ctx):
    add_user(ctx, "manager@example.org")
    with TestClient(app) as client:
        assert log_in(client).status_code == 303
        yield client


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


def base(token: str, **extra) -> dict:
    return {
        "csrf_token": token,
        "action": "publish",
        "title": "Market on the square",
        "category": "road-closure",
        "severity": "major",
        "locations": ["plesmanlaan"],
        "starts_at": "2026-12-01 07:00",
        "ends_at": "",
        "repeat": "none",
        "repeat_interval": "1",
        "repeat_end": "never",
        "repeat_monthly": "day",
        "repeat_ordinal": "1",
        "repeat_weekday": "MO",
    } | extra


def first_tuesdays(token: str, **extra) -> dict:
    rule = {
        "repeat": "monthly",
        "repeat_monthly": "weekday",
        "repeat_ordinal": "1",
        "repeat_weekday": "TU",
        "repeat_end": "until",
        "repeat_until": "2027-06-30",
        "occurrence_end": "09:00",
    }
    return base(token, **rule | extra)


def stored(ctx) -> list[Notice]:
    with ctx.db.session() as session:
        return list(session.scalars(select(Notice)))


def checked(page, name: str) -> list[str]:
    return etree.HTML(page.text).xpath(f'//input[@name="{name}"][@checked]/@value')


def value(page, name: str) -> str:
    return (etree.HTML(page.text).xpath(f'//input[@name="{name}"]/@value') or [""])[0]


def selected(page, name: str) -> str:
    return etree.HTML(page.text).xpath(f'//select[@name="{name}"]/option[@selected]/@value')[0]


def alert(response) -> str:
    return "".join(etree.HTML(response.text).xpath('//*[@role="alert"]//text()'))


def test_every_first_tuesday_is_built_saved_shown_and_refilled(ctx, manager):
    token = csrf_of(manager.get("/admin/notices/new"))
    created = manager.post("/admin/notices", data=first_tuesdays(token), follow_redirects=False)
    assert created.status_code == 303, alert(created)
    (notice,) = stored(ctx)
    assert notice.recurrence == "FREQ=MONTHLY;BYDAY=1TU;UNTIL=20270630T215959Z"
    assert notice.occurrence_minutes == 120
    assert notice.ends_at == local(2027, 6, 1, 9)  # the last first Tuesday's end
    page = manager.get(f"/notices/{notice.uid}").text
    assert "every first Tuesday, 07:00–09:00, until 30 June 2027" in page
    assert "Tue 1 Dec 07:00–09:00" in page and "Tue 5 Jan 2027 07:00–09:00" in page
    edit = manager.get(created.headers["location"].split("?")[0])
    assert checked(edit, "repeat") == ["monthly"]
    assert checked(edit, "repeat_monthly") == ["weekday"]
    assert (selected(edit, "repeat_ordinal"), selected(edit, "repeat_weekday")) == ("1", "TU")
    assert checked(edit, "repeat_end") == ["until"]
    assert (value(edit, "repeat_until"), value(edit, "occurrence_end")) == ("2027-06-30", "09:00")
    assert value(edit, "ends_at") == ""  # a series ends with its rule
    assert "every first Tuesday, 07:00–09:00, until 30 June 2027" in edit.text
    # (Last: the language chosen with ?lang= is remembered for the next pages.)
    dutch = manager.get(f"/notices/{notice.uid}?lang=nl").text
    assert "elke eerste dinsdag, 07:00–09:00, tot en met 30 juni 2027" in dutch


def test_every_two_weeks_on_monday_and_thursday_overnight_with_a_skipped_date(ctx, manager):
    token = csrf_of(manager.get("/admin/notices/new"))
    data = base(
        token,
        starts_at="2026-11-30 22:00",
        repeat="weekly",
        repeat_interval="2",
        repeat_weekdays=["MO", "TH"],
        repeat_end="count",
        repeat_count="5",
        occurrence_end="06:00",
        repeat_skip="2026-12-03",
    )
    response = manager.post("/admin/notices", data=data, follow_redirects=False)
    assert response.status_code == 303, alert(response)
    (notice,) = stored(ctx)
    assert notice.recurrence == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;COUNT=5"
    assert notice.occurrence_minutes == 480
    assert notice.occurrence_changes == {"20261203T210000Z": {"cancelled": True, "reason": ""}}
    page = manager.get(f"/notices/{notice.uid}").text
    assert "every 2 weeks on Monday and Thursday, 22:00–06:00, 5 times, not on 3 December" in page
    tree = etree.HTML(page)
    assert tree.xpath('//ul[@class="occurrences"]/li[2]/del//text()') == ["Thu 3 Dec 22:00–Fri 4 Dec 06:00"]
    edit = manager.get(f"/admin/notices/{notice.uid}")
    assert checked(edit, "repeat_weekdays") == ["MO", "TH"]
    assert (value(edit, "repeat_interval"), value(edit, "repeat_count"), value(edit, "repeat_skip")) == (
        "2",
        "5",
        "2026-12-03",
    )


def test_an_endless_daily_series_skips_a_date_years_ahead(ctx, manager):
    token = csrf_of(manager.get("/admin/notices/new"))
    data = base(token, starts_at="2026-11-30 22:00", repeat="daily", occurrence_end="06:00", repeat_skip="2029-12-24")
    response = manager.post("/admin/notices", data=data, follow_redirects=False)
    assert response.status_code == 303, alert(response)
    (notice,) = stored(ctx)
    assert notice.recurrence == "FREQ=DAILY" and notice.ends_at is None
    assert notice.occurrence_changes == {"20291224T210000Z": {"cancelled": True, "reason": ""}}


def test_editing_through_the_builder_changes_the_rule_and_reinstates_a_skipped_date(ctx, manager):
    token = csrf_of(manager.get("/admin/notices/new"))
    manager.post("/admin/notices", data=first_tuesdays(token, repeat_skip="2027-01-05"))
    (notice,) = stored(ctx)
    edit = manager.get(f"/admin/notices/{notice.uid}")
    changed = first_tuesdays(
        csrf_of(edit), repeat_end="count", repeat_count="3", repeat_skip="", note="three times only"
    )
    changed.pop("action")
    changed["version"] = value(edit, "version")
    changed["repeat_skip_shown"] = value(edit, "repeat_skip_shown")  # the hidden field, as a browser sends it
    response = manager.post(f"/admin/notices/{notice.uid}", data=changed, follow_redirects=False)
    assert response.status_code == 303, alert(response)
    notice = reload(ctx, notice.uid)
    assert notice.recurrence == "FREQ=MONTHLY;BYDAY=1TU;COUNT=3"
    assert notice.occurrence_changes == {}
    assert [o.starts_at for o in recurrence.occurrences(notice)] == [
        local(2026, 12, 1, 7),
        local(2027, 1, 5, 7),
        local(2027, 2, 2, 7),
    ]


def test_errors_name_the_field_and_nothing_is_written(ctx, manager):
    token = csrf_of(manager.get("/admin/notices/new"))
    cases = [
        (base(token, repeat="weekly", occurrence_end="09:00"), "repeat_weekdays"),
        (first_tuesdays(token, repeat_until="2027-02-30"), "repeat_until"),
        (first_tuesdays(token, repeat_end="count", repeat_count="0"), "repeat_count"),
        (first_tuesdays(token, repeat_interval="x"), "repeat_interval"),
        (first_tuesdays(token, occurrence_end="25:00"), "occurrence_end"),
        (first_tuesdays(token, occurrence_end=""), "occurrence_end"),
        (first_tuesdays(token, repeat_skip="2026-12-02"), "repeat_skip"),
        (first_tuesdays(token, repeat_weekday="XX"), "repeat_weekday"),
        (first_tuesdays(token, starts_at="2026-12-02 07:00"), "recurrence"),  # not a first Tuesday
        (first_tuesdays(token, ends_at="2027-01-01 00:00"), "ends_at"),
        (base(token, repeat="advanced", recurrence="FREQ=HOURLY", occurrence_end="09:00"), "recurrence"),
        (base(token, repeat="advanced", recurrence="FREQ=DAILY;BYHOUR=7", occurrence_end="09:00"), "recurrence"),
        (
            base(token, repeat="advanced", recurrence="FREQ=DAILY;COUNT=" + "9" * 400, occurrence_end="9:00"),
            "recurrence",
        ),
        (first_tuesdays(token, repeat_until="9999-12-31\ufffe"), "repeat_until"),
        (first_tuesdays(token, repeat_skip="2026-12-01 \u202e2027-01-05"), "repeat_skip"),
        (first_tuesdays(token, repeat_skip="9999-12-31"), "repeat_skip"),
        (first_tuesdays(token, repeat_skip="0001-01-01"), "repeat_skip"),
        (base(token, repeat="daily", occurrence_end="09:00", repeat_skip="2030-02-30"), "repeat_skip"),
        (base(token, repeat="sometimes"), "repeat"),
    ]
    for data, field in cases:
        response = manager.post("/admin/notices", data=data)
        assert response.status_code == 400, (field, data.get("recurrence"), data.get("starts_at"))
        assert f"Please check {field}:" in alert(response), (field, alert(response))
        assert value(response, "title") == "Market on the square"
    with ctx.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Notice)) == 0


def test_a_rule_the_builder_cannot_express_is_shown_as_text_and_kept(ctx, manager):
    notice = add_notice(
        ctx,
        starts_at=local(2026, 12, 5, 9),
        ends_at=None,
        recurrence="FREQ=WEEKLY;BYDAY=SA;BYMONTH=12,1",
        occurrence_minutes=60,
    )
    edit = manager.get(f"/admin/notices/{notice.uid}")
    assert checked(edit, "repeat") == ["advanced"]
    assert value(edit, "recurrence") == "FREQ=WEEKLY;BYDAY=SA;BYMONTH=12,1"
    data = base(
        csrf_of(edit),
        starts_at="2026-12-05 09:00",
        title="Saturday market, winter",
        repeat="advanced",
        recurrence=value(edit, "recurrence"),
        occurrence_end=value(edit, "occurrence_end"),
        note="typo",
        version=value(edit, "version"),
    )
    data.pop("action")
    response = manager.post(f"/admin/notices/{notice.uid}", data=data, follow_redirects=False)
    assert response.status_code == 303, alert(response)
    assert reload(ctx, notice.uid).recurrence == "FREQ=WEEKLY;BYDAY=SA;BYMONTH=12,1"


def test_the_preview_says_the_rule_in_words_in_the_chosen_language(manager):
    token = csrf_of(manager.get("/admin/notices/new"))
    english = manager.post("/admin/preview", data=first_tuesdays(token)).json()
    assert english["repeats"] == "every first Tuesday, 07:00–09:00, until 30 June 2027"
    # The same sentence on the page, in the feed entry and in the alert email.
    assert "every first Tuesday, 07:00–09:00, until 30 June 2027" in english["page"]
    assert "next Tue 1 Dec 07:00" in english["feed"]
    assert "Repeats: every first Tuesday, 07:00–09:00, until 30 June 2027" in english["email"]
    dutch = manager.post("/admin/preview", data=first_tuesdays(token, preview_language="nl")).json()
    assert dutch["repeats"] == "elke eerste dinsdag, 07:00–09:00, tot en met 30 juni 2027"
    error = manager.post("/admin/preview", data=first_tuesdays(token, repeat_count="x", repeat_end="count")).json()
    assert error["error"]["field"] == "repeat_count"


def tuesdays_form(page, **extra) -> dict:
    """The edit form of five Tuesdays 07:00–09:00 from 1 December as a browser posts it (hidden fields too)."""
    data = base(
        csrf_of(page),
        repeat="weekly",
        repeat_weekdays=["TU"],
        repeat_end="count",
        repeat_count="5",
        occurrence_end="09:00",
        repeat_skip=value(page, "repeat_skip"),
        repeat_skip_shown=value(page, "repeat_skip_shown"),
        version=value(page, "version"),
        title=value(page, "title"),
        note="market dates",
    )
    data.pop("action")
    return data | extra


def five_tuesdays(ctx):
    return add_notice(
        ctx,
        starts_at=local(2026, 12, 1, 7),
        ends_at=None,
        recurrence="FREQ=WEEKLY;BYDAY=TU;COUNT=5",
        occurrence_minutes=120,
    )


def cancel_through_the_api(ctx, client, uid: str, occurrence_id: str, reason: str) -> None:
    token = add_token(ctx, "manager@example.org")
    answer = client.post(
        f"/api/v1/notices/{uid}/occurrences/{occurrence_id}/cancel",
        json={"reason": reason},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text


def test_a_cancellation_made_through_the_api_meanwhile_survives_a_console_save(ctx, manager):
    notice = five_tuesdays(ctx)
    edit = manager.get(f"/admin/notices/{notice.uid}")  # opened before the API's cancellation
    cancel_through_the_api(ctx, manager, notice.uid, "20261208T060000Z", "Fair on the square")
    data = tuesdays_form(edit, repeat_skip="2026-12-22")
    conflict = manager.post(f"/admin/notices/{notice.uid}", data=data, follow_redirects=False)
    assert conflict.status_code == 409
    # The manager has seen what changed meanwhile and saves their own change again.
    again = data | {"version": value(conflict, "version"), "repeat_skip_shown": value(conflict, "repeat_skip_shown")}
    saved = manager.post(f"/admin/notices/{notice.uid}", data=again, follow_redirects=False)
    assert saved.status_code == 303, alert(saved)
    assert reload(ctx, notice.uid).occurrence_changes == {
        "20261208T060000Z": {"cancelled": True, "reason": "Fair on the square"},
        "20261222T060000Z": {"cancelled": True, "reason": ""},
    }
    # Both dates are in the skip list now; the API's keeps its reason on the public page.
    edit = manager.get(f"/admin/notices/{notice.uid}")
    assert value(edit, "repeat_skip") == value(edit, "repeat_skip_shown") == "2026-12-08 2026-12-22"
    assert "Fair on the square" in manager.get(f"/notices/{notice.uid}").text


def test_removing_a_date_in_the_console_reinstates_that_occurrence_only(ctx, manager):
    notice = five_tuesdays(ctx)
    cancel_through_the_api(ctx, manager, notice.uid, "20261208T060000Z", "Fair on the square")
    edit = manager.get(f"/admin/notices/{notice.uid}")
    skipped = manager.post(
        f"/admin/notices/{notice.uid}", data=tuesdays_form(edit, repeat_skip="2026-12-08 2026-12-22")
    )
    assert skipped.status_code == 200, alert(skipped)
    edit = manager.get(f"/admin/notices/{notice.uid}")
    removed = manager.post(f"/admin/notices/{notice.uid}", data=tuesdays_form(edit, repeat_skip="2026-12-08"))
    assert removed.status_code == 200, alert(removed)
    found = reload(ctx, notice.uid)
    assert found.occurrence_changes == {"20261208T060000Z": {"cancelled": True, "reason": "Fair on the square"}}
    # Each save was one change of one occurrence, told as such.
    assert [(e.kind, e.occurrence) for e in found.events] == [
        ("cancelled", "20261208T060000Z"),
        ("cancelled", "20261222T060000Z"),
        ("rescheduled", "20261222T060000Z"),
    ]
