"""What each kind of delivery says: from a delivery row to an EmailMessage (or a reason not to send).

Content is built at send time from the data it names, so an alert about a
notice that was cancelled in the meantime is dropped instead of sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Protocol

from jinja2 import Environment
from sqlalchemy import select
from sqlalchemy.orm import Session

from notices.core.config import Settings
from notices.core.models import Delivery, Notice, Subscriber
from notices.core.states import DeliveryKind, EventKind, Frequency, LinkPurpose, SubscriberState
from notices.mail import digests, subscriptions
from notices.mail.message import (
    PLACEHOLDER_LINKS,
    Links,
    MessageTemplate,
    NotShareable,
    OutgoingMail,
    RenderedMail,
    make_message,
    render_mail,
    stand_in_links,
    unsubscribe_mailto,
)
from notices.mail.outbox import message_id
from notices.notice import recurrence, store
from notices.notice.languages import in_language
from notices.notice.lifecycle import Status, status_at
from notices.notice.markup import NoticeLike
from notices.notice.recurrence import Occurrence
from notices.notice.wording import Words
from notices.people.link_tokens import LinkSigner


class Reader(Protocol):
    """Who an email is for, as templates see them: a subscriber, or the preview's example reader."""

    @property
    def language(self) -> str: ...


# What a template gets besides the common context, and what makes its rendering
# shareable by every recipient with the same content (None: rendered for each).
Specific = tuple[dict[str, Any], tuple[object, ...] | None]
_Builder = Callable[[Session, "Pending", "Recipient", datetime], Specific]


def mail_context(
    settings: Settings, *, subscriber: Reader, links: Links, now: datetime, **specific: Any
) -> dict[str, Any]:
    """What every email template gets (sending, and the console's preview of an alert)."""
    return {
        "settings": settings,
        "words": Words(subscriber.language, settings),
        "subscriber": subscriber,
        "links": links,
        "now": now,
        "site_url": settings.absolute_url("/"),
        **specific,
    }


def preview_alert(
    env: Environment, settings: Settings, notice: NoticeLike, *, now: datetime, language: str | None = None
) -> RenderedMail:
    """The "new notice" alert as an immediate subscriber in `language` (default: the site's) would
    get it; `notice` is already in that language (notice.languages.in_language)."""
    language = language or settings.language
    reader = SimpleNamespace(
        language=language, frequency=Frequency.IMMEDIATE, email="you@example.org", categories=[], locations=[]
    )
    context = mail_context(
        settings,
        subscriber=reader,
        links=PLACEHOLDER_LINKS,
        now=now,
        notice=notice,
        event=EventKind.PUBLISHED,
        notice_url=settings.absolute_url(f"/notices/{notice.uid}"),
    )
    return render_mail(env, DeliveryKind.ALERT, language, context)


class Skip(Exception):
    """This delivery should not go out any more; the message says why."""


@dataclass(frozen=True)
class Recipient:
    """What composing needs of a subscriber, as plain values: a send run reads thousands, and
    building ORM objects for them costs more than personalising a shared message."""

    id: int
    email: str
    state: str
    frequency: str
    categories: list[str]
    locations: list[str]
    min_severity: str | None
    language: str
    token_generation: int


@dataclass(frozen=True)
class Pending:
    """What composing needs of a claimed delivery, with its recipient."""

    id: int
    kind: str
    dedup_key: str
    payload: dict[str, Any]
    attempts: int
    expires_at: datetime | None
    subscriber: Recipient


_RECIPIENT = tuple(getattr(Subscriber, field.name) for field in fields(Recipient))
_PENDING = tuple(getattr(Delivery, field.name) for field in fields(Pending) if field.name != "subscriber")


def load_pending(session: Session, delivery_ids: list[int]) -> dict[int, Pending]:
    """The deliveries with these ids and their recipients, in one query of plain rows."""
    rows = session.execute(
        select(*_PENDING, *_RECIPIENT)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.id.in_(delivery_ids))
    )
    loaded = {}
    for delivery_id, kind, dedup_key, payload, attempts, expires_at, *recipient in rows:
        loaded[delivery_id] = Pending(
            delivery_id, kind, dedup_key, payload, attempts, expires_at, Recipient(*recipient)
        )
    return loaded


