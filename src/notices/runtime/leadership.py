"""Who runs the jobs when several schedulers share one database: a lock held by the leader.

PostgreSQL: a session-level advisory lock on a connection of its own. The
server drops it the moment the leader's connection goes, including when the
process is killed, and a standby polling pg_try_advisory_lock takes over.
SQLite (one machine): an flock on a file beside the database, which the
kernel releases when the process dies.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import Protocol, TextIO

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine, make_url

log = logging.getLogger(__name__)
# Any fixed 64-bit number; it names "the notices scheduler" among other advisory locks.
ADVISORY_LOCK_KEY = 0x6E6F74696365  # "notice"


class Leadership(Protocol):
    """The leader lock: taken without waiting, checked, given back."""

    def try_acquire(self) -> bool: ...
    def still_held(self) -> bool: ...
    def release(self) -> None: ...


class PostgresLeadership:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connection: Connection | None = None

    def try_acquire(self) -> bool:
        try:
            if self.connection is None:
                self.connection = self.engine.connect()
            acquired = bool(
                self.connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
            )
            self.connection.commit()
            return acquired
        except Exception as error:  # the database is away: not the leader, try again later
            log.warning("cannot reach the database for the leader lock: %s", error)
            self._drop()
            return False

    def still_held(self) -> bool:
        """True while our lock connection is alive (the lock lives exactly as long as it)."""
        if self.connection is None:
            return False
        try:
            held = self.connection.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                    "AND granted AND classid = :high AND objid = :low AND objsubid = 1"
                ),
                {"high": ADVISORY_LOCK_KEY >> 32, "low": ADVISORY_LOCK_KEY & 0xFFFFFFFF},
            )
            self.connection.commit()
            return bool(held)
        except Exception as error:
            log.warning("lost the leader lock connection: %s", error)
            self._drop()
            return False

    def release(self) -> None:
        if self.connection is not None:
            try:
                self.connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
                self.connection.commit()
            except Exception:  # the lock goes with the connection anyway
                pass
            self._drop()

    def _drop(self) -> None:
        if self.connection is not None:
            try:
                self.connection.invalidate()
                self.connection.close()
            except Exception:
                pass
            self.connection = None


class FileLeadership:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: TextIO | None = None

    def try_acquire(self) -> bool:
        if self.handle is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held open for as long as we lead
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self.handle = handle
        return True

    def still_held(self) -> bool:
        return self.handle is not None

    def release(self) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle.fileno(), fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


def leadership_for(engine: Engine) -> Leadership:
    url = make_url(str(engine.url))
    if url.get_backend_name() == "postgresql":
        return PostgresLeadership(engine)
    database = url.database or ""
    if database in ("", ":memory:"):
        return FileLeadership(Path("var") / "scheduler.lock")
    return FileLeadership(Path(database + ".scheduler-lock"))
