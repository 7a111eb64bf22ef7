"""Progress of long CLI work (sending, digests, imports, exports) on stderr, never on stdout.

On a terminal: a rich progress bar with the count, the rate and the time left. Elsewhere (a
pipe, a log file, cron, or `--json`, whose stdout a program reads): a plain line every tenth
of the work or every few seconds, whichever comes first, so a log shows a long run moving
without a line per item; quick runs of a few items stay quiet.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

Advance = Callable[[int], None]
# Fewer items than this, without a terminal, and nothing is logged unless it takes a while.
MIN_ITEMS = 50
EVERY_SECONDS = 10.0


@contextmanager
def progress(
    label: str,
    total: int,
    *,
    plain: bool = False,
    stream: TextIO | None = None,
    every_seconds: float = EVERY_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Advance]:
    """Yields `advance(n)`, to call as items are done. `plain` (for --json) forces log lines."""
    stream = stream or sys.stderr
    if not plain and stream.isatty():
        with _bar(label, total, stream) as advance:
            yield advance
        return
    lines = LogLines(label, total, stream=stream, every_seconds=every_seconds, clock=clock)
    yield lines.advance
    lines.finish()


@contextmanager
def _bar(label: str, total: int, stream: TextIO) -> Iterator[Advance]:
    console = Console(file=stream)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(label, total=total, rate="")

        def advance(count: int = 1) -> None:
            bar.advance(task, count)
            speed = bar.tasks[task].speed
            bar.update(task, rate=f"{speed:.1f}/s" if speed else "")

        yield advance


class LogLines:
    """`label: 120/1000 (12%), 40.0/s, ETA 0:00:22` now and then, and a last line when any was shown."""

    def __init__(
        self, label: str, total: int, *, stream: TextIO, every_seconds: float, clock: Callable[[], float]
    ) -> None:
        self.label, self.total, self.stream, self.clock = label, total, stream, clock
        self.every_seconds = every_seconds
        # Items between lines: a tenth of the work, when there is enough of it to be worth telling.
        self.every_items = max(1, total // 10) if total >= MIN_ITEMS else None
        self.done = 0
        self.started = self.last_line = clock()
        self.next_items = self.every_items
        self.shown = False

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = self.clock()
        due_by_items = self.next_items is not None and self.done >= self.next_items
        if due_by_items or now - self.last_line >= self.every_seconds:
            if self.done < self.total:
                self._line(now)
            if self.every_items is not None:
                self.next_items = (self.done // self.every_items + 1) * self.every_items

    def finish(self) -> None:
        if self.shown or self.every_items is not None:
            elapsed = self.clock() - self.started
            rate = f", {self.done / elapsed:.1f}/s" if elapsed > 0 else ""
            self._write(f"{self.label}: {self.done}/{self.total} done in {_duration(elapsed)}{rate}")

    def _line(self, now: float) -> None:
        self.last_line = now
        elapsed = now - self.started
        percent = f" ({100 * self.done // self.total}%)" if self.total else ""
        text = f"{self.label}: {self.done}/{self.total}{percent}"
        if elapsed > 0 and self.done:
            rate = self.done / elapsed
            text += f", {rate:.1f}/s, ETA {_duration(max(self.total - self.done, 0) / rate)}"
        self._write(text)

    def _write(self, text: str) -> None:
        self.shown = True
        print(text, file=self.stream, flush=True)


def _duration(seconds: float) -> str:
    return str(timedelta(seconds=round(seconds)))
