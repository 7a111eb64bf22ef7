"""Subscribers: double opt-in, preferences, unsubscribe, suppression, purge.

Sign-up answers the same whatever the address's state, so the form cannot
be used to learn who is subscribed; a confirmed address is never changed by
someone who merely knows it (they get a link to the preference centre).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeAlias

from sqlalchemy import ColumnElement, Row, case, delete, exists, func, literal, or_, select, update
from sqlalchemy import column as sql_column
from sqlalchemy.orm import Session

from notices.core.choices import choose, choose_many
from notices.core.config import LANGUAGES, SEVERITIES, Settings
from notices.core.errors import InvalidField, Throttled
from notices.core.models import Delivery, Subscriber
from notices.core.states import DeliveryKind, DeliveryStatus, Frequency, SubscriberState
from notices.mail import outbox
from notices.notice.lifecycle import Filters
from notices.people import rate_limits

FREQUENCIES = tuple(Frequency)
# (id, categories, locations, min_severity) of a subscriber: what matching a notice needs.
# Quoted: Row takes one parameter per column from SQLAlchemy 2.1 on, and 2.0 must still import this.
FilterRow: TypeAlias = "Row[int, list[str], list[str], str | None]"


class Subscribed(Protocol):
    """A subscriber's choices, on an ORM row or the plain values a send run reads (compose.Recipient)."""

    @property
    def frequency(self) -> str: ...
    @property
    def categories(self) -> list[str]: ...
    @property
    def locations(self) -> list[str]: ...
    @property
    def min_severity(self) -> str | None: ...
    @property
    def language(self) -> str: ...


class RateLimited(Throttled):
    """Too many sign-ups from this address or client; try again later."""


@dataclass(frozen=True)
class Preferences:
    frequency: str = Frequency.DAILY
    categories: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    min_severity: str | None = None
    language: str = "en"

    def filters(self) -> Filters:
        return Filters(frozenset(self.categories), frozenset(self.locations), self.min_severity)


def parse_preferences(raw: Mapping[str, Any], settings: Settings) -> Preferences:
    severity = raw.get("min_severity") or raw.get("severity") or None
    return Preferences(
        frequency=choose(raw.get("frequency") or Frequency.DAILY, "frequency", FREQUENCIES),
        categories=choose_many(raw.get("categories"), "categories", settings.categories),
        locations=choose_many(raw.get("locations"), "locations", settings.locations),
        min_severity=choose(severity, "severity", SEVERITIES) if severity is not None else None,
        language=choose(raw.get("language") or settings.language, "language", LANGUAGES),
    )


def preferences_of(subscriber: Subscribed) -> Preferences:
    return Preferences(
        frequency=subscriber.frequency,
        categories=tuple(subscriber.categories or ()),
        locations=tuple(subscriber.locations or ()),
        min_severity=subscriber.min_severity,
        language=subscriber.language,
    )


def filters_of(subscriber: Subscribed) -> Filters:
    return preferences_of(subscriber).filters()


def _apply(subscriber: Subscriber, preferences: Preferences, now: datetime) -> None:
    subscriber.frequency = preferences.frequency
    subscriber.categories = list(preferences.categories)
    subscriber.locations = list(preferences.locations)
    subscriber.min_severity = preferences.min_severity
    subscriber.language = preferences.language
    subscriber.updated_at = now


def list_subscribers(session: Session, *, state: str | None = None) -> list[Subscriber]:
    """Every subscriber (or those in one state), by address."""
    query = select(Subscriber).order_by(Subscriber.email)
    if state:
        query = query.where(Subscriber.state == state)
    return list(session.scalars(query))


def emails_by_id(session: Session, ids: list[int]) -> dict[int, str]:
    return dict(session.execute(select(Subscriber.id, Subscriber.email).where(Subscriber.id.in_(ids))).all())


def find(session: Session, email: str) -> Subscriber | None:
    return session.scalars(select(Subscriber).where(Subscriber.email == email)).first()


def get_subscriber(session: Session, subscriber_id: int) -> Subscriber | None:
    return session.get(Subscriber, subscriber_id)


def _new(email: str, preferences: Preferences, now: datetime, state: str) -> Subscriber:
    subscriber = Subscriber(
        email=email,
        state=state,
        created_at=now,
        updated_at=now,
        suppression_reason="",
        token_generation=1,
        confirmed_at=now if state == SubscriberState.CONFIRMED else None,
    )
    _apply(subscriber, preferences, now)
    return subscriber


