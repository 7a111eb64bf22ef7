"""Without NOTICES_SECRET_KEY every process signs with the key `notices db upgrade` stored, so a
link mailed by one process works in another and after a restart."""

import email
import os
import re
import subprocess
import sys
from email import policy

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from notices.core.config import ConfigError, load_settings
from notices.core.context import AppContext
from notices.core.db import Database
from notices.core.models import SiteState
from notices.web import create_app


@pytest.fixture
def keyless_settings(settings):
    assert settings.secret_key == ""  # the test configuration sets none
    return settings


def test_db_upgrade_stores_one_key_that_every_context_uses(ctx, keyless_settings):
    other = AppContext(settings=keyless_settings, db=Database.from_url(keyless_settings.database_url))
    try:
        assert ctx.settings.secret_key and other.settings.secret_key == ctx.settings.secret_key
        assert len(ctx.settings.secret_key) >= 32
        assert other.settings.secret_key_source == "database"
    finally:
        other.db.dispose()


def test_a_configured_key_wins_over_the_stored_one(ctx, database_url):
    settings = load_settings({"NOTICES_DATABASE_URL": database_url, "NOTICES_SECRET_KEY": "configured"})
    configured = AppContext(settings=settings, db=ctx.db)
    assert (configured.settings.secret_key, configured.settings.secret_key_source) == ("configured", "settings")


def test_without_any_key_the_service_refuses_to_start_and_says_why(ctx, keyless_settings):
    stored = ctx.settings.secret_key
    with ctx.db.session() as session, session.begin():
        session.execute(update(SiteState).values(secret_key=None))
    try:
        bare = AppContext(settings=keyless_settings, db=ctx.db)
        with pytest.raises(ConfigError, match=r"NOTICES_SECRET_KEY.*run `notices db upgrade`"):
            create_app(keyless_settings, ctx=bare)
    finally:
        with ctx.db.session() as session, session.begin():
            session.execute(update(SiteState).values(secret_key=stored))


def test_a_link_mailed_by_one_process_opens_in_another(ctx, keyless_settings, tmp_path):
    mail_dir = tmp_path / "mail"
    environ = {key: value for key, value in os.environ.items() if not key.startswith("NOTICES_")}
    environ |= {"NOTICES_DATABASE_URL": ctx.settings.database_url, "NOTICES_MAIL_DIR": str(mail_dir)}
    subprocess.run(
        [sys.executable, "-m", "notices", "subscriber", "add", "new@example.org", "--confirm"],
        env=environ,
        check=True,
        capture_output=True,
    )
    (eml,) = mail_dir.glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    link = re.search(r"/subscribe/confirm/[\w.-]+", message.get_body(("plain",)).get_content()).group(0)
    # A web process started afterwards, with its own connection and no configured key.
    web = AppContext(settings=keyless_settings, db=Database.from_url(keyless_settings.database_url), clock=ctx.clock)
    try:
        with TestClient(create_app(keyless_settings, ctx=web)) as client:
            page = client.get(link)
        assert page.status_code == 200, page.text
        assert "does not work" not in page.text
    finally:
        web.db.dispose()
