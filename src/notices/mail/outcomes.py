"""A send run's outcomes, written by a thread of their own while the senders go on (group commit).

Writing each message's outcome in a transaction of its own on the sending thread costs a commit
per message (an fsync on SQLite, a round trip on PostgreSQL) on top of the SMTP exchange. So the
sender threads hand their outcomes here, and this thread writes whatever has come in since its
last write together: in one transaction on SQLite, on PostgreSQL in statements that each commit
on their own (see _connect_without_waiting_for_disk). With several connections (or a composer
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

import logging
import queue
import threading

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from notices.core.db import Database
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
        # One connection for the run, not a Session per group: over one SMTP connection a group is
        # often a single message, and a Session's set-up (plus the pool's ping on PostgreSQL) cost
        # as much CPU as the UPDATE itself, in the process the sender needs to be quick in.
        connection: Connection | None = None
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

    def _write(self, connection: Connection | None, outcomes: list[Outcome]) -> Connection:
        """Write one group (in a transaction of its own on SQLite); the connection to write the next one with."""
        for attempt in (1, 2):
            if connection is None:
                connection = _connect_without_waiting_for_disk(self.db)
            try:
                with connection.begin():
                    outbox.write_outcomes(connection, outcomes)
                return connection
            except DBAPIError as error:
                # A connection lost between two groups (a database restart) is what a Session per
                # group would have replaced at checkout: once, on a new one. Writing the group again
                # is safe: the outcomes are fenced by their claims (outbox.record_outcomes). Those of
                # its outcomes that PostgreSQL committed before the loss match no claim the second
                # time, which write_outcomes logs as claims lost: their messages are recorded.
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
