"""Migration 0010 (notice_reviews) keeps every existing row: users keep their roles, notices their state.

Run from the 0008 schema with data, on SQLite and, when NOTICES_TEST_DATABASE_URL names one, on
a scratch database of the same PostgreSQL server.
"""

import uuid
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text

from notices.core import db as database
from notices.core.db import Database
from notices.notice import approval, store
from tests.approval_staff import approval_settings, staff_per_role, tokens_per_email  # noqa: F401 (fixtures)

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def fill_0008(connection) -> dict[str, str]:
    """Rows as the 0008 schema holds them: users of both old roles, a published notice and a draft."""
    uids = {"published": str(uuid.uuid4()), "draft": str(uuid.uuid4())}
    for email, role in (("ann@example.org", "manager"), ("bob@example.org", "admin")):
        connection.execute(
            text(
                "INSERT INTO users (email, password_hash, role, active, created_at) "
                "VALUES (:email, 'x', :role, :active, :now)"
            ),
            {"email": email, "role": role, "active": True, "now": NOW},
        )
    for kind, uid in uids.items():
        connection.execute(
            text(
                "INSERT INTO notices (uid, title, summary, body, category, severity, locations, location_detail,"
                " publish_at, starts_at, expected_end, version, cancel_reason, created_at, created_by, updated_at,"
                " updated_by, announced_phase) VALUES (:uid, :title, '', '', 'road-closure', 'critical', '[]', '',"
                " :publish_at, :now, '', 1, '', :now, 'cli:root', :now, 'cli:root', 'none')"
            ),
            {"uid": uid, "title": f"A {kind} notice", "publish_at": NOW if kind == "published" else None, "now": NOW},
        )
    connection.execute(
        text(
            "INSERT INTO audit_log (at, actor, action, target, detail)"
            " VALUES (:now, 'cli:root', 'notice.create', :t, '')"
        ),
        {"now": NOW, "t": uids["published"]},
    )
    return uids


def test_upgrading_from_0008_keeps_users_notices_and_the_audit_log(blank_url):
    db = Database.from_url(blank_url)
    try:
        database.upgrade(db.engine, "0008")
        with db.engine.begin() as connection:
            uids = fill_0008(connection)
        database.upgrade(db.engine)
        assert database.current_revision(db.engine) == database.head_revision()
        with db.engine.connect() as connection:
            roles = dict(connection.execute(text("SELECT email, role FROM users ORDER BY email")).all())
            titles = dict(connection.execute(text("SELECT uid, title FROM notices")).all())
            audit = connection.execute(text("SELECT action, target FROM audit_log")).all()
            reviews = connection.execute(text("SELECT count(*) FROM notice_reviews")).scalar()
        assert roles == {"ann@example.org": "manager", "bob@example.org": "admin"}
        assert titles == {uids["published"]: "A published notice", uids["draft"]: "A draft notice"}
        assert [tuple(row) for row in audit] == [("notice.create", uids["published"])]
        assert reviews == 0
        with db.session() as session:
            stages = {
                kind: approval.stage_of(session, store.get_notice(session, uid), NOW) for kind, uid in uids.items()
            }
        assert stages == {"published": approval.Stage.PUBLISHED, "draft": approval.Stage.DRAFT}
        # And back down: 0008's rows are still there.
        command.downgrade(database.alembic_config(db.engine), "0008")
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM notices")).scalar() == 2
    finally:
        db.dispose()
