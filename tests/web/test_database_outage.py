"""While the database is unreachable: 503 with Retry-After for pages, the console and the API,
and feeds keep serving their last copy, marked stale. Against a real database that goes away:

- PostgreSQL: the app's own database is dropped under it (its connections are terminated);
- SQLite: the file is replaced under it by an empty database. (A running process keeps an open
  SQLite file even when it is moved away or made unreadable; an empty file in its place, which
  is what a new connection finds after a move, is the outage a running process can meet.)
"""

from __future__ import annotations

import dataclasses
import sqlite3

import feedparser
import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from notices.core import db as database
from notices.core.context import AppContext
from notices.core.db import Database
from notices.web import create_app
from tests.factories import add_notice, add_user


class OutageDatabase:
    """A database of this test's own, which can be taken away and brought back."""

    def __init__(self, suite_url: str, tmp_path) -> None:
        url = make_url(suite_url)
        self.postgres = url.get_backend_name() == "postgresql"
        if self.postgres:
            self.name = f"{url.database}_outage"
            self.url = url.set(database=self.name).render_as_string(hide_password=False)
            self.admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        else:
            self.path = tmp_path / "outage.db"
            self.url = f"sqlite:///{self.path}"
            self.saved = tmp_path / "saved.db"
        self.create()

    def create(self) -> None:
        if self.postgres:
            with self.admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
                connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        engine = create_engine(self.url)
        database.upgrade(engine)
        engine.dispose()

    def take_away(self) -> None:
        if self.postgres:
            with self.admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE "{self.name}" WITH (FORCE)'))
        else:
            _copy(self.path, self.saved)
            _copy(":memory:", self.path)  # through SQLite's own locking, as a restore would

    def bring_back(self) -> None:
        if self.postgres:
            self.create()
        else:
            _copy(self.saved, self.path)

    def close(self) -> None:
        if self.postgres:
            with self.admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            self.admin.dispose()


def _copy(source, target) -> None:
    with sqlite3.connect(source) as origin, sqlite3.connect(target) as destination:
        origin.backup(destination)
    origin.close()
    destination.close()


@pytest.fixture
def outage(database_url, tmp_path):
    outage = OutageDatabase(database_url, tmp_path)
    yield outage
    outage.close()


@pytest.fixture
def site(outage, settings, clock):
    """A running app on the outage database, with one notice, and a client that sees 500s as responses."""
    settings = dataclasses.replace(settings, database_url=outage.url)
    ctx = AppContext(settings=settings, db=Database.from_url(outage.url), clock=clock)
    notice = add_notice(ctx, title="Plesmanlaan closed")
    add_user(ctx, "manager@example.org")
    with TestClient(create_app(settings, ctx=ctx), raise_server_exceptions=False) as client:
        client.notice_uid = notice.uid
        yield client
    ctx.db.dispose()


def assert_unavailable(response) -> None:
    assert response.status_code == 503, response.text[:300]
    assert int(response.headers["retry-after"]) > 0


def test_pages_answer_503_with_retry_after(site, outage):
    assert site.get("/").status_code == 200
    outage.take_away()
    for path in ("/", f"/notices/{site.notice_uid}"):
        response = site.get(path)
        assert_unavailable(response)
        assert etree.HTML(response.text).xpath("string(//h1)") == "Temporarily unavailable"


def test_the_api_answers_503_in_its_json_error_shape(site, outage):
    assert site.get("/api/v1/notices").status_code == 200
    outage.take_away()
    response = site.get(f"/api/v1/notices/{site.notice_uid}")
    assert_unavailable(response)
    assert response.json()["error"]["message"].startswith("The database is not reachable")


def test_the_console_answers_503(site, outage):
    form = site.get("/admin/login")
    token = etree.HTML(form.text).xpath('//input[@name="csrf_token"]/@value')[0]
    assert (
        site.post(
            "/admin/login",
            data={"csrf_token": token, "email": "manager@example.org", "password": "correct horse battery"},
        ).status_code
        == 200
    )
    outage.take_away()
    assert_unavailable(site.get("/admin"))
    token = etree.HTML(site.get("/admin/login").text).xpath('//input[@name="csrf_token"]/@value')[0]
    assert_unavailable(
        site.post(
            "/admin/login",
            data={"csrf_token": token, "email": "manager@example.org", "password": "correct horse battery"},
        )
    )


def test_a_feed_serves_its_last_copy_marked_stale(site, outage):
    before = site.get("/feeds/notices.atom")
    assert before.status_code == 200
    outage.take_away()
    stale = site.get("/feeds/notices.atom")
    assert stale.status_code == 200
    assert stale.headers["warning"] == '110 - "Response is Stale"'
    assert stale.headers["cache-control"] == "public, max-age=30"
    assert stale.headers["etag"] == before.headers["etag"]
    assert [entry.id for entry in feedparser.parse(stale.content).entries] == [f"urn:uuid:{site.notice_uid}"]


def test_a_feed_never_rendered_before_answers_503(site, outage):
    outage.take_away()
    response = site.get("/feeds/notices.rss")
    assert_unavailable(response)


def test_the_site_recovers_by_itself_when_the_database_returns(site, outage):
    outage.take_away()
    assert_unavailable(site.get("/"))
    outage.bring_back()
    assert site.get("/").status_code == 200
    assert site.get("/api/v1/notices").status_code == 200
