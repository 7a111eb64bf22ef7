"""Telling other processes about a write at once, on PostgreSQL: LISTEN/NOTIFY.

Every write bumps the data version (core.site_state). Feed caches and schedulers poll that
counter (once a second by default), which is the only path on SQLite. On PostgreSQL the write
also sends a NOTIFY on CHANNEL with the new version, delivered when its transaction commits, and
each process keeps one listening connection, so a write on one replica reaches the others' feeds
within milliseconds. The poll stays as the fallback: a listener that lost its connection only
makes changes as slow as before, never lost.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

CHANNEL = "notices_data_version"
# How the listening connection shows in pg_stat_activity.
APPLICATION_NAME = "notices-change-listener"
# How often the listening thread looks up from waiting to see whether it should stop.
_WAKE_SECONDS = 0.5


def announce(session: Session, version: int) -> None:
    """NOTIFY the listeners of `version`; sent at commit, dropped with a rollback (PostgreSQL only)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, :version)"), {"channel": CHANNEL, "version": str(version)})


# What a listener calls: with the version it heard, or None after (re)connecting, when
# notifications may have been missed and the listener's owner should look for itself.
Heard = Callable[[int | None], None]


class ChangeListener:
    """A thread holding one LISTEN connection; calls every `Heard` callback on each notification.

    Reconnects after a lost connection (a database restart, a killed backend), waiting longer
    after each failure up to `max_retry_seconds`.
    """

    def __init__(self, database_url: str, *, max_retry_seconds: float = 30.0) -> None:
        # SQLAlchemy's URL ("postgresql+psycopg://...") as libpq's, for a plain psycopg connection.
        self._conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._callbacks: list[Heard] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="change-listener", daemon=True)
        self._max_retry_seconds = max_retry_seconds
        self.listening = threading.Event()
        self.heard = 0
        self.reconnects = 0

    def subscribe(self, callback: Heard) -> None:
        self._callbacks.append(callback)

    def start(self) -> None:
        self._thread.start()

    def stop(self, wait: float = 0.0) -> None:
        """Stop listening. Nothing is called back after this returns; the thread itself ends (and
        closes its connection) within _WAKE_SECONDS, so by default shutting down does not wait."""
        self._stop.set()
        if wait:
            self._thread.join(wait)

    def _run(self) -> None:
        retry = 0.5
        while not self._stop.is_set():
            try:
                self._listen()
                retry = 0.5
            except psycopg.Error as error:
                self.listening.clear()
                self.reconnects += 1
                log.warning("change listener lost its connection (feeds fall back to polling): %s", error)
                self._stop.wait(retry)
                retry = min(retry * 2, self._max_retry_seconds)

    def _listen(self) -> None:
        with psycopg.connect(
            self._conninfo, autocommit=True, connect_timeout=5, application_name=APPLICATION_NAME
        ) as connection:
            connection.execute(f"LISTEN {CHANNEL}")
            self.listening.set()
            self._tell(None)  # anything written while we were not listening
            while not self._stop.is_set():
                for notification in connection.notifies(timeout=_WAKE_SECONDS):
                    self.heard += 1
                    self._tell(int(notification.payload) if notification.payload.isdigit() else None)
                    if self._stop.is_set():
                        break
        self.listening.clear()

    def _tell(self, version: int | None) -> None:
        for callback in self._callbacks:
            if self._stop.is_set():
                return
            try:
                callback(version)
            except Exception:  # one owner's failure must not stop the others hearing
                log.exception("change listener callback failed")


def listener_for(database_url: str) -> ChangeListener | None:
    """A listener for a PostgreSQL database; None for SQLite (polling is the only path there)."""
    if make_url(database_url).get_backend_name() != "postgresql":
        return None
    return ChangeListener(database_url)
