"""GET /api/v1/notices a page at a time: pages chain through every notice once, in a stable order."""

import base64
from datetime import timedelta

import pytest
from sqlalchemy import event

from notices.notice.lifecycle import Status
from tests.factories import add_notice, add_token, add_user
from tests.paging_samples import ended_rows, insert_rows, row


@pytest.fixture
def api(client):
    return client


@pytest.fixture
def auth(ctx):
    add_user(ctx, "manager@example.org")
    return {"Authorization": f"Bearer {add_token(ctx, 'manager@example.org')}"}


def follow(api, params, headers=None) -> tuple[list[dict], list]:
    """Every page from the first to the last: the notices in order, and each page's response."""
    response = api.get("/api/v1/notices", params=params, headers=headers)
    pages = [response]
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["count"] == len(body["notices"])
        if body["next"] is None:
            assert "link" not in response.headers
            break
        assert response.headers["link"] == f'<{body["next"]}>; rel="next"'
        response = api.get(body["next"], headers=headers)
        pages.append(response)
    return [item for page in pages for item in page.json()["notices"]], pages


def uids_in_order(ctx, rows) -> list[str]:
    return [r["uid"] for r in sorted(rows, key=lambda r: (r["starts_at"], r["uid"]))]


def test_pages_chain_through_every_ended_notice_once_in_start_order(ctx, api):
    rows = ended_rows(23, now=ctx.clock.now())
    insert_rows(ctx.db, rows)
    listed, pages = follow(api, {"status": "ended", "limit": 5})
    assert [len(page.json()["notices"]) for page in pages] == [5, 5, 5, 5, 3]
    # Rows were inserted in uid order, so id order is uid order and breaks the ties of equal starts.
    assert [item["uid"] for item in listed] == uids_in_order(ctx, rows)
    assert len({item["uid"] for item in listed}) == 23


def test_notices_added_while_paging_neither_repeat_nor_shift_the_pages(ctx, api):
    now = ctx.clock.now()
    rows = ended_rows(12, now=now)
    insert_rows(ctx.db, rows)
    first = api.get("/api/v1/notices", params={"status": "ended", "limit": 4}).json()
    # New history before the cursor (already passed) and after it (still to come).
    earlier = row(500, starts=now - timedelta(days=400), ends=now - timedelta(days=399))
    later = row(501, starts=now - timedelta(days=2), ends=now - timedelta(days=1))
    insert_rows(ctx.db, [earlier, later])
    rest, _ = follow(api, {"status": "ended", "limit": 4, "cursor": first["next"].rsplit("cursor=", 1)[1]})
    seen = [item["uid"] for item in first["notices"] + rest]
    assert seen == uids_in_order(ctx, rows) + [later["uid"]]


def test_the_default_limit_is_50_and_500_is_the_most(ctx, api):
    insert_rows(ctx.db, ended_rows(520, now=ctx.clock.now()))
    default = api.get("/api/v1/notices", params={"status": "ended"}).json()
    assert default["count"] == 50 and default["next"]
    biggest = api.get("/api/v1/notices", params={"status": "ended", "limit": 500}).json()
    assert biggest["count"] == 500 and biggest["next"]


def test_the_next_link_keeps_the_filters(ctx, api):
    insert_rows(ctx.db, ended_rows(60, now=ctx.clock.now()))
    params = [("status", "ended"), ("category", "traffic"), ("category", "event"), ("location", "sylviusweg")]
    listed, pages = follow(api, [*params, ("limit", "3")])
    assert len(pages) > 1
    assert all(item["category"] in ("traffic", "event") and item["locations"] == ["sylviusweg"] for item in listed)
    everything = api.get("/api/v1/notices", params=[*params, ("limit", "500")]).json()["notices"]
    assert [item["uid"] for item in listed] == [item["uid"] for item in everything]
    assert "category=traffic" in pages[0].json()["next"] and "category=event" in pages[0].json()["next"]


