"""A request that waits for the database never stalls the others in its process.

One uvicorn worker answers every request on one event loop; a handler that blocks on it
(a query waiting for a lock, an argon2 hash) freezes the whole worker, the feed fast path
included. Here another connection holds what a form POST needs (SQLite: the write lock,
BEGIN IMMEDIATE; PostgreSQL: the notice's row, SELECT ... FOR UPDATE, or the table the
POST writes to), and while the POST waits, on a real server, the feed and the health checks
must still answer at once.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
from lxml import etree
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from notices.core.context import AppContext
from notices.notice import store
from tests.factories import add_notice, add_user, reload
from tests.live_server import serving

# "Well under a second": what the feed and the health checks may take while the POST waits.
PROMPT = 0.5
# How long a probe may wait at most: a frozen event loop answers only when the lock is released.
PROBE_TIMEOUT = 3


@pytest.fixture
def server(app) -> Iterator[str]:
    with serving(app) as base_url:
        yield base_url


def csrf_of(response: httpx.Response) -> str:
    return etree.HTML(response.text).xpath('//input[@name="csrf_token"]/@value')[0]


def log_in(browser: httpx.Client) -> None:
    form = browser.get("/admin/login")
    data = {"csrf_token": csrf_of(form), "email": "manager@example.org", "password": "correct horse battery"}
    assert browser.post("/admin/login", data=data).status_code == 303


@dataclass
class Post:
    path: str
    data: dict
    uid: str | None = None  # the notice it changes


@dataclass
class Case:
    """A form POST that has to wait for a lock held elsewhere, and what it answers once it gets it."""

    prepare: Callable[[AppContext, httpx.Client], Post]
    hold: Callable[[AppContext, Session, Post], None]  # take the lock the POST waits for
    status: int


def _change_a_notice(ctx, browser) -> Post:
    log_in(browser)
    uid = add_notice(ctx).uid
    form = etree.HTML(browser.get(f"/admin/notices/{uid}").text)
    shown = ("csrf_token", "version", "title", "starts_at", "ends_at")
    data = {
        **{name: form.xpath(f'//input[@name="{name}"]/@value')[0] for name in shown},
        "category": "road-closure",
        "severity": "major",
        "locations": ["plesmanlaan"],
        "summary": "Diversion via Einsteinweg",
        "note": "diversion added",
    }
    return Post(f"/admin/notices/{uid}", data, uid)


def _lock_the_notice(ctx, session, post) -> None:
    # On SQLite this is the database's write lock (the session began with BEGIN IMMEDIATE).
    store.get_notice(session, post.uid, for_update=True)


def _log_in(ctx, browser) -> Post:
    form = browser.get("/admin/login")
    return Post(
        "/admin/login",
        {"csrf_token": csrf_of(form), "email": "manager@example.org", "password": "correct horse battery"},
    )


def _sign_up(ctx, browser) -> Post:
    form = browser.get("/subscribe")
    return Post("/subscribe", {"csrf_token": csrf_of(form), "email": "tenant@example.org", "frequency": "daily"})


def _lock_the_rate_limits(ctx, session, post) -> None:
    # Login and sign-up both start by counting the attempt; on SQLite any write waits anyway.
    if ctx.db.dialect == "postgresql":
        session.execute(text("LOCK TABLE rate_limit_hits IN EXCLUSIVE MODE"))
    else:
        session.execute(text("SELECT 1"))


CASES = {
    "change a notice": Case(_change_a_notice, _lock_the_notice, 303),
    "log in": Case(_log_in, _lock_the_rate_limits, 303),
    "sign up": Case(_sign_up, _lock_the_rate_limits, 200),
}


@contextmanager
def lock_held(ctx, case: Case, post: Post) -> Iterator[None]:
    """Another connection holds the lock until the block ends (then commits, having changed nothing)."""
    with ctx.db.writing() as session, session.begin():
        case.hold(ctx, session, post)
        yield


def wait_until_the_post_waits(ctx, started: threading.Event) -> None:
    """Return once the POST is blocked on the lock, so the probes run while it waits."""
    if ctx.db.dialect == "postgresql":
        deadline = time.monotonic() + 20
        with ctx.db.engine.connect() as connection:
            while not connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ):
                assert time.monotonic() < deadline, "the POST never waited for the lock"
                # pg_stat_activity is read once per transaction and then frozen: end it, or
                # every later look repeats the first (taken before the POST got to the lock).
                connection.rollback()
                time.sleep(0.02)
    else:
        # SQLite waits inside the driver (busy timeout), invisible to other connections: the
        # signal is the POST's own BEGIN IMMEDIATE, noted just before the driver runs it.
        assert started.wait(timeout=20), "the POST never tried to take the write lock"


@contextmanager
def noting_write_transactions(ctx) -> Iterator[threading.Event]:
    started = threading.Event()

    def note(_connection, _cursor, statement, *_args) -> None:
        if statement.startswith("BEGIN IMMEDIATE"):
            started.set()

    event.listen(ctx.db.engine, "before_cursor_execute", note)
    try:
        yield started
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", note)


def answer_time(url: str, check: Callable[[httpx.Response], bool]) -> float:
    """Seconds until `url` answered (infinite if it did not within PROBE_TIMEOUT)."""
    start = time.monotonic()
    try:
        response = httpx.get(url, timeout=PROBE_TIMEOUT)
    except httpx.TimeoutException:
        return math.inf
    assert check(response), (url, response.status_code, response.text[:300])
    return time.monotonic() - start


PROBES = {
    "/feeds/notices.atom": lambda response: response.status_code == 200,
    "/livez": lambda response: response.json() == {"status": "ok", "database": "ok"},
    # 503 without a scheduler here; what matters is that it answers and reached the database.
    "/healthz": lambda response: response.json()["database"] == "ok",
}


@pytest.mark.parametrize("name", CASES)
def test_feeds_and_health_checks_answer_while_a_form_post_waits_for_the_database(ctx, server, name):
    case = CASES[name]
    add_user(ctx, "manager@example.org")
    with httpx.Client(base_url=server, timeout=60) as browser:
        post = case.prepare(ctx, browser)
        browser.get("/feeds/notices.atom")  # rendered once before: the probes measure waiting, not rendering
        answers: list[httpx.Response] = []
        with lock_held(ctx, case, post), noting_write_transactions(ctx) as started:
            sender = threading.Thread(target=lambda: answers.append(browser.post(post.path, data=post.data)))
            sender.start()
            wait_until_the_post_waits(ctx, started)
            times = {probe: answer_time(server + probe, check) for probe, check in PROBES.items()}
        sender.join(timeout=60)
    slow = {probe: seconds for probe, seconds in times.items() if seconds >= PROMPT}
    assert not slow, f"answered late (seconds) while the POST waited for the database: {slow}"
    # Once the lock is free the POST goes through as usual.
    assert [answer.status_code for answer in answers] == [case.status]
    if post.uid:
        assert reload(ctx, post.uid).summary == "Diversion via Einsteinweg"
