"""Migration 0009 (notice text per language) keeps every existing notice, revision, event and
subscriber, with the old text as the default language's; and it goes down again.

Each test builds its own database at revision 0008 (a scratch SQLite file, or a scratch
database on the PostgreSQL server the suite runs on), so the shared test database is untouched.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import MetaData, create_engine, select, text
from sqlalchemy.engine import Engine, make_url

from notices.core import db as database
from notices.core.config import load_settings
from notices.core.db import Database
from notices.notice import store
from notices.notice.languages import texts_by_language
from notices.notice.markup import renderable_notice

WHEN = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
TITLE = "Plesmanlaan closed between Sylviusweg and Einsteinweg"
BODY = "Follow the **yellow** diversion signs.\n\nMore: <https://example.org/works>"


@pytest.fixture
def scratch(database_url, tmp_path) -> Iterator[Database]:
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        db = Database.from_url(f"sqlite:///{tmp_path / 'at-0008.db'}")
        yield db
        db.dispose()
        return
    name = f"notices_migration_{uuid.uuid4().hex[:12]}"
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database.from_url(url.set(database=name).render_as_string(hide_password=False))
    try:
        yield db
    finally:
        db.dispose()
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        server.dispose()


def _tables(engine: Engine) -> MetaData:
    metadata = MetaData()
    metadata.reflect(engine)
    return metadata


def _fill_at_0008(engine: Engine) -> str:
    """Two notices (one updated, with revisions and events), a subscriber; the uid of the first."""
    tables = _tables(engine).tables
    uid = str(uuid.uuid4())
    common = {
        "category": "road-closure",
        "severity": "major",
        "locations": ["plesmanlaan"],
        "geometry": None,
        "publish_at": WHEN,
        "starts_at": WHEN,
        "ends_at": None,
        "cancelled_at": None,
        "cancel_reason": "",
        "created_at": WHEN,
        "created_by": "manager@example.org",
        "updated_at": WHEN,
        "updated_by": "manager@example.org",
        "announced_phase": "started",
    }
    with engine.begin() as connection:
        first = connection.execute(
            tables["notices"].insert().returning(tables["notices"].c.id),
            {
                **common,
                "uid": uid,
                "title": TITLE,
                "summary": "First of two closures.",
                "body": BODY,
                "location_detail": "between the roundabouts",
                "expected_end": "approximately Q3 2027",
                "version": 2,
            },
        ).scalar_one()
        connection.execute(
            tables["notices"].insert(),
            {
                **common,
                "uid": str(uuid.uuid4()),
                "title": "Power outage",
                "summary": "",
                "body": "",
                "location_detail": "",
                "expected_end": "",
                "version": 1,
            },
        )
        snapshot = {"title": "Plesmanlaan closed", "summary": "", "body": "", "version": 1}
        connection.execute(
            tables["notice_revisions"].insert(),
            [
                {
                    "notice_id": first,
                    "version": 1,
                    "changed_at": WHEN,
                    "changed_by": "m",
                    "change_note": "created",
                    "snapshot": snapshot,
                },
                {
                    "notice_id": first,
                    "version": 2,
                    "changed_at": WHEN,
                    "changed_by": "m",
                    "change_note": "detail",
                    "snapshot": snapshot | {"title": TITLE, "version": 2},
                },
            ],
        )
        connection.execute(
            tables["notice_events"].insert(),
            [
                {
                    "notice_id": first,
                    "kind": kind,
                    "version": 1,
                    "occurred_at": WHEN,
                    "recorded_at": WHEN,
                    "detail": "",
                    "alerts_enqueued": True,
                    "hooks_enqueued": True,
                }
                for kind in ("published", "started")
            ],
        )
        connection.execute(
            tables["subscribers"].insert(),
            {
                "email": "tenant@example.org",
                "state": "confirmed",
                "frequency": "daily",
                "categories": [],
                "locations": ["plesmanlaan"],
                "min_severity": None,
                "language": "nl",
                "created_at": WHEN,
                "updated_at": WHEN,
                "confirmed_at": WHEN,
                "unsubscribed_at": None,
                "suppressed_at": None,
                "suppression_reason": "",
                "token_generation": 1,
            },
        )
    return uid


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            name: connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
            for name in ("notices", "notice_revisions", "notice_events", "subscribers")
        }


def test_upgrading_keeps_every_row_and_the_old_text_as_the_default_language(scratch):
    database.upgrade(scratch.engine, "0008")
    uid = _fill_at_0008(scratch.engine)
    before = _counts(scratch.engine)

    database.upgrade(scratch.engine)

    assert database.current_revision(scratch.engine) == database.head_revision()
    assert (
        _counts(scratch.engine) == before == {"notices": 2, "notice_revisions": 2, "notice_events": 2, "subscribers": 1}
    )
    settings = load_settings({"NOTICES_DATABASE_URL": "sqlite://"})
    with scratch.session() as session:
        notice = store.get_notice(session, uid, with_history=True)
        assert notice.translations == {}
        assert texts_by_language(notice, settings)["en"] == {
            "title": TITLE,
            "summary": "First of two closures.",
            "body": BODY,
            "location_detail": "between the roundabouts",
            "expected_end": "approximately Q3 2027",
        }
        assert [r.change_note for r in notice.revisions] == ["created", "detail"]
        assert [e.kind for e in notice.events] == ["published", "started"]
        # A Dutch reader gets the old text, marked as English.
        dutch = renderable_notice(notice, settings, "nl")
        assert dutch.title == f"{TITLE} (in English)"
        assert dutch.fallback


def test_a_migrated_notice_takes_a_second_language(scratch):
    database.upgrade(scratch.engine, "0008")
    uid = _fill_at_0008(scratch.engine)
    database.upgrade(scratch.engine)
    settings = load_settings({"NOTICES_DATABASE_URL": "sqlite://"})
    from notices.notice.validation import parse_changes

    with scratch.session() as session, session.begin():
        notice = store.get_notice(session, uid)
        fields = parse_changes(
            {"title": {"nl": "Plesmanlaan afgesloten"}}, current=store.fields_of(notice), settings=settings, now=WHEN
        )
        store.update_notice(session, notice, fields, note="Dutch added", now=WHEN, author="m")
    with scratch.session() as session:
        notice = store.get_notice(session, uid, with_history=True)
        assert notice.title == TITLE
        assert notice.translations == {"nl": {"title": "Plesmanlaan afgesloten"}}
        assert notice.revisions[-1].snapshot["translations"] == {"nl": {"title": "Plesmanlaan afgesloten"}}


def test_downgrading_to_0008_keeps_the_default_language_text(scratch):
    database.upgrade(scratch.engine, "0008")
    uid = _fill_at_0008(scratch.engine)
    database.upgrade(scratch.engine)

    command.downgrade(database.alembic_config(scratch.engine), "0008")

    assert database.current_revision(scratch.engine) == "0008"
    notices = _tables(scratch.engine).tables["notices"]
    assert "translations" not in notices.c
    with scratch.engine.connect() as connection:
        assert connection.execute(select(notices.c.title).where(notices.c.uid == uid)).scalar_one() == TITLE
    assert _counts(scratch.engine)["notice_revisions"] == 2
    database.upgrade(scratch.engine)
    assert database.current_revision(scratch.engine) == database.head_revision()
