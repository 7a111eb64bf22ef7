"""A send run's outcomes, written by a thread of their own while the senders go on (group commit).

Writing each message's outcome in a transaction of its own on the sending thread costs a commit
per message (an fsync on SQLite, a round trip on PostgreSQL) on top of the SMTP exchange. So the
sender threads hand their outcomes here, and this thread writes whatever has come in since its
last write together: in one transaction on SQLite, on PostgreSQL in autocommit (see
_connect_without_waiting_for_disk). With several connections (or a composer
recording skips) the outcomes of many messages share one commit, and a sender's commit overlaps
with its next message being fetched and its claim checked.

What a kill can resend stays what it was with one commit per message: a sender lets the server
take its next message (DATA) only once its own previous outcome is written (wait_for_own; the
envelope, MAIL FROM and RCPT TO, goes out meanwhile, as the server accepts nothing before the end
of DATA). So at any moment each sender has at most the message on the wire, or the one just
accepted, unrecorded; a process killed then sends that one message again after its lease, with
the same Message-ID.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError

from notices.core.db import Database
from notices.core.driver_statements import DriverStatement, raise_as_dbapi_error
from notices.mail import outbox
from notices.mail.outbox import Outcome

log = logging.getLogger(__name__)

# At most this many outcomes in one transaction (a bound on its size, not a wait: the writer
# never waits for a group to fill, it writes what has come in).
GROUP_SIZE = 100


class OutcomeWriter(threading.Thread):
    """Takes outcomes from any thread (`put`); `close()` writes the rest. `error`: what stopped a write."""

    def __init__(self, db: Database, *, size: int = GROUP_SIZE) -> None:
        super().__init__(name="notices-outcomes", daemon=True)
        self.db, self.size = db, size
        self._waiting: queue.SimpleQueue[tuple[int, Outcome] | None] = queue.SimpleQueue()
        self.error: BaseException | None = None
        # Tickets number the outcomes in the order they are queued, so "written up to N" says
        # that every outcome numbered N or less is committed.
        self._lock = threading.Lock()
        self._issued = 0
        self._own: dict[int, int] = {}  # thread ident -> the ticket of its last outcome
        self._written = threading.Condition()
        self._written_up_to = 0

    def put(self, outcome: Outcome) -> None:
        with self._lock:  # a ticket and its place in the queue, taken together
            self._issued += 1
            self._own[threading.get_ident()] = self._issued
            self._waiting.put((self._issued, outcome))

    def wait_for_own(self) -> None:
        """Return once the calling thread's outcomes are all written (or writing has stopped)."""
        ticket = self._own.get(threading.get_ident(), 0)
        with self._written:
            self._written.wait_for(
                lambda: self._written_up_to >= ticket or self.error is not None or not self.is_alive()
            )

    def close(self) -> None:
        """Write every outcome put so far and stop (unless a write failed: see `error`)."""
        self._waiting.put(None)
        self.join()

    def run(self) -> None:
        group: list[tuple[int, Outcome]] = []
        # One connection for the run, not a Session per group, and statements run on the driver's
        # cursor: over one SMTP connection a group is often a single message, and a Session's set-up
        # (plus the pool's ping on PostgreSQL) and SQLAlchemy's execution path each cost more CPU than
        # the UPDATE itself, in the process the sender needs to be quick in.
        connection: _DriverConnection | None = None
        try:
            while (first := self._waiting.get()) is not None:
                group, last = self._gather(first)
                connection = self._write(connection, [outcome for _, outcome in group])
                with self._written:
                    self._written_up_to = group[-1][0]
                    self._written.notify_all()
                if last:
                    return
        except BaseException as error:  # handed to the run, which stops sending and re-raises it
            # Those messages stay claimed: they are sent again when their leases run out.
            log.error("could not record the outcomes of %s messages: %s", len(group), error)
            self.error = error
        finally:
            if connection is not None:
                connection.close()
            with self._written:
                self._written.notify_all()  # nobody waits for a writer that has stopped

    def _write(self, connection: _DriverConnection | None, outcomes: list[Outcome]) -> _DriverConnection:
        """Write one group (in a transaction of its own on SQLite); the connection to write the next one with."""
        for attempt in (1, 2):
            if connection is None:
                connection = _DriverConnection(self.db)
            try:
                connection.write(outcomes)
                return connection
            except DBAPIError as error:
                # A connection lost between two groups (a database restart) is what a Session per
                # group would have replaced at checkout: once, on a new one. Writing the group again
                # is safe: the outcomes are fenced by their claims (outbox.record_outcomes). Those of
                # its outcomes that PostgreSQL committed before the loss match no claim the second
                # time, which is logged as claims lost: their messages are recorded.
                if attempt == 2 or not error.connection_invalidated:
                    raise
                log.warning("the connection for writing outcomes was lost (%s); writing on a new one", error)
                connection.close()
                connection = None
        raise AssertionError("unreachable")

    def _gather(self, first: tuple[int, Outcome]) -> tuple[list[tuple[int, Outcome]], bool]:
        """`first` and whatever else has come in (up to the group size), and whether the end marker did."""
        group = [first]
        while len(group) < self.size:
            try:
                item = self._waiting.get_nowait()
            except queue.Empty:
                break
            if item is None:
                return group, True
            group.append(item)
        return group, False


