"""Request and response shapes of the JSON API, with the examples shown at /docs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

EXAMPLE_NOTICE = {
    "title": "Plesmanlaan closed between Sylviusweg and Einsteinweg",
    "summary": "First of two temporary closures for the reconstruction of the Plesmanlaan.",
    "body": "Follow the **yellow** diversion signs via the Einsteinweg.",
    "category": "road-closure",
    "severity": "major",
    "locations": ["plesmanlaan", "sylviusweg"],
    "starts_at": "2025-11-14T16:00",
    "expected_end": "approximately Q3 2027",
}


class NoticeCreate(BaseModel):
    """A new notice. Times: ISO 8601 with an offset, or wall time in the site zone, or 'now' / '+2h'."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_NOTICE]})

    title: str = Field(max_length=500)
    summary: str = Field(default="", max_length=5000)
    body: str = Field(default="", description="Markdown", max_length=200_000)
    category: str = Field(max_length=100)
    severity: str = Field(default="info", description="info, minor, major or critical", max_length=100)
    locations: list[str] = Field(default_factory=list, max_length=100)
    location_detail: str = Field(default="", max_length=5000)
    publish_at: str | None = Field(default=None, description="Announced from; default now", max_length=100)
    starts_at: str = Field(max_length=100)
    ends_at: str | None = Field(default=None, description="Leave out for 'until further notice'", max_length=100)
    expected_end: str = Field(default="", max_length=500)
    draft: bool = False


class NoticeUpdate(BaseModel):
    """A change: only the fields given change. `ends_at: null` makes the notice open-ended."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"ends_at": "2026-12-12T17:00", "note": "closure extended to 12 December"}]},
    )

    note: str = Field(min_length=1, max_length=2000, description="What changed and why; shown in the history")
    title: str | None = Field(default=None, max_length=500)
    summary: str | None = Field(default=None, max_length=5000)
    body: str | None = Field(default=None, max_length=200_000)
    category: str | None = Field(default=None, max_length=100)
    severity: str | None = Field(default=None, max_length=100)
    locations: list[str] | None = Field(default=None, max_length=100)
    location_detail: str | None = Field(default=None, max_length=5000)
    publish_at: str | None = Field(default=None, max_length=100)
    starts_at: str | None = Field(default=None, max_length=100)
    ends_at: str | None = Field(default=None, max_length=100)
    expected_end: str | None = Field(default=None, max_length=500)


class NoticeCancel(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "works postponed to spring"}]})

    reason: str = Field(min_length=1, max_length=2000)


class NoticeOut(BaseModel):
    uid: str
    status: str
    title: str
    summary: str
    body: str
    category: str
    severity: str
    locations: list[str]
    location_detail: str
    publish_at: str | None
    starts_at: str
    ends_at: str | None
    expected_end: str
    version: int
    cancelled_at: str | None
    cancel_reason: str
    created_at: str
    updated_at: str


class NoticeList(BaseModel):
    count: int
    notices: list[NoticeOut]


class ErrorDetail(BaseModel):
    field: str | None = None
    message: str


class ErrorOut(BaseModel):
    error: ErrorDetail


class SubscriberCounts(BaseModel):
    total: int = Field(description="Confirmed subscribers")
    by_frequency: dict[str, int]
    by_category: dict[str, int] = Field(description="Subscribers hearing about each category (no filter counts for all)")
    by_location: dict[str, int]
    pending: int
    unsubscribed: int
    suppressed: int
