"""Hook endpoints: add, list, change, enable, rotate the secret, remove; and each one's delivery log.

An endpoint's secret signs its webhooks (Standard Webhooks, "whsec_" + base64).
It is returned once, by add_endpoint and rotate_secret, and never again: the
listings, the API and the logs only ever say whether one is set.
"""

from __future__ import annotations

import base64
import secrets
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from notices.core.choices import choose, choose_many
from notices.core.config import LANGUAGES, SEVERITIES, Settings
from notices.core.errors import InvalidField, NotFound
from notices.core.models import HookDelivery, HookEndpoint
from notices.core.safe_text import UNSAFE_CHARACTERS
from notices.hooks import targets
from notices.hooks.kinds import ENDPOINT_KINDS, HOOK_EVENTS
from notices.notice.lifecycle import Filters
from notices.notice.times import isoformat_site
from notices.people import audit

SECRET_PREFIX = "whsec_"
MAX_URL_LENGTH = 2000


@dataclass(frozen=True)
class EndpointInput:
    """An endpoint's settings, validated: what add_endpoint and update_endpoint take."""

    url: str
    kind: str
    categories: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    min_severity: str | None = None
    events: tuple[str, ...] = HOOK_EVENTS
    language: str = "en"


def parse_endpoint(raw: dict[str, Any], settings: Settings) -> EndpointInput:
    """Validate raw input (CLI options, API JSON, a console form); InvalidField names the field."""
    severity = raw.get("min_severity") or raw.get("severity") or None
    events = choose_many(raw.get("events"), "events", HOOK_EVENTS) or HOOK_EVENTS
    return EndpointInput(
        url=check_url(raw.get("url"), settings),
        kind=choose(raw.get("kind") or "webhook", "kind", ENDPOINT_KINDS),
        categories=choose_many(raw.get("categories"), "categories", settings.categories),
        locations=choose_many(raw.get("locations"), "locations", settings.locations),
        min_severity=choose(severity, "severity", SEVERITIES) if severity is not None else None,
        events=tuple(event for event in HOOK_EVENTS if event in events),
        language=choose(raw.get("language") or settings.language, "language", LANGUAGES),
    )


def check_url(value: object, settings: Settings) -> str:
    """A target URL that may be called: https (http only with [hooks] allow_http), a host, no credentials,
    no invisible characters, and a name that resolves to public addresses only (targets.check_target)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidField("url", "is required")
    url = value.strip()
    if len(url) > MAX_URL_LENGTH:
        raise InvalidField("url", f"is longer than {MAX_URL_LENGTH} characters")
    if UNSAFE_CHARACTERS.search(url) or any(char.isspace() for char in url):
        raise InvalidField("url", "contains spaces or control characters")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise InvalidField("url", f"is not a valid URL ({error})") from None
    allowed = ("https", "http") if settings.hooks_allow_http else ("https",)
    if parts.scheme.lower() not in allowed:
        raise InvalidField("url", "must start with https://")
    if not parts.hostname:
        raise InvalidField("url", "has no host name")
    if parts.username or parts.password:
        raise InvalidField("url", "must not contain a user name or password")
    if port == 0:
        raise InvalidField("url", "has an invalid port")
    targets.check_target(url, settings)
    return url


def new_secret() -> str:
    """A Standard Webhooks signing secret: whsec_ and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def filters_of(endpoint: HookEndpoint) -> Filters:
    return Filters(frozenset(endpoint.categories or ()), frozenset(endpoint.locations or ()), endpoint.min_severity)


def add_endpoint(session: Session, endpoint: EndpointInput, *, now: datetime, actor: str) -> tuple[HookEndpoint, str]:
    """Create an endpoint; returns it and its secret, which is never shown again."""
    secret = new_secret()
    row = HookEndpoint(
        url=endpoint.url,
        kind=endpoint.kind,
        secret=secret,
        enabled=True,
        created_at=now,
        created_by=actor,
        updated_at=now,
        disabled_reason="",
    )
    _apply(row, endpoint)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="hook.add", target=str(row.id), detail=_described(row), now=now)
    return row, secret


def _apply(row: HookEndpoint, endpoint: EndpointInput) -> None:
    row.url, row.kind = endpoint.url, endpoint.kind
    row.categories, row.locations = list(endpoint.categories), list(endpoint.locations)
    row.min_severity = endpoint.min_severity
    row.events = list(endpoint.events)
    row.language = endpoint.language


def _described(row: HookEndpoint) -> str:
    # The URL without its query: Slack and Teams URLs carry their credentials in the path
    # and query, so the audit log keeps only where it goes.
    parts = urllib.parse.urlsplit(row.url)
    return f"{row.kind} {parts.scheme}://{parts.hostname}"


def update_endpoint(
    session: Session, endpoint_id: int, endpoint: EndpointInput, *, now: datetime, actor: str
) -> HookEndpoint:
    """Change an endpoint's URL, kind, filters, events or language (its secret stays)."""
    row = get_endpoint(session, endpoint_id)
    _apply(row, endpoint)
    row.updated_at = now
    audit.record(session, actor=actor, action="hook.update", target=str(row.id), detail=_described(row), now=now)
    return row


