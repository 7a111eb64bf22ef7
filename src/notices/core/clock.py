"""Clocks: the only place that reads the wall clock, so tests can fix time."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to (tests, dry runs)."""

    def __init__(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._instant = instant.astimezone(UTC)

    def now(self) -> datetime:
        return self._instant

    def set(self, instant: datetime) -> None:
        self._instant = instant.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._instant += delta


class ShiftedClock:
    """The system clock moved to start at `start`: time flows, from another moment.

    For rehearsals and process tests ("start the scheduler as if it were
    07:10 on Monday"), set with NOTICES_CLOCK_START; never in production.
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ShiftedClock needs an aware datetime")
        self._offset = start.astimezone(UTC) - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset


def clock_from_environment(environ: Mapping[str, str]) -> Clock:
    """The system clock, or a shifted one when NOTICES_CLOCK_START names an instant (with an offset)."""
    start = environ.get("NOTICES_CLOCK_START")
    if not start:
        return SystemClock()
    try:
        return ShiftedClock(datetime.fromisoformat(start))
    except ValueError:
        from notices.core.config import ConfigError

        raise ConfigError(f"NOTICES_CLOCK_START: expected an ISO 8601 instant with an offset, got {start!r}") from None