def _enqueue_confirmation(session: Session, subscriber: Subscriber, now: datetime, settings: Settings) -> None:
    outbox.enqueue(
        session,
        subscriber_id=subscriber.id,
        dedup_key=f"confirm:{now.isoformat()}",
        kind=DeliveryKind.CONFIRM,
        payload={},
        now=now,
        expires_at=now + settings.confirm_within,
    )


def sign_up(
    session: Session, *, email: str, preferences: Preferences, client: str, now: datetime, settings: Settings
) -> None:
    """The public form: start a double opt-in, or mail a preference link to a confirmed address."""
    hour = timedelta(hours=1)
    within_address = rate_limits.hit(
        session, f"signup:address:{email}", limit=settings.signup_limit_per_address, window=hour, now=now
    )
    within_client = rate_limits.hit(
        session, f"signup:client:{client}", limit=settings.signup_limit_per_ip, window=hour, now=now
    )
    if not (within_address and within_client):
        raise RateLimited()
    subscriber = find(session, email)
    if subscriber is None:
        subscriber = _new(email, preferences, now, SubscriberState.PENDING)
        session.add(subscriber)
        session.flush()
        _enqueue_confirmation(session, subscriber, now, settings)
    elif subscriber.state in (SubscriberState.PENDING, SubscriberState.UNSUBSCRIBED):
        _apply(subscriber, preferences, now)
        subscriber.state = SubscriberState.PENDING
        subscriber.created_at = now  # the purge clock restarts with a new opt-in
        _enqueue_confirmation(session, subscriber, now, settings)
    elif subscriber.state == SubscriberState.CONFIRMED:
        outbox.enqueue(
            session,
            subscriber_id=subscriber.id,
            dedup_key=f"manage:{now.isoformat()}",
            kind=DeliveryKind.MANAGE,
            payload={},
            now=now,
            expires_at=now + settings.confirm_within,
        )
    # A suppressed address (it bounced) gets nothing; the answer is the same.


def add_by_operator(
    session: Session,
    *,
    email: str,
    preferences: Preferences,
    send_confirmation: bool,
    now: datetime,
    settings: Settings,
) -> Subscriber:
    """`notices subscriber add`: confirmed at once (an import), or a normal opt-in with --confirm."""
    subscriber = find(session, email)
    state = SubscriberState.PENDING if send_confirmation else SubscriberState.CONFIRMED
    if subscriber is None:
        subscriber = _new(email, preferences, now, state)
        session.add(subscriber)
        session.flush()
    else:
        _apply(subscriber, preferences, now)
        if subscriber.state != SubscriberState.CONFIRMED:
            subscriber.state = state
            subscriber.confirmed_at = now if state == SubscriberState.CONFIRMED else None
            subscriber.unsubscribed_at = subscriber.suppressed_at = None
    if send_confirmation and subscriber.state == SubscriberState.PENDING:
        _enqueue_confirmation(session, subscriber, now, settings)
    return subscriber


def confirm(session: Session, subscriber: Subscriber, *, now: datetime) -> bool:
    """Confirm a pending sign-up; True if it changed anything (a second click is harmless)."""
    if subscriber.state == SubscriberState.CONFIRMED:
        return False
    if subscriber.state != SubscriberState.PENDING:
        raise InvalidField("token", "this subscription was ended; sign up again to receive notices")
    subscriber.state, subscriber.confirmed_at, subscriber.updated_at = SubscriberState.CONFIRMED, now, now
    return True


def update_preferences(session: Session, subscriber: Subscriber, preferences: Preferences, *, now: datetime) -> None:
    _apply(subscriber, preferences, now)


def _drop_pending_mail(session: Session, subscriber: Subscriber, reason: str) -> None:
    session.execute(
        update(Delivery)
        .where(Delivery.subscriber_id == subscriber.id, Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.EXPIRED, last_error=reason)
    )


def unsubscribe(session: Session, subscriber: Subscriber, *, now: datetime) -> bool:
    """Stop all mail to this subscriber; True if it changed anything (idempotent)."""
    if subscriber.state in (SubscriberState.UNSUBSCRIBED, SubscriberState.SUPPRESSED):
        return False
    subscriber.state, subscriber.unsubscribed_at, subscriber.updated_at = SubscriberState.UNSUBSCRIBED, now, now
    _drop_pending_mail(session, subscriber, "unsubscribed")
    return True


