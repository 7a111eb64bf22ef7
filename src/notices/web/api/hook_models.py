"""Request and response shapes of the hooks API (admins only)."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from notices.hooks.kinds import HOOK_EVENTS
from notices.hooks.store import MAX_URL_LENGTH
from notices.web.api.models import MAX_LOCATIONS, _schema

HookKind = Literal["webhook", "slack", "teams"]
HookEventName = Literal["published", "changed", "started", "ended", "cancelled", "reminder"]
Severity = Literal["info", "minor", "major", "critical"]
Language = Literal["en", "nl"]
assert set(get_args(HookEventName)) == set(HOOK_EVENTS)  # one list of event kinds

EXAMPLE_HOOK: dict[str, Any] = {
    "url": "https://hooks.example.org/notices",
    "kind": "webhook",
    "categories": ["road-closure"],
    "severity": "major",
    "events": ["published", "changed", "cancelled"],
    "language": "en",
}


class HookCreate(BaseModel):
    """A new endpoint. Leave a filter out to hear about every notice; leave events out for all of them."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_HOOK]})

    url: str = Field(min_length=1, max_length=MAX_URL_LENGTH, description="https:// (Slack, Teams or your receiver)")
    kind: HookKind = "webhook"
    categories: list[str] = Field(
        default_factory=list, max_length=MAX_LOCATIONS, json_schema_extra=_schema(item_choices="categories")
    )
    locations: list[str] = Field(
        default_factory=list, max_length=MAX_LOCATIONS, json_schema_extra=_schema(item_choices="locations")
    )
    severity: Severity | None = Field(default=None, description="Minimum severity")
    events: list[HookEventName] = Field(
        default_factory=lambda: list(get_args(HookEventName)), min_length=1, max_length=6
    )
    language: Language | None = Field(default=None, description="Of Slack and Teams messages; default the site's")


class HookUpdate(BaseModel):
    """A change: only the fields given change (the secret stays; see /rotate)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1, "examples": [{"enabled": True}]})

    url: str | None = Field(
        default=None, min_length=1, max_length=MAX_URL_LENGTH, json_schema_extra=_schema(not_null=True)
    )
    kind: HookKind | None = Field(default=None, json_schema_extra=_schema(not_null=True))
    categories: list[str] | None = Field(
        default=None, max_length=MAX_LOCATIONS, json_schema_extra=_schema(item_choices="categories", not_null=True)
    )
    locations: list[str] | None = Field(
        default=None, max_length=MAX_LOCATIONS, json_schema_extra=_schema(item_choices="locations", not_null=True)
    )
    severity: Severity | None = Field(default=None, description="null: every severity")
    events: list[HookEventName] | None = Field(
        default=None, min_length=1, max_length=6, json_schema_extra=_schema(not_null=True)
    )
    language: Language | None = Field(default=None, json_schema_extra=_schema(not_null=True))
    enabled: StrictBool | None = Field(default=None, json_schema_extra=_schema(not_null=True))


class HookRotate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"overlap_hours": 24}]})

    overlap_hours: float | None = Field(
        default=None,
        ge=0,
        le=720,
        description="How long the old secret signs too; default [hooks] secret_overlap_hours",
    )


class HookOut(BaseModel):
    id: int
    url: str
    kind: str
    categories: list[str]
    locations: list[str]
    min_severity: str | None
    events: list[str]
    language: str
    enabled: bool
    created_at: str
    failing_since: str | None
    last_success_at: str | None
    disabled_reason: str
    secret_rotating_until: str | None


class HookCreated(HookOut):
    secret: str = Field(description="The signing secret (Standard Webhooks); shown only in this answer")


class HookSecret(BaseModel):
    secret: str = Field(description="The new signing secret; shown only in this answer")
    previous_valid_until: str | None = Field(description="Until when the old secret signs too")


class HookDeliveryOut(BaseModel):
    id: int
    webhook_id: str
    type: str
    status: str
    attempts: int
    created_at: str
    last_attempt_at: str | None
    next_attempt_at: str
    sent_at: str | None
    response_code: int | None
    response_excerpt: str
    last_error: str
