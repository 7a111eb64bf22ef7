"""What every job, command and request needs, built once by an entry point."""

from __future__ import annotations

from dataclasses import dataclass, field

from notices.clock import Clock, SystemClock
from notices.config import Settings
from notices.db import Database
from notices.mailers import Mailer, mailer_from_settings


@dataclass
class AppContext:
    settings: Settings
    db: Database
    clock: Clock = field(default_factory=SystemClock)
    mailer: Mailer | None = None

    def __post_init__(self) -> None:
        if self.mailer is None:
            self.mailer = mailer_from_settings(self.settings)

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock | None = None) -> AppContext:
        return cls(settings=settings, db=Database.from_url(settings.database_url), clock=clock or SystemClock())
