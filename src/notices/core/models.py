"""The SQL schema as SQLAlchemy 2 models (migrations in notices/migrations)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from notices.core.db import UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime}


def table_of(model: type[Base]) -> Table:
    """The table a model is mapped to, for Core statements (INSERT ... ON CONFLICT and the like)."""
    # Model.__table__ is annotated as any FromClause (a model may map a join);
    # every model here names its one table with __tablename__.
    return Base.metadata.tables[model.__tablename__]


class Notice(Base):
    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    locations: Mapped[list[str]] = mapped_column(JSON, default=list)
    location_detail: Mapped[str] = mapped_column(Text, default="")
    geometry: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # publish_at NULL means a draft: never published.
    publish_at: Mapped[datetime | None] = mapped_column(nullable=True)
    starts_at: Mapped[datetime]
    # ends_at NULL means "until further notice": it never expires by itself.
    ends_at: Mapped[datetime | None] = mapped_column(nullable=True)
    expected_end: Mapped[str] = mapped_column(String(200), default="")
    # title, summary, body, location_detail and expected_end above are the text in the site's
    # default language; the other configured languages' text is here, only where given:
    # {"nl": {"title": "...", "body": "..."}} (notice.languages reads it, with the fallback).
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, default=dict, server_default="{}")
    # A recurring notice (a series; notice.recurrence expands it): the RRULE value, empty for a
    # single notice; how long each occurrence lasts; the zone whose wall clock the rule follows;
    # and the exceptions per occurrence id ({"20261201T060000Z": {"cancelled": true, "reason":
    # "..."}} or {"starts_at": ..., "ends_at": ...} for a moved one). For a series, starts_at is
    # the first occurrence's start and ends_at the last one's end (NULL for an endless rule).
    recurrence: Mapped[str] = mapped_column(Text, default="", server_default="")
    occurrence_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    recurrence_zone: Mapped[str] = mapped_column(String(64), default="", server_default="")
    occurrence_changes: Mapped[dict[str, dict[str, Any]]] = mapped_column(JSON, default=dict, server_default="{}")
    version: Mapped[int] = mapped_column(Integer, default=1)
    cancelled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(200), default="")
    # Bookkeeping for record_transitions, not the status: the last phase
    # (none, published, started, ended) whose event has been recorded. The job
    # only looks at notices not yet announced as ended, so never at history.
    announced_phase: Mapped[str] = mapped_column(String(16), default="none")

    revisions: Mapped[list[NoticeRevision]] = relationship(
        back_populates="notice", order_by="NoticeRevision.version", cascade="all, delete-orphan"
    )
    events: Mapped[list[NoticeEvent]] = relationship(
        back_populates="notice", order_by="(NoticeEvent.occurred_at, NoticeEvent.id)", cascade="all, delete-orphan"
    )
    # Loaded with the notice (one more query per batch of notices), so a notice kept after its
    # session closed (the mail composer's, a digest's snapshot) still shows its files.
    attachments: Mapped[list[NoticeAttachment]] = relationship(
        back_populates="notice",
        order_by="(NoticeAttachment.position, NoticeAttachment.id)",
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="selectin",
    )

    __table_args__ = (
        # The visible set is "not cancelled and (ends_at > now or no ends_at)":
        # these two partial indexes let that query skip ended history.
        Index(
            "ix_notices_live_ends_at",
            "ends_at",
            sqlite_where=text("cancelled_at IS NULL AND ends_at IS NOT NULL"),
            postgresql_where=text("cancelled_at IS NULL AND ends_at IS NOT NULL"),
        ),
        Index(
            "ix_notices_open_ended",
            "starts_at",
            sqlite_where=text("cancelled_at IS NULL AND ends_at IS NULL"),
            postgresql_where=text("cancelled_at IS NULL AND ends_at IS NULL"),
        ),
        Index("ix_notices_publish_at", "publish_at"),
        # Also the order of paged lists (notice.history): keyset pages are index ranges.
        Index("ix_notices_starts_at_id", "starts_at", "id"),
        Index("ix_notices_updated_at", "updated_at"),
        # Recently cancelled notices stay in the calendar (STATUS:CANCELLED).
        # Partial: an index over all the NULLs would tempt planners into
        # walking every live and ended notice for "cancelled_at IS NULL".
        Index(
            "ix_notices_cancelled_at",
            "cancelled_at",
            sqlite_where=text("cancelled_at IS NOT NULL"),
            postgresql_where=text("cancelled_at IS NOT NULL"),
        ),
        Index(
            "ix_notices_unannounced",
            "publish_at",
            sqlite_where=text("cancelled_at IS NULL AND announced_phase <> 'ended'"),
            postgresql_where=text("cancelled_at IS NULL AND announced_phase <> 'ended'"),
        ),
    )


class Blob(Base):
    """A stored file, named by the SHA-256 of its bytes (notices.notice.attachments.blobstore).

    The bytes are those stored: an image after its metadata was stripped, so the hash names
    what is served. A thumbnail is a blob too, referenced from its image's row.
    """

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    thumbnail_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"), nullable=True)
    created_at: Mapped[datetime]

    thumbnail: Mapped[Blob | None] = relationship(remote_side=[sha256], lazy="joined", join_depth=1)


class NoticeAttachment(Base):
    """A file attached to a notice: an image or a PDF, shown on its page, in emails and feeds."""

    __tablename__ = "notice_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    # As uploaded, made safe (no path, control or bidi characters; notice.attachments.names).
    filename: Mapped[str] = mapped_column(String(200))
    # Optional; for an image also its alternative text.
    title: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    added_at: Mapped[datetime]
    added_by: Mapped[str] = mapped_column(String(320), default="")

    notice: Mapped[Notice] = relationship(back_populates="attachments")
    blob: Mapped[Blob] = relationship(lazy="joined")

    __table_args__ = (
        # The same file attached to the same notice twice is one attachment.
        UniqueConstraint("notice_id", "blob_sha256", name="uq_notice_attachments_blob"),
        Index("ix_notice_attachments_blob", "blob_sha256"),
    )


class NoticeRevision(Base):
    """Every change to a notice, with who, when and why."""

    __tablename__ = "notice_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    version: Mapped[int]
    changed_at: Mapped[datetime]
    changed_by: Mapped[str] = mapped_column(String(200), default="")
    change_note: Mapped[str] = mapped_column(Text, default="")
    # The notice's public fields after the change, for the history page.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)

    notice: Mapped[Notice] = relationship(back_populates="revisions")

    __table_args__ = (UniqueConstraint("notice_id", "version", name="uq_notice_revisions_version"),)


class NoticeEvent(Base):
    """A lifecycle event; unique per (notice, kind, version, occurrence) so recording twice is a no-op."""

    __tablename__ = "notice_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    version: Mapped[int]
    # For a series, the occurrence the event is about (its id, notice.recurrence.occurrence_id);
    # empty for the series as a whole and for single notices. Part of the unique key, so each
    # occurrence starts and ends once.
    occurrence: Mapped[str] = mapped_column(String(20), default="", server_default="")
    # When it happened (the boundary instant), and when the scheduler noticed.
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    detail: Mapped[str] = mapped_column(Text, default="")
    # Set once enqueue_alerts has turned this event into emails (or decided none are due).
    alerts_enqueued: Mapped[bool] = mapped_column(default=False)
    # Set once the hooks outbox has a row for every endpoint that wants this event
    # (notices.hooks.enqueue, in the transaction that recorded the event).
    hooks_enqueued: Mapped[bool] = mapped_column(default=False)

    notice: Mapped[Notice] = relationship(back_populates="events")

    __table_args__ = (
        UniqueConstraint("notice_id", "kind", "version", "occurrence", name="uq_notice_events_once"),
        Index("ix_notice_events_occurred_at", "occurred_at"),
        Index(
            "ix_notice_events_alerts_pending",
            "id",
            sqlite_where=text("alerts_enqueued = 0"),
            postgresql_where=text("alerts_enqueued = false"),
        ),
        Index(
            "ix_notice_events_hooks_pending",
            "id",
            sqlite_where=text("hooks_enqueued = 0"),
            postgresql_where=text("hooks_enqueued = false"),
        ),
    )


class SiteState(Base):
    """One row: a counter every write bumps, so other processes see changes cheaply."""

    __tablename__ = "site_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    data_version: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # When a scheduler last completed a run: shown on the dashboard and /healthz.
    scheduler_seen_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Signs links and forms when NOTICES_SECRET_KEY is not set: made once by
    # `notices db upgrade`, so every process and every restart agree on it.
    secret_key: Mapped[str | None] = mapped_column(String(100), nullable=True)


class Subscriber(Base):
    """Someone who gets email: double opt-in, filters, frequency and language."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Normalised (see people.addresses.normalise_email): one row per mailbox.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    state: Mapped[str] = mapped_column(String(16))  # pending, confirmed, unsubscribed, suppressed
    frequency: Mapped[str] = mapped_column(String(16))  # immediate, daily, weekly
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    locations: Mapped[list[str]] = mapped_column(JSON, default=list)
    min_severity: Mapped[str | None] = mapped_column(String(16), nullable=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    suppressed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    suppression_reason: Mapped[str] = mapped_column(Text, default="")
    # Bumped to revoke every link sent so far (e.g. after a complaint).
    token_generation: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (Index("ix_subscribers_state_frequency", "state", "frequency"),)


class Delivery(Base):
    """The outbox: one row per email. Unique per (subscriber, dedup key), so enqueuing twice sends once."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    dedup_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))  # confirm, manage, alert, reminder, digest
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16))  # pending, sending, sent, failed, expired
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    # While `sending`, the claim holds until lease_until; a sender that died
    # leaves the row to be claimed again after it.
    lease_until: Mapped[datetime | None] = mapped_column(nullable=True)
    # Which send run holds the claim (random per run): outcomes and lease
    # renewals only apply while it still does.
    claimed_by: Mapped[str] = mapped_column(String(32), default="")
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    message_id: Mapped[str] = mapped_column(String(255), default="")
    smtp_reply: Mapped[str] = mapped_column(Text, default="")
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # When the last outcome (sent, a retry planned, failed, expired) was recorded: the
    # dashboard's outbox chart counts per hour of this.
    outcome_at: Mapped[datetime | None] = mapped_column(nullable=True)

    subscriber: Mapped[Subscriber] = relationship()

    __table_args__ = (
        UniqueConstraint("subscriber_id", "dedup_key", name="uq_deliveries_dedup"),
        Index(
            "ix_deliveries_due",
            "next_attempt_at",
            sqlite_where=text("status IN ('pending', 'sending')"),
            postgresql_where=text("status IN ('pending', 'sending')"),
        ),
        Index("ix_deliveries_status", "status"),
        Index("ix_deliveries_outcome_at", "outcome_at"),
    )


class NoticeReminder(Base):
    """Which reminders (lead time before a start) were enqueued.

    Keyed by the start they remind of, not the notice version: editing the
    text must not remind everyone again, moving the start must.
    """

    __tablename__ = "notice_reminders"

    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(primary_key=True)
    lead_minutes: Mapped[int] = mapped_column(primary_key=True)
    enqueued_at: Mapped[datetime]


class DigestRun(Base):
    """Digest periods already enqueued, so a late or restarted scheduler catches up exactly once."""

    __tablename__ = "digest_runs"

    frequency: Mapped[str] = mapped_column(String(16), primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)  # the local date it ends, 2026-11-28
    enqueued_at: Mapped[datetime]
    enqueued: Mapped[int] = mapped_column(Integer, default=0)


class RenderedBody(Base):
    """A notice body rendered from Markdown, kept so that a process that starts renders no body
    another process rendered before (notices.notice.rendered_bodies). Named by the SHA-256 of
    everything its HTML depends on, so a row is never stale, only unused; the purge job drops
    rows after a while and they are rendered again when needed."""

    __tablename__ = "rendered_bodies"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)


class RenderedPiece(Base):
    """A notice's piece of a feed (its Atom or RSS entry, its calendar events) as bytes, kept so
    that a process that starts renders no piece another process rendered before
    (notices.feeds.stored_pieces). Named by the SHA-256 of everything its bytes depend on, so a
    row is never stale, only unused."""

    __tablename__ = "rendered_pieces"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    # The SHA-256 of `content`: a row damaged since (a hand edit, a bad restore) is not used.
    content_sha256: Mapped[str] = mapped_column(String(64))
    # What the feed needs of the piece besides its bytes (JSON, format-specific).
    meta: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)


class RateLimitHit(Base):
    """Fixed-window counters in the database, so limits hold across processes and replicas."""

    __tablename__ = "rate_limit_hits"

    bucket: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class User(Base):
    """A facility manager or an admin of the console and the API."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id
    role: Mapped[str] = mapped_column(String(16))  # admin, manager
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None] = mapped_column(nullable=True)


