"""What every job, command and request needs, built once by an entry point."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from notices.core.clock import Clock, SystemClock
from notices.core.config import ConfigError, Settings
from notices.core.db import Database
from notices.core.models import SiteState

log = logging.getLogger(__name__)


class Mailer(Protocol):
    """What sends mail: SMTP, .eml files or memory (notices.mail.transports)."""

    # Any: what a connection sends (an OutgoingMail) is defined in notices.mail, a layer
    # above core; mail.transports.Mailer states the connection's type for its users.
    def connection(self) -> AbstractContextManager[Any]: ...


@dataclass
class AppContext:
    settings: Settings
    db: Database
    clock: Clock = field(default_factory=SystemClock)
    # None: the one the settings name (runtime.jobs.send_pending picks it).
    mailer: Mailer | None = None

    def __post_init__(self) -> None:
        if not self.settings.secret_key:
            # Not migrated yet (`notices db upgrade` runs here): require_secret_key() says so.
            with contextlib.suppress(ConfigError):
                self.settings = with_stored_secret_key(self.settings, self.db)

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock | None = None) -> AppContext:
        return cls(settings=settings, db=Database.from_url(settings.database_url), clock=clock or SystemClock())

    def require_secret_key(self) -> None:
        """Refuse to serve or send without a key every process agrees on (signed links would break)."""
        if not self.settings.secret_key:
            self.settings = with_stored_secret_key(self.settings, self.db)


def with_stored_secret_key(settings: Settings, db: Database) -> Settings:
    """`settings` with the key that `notices db upgrade` stored, when NOTICES_SECRET_KEY is not set.

    A key made up per process would sign links that another process, or the
    same one after a restart, refuses: every emailed link would break.
    """
    if settings.secret_key:
        return settings
    try:
        with db.session() as session:
            stored = session.scalar(select(SiteState.secret_key).where(SiteState.id == 1))
    except SQLAlchemyError:
        stored = None
    if not stored:
        raise ConfigError(
            "security.secret_key (NOTICES_SECRET_KEY): not set, and the database holds none yet; "
            "run `notices db upgrade` (it stores one) or set NOTICES_SECRET_KEY"
        )
    return dataclasses.replace(settings, secret_key=stored, secret_key_source="database")
