"""Migration 0012 (notice_templates) keeps every existing row, starts with no templates, takes
templates afterwards, and goes down again keeping the rest.

Run from the 0010 schema with data, on SQLite and, when NOTICES_TEST_DATABASE_URL names one, on
a scratch database of the same PostgreSQL server (blank_url, tests/core/conftest.py).
"""

from alembic import command
from sqlalchemy import text

from notices.core import db as database
from notices.core.db import Database
from notices.notice import store
from notices.notice import templates_store as templates
from notices.people.roles import Actor
from tests.core.test_migration_approvals import NOW, fill_0008


def test_upgrading_from_0010_keeps_notices_and_adds_an_empty_templates_table(blank_url):
    db = Database.from_url(blank_url)
    try:
        database.upgrade(db.engine, "0010")
        with db.engine.begin() as connection:
            uids = fill_0008(connection)
            notice_id = connection.execute(
                text("SELECT id FROM notices WHERE uid = :uid"), {"uid": uids["draft"]}
            ).scalar()
            connection.execute(
                text(
                    "INSERT INTO notice_reviews (notice_id, state, kind, proposal, submitted_by, submitted_at, comment,"
                    " decided_by, decision_comment) VALUES (:id, 'submitted', 'publish', '{}', 'ann@example.org', :now,"
                    " '', '', '')"
                ),
                {"id": notice_id, "now": NOW},
            )
        database.upgrade(db.engine)
        assert database.current_revision(db.engine) == database.head_revision()
        with db.engine.connect() as connection:
            titles = dict(connection.execute(text("SELECT uid, title FROM notices")).all())
            reviews = connection.execute(text("SELECT count(*) FROM notice_reviews")).scalar()
            kept = connection.execute(text("SELECT count(*) FROM notice_templates")).scalar()
        assert titles == {uids["published"]: "A published notice", uids["draft"]: "A draft notice"}
        assert (reviews, kept) == (1, 0)
        # A notice of the old schema saves as a template.
        with db.session() as session, session.begin():
            notice = store.get_notice(session, uids["published"])
            templates.save_template(
                session, name="Old closure", fields=templates.stored_fields(notice), actor=Actor(label="test"), now=NOW
            )
        with db.session() as session:
            assert templates.get_template(session, "Old closure").fields["title"] == "A published notice"
        # And back down: 0010's rows are still there, the templates table is gone.
        command.downgrade(database.alembic_config(db.engine), "0010")
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM notices")).scalar() == 2
            assert connection.execute(text("SELECT count(*) FROM notice_reviews")).scalar() == 1
            assert database.current_revision(db.engine) == "0010"
    finally:
        db.dispose()