@dataclass
class Composer:
    settings: Settings
    env: Environment
    signer: LinkSigner

    def __post_init__(self) -> None:
        self._snapshots: dict[tuple[str, str, str], digests.DigestSnapshot] = {}
        self._templates: dict[tuple[object, ...], MessageTemplate | None] = {}
        self._notices: dict[str, Notice] = {}
        self._digest_contents: dict[tuple[object, ...], tuple[dict[str, Any], tuple[object, ...], bool]] = {}
        # Never cleared while the caches keyed by these numbers live: a number always means one content.
        self._digest_fingerprints: dict[tuple[object, ...], int] = {}
        # Subscribers suppressed during this run: their other claimed mail must not go out.
        self.blocked: set[int] = set()

    def links(self, subscriber: Recipient) -> Links:
        unsubscribe = self.signer.sign(LinkPurpose.UNSUBSCRIBE, subscriber.id, subscriber.token_generation)
        manage = self.signer.sign(LinkPurpose.MANAGE, subscriber.id, subscriber.token_generation)
        return Links(
            manage_url=self.settings.absolute_url(f"/preferences/{manage}"),
            unsubscribe_url=self.settings.absolute_url(f"/unsubscribe/{unsubscribe}"),
            unsubscribe_mailto=unsubscribe_mailto(self.settings, unsubscribe),
        )

    def compose(self, session: Session, delivery: Pending, *, now: datetime) -> OutgoingMail:
        """The message for one delivery; raises Skip when it should not go out, or the error that
        stopped it being composed (which fails this delivery alone)."""
        subscriber = delivery.subscriber
        wanted_state = SubscriberState.PENDING if delivery.kind == DeliveryKind.CONFIRM else SubscriberState.CONFIRMED
        if subscriber.id in self.blocked:
            raise Skip("subscriber suppressed")
        if subscriber.state != wanted_state:
            raise Skip(f"subscriber is {subscriber.state}")
        if delivery.expires_at is not None and now >= delivery.expires_at:
            raise Skip("expired before it could be sent")
        links = self.links(subscriber)
        build: _Builder = getattr(self, f"_{delivery.kind}")  # _confirm, _manage, _alert, _reminder, _digest
        specific, cache_key = build(session, delivery, subscriber, now)
        domain = self.settings.mail_from.partition("@")[2]
        identifier = message_id(delivery.id, f"{subscriber.id}:{delivery.dedup_key}", domain)
        bulk = delivery.kind == DeliveryKind.DIGEST
        if cache_key is not None:
            template = self._shared_template(delivery.kind, subscriber, specific, now, cache_key, bulk)
            if template is not None:
                try:
                    return template.personalise(to=subscriber.email, message_id=identifier, links=links)
                except NotShareable:
                    pass  # this recipient's links do not fit: their own rendering below
        rendered = self._render(delivery.kind, subscriber, links, specific, now)
        return make_message(
            settings=self.settings,
            rendered=rendered,
            to=subscriber.email,
            message_id=identifier,
            links=links,
            date=now,
            bulk=bulk,
        )

    def _render(
        self, kind: str, subscriber: Recipient, links: Links, specific: dict[str, Any], now: datetime
    ) -> RenderedMail:
        context = mail_context(self.settings, subscriber=subscriber, links=links, now=now, **specific)
        return render_mail(self.env, kind, subscriber.language, context)

    def _shared_template(
        self,
        kind: str,
        subscriber: Recipient,
        specific: dict[str, Any],
        now: datetime,
        cache_key: tuple[object, ...],
        bulk: bool,
    ) -> MessageTemplate | None:
        """Render and encode once for everyone who gets the same content; only the links differ.

        A digest run sends thousands of messages but only as many distinct
        contents as there are distinct filter results. None: this content
        cannot be shared (see MessageTemplate); each recipient gets their own.
        """
        key = (kind, subscriber.language, subscriber.frequency, *cache_key)
        if key not in self._templates:
            if len(self._templates) > 2000:
                self._templates.clear()
            stand_ins = stand_in_links()
            rendered = self._render(kind, subscriber, stand_ins, specific, now)
            try:
                self._templates[key] = MessageTemplate.build(
                    settings=self.settings, rendered=rendered, date=now, bulk=bulk, stand_ins=stand_ins
                )
            except NotShareable:
                self._templates[key] = None
        return self._templates[key]

    def _confirm(self, session: Session, delivery: Pending, subscriber: Recipient, now: datetime) -> Specific:
        token = self.signer.sign(LinkPurpose.CONFIRM, subscriber.id, subscriber.token_generation)
        return {
            "confirm_url": self.settings.absolute_url(f"/subscribe/confirm/{token}"),
            "valid_hours": int(self.settings.confirm_within.total_seconds() // 3600),
        }, None

    def _manage(self, session: Session, delivery: Pending, subscriber: Recipient, now: datetime) -> Specific:
        return {}, None

    def _notice(self, session: Session, uid: str) -> Notice:
        # One alert goes to many subscribers: load its notice once per run.
        if uid not in self._notices:
            try:
                self._notices[uid] = store.get_notice(session, uid)
            except store.NoticeNotFound:
                raise Skip("the notice no longer exists") from None
        return self._notices[uid]

    def _alert(self, session: Session, delivery: Pending, subscriber: Recipient, now: datetime) -> Specific:
        notice = self._notice(session, delivery.payload["notice"])
        event = delivery.payload["event"]
        if event != EventKind.CANCELLED and status_at(notice, now) is Status.CANCELLED:
            raise Skip("the notice was cancelled before the alert went out")
        occurrence = _occurrence(notice, delivery.payload.get("occurrence"))
        context = {
            "notice": in_language(notice, subscriber.language, self.settings),
            "event": event,
            "notice_url": self.settings.absolute_url(f"/notices/{notice.uid}"),
            # An alert about one occurrence of a series (cancelled or moved): which one.
            "occurrence": occurrence,
        }
        return context, (notice.uid, notice.version, event, occurrence.id if occurrence else "")

    def _reminder(self, session: Session, delivery: Pending, subscriber: Recipient, now: datetime) -> Specific:
        notice = self._notice(session, delivery.payload["notice"])
        reminded_of = delivery.payload.get("starts_at")
        occurrence = _occurrence(notice, delivery.payload.get("occurrence"))
        if occurrence is None and status_at(notice, now) is not Status.UPCOMING:
            raise Skip("the notice is no longer upcoming")
        # A series may be under way (an earlier occurrence) while the next one is reminded of.
        if occurrence is not None and status_at(notice, now) in (Status.CANCELLED, Status.ENDED):
            raise Skip("the series is no longer upcoming")
        if occurrence is not None and (occurrence.cancelled or occurrence.starts_at <= now):
            raise Skip("the occurrence was cancelled or has started since")
        start = occurrence.starts_at if occurrence is not None else notice.starts_at
        if reminded_of is not None and datetime.fromisoformat(reminded_of) != start:
            # The start moved after this was enqueued: a reminder keyed to the new start takes its place.
            raise Skip("the notice's start has moved since")
        context = {
            "notice": in_language(notice, subscriber.language, self.settings),
            "notice_url": self.settings.absolute_url(f"/notices/{notice.uid}"),
            # A reminder before one occurrence of a series: that occurrence.
            "occurrence": occurrence,
            "event": EventKind.REMINDER,
        }
        return context, (notice.uid, notice.version, occurrence.id if occurrence else "")

    def _digest(self, session: Session, delivery: Pending, subscriber: Recipient, now: datetime) -> Specific:
        payload = delivery.payload
        key = (payload["frequency"], payload["start"], payload["end"])
        snapshot = self._snapshots.get(key)
        if snapshot is None:
            period = digests.DigestPeriod(
                frequency=payload["frequency"],
                start=datetime.fromisoformat(payload["start"]),
                end=datetime.fromisoformat(payload["end"]),
            )
            snapshot = self._snapshots[key] = digests.load_snapshot(session, period)
        # Thousands of subscribers share a handful of filters and languages: what their digest
        # shows is worked out once for each such pair, not once per message.
        filters = subscriptions.filters_of(subscriber)
        shown_key = (key, filters, subscriber.language)
        shown = self._digest_contents.get(shown_key)
        if shown is None:
            if len(self._digest_contents) > 2000:
                self._digest_contents.clear()
            sections = digests.sections_for(snapshot, filters)
            context = {
                "period": snapshot.period,
                "sections": digests.in_language(sections, subscriber.language, self.settings),
                "frequency": payload["frequency"],
            }
            # The shared rendering's key holds the subscriber's language too (_shared_template). The
            # fingerprint is named by a number: hashing the whole of it for every message adds up.
            content = self._digest_fingerprints.setdefault(sections.fingerprint(), len(self._digest_fingerprints))
            shown = self._digest_contents[shown_key] = (context, (key, content), sections.has_news)
        context, cache_key, has_news = shown
        if self.settings.skip_empty_digests and not has_news:
            raise Skip("nothing new for this subscriber")
        return context, cache_key


def _occurrence(notice: Notice, occurrence_id: object) -> Occurrence | None:
    """The occurrence of a series a delivery is about; None for the whole notice (or a rule changed since)."""
    if not occurrence_id or not isinstance(occurrence_id, str) or not recurrence.is_recurring(notice):
        return None
    try:
        return recurrence.find_occurrence(notice, occurrence_id)
    except recurrence.RuleError:
        return None
