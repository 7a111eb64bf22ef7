"""How outcomes are committed: without waiting for the database's disk (a killed process still
loses nothing, see mail.outcomes), and without that setting reaching any other work."""

from __future__ import annotations

from notices.mail.outcomes import _connect_without_waiting_for_disk


def commit_setting(connection) -> str:
    if connection.dialect.name == "postgresql":
        return connection.exec_driver_sql("SHOW synchronous_commit").scalar_one()
    # SQLite: 1 is NORMAL, which in WAL mode syncs at checkpoints rather than at every commit.
    return {0: "off", 1: "normal", 2: "full", 3: "extra"}[connection.exec_driver_sql("PRAGMA synchronous").scalar_one()]


def test_outcomes_commit_without_waiting_for_the_disk_and_nothing_else_does(ctx):
    engine = ctx.db.engine
    writer = _connect_without_waiting_for_disk(ctx.db)
    try:
        with engine.connect() as other:  # taken while the writer's connection is open
            others = commit_setting(other)
        assert commit_setting(writer) in ("off", "normal")
    finally:
        writer.close()
    # Every connection the pool hands out afterwards commits as configured.
    connections = [engine.connect() for _ in range(3)]
    try:
        settings = {commit_setting(connection) for connection in connections}
    finally:
        for connection in connections:
            connection.close()
    if engine.dialect.name == "postgresql":
        assert others == "on" and settings == {"on"}
    else:
        assert others == "normal" and settings == {"normal"}  # the one setting for every SQLite connection