def _connect_without_waiting_for_disk(db: Database) -> Connection:
    """A connection whose commits do not wait for the database's disk, on PostgreSQL.

    Over one SMTP connection a sender waits for its last outcome's commit before each message's
    DATA, and a commit that waits for the WAL to reach the disk took longer than the rest of the
    message. With synchronous_commit off a commit returns once written to the server's WAL buffers:
    other sessions see it at once, and a killed notices process loses nothing (the promise above);
    only a crash of the database server can lose the last fraction of a second of outcomes, whose
    messages then go out once more with the same Message-ID, as SQLite's synchronous=NORMAL allows
    for an OS crash (core.db). The connection leaves the pool, so the setting goes with it when it
    closes and no other work ever commits this way.
    """
    connection = db.engine.connect()
    if connection.dialect.name == "postgresql":
        # Each statement its own transaction: a group of one outcome is then one round trip to the
        # server, not three (BEGIN, UPDATE, COMMIT). A group need not be written whole: each
        # outcome stands alone, fenced by its claim (outbox.record_outcomes), and one not written
        # means its message goes out again, as if the whole group had not been.
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.detach()
        connection.exec_driver_sql("SET synchronous_commit = off")
        connection.commit()  # ends SQLAlchemy's own transaction object (nothing to commit in the server)
    return connection


class _DriverConnection:
    """The writer's connection: outcomes written on the driver's cursor (_DriverOutcomes), each
    group in a transaction of its own on SQLite, in autocommit on PostgreSQL."""

    def __init__(self, db: Database) -> None:
        self.connection = _connect_without_waiting_for_disk(db)
        self._statements = _DriverOutcomes(self.connection.dialect)
        self._sqlite = self.connection.dialect.name == "sqlite"
        self._cursor: Any = self.connection.connection.cursor()  # the driver's own cursor

    def write(self, outcomes: list[Outcome]) -> int:
        """Write one group; how many outcomes were written (the rest had lost their claims)."""
        driver_error = self.connection.dialect.loaded_dbapi.Error
        try:
            if not self._sqlite:
                return self._statements.write(self._cursor, outcomes)
            # The driver leaves BEGIN to us (core.db); IMMEDIATE, as for every writer there.
            self._cursor.execute("BEGIN IMMEDIATE")
            try:
                written = self._statements.write(self._cursor, outcomes)
                self._cursor.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(driver_error):  # the first error is the one to tell
                    self._cursor.execute("ROLLBACK")
                raise
            return written
        except driver_error as error:
            raise_as_dbapi_error(self.connection, error, self._cursor)

    def close(self) -> None:
        self.connection.close()


class _DriverOutcomes:
    """outbox.record_outcomes on a DBAPI cursor: the same statements, compiled for the writer's
    connection when it opens (core.driver_statements says why)."""

    def __init__(self, dialect: Dialect) -> None:
        self._statements = [DriverStatement(statement, dialect) for statement in outbox.OUTCOME_STATEMENTS]

    def write(self, cursor: Any, outcomes: Sequence[Outcome]) -> int:
        """Write a group in the cursor's transaction; how many were written (see record_outcomes)."""
        recorded = 0
        for statement, rows in zip(self._statements, outbox.outcome_rows(outcomes), strict=True):
            if rows:
                recorded += statement.executemany(cursor, rows)
        outbox.warn_if_claims_lost(outcomes, recorded)
        return recorded
