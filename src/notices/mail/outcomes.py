"""A send run's outcomes, written in groups by a thread of their own (group commit).

Writing each message's outcome in a transaction of its own costs a commit per
message (an fsync on SQLite, a round trip on PostgreSQL), which takes longer
than handing a 20 KiB digest to a local SMTP server. So the sender threads put
their outcomes here and go on sending, and this thread writes them together:
a group closes when it holds GROUP_SIZE outcomes or its first has waited
GROUP_WAIT seconds, whichever comes first, and whatever is left is written
when the run ends, also when it ends in an error.

The price, stated plainly: a message sent but not yet written stays claimed
(the run renews its claims while it lives). If the process is killed
(SIGKILL, power loss, OOM) before its group is committed, that message is
sent again once its lease runs out, with the same Message-ID. So a kill can
duplicate at most the outcomes that were waiting: one group, at most
GROUP_SIZE messages or GROUP_WAIT seconds of sending, plus those sent during
the write in progress. Writing one at a time could duplicate one.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from notices.core.db import Database
from notices.mail import outbox
from notices.mail.outbox import Outcome

log = logging.getLogger(__name__)

# Small enough that a kill duplicates little, and that no waiting outcome comes near the end of
# its lease (a third of a lease is at least 1.6 s); large enough that commits cost little next
# to sending: at 300 messages a second, about 60 outcomes per commit.
GROUP_SIZE = 100
GROUP_WAIT = 0.2  # seconds (a real-time bound on the wait, not the domain clock)


class OutcomeWriter(threading.Thread):
    """Takes outcomes from any thread (`put`); `close()` writes the rest. `error`: what stopped a write."""

    def __init__(self, db: Database, *, size: int = GROUP_SIZE, wait: float = GROUP_WAIT) -> None:
        super().__init__(name="notices-outcomes", daemon=True)
        self.db, self.size, self.wait = db, size, wait
        self._waiting: queue.SimpleQueue[Outcome | None] = queue.SimpleQueue()
        self.error: BaseException | None = None

    def put(self, outcome: Outcome) -> None:
        self._waiting.put(outcome)

    def close(self) -> None:
        """Write every outcome put so far and stop (unless a write failed: see `error`)."""
        self._waiting.put(None)
        self.join()

    def run(self) -> None:
        group: list[Outcome] = []
        try:
            while (first := self._waiting.get()) is not None:
                group, last = self._gather(first)
                self._write(group)
                if last:
                    return
        except BaseException as error:  # handed to the run, which stops sending and re-raises it
            # Those messages stay claimed: they are sent again when their leases run out.
            log.error("could not record the outcomes of %s messages: %s", len(group), error)
            self.error = error

    def _gather(self, first: Outcome) -> tuple[list[Outcome], bool]:
        """The group that `first` opens, and whether the end marker came with it."""
        group = [first]
        deadline = time.monotonic() + self.wait
        while len(group) < self.size:
            try:
                outcome = self._waiting.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                break
            if outcome is None:
                return group, True
            group.append(outcome)
        return group, False

    def _write(self, group: list[Outcome]) -> None:
        with self.db.session() as session, session.begin():
            outbox.record_outcomes(session, group)