def suppress(session: Session, subscriber: Subscriber, *, reason: str, now: datetime) -> None:
    """The address bounced permanently: never mail it again until someone re-adds it."""
    subscriber.state, subscriber.suppressed_at, subscriber.updated_at = SubscriberState.SUPPRESSED, now, now
    subscriber.suppression_reason = reason[:1000]
    _drop_pending_mail(session, subscriber, f"address suppressed: {reason[:200]}")


def purge_unconfirmed(session: Session, *, now: datetime, settings: Settings) -> int:
    """Forget sign-ups nobody confirmed in time (their deliveries go with them)."""
    old = select(Subscriber.id).where(
        Subscriber.state == SubscriberState.PENDING, Subscriber.created_at < now - settings.confirm_within
    )
    ids = list(session.scalars(old))
    if ids:
        session.execute(delete(Delivery).where(Delivery.subscriber_id.in_(ids)))
        session.execute(delete(Subscriber).where(Subscriber.id.in_(ids)))
    return len(ids)


def confirmed_count(session: Session, frequency: str) -> int:
    """How many rows confirmed_subscribers will give (for progress bars; ix_subscribers_state_frequency)."""
    query = select(func.count()).where(Subscriber.state == SubscriberState.CONFIRMED, Subscriber.frequency == frequency)
    return session.execute(query).scalar_one()


def confirmed_subscribers(session: Session, frequency: str, *, chunk: int = 1000) -> Iterator[FilterRow]:
    """(id, categories, locations, min_severity) of confirmed subscribers of one frequency.

    Plain rows streamed in id order, not ORM objects: 100,000 subscribers
    must not pile up in the session's identity map.
    """
    last_id = 0
    while True:
        rows = session.execute(
            select(Subscriber.id, Subscriber.categories, Subscriber.locations, Subscriber.min_severity)
            .where(
                Subscriber.state == SubscriberState.CONFIRMED,
                Subscriber.frequency == frequency,
                Subscriber.id > last_id,
            )
            .order_by(Subscriber.id)
            .limit(chunk)
        ).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id


def row_filters(row: FilterRow) -> Filters:
    return Filters(frozenset(row.categories or ()), frozenset(row.locations or ()), row.min_severity)


def subscriber_counts(session: Session, settings: Settings) -> dict[str, int | dict[str, int]]:
    """Confirmed subscribers per frequency, topic and place (no filter counts for every one).

    Counted by the database (a sum per topic and place in one pass), so 100,000 subscribers are
    not loaded into the web process to be counted there.
    """
    states = dict(session.execute(select(Subscriber.state, func.count()).group_by(Subscriber.state)).all())
    confirmed = Subscriber.state == SubscriberState.CONFIRMED
    frequencies = session.execute(
        select(Subscriber.frequency, func.count()).where(confirmed).group_by(Subscriber.frequency)
    )
    keys = [("category", key, Subscriber.categories) for key in settings.categories]
    keys += [("location", key, Subscriber.locations) for key in settings.locations]
    sums = [
        func.coalesce(func.sum(case((_everything_or(session, column, key), 1), else_=0)), 0) for _, key, column in keys
    ]
    totals = session.execute(select(*sums).where(confirmed)).one() if keys else ()
    by_kind: dict[str, dict[str, int]] = {"category": {}, "location": {}}
    for (kind, key, _), total in zip(keys, totals, strict=True):
        by_kind[kind][key] = int(total)
    return {
        "total": states.get(SubscriberState.CONFIRMED, 0),
        "by_frequency": dict(frequencies.all()),
        "by_category": by_kind["category"],
        "by_location": by_kind["location"],
        "pending": states.get(SubscriberState.PENDING, 0),
        "unsubscribed": states.get(SubscriberState.UNSUBSCRIBED, 0),
        "suppressed": states.get(SubscriberState.SUPPRESSED, 0),
    }


def _everything_or(session: Session, column: Any, key: str) -> ColumnElement[bool]:
    """The JSON list `column` is empty (no filter: everything) or holds `key`, on either database."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    unpack = func.json_array_elements_text if postgresql else func.json_each
    elements = unpack(column).table_valued("value")
    holds = exists(select(literal(1)).select_from(elements).where(sql_column("value") == key))
    return or_(column.is_(None), func.json_array_length(column) == 0, holds)