class UserSession(Base):
    """A console login. The cookie holds a random id; only its SHA-256 is stored."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]

    user: Mapped[User] = relationship()


class ApiToken(Base):
    """A Bearer token for the JSON API; stored hashed, shown once at creation."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200), default="")
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None] = mapped_column(nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)

    user: Mapped[User] = relationship()


class NoticeReview(Base):
    """A submission for approval (notices.notice.approval): publishing a draft, or a change to a
    published notice, that waits for a second person. The notice itself stays as it is until then."""

    __tablename__ = "notice_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))  # submitted, approved, returned, bypassed
    kind: Mapped[str] = mapped_column(String(16))  # publish (a draft), change (a published notice)
    # publish: when to publish once approved (None: at approval); change: the new fields and note.
    proposal: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    submitted_by: Mapped[str] = mapped_column(String(320))  # the user's email (four eyes compare it)
    submitted_at: Mapped[datetime]
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(320), default="")
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    decision_comment: Mapped[str] = mapped_column(Text, default="")

    notice: Mapped[Notice] = relationship()

    __table_args__ = (
        Index("ix_notice_reviews_notice", "notice_id"),
        # At most one submission waits per notice: two editors submitting at once get one each in turn.
        Index(
            "uq_notice_reviews_waiting",
            "notice_id",
            unique=True,
            sqlite_where=text("state = 'submitted'"),
            postgresql_where=text("state = 'submitted'"),
        ),
    )


