"""What every job, command and request needs, built once by an entry point."""

from __future__ import annotations

from dataclasses import dataclass, field

from notices.clock import Clock, SystemClock
from notices.config import Settings
from notices.db import Database


@dataclass
class AppContext:
    settings: Settings
    db: Database
    clock: Clock = field(default_factory=SystemClock)

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock | None = None) -> AppContext:
        return cls(settings=settings, db=Database.from_url(settings.database_url), clock=clock or SystemClock())
