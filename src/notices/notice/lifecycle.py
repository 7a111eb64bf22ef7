"""Status and visibility of notices, derived from their times and `now`.

Pure functions: no database, no clock. Status is never stored; it follows
from the times, so feeds and pages are right even when no job has run.
Intervals are half-open: at exactly `ends_at` a notice has ended.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol, TypeVar

from notices.core.config import SEVERITIES
from notices.notice import recurrence

SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


class Status(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    UPCOMING = "upcoming"
    ACTIVE = "active"
    ENDED = "ended"
    CANCELLED = "cancelled"


VISIBLE_STATUSES = frozenset({Status.UPCOMING, Status.ACTIVE})


class Timed(Protocol):
    """What status and visibility are derived from: a notice, a revision as it was, a preview.

    Read-only, so frozen views (markup.RenderableNotice) qualify as well as rows.
    """

    @property
    def publish_at(self) -> datetime | None: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime | None: ...
    @property
    def cancelled_at(self) -> datetime | None: ...


class Filterable(Timed, Protocol):
    """What feed and subscription filters look at."""

    @property
    def category(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def locations(self) -> Sequence[str]: ...


FilterableT = TypeVar("FilterableT", bound=Filterable)


def status_at(notice: Timed, now: datetime) -> Status:
    if notice.cancelled_at is not None:
        return Status.CANCELLED
    if notice.publish_at is None:
        return Status.DRAFT
    if notice.ends_at is not None and notice.ends_at <= now:
        return Status.ENDED
    if notice.publish_at > now:
        return Status.SCHEDULED
    if recurrence.is_recurring(notice):
        # A series is active during one of its occurrences and upcoming between them.
        return Status.ACTIVE if recurrence.occurrence_at(notice, now) is not None else Status.UPCOMING  # type: ignore[arg-type]
    if notice.starts_at <= now:
        return Status.ACTIVE
    return Status.UPCOMING


def is_public(notice: Timed, now: datetime) -> bool:
    """Whether anyone outside the console may see the notice at `now`: it was announced.

    A cancelled notice stays public (with its reason) only if it was announced
    before it was cancelled; drafts and scheduled notices never are.
    """
    if notice.publish_at is None:
        return False
    return notice.publish_at <= (notice.cancelled_at or now) and notice.publish_at <= now


@dataclass(frozen=True)
class Filters:
    """Feed and page filters. Within one field any value matches; fields combine with AND."""

    categories: frozenset[str] = frozenset()
    locations: frozenset[str] = frozenset()
    min_severity: str | None = None
    # Not a filter but the reader's language for the notice text (`?lang=`; None: the site's
    # default). It rides along so feed cache keys and ETags differ per language.
    language: str | None = None

    def matches(self, notice: Filterable) -> bool:
        if self.categories and notice.category not in self.categories:
            return False
        if self.locations and not self.locations.intersection(notice.locations):
            return False
        return not (self.min_severity and SEVERITY_RANK[notice.severity] < SEVERITY_RANK[self.min_severity])

    @property
    def is_empty(self) -> bool:
        return not (self.categories or self.locations or self.min_severity)


NO_FILTERS = Filters()


def is_visible(notice: Timed, now: datetime) -> bool:
    return status_at(notice, now) in VISIBLE_STATUSES


def visible(notices: Iterable[FilterableT], now: datetime, filters: Filters = NO_FILTERS) -> list[FilterableT]:
    """Upcoming and active notices that match `filters`, soonest start first."""
    chosen = [notice for notice in notices if is_visible(notice, now) and filters.matches(notice)]
    return sorted(chosen, key=lambda notice: (notice.starts_at, notice.publish_at, getattr(notice, "uid", "")))