def list_endpoints(session: Session) -> list[HookEndpoint]:
    return list(session.scalars(select(HookEndpoint).order_by(HookEndpoint.id)))


def get_endpoint(session: Session, endpoint_id: int) -> HookEndpoint:
    row = session.get(HookEndpoint, endpoint_id)
    if row is None:
        raise NotFound(f"no hook endpoint with id {endpoint_id}")
    return row


def remove_endpoint(session: Session, endpoint_id: int, *, now: datetime, actor: str) -> None:
    """Delete an endpoint with its delivery log and anything still queued for it."""
    row = get_endpoint(session, endpoint_id)
    audit.record(session, actor=actor, action="hook.remove", target=str(row.id), detail=_described(row), now=now)
    session.delete(row)
    session.flush()


def set_enabled(session: Session, endpoint_id: int, enabled: bool, *, now: datetime, actor: str) -> HookEndpoint:
    """Turn an endpoint on or off. Turning it on forgets its run of failures."""
    row = get_endpoint(session, endpoint_id)
    row.enabled = enabled
    row.updated_at = now
    if enabled:
        row.disabled_at, row.disabled_reason, row.failing_since = None, "", None
    else:
        row.disabled_at, row.disabled_reason = now, f"disabled by {actor}"
    action = "hook.enable" if enabled else "hook.disable"
    audit.record(session, actor=actor, action=action, target=str(row.id), now=now)
    return row


def rotate_secret(
    session: Session, endpoint_id: int, *, overlap: timedelta, now: datetime, actor: str
) -> tuple[HookEndpoint, str]:
    """A new secret; the old one keeps signing beside it for `overlap`. Returns the new secret (shown once)."""
    if overlap < timedelta(0):
        raise InvalidField("overlap", "must not be negative")
    row = get_endpoint(session, endpoint_id)
    secret = new_secret()
    row.previous_secret = row.secret if overlap > timedelta(0) else None
    row.previous_secret_until = now + overlap if overlap > timedelta(0) else None
    row.secret = secret
    row.updated_at = now
    audit.record(session, actor=actor, action="hook.rotate", target=str(row.id), detail=f"overlap {overlap}", now=now)
    return row, secret


def signing_secrets(endpoint: HookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign at `now`: the current one, and the previous one during its overlap."""
    return secrets_at(endpoint.secret, endpoint.previous_secret, endpoint.previous_secret_until, now)


def secrets_at(secret: str, previous: str | None, previous_until: datetime | None, now: datetime) -> list[str]:
    if previous and previous_until is not None and now < previous_until:
        return [secret, previous]
    return [secret]


def delivery_log(session: Session, endpoint_id: int, *, limit: int = 50) -> list[HookDelivery]:
    """An endpoint's latest deliveries, newest first (status, attempts, last response)."""
    get_endpoint(session, endpoint_id)
    return list(
        session.scalars(
            select(HookDelivery)
            .where(HookDelivery.endpoint_id == endpoint_id)
            .order_by(HookDelivery.id.desc())
            .limit(limit)
        )
    )


def endpoint_data(endpoint: HookEndpoint) -> dict[str, Any]:
    """An endpoint as plain data (CLI --json, the API): never its secrets."""
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "kind": endpoint.kind,
        "categories": list(endpoint.categories or ()),
        "locations": list(endpoint.locations or ()),
        "min_severity": endpoint.min_severity,
        "events": list(endpoint.events or ()),
        "language": endpoint.language,
        "enabled": endpoint.enabled,
        "created_at": endpoint.created_at.isoformat(),
        "failing_since": endpoint.failing_since.isoformat() if endpoint.failing_since else None,
        "last_success_at": endpoint.last_success_at.isoformat() if endpoint.last_success_at else None,
        "disabled_reason": endpoint.disabled_reason,
        "secret_rotating_until": (
            endpoint.previous_secret_until.isoformat()
            if endpoint.previous_secret and endpoint.previous_secret_until
            else None
        ),
    }


def delivery_data(delivery: HookDelivery, zone: ZoneInfo | None = None) -> dict[str, Any]:
    """A delivery as plain data for `hook log` and the API; times in `zone` (the CLI: the site's), else UTC."""

    def when(instant: datetime | None) -> str | None:
        if instant is None:
            return None
        return isoformat_site(instant, zone) if zone is not None else instant.isoformat()

    return {
        "id": delivery.id,
        "webhook_id": delivery.webhook_id,
        "type": delivery.event_type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "created_at": when(delivery.created_at),
        "last_attempt_at": when(delivery.last_attempt_at),
        "next_attempt_at": when(delivery.next_attempt_at),
        "sent_at": when(delivery.sent_at),
        "response_code": delivery.response_code,
        "response_excerpt": delivery.response_excerpt,
        "last_error": delivery.last_error,
    }


def ids_of(endpoints: Iterable[HookEndpoint]) -> list[int]:
    return [endpoint.id for endpoint in endpoints]