class AuditEntry(Base):
    """Who did what and when: every change made through the console, the API or the CLI."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="")

    # (at, id): the audit log's pages, newest first (people.audit.page).
    __table_args__ = (Index("ix_audit_log_at_id", "at", "id"),)


class JobRun(Base):
    """The last run of each scheduled job, for the dashboard and /metrics (written by the leader)."""

    __tablename__ = "job_runs"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_scheduled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # How late the run started after the time it was planned for, in seconds.
    last_lag_seconds: Mapped[float] = mapped_column(default=0.0)
    last_error: Mapped[str] = mapped_column(Text, default="")


class HookEndpoint(Base):
    """An outbound integration: a generic webhook, a Slack or a Teams channel, with its own filters."""

    __tablename__ = "hook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    kind: Mapped[str] = mapped_column(String(16))  # webhook, slack, teams
    # The same filter model as email subscriptions; empty means "all".
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    locations: Mapped[list[str]] = mapped_column(JSON, default=list)
    min_severity: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # Event types it wants: published, changed, started, ended, cancelled, reminder.
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(8), default="en")
    enabled: Mapped[bool] = mapped_column(default=True)
    # Standard Webhooks secrets ("whsec_..."), needed in the clear to sign; shown once
    # when made and never again (not in listings, logs or the API).
    secret: Mapped[str] = mapped_column(String(100))
    # After a rotation the old secret keeps signing beside the new one until then.
    previous_secret: Mapped[str | None] = mapped_column(String(100), nullable=True)
    previous_secret_until: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(320), default="")
    updated_at: Mapped[datetime]
    # Start of the current run of failed attempts (None after a success), and why it was disabled.
    failing_since: Mapped[datetime | None] = mapped_column(nullable=True)
    last_success_at: Mapped[datetime | None] = mapped_column(nullable=True)
    disabled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    disabled_reason: Mapped[str] = mapped_column(Text, default="")


class HookDelivery(Base):
    """The hooks outbox: one row per (endpoint, event); claimed with leases like the mail outbox."""

    __tablename__ = "hook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("hook_endpoints.id", ondelete="CASCADE"))
    # NULL for a test delivery (`notices hook test`).
    event_id: Mapped[int | None] = mapped_column(ForeignKey("notice_events.id", ondelete="CASCADE"), nullable=True)
    # The webhook-id header: the same on every attempt, so receivers can drop a duplicate.
    webhook_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(32))  # notice.published, ...
    # Rendered when enqueued, so every attempt carries the same body (the event as it was).
    body: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(100), default="application/json")
    status: Mapped[str] = mapped_column(String(16))  # pending, sending, sent, failed, expired
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None] = mapped_column(nullable=True)
    claimed_by: Mapped[str] = mapped_column(String(32), default="")
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime]
    last_attempt_at: Mapped[datetime | None] = mapped_column(nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    response_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_excerpt: Mapped[str] = mapped_column(Text, default="")
    last_error: Mapped[str] = mapped_column(Text, default="")

    endpoint: Mapped[HookEndpoint] = relationship()

    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id", name="uq_hook_deliveries_once"),
        Index(
            "ix_hook_deliveries_due",
            "next_attempt_at",
            sqlite_where=text("status IN ('pending', 'sending')"),
            postgresql_where=text("status IN ('pending', 'sending')"),
        ),
        Index("ix_hook_deliveries_endpoint", "endpoint_id", "id"),
    )


class NoticeTemplate(Base):
    """A notice's reusable fields (notices.notice.templates_store): never published, no times.

    `fields` holds the notice's own field names with the values as the notice keeps them
    (title ... in the default language, `translations` for the others, locations as a list,
    geometry as GeoJSON), so a field a notice gains later is carried by naming it once there.
    """

    __tablename__ = "notice_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(320), default="")
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(320), default="")
