"""Property: any Unicode a manager can send (every plane, lone surrogates, controls, noncharacters,
bidi marks, very long words) in any text field is refused with a field error, or accepted and then
renders in every output, each of which still parses: Atom and RSS (lxml, feedparser), the event
feeds, iCalendar (icalendar), the public and console pages, every email that carries notice text in
both languages (email with policy.strict) and the API JSON."""

from __future__ import annotations

import email
import json
from datetime import timedelta
from email import policy

import feedparser
import hypothesis.strategies as st
import lxml.html
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from icalendar import Calendar
from lxml import etree

from notices.mail.transports import MemoryMailer
from notices.runtime import jobs
from tests.conftest import DEFAULT_NOW, empty_tables
from tests.factories import add_subscriber, add_token, add_user

TEXT_FIELDS = ("title", "summary", "body", "location_detail", "expected_end")
FEEDS = ("/feeds/notices.atom", "/feeds/notices.rss", "/feeds/events.atom", "/feeds/events.rss")
# The characters that broke or disguised output before, and the ones markup gives meaning to.
SPECIAL = (
    "\x00\x01\x08\x0b\x0c\x1f\x7f\x80\x85\x9f\ud800\udbff\udc00\udfff\ufdd0\ufffe\uffff\U0001fffe"
    "\U0010ffff\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029"
    "\r\n\t <>&\"'{}%#*_[]()`!|]]>"
)
ANY_CHARACTER = st.characters(exclude_categories=())  # every code point, surrogates included
CHARACTERS = st.one_of(st.sampled_from(SPECIAL), ANY_CHARACTER)
LONG_WORD = st.builds(lambda character, length: character * length, ANY_CHARACTER, st.integers(300, 4000))
PIECES = st.one_of(
    st.text(CHARACTERS, max_size=30),
    LONG_WORD,
    st.sampled_from(
        [
            "{{ title }}",
            "{% raw %}",
            "notices-placeholder-to@placeholder.invalid",
            "[link](details.html)",
            "<script>alert(1)</script>",
            "=?utf-8?q?x?=",
        ]
    ),
)
FIELD_TEXT = st.lists(PIECES, max_size=4).map("".join)
NOTICE_TEXT = st.fixed_dictionaries({}, optional=dict.fromkeys(TEXT_FIELDS, FIELD_TEXT))


def check_outputs(client, uid: str, mailer: MemoryMailer) -> None:
    for path in FEEDS:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text[:300])
        etree.fromstring(response.content)
        assert feedparser.parse(response.content).bozo == 0, path
    calendar = client.get("/calendar/notices.ics")
    assert calendar.status_code == 200
    Calendar.from_ical(calendar.content)
    for path in ("/", f"/notices/{uid}", f"/admin/notices/{uid}"):
        page = client.get(path)
        assert page.status_code == 200, (path, page.text[:300])
        lxml.html.document_fromstring(page.content)
    api = client.get(f"/api/v1/notices/{uid}")
    assert api.status_code == 200
    json.loads(api.content)
    for raw in mailer.raw:
        message = email.message_from_bytes(raw, policy=policy.strict)  # raises on any defect
        for part in message.walk():
            if not part.is_multipart():
                part.get_content()
    mailer.raw.clear()


JSON = {"Content-Type": "application/json"}


def as_json(data: dict) -> bytes:
    # As browsers and most clients send it: non-ASCII (lone surrogates too) as \u escapes.
    return json.dumps(data).encode("ascii")


def note(text: dict) -> str:
    return (text.get("summary") or "") + " changed"


# Examples per run: the "ci" profile (tests/conftest.py), or HYPOTHESIS_PROFILE=deep for a long search.
@settings(
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ]
)
@given(text=NOTICE_TEXT, open_ended=st.booleans())
def test_any_text_is_refused_with_a_field_error_or_renders_everywhere(ctx, clock, app, text, open_ended):
    empty_tables(ctx.db)  # hypothesis runs every example in this one test's fixtures
    clock.set(DEFAULT_NOW)
    mailer = ctx.mailer = MemoryMailer()
    add_user(ctx, "manager@example.org")
    auth = {"Authorization": f"Bearer {add_token(ctx, 'manager@example.org')}"}
    for language in ("en", "nl"):
        add_subscriber(ctx, f"now-{language}@example.org", language=language)
        add_subscriber(ctx, f"daily-{language}@example.org", language=language, frequency="daily")
    starts = clock.now() + timedelta(days=2)
    body = {
        "category": "road-closure",
        "severity": "major",
        "locations": ["plesmanlaan"],
        "starts_at": starts.isoformat(),
        "title": "Closure",
    } | text
    if not open_ended:
        body["ends_at"] = (starts + timedelta(days=3)).isoformat()
    with TestClient(app) as client:
        created = client.post("/api/v1/notices", content=as_json(body), headers=auth | JSON)
        event(f"created: {created.status_code}")  # shown by pytest --hypothesis-show-statistics
        if created.status_code == 422:
            assert created.json()["error"]["field"] in TEXT_FIELDS, created.text
            return
        assert created.status_code == 201, created.text
        uid = created.json()["uid"]
        login_form = client.get("/admin/login")
        client.post(
            "/admin/login",
            data={
                "csrf_token": etree.HTML(login_form.text).xpath('//input[@name="csrf_token"]/@value')[0],
                "email": "manager@example.org",
                "password": "correct horse battery",
                "next": "/admin",
            },
        )

        def run_jobs() -> None:
            jobs.record_transitions(ctx, now=clock.now())
            jobs.enqueue_alerts(ctx, now=clock.now())
            jobs.send_pending(ctx, now=clock.now())

        run_jobs()  # the "new" alerts
        check_outputs(client, uid, mailer)
        clock.set(starts - timedelta(days=1))
        run_jobs()  # reminders
        clock.set(starts)
        run_jobs()  # "now in effect"
        changed = client.patch(
            f"/api/v1/notices/{uid}",
            headers=auth | JSON,
            content=as_json({"ends_at": (starts + timedelta(days=9)).isoformat(), "note": note(text)}),
        )
        assert changed.status_code in (200, 422), changed.text
        run_jobs()  # rescheduled
        check_outputs(client, uid, mailer)
        clock.set(clock.now() + timedelta(days=1))
        jobs.enqueue_digests(ctx, now=clock.now(), frequency="daily")
        jobs.send_pending(ctx, now=clock.now())
        cancelled = client.post(
            f"/api/v1/notices/{uid}/cancel", headers=auth | JSON, content=as_json({"reason": note(text)})
        )
        assert cancelled.status_code in (200, 422), cancelled.text
        run_jobs()  # cancelled
        check_outputs(client, uid, mailer)