def test_since_and_until_pick_the_notices_whose_period_overlaps(ctx, api, clock):
    now = clock.now()
    old = add_notice(ctx, now=now - timedelta(days=30))  # 29 days ago, for a day
    recent = add_notice(ctx, now=now - timedelta(days=3))  # 2 days ago, for a day
    upcoming = add_notice(ctx)  # in an hour

    def listed(**params):
        query = [("status", "ended"), ("status", "upcoming"), *params.items()]
        return {item["uid"] for item in api.get("/api/v1/notices", params=query).json()["notices"]}

    assert listed() == {old.uid, recent.uid, upcoming.uid}
    assert listed(since=(now - timedelta(days=10)).isoformat()) == {recent.uid, upcoming.uid}
    assert listed(until=(now - timedelta(days=10)).isoformat()) == {old.uid}
    assert listed(since="2026-11-25T00:00", until="2026-11-27T12:00") == {recent.uid}  # site time


def test_severity_and_the_public_view_are_applied_before_paging(ctx, api, auth, clock):
    now = clock.now()
    add_notice(ctx, severity="info", starts_at=now + timedelta(hours=1))
    major = add_notice(ctx, severity="major", starts_at=now + timedelta(hours=2))
    hidden = add_notice(ctx, publish_at=now + timedelta(hours=5), starts_at=now + timedelta(hours=3))  # scheduled
    quiet = api.get("/api/v1/notices", params={"severity": "major", "limit": 1}).json()
    assert [item["uid"] for item in quiet["notices"]] == [major.uid] and quiet["next"] is None
    staff, _ = follow(api, [("status", Status.SCHEDULED), ("status", Status.UPCOMING), ("limit", "1")], auth)
    assert hidden.uid in {item["uid"] for item in staff}


@pytest.mark.parametrize("value", ["0", "501", "-1", "ten", "1e3", "", "99999999999999999999999"])
def test_a_bad_limit_is_a_422_naming_limit(api, value):
    response = api.get("/api/v1/notices", params={"limit": value})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "limit"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "",
        _b64(b'{"starts": 1}'),
        _b64(b'["2026-11-01T00:00:00", 5]'),  # no offset
        _b64(b'["2026-11-01T00:00:00+00:00", "5"]'),
        _b64(b'["2026-11-01T00:00:00+00:00", 5.0]'),
        _b64(b'["2026-11-01T00:00:00+00:00", -5]'),
        _b64(b'["9999-12-31T23:59:59-14:00", 5]'),
        _b64(b"\xff\xfe\x00"),
        _b64('["2026-11-01T00:00:00+00:00\u202e", 5]'.encode()),
        "A" * 300,
    ],
)
def test_a_tampered_cursor_is_a_422_naming_cursor(api, cursor):
    response = api.get("/api/v1/notices", params={"status": "ended", "cursor": cursor})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == "cursor"


def test_a_well_formed_cursor_past_every_row_is_an_empty_last_page(ctx, api):
    insert_rows(ctx.db, ended_rows(3, now=ctx.clock.now()))
    response = api.get(
        "/api/v1/notices",
        params={"status": "ended", "cursor": _b64(b'["9999-12-31T00:00:00+00:00", 9007199254740993]')},
    )
    assert response.status_code == 200 and response.json() == {"count": 0, "notices": [], "next": None}


@pytest.mark.parametrize("name", ["since", "until"])
@pytest.mark.parametrize("value", ["yesterday", "2026-02-30T00:00", "2026-03-29T02:30", "\ufffe", "99999-01-01T00:00"])
def test_a_bad_since_or_until_is_a_422_naming_it(api, name, value):
    response = api.get("/api/v1/notices", params={name: value})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == name


def test_a_status_filter_still_refuses_unknown_values_with_400(api):
    # As before pages (and as on the feeds): a query value not in the schema's list.
    response = api.get("/api/v1/notices", params={"status": "bogus", "limit": 5})
    assert response.status_code == 400 and response.json()["error"]["field"] == "status"


def test_listing_reads_one_page_from_the_database_not_the_table(ctx, api):
    insert_rows(ctx.db, ended_rows(300, now=ctx.clock.now()))
    statements: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(ctx.db.engine, "before_cursor_execute", remember)
    try:
        response = api.get("/api/v1/notices", params={"status": "ended", "limit": 10})
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", remember)
    assert response.json()["count"] == 10
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT") and "FROM notices" in s]
    assert reads and all("LIMIT" in s.upper() for s in reads), reads
