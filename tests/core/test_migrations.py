"""The migrations build exactly the schema the models describe, and go down again."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from notices.core import db as database
from notices.core.db import Database
from notices.core.models import Base


def test_migrated_schema_matches_the_models(migrated_database):
    with migrated_database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_downgrade_and_upgrade_again(tmp_path):
    db = Database.from_url(f"sqlite:///{tmp_path / 'roundtrip.db'}")
    database.upgrade(db.engine)
    from alembic import command

    command.downgrade(database.alembic_config(db.engine), "base")
    assert database.current_revision(db.engine) is None
    database.upgrade(db.engine)
    assert database.current_revision(db.engine) == database.head_revision()
    db.dispose()
