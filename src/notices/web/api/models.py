"""Request and response shapes of the JSON API, with the examples shown at /docs.

The schema promises what the server accepts: length limits come from notice_input
(one source of truth), booleans are strict, and the site's categories and locations
are filled in as enums when the app is built (see api_routes.describe_site_choices).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from notices.core.config import SEVERITIES
from notices.notice.recurrence import MAX_OCCURRENCE_MINUTES
from notices.notice.series import MAX_SKIPPED
from notices.notice.validation import RULE_LIMIT, TEXT_LIMITS
from notices.web.api.approval_models import ApprovalOut

EXAMPLE_NOTICE: dict[str, Any] = {
    "title": "Plesmanlaan closed between Sylviusweg and Einsteinweg",
    "summary": "First of two temporary closures for the reconstruction of the Plesmanlaan.",
    "body": "Follow the **yellow** diversion signs via the Einsteinweg.",
    "category": "road-closure",
    "severity": "major",
    "locations": ["plesmanlaan", "sylviusweg"],
    "starts_at": "2025-11-14T16:00",
    "expected_end": "approximately Q3 2027",
}
EXAMPLE_BILINGUAL: dict[str, Any] = EXAMPLE_NOTICE | {
    "title": {
        "en": "Plesmanlaan closed between Sylviusweg and Einsteinweg",
        "nl": "Plesmanlaan afgesloten tussen Sylviusweg en Einsteinweg",
    },
    "expected_end": {"en": "approximately Q3 2027", "nl": "ongeveer Q3 2027"},
}
GEOMETRY_HELP = (
    "Where, as GeoJSON (RFC 7946, [longitude, latitude] in WGS 84): a FeatureCollection whose features have "
    "properties.role closure, diversion, area or place, or a bare Point, LineString, MultiLineString, Polygon "
    "or MultiPolygon (lines become the closure, polygons an area). Without it the locations' shapes apply."
)
RECURRENCE_HELP = (
    "Makes the notice a series: an RFC 5545 RRULE value such as FREQ=WEEKLY;BYDAY=TU;COUNT=10 "
    "(FREQ DAILY, WEEKLY, MONTHLY or YEARLY; INTERVAL, COUNT or UNTIL, BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS, "
    "WKST), followed in the site's wall time from starts_at, which must be its first occurrence. A series "
    "has no ends_at (it ends with its rule); give occurrence_minutes."
)
OCCURRENCE_MINUTES_HELP = "How long each occurrence of a series lasts, in minutes (1 to 44640)"
SKIP_HELP = (
    "Occurrences of the new series that will not happen: local dates (2026-12-08) or occurrence ids "
    "(20261208T060000Z); they are cancelled from the start, without an announcement"
)
TIME_HELP = "ISO 8601 with an offset, or wall time in the site zone (2026-11-14T16:00), or 'now' / '+2h'"
NOTE_LIMIT = 2_000
TIME_LIMIT = 100
MAX_LOCATIONS = 100
# Marks a schema whose enum is this site's configuration (api_routes.describe_site_choices fills it in).
SITE_CHOICES = "x-site-choices"


def site_choices(name: str) -> dict[str, str]:
    return {"type": "string", SITE_CHOICES: name}


def _schema(
    *, choices: str | None = None, item_choices: str | None = None, severity: bool = False, not_null: bool = False
):
    """An edit of a field's JSON schema: its enum, and whether to show a default."""

    def edit(schema: dict[str, Any]) -> None:
        if choices:
            schema.update(site_choices(choices))
        if item_choices:
            schema["items"] = site_choices(item_choices)
        if severity:
            schema["enum"] = list(SEVERITIES)
        if not_null:
            # Leaving the field out keeps its value; null is not a value for it, so no default is shown.
            schema.pop("default", None)

    return edit


# A text field is a plain string (the site's default language) or one string per language,
# {"en": "...", "nl": "..."}: the keys are this site's languages (filled in as an enum by
# api_routes.describe_site_choices); each text has the same limit as the plain string.
_BY_LANGUAGE = Field(
    min_length=1,
    json_schema_extra={"propertyNames": {"type": "string", SITE_CHOICES: "languages"}},
    description='The text per language, e.g. {"en": "...", "nl": "..."}',
)
TitleIn = (
    Annotated[str, Field(min_length=1, max_length=TEXT_LIMITS["title"])]
    | Annotated[dict[str, Annotated[str, Field(max_length=TEXT_LIMITS["title"])]], _BY_LANGUAGE]
)
TitleChange = (
    Annotated[str, Field(max_length=TEXT_LIMITS["title"])]
    | Annotated[dict[str, Annotated[str, Field(max_length=TEXT_LIMITS["title"])]], _BY_LANGUAGE]
)
SummaryIn = (
    Annotated[str, Field(max_length=TEXT_LIMITS["summary"])]
    | Annotated[dict[str, Annotated[str, Field(max_length=TEXT_LIMITS["summary"])]], _BY_LANGUAGE]
)
BodyIn = (
    Annotated[str, Field(max_length=TEXT_LIMITS["body"])]
    | Annotated[dict[str, Annotated[str, Field(max_length=TEXT_LIMITS["body"])]], _BY_LANGUAGE]
)
LocationDetailIn = (
    Annotated[str, Field(max_length=TEXT_LIMITS["location_detail"])]
    | Annotated[dict[str, Annotated[str, Field(max_length=TEXT_LIMITS["location_detail"])]], _BY_LANGUAGE]
)
ExpectedEndIn = (
    Annotated[str, Field(max_length=TEXT_LIMITS["expected_end"])]
    | Annotated[dict[str, Annotated[str, Field(max_length=TEXT_LIMITS["expected_end"])]], _BY_LANGUAGE]
)
LANGUAGES_HELP = (
    "Text fields take a string (the site's default language) or an object with one string per language, "
    'e.g. "title": {"en": "Road closed", "nl": "Weg afgesloten"}; the default language is required, '
    "the others fall back to it."
)
BODY_HELP = "GitHub-flavoured Markdown (CommonMark with tables, strikethrough and bare links)"


def _given_or_templated(**extra) -> Any:
    """A field required unless a template gives it: absent is allowed here, null is not
    (validation names the field when neither the request nor a template gives it)."""
    return Field(default=None, **extra)


class NoticeCreate(BaseModel):
    """A new notice. Times: ISO 8601 with an offset, or wall time in the site zone, or 'now' / '+2h'.
    Text fields: a string (the default language) or {"en": "...", "nl": "..."}."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_NOTICE, EXAMPLE_BILINGUAL]})

    template: str | None = Field(
        default=None,
        max_length=100,
        description="A template's name (or id): its fields are the defaults, the fields given here win "
        "(a field given replaces the template's in every language); see /api/v1/templates",
    )
    # Required unless a template gives them (validation says so, naming the field).
    title: TitleIn = _given_or_templated(description=LANGUAGES_HELP, json_schema_extra=_schema(not_null=True))
    summary: SummaryIn = ""
    body: BodyIn = Field(default="", description=BODY_HELP)
    category: str = _given_or_templated(max_length=100, json_schema_extra=_schema(choices="categories", not_null=True))
    severity: str = Field(default="info", max_length=100, json_schema_extra=_schema(severity=True))
    locations: list[str] = Field(
        default_factory=list, max_length=MAX_LOCATIONS, json_schema_extra=_schema(item_choices="locations")
    )
    location_detail: LocationDetailIn = ""
    publish_at: str | None = Field(
        default=None, description=f"Announced from; default now. {TIME_HELP}", max_length=TIME_LIMIT
    )
    starts_at: str = Field(min_length=1, max_length=TIME_LIMIT, description=TIME_HELP)
    ends_at: str | None = Field(
        default=None, description=f"Leave out for 'until further notice'. {TIME_HELP}", max_length=TIME_LIMIT
    )
    expected_end: ExpectedEndIn = ""
    geometry: dict[str, Any] | None = Field(default=None, description=GEOMETRY_HELP)
    recurrence: str | None = Field(default=None, max_length=RULE_LIMIT, description=RECURRENCE_HELP)
    occurrence_minutes: StrictInt | None = Field(
        default=None, ge=1, le=MAX_OCCURRENCE_MINUTES, description=OCCURRENCE_MINUTES_HELP
    )
    skip: list[Annotated[str, Field(max_length=TIME_LIMIT)]] = Field(
        default_factory=list, max_length=MAX_SKIPPED, description=SKIP_HELP
    )
    draft: StrictBool = Field(default=False, description="true: save without publishing (JSON true or false only)")


def _change(**extra) -> Any:
    """An optional field of a change that cannot be null."""
    return Field(default=None, json_schema_extra=_schema(not_null=True), **extra)


class NoticeUpdate(BaseModel):
    """A change: only the fields given change. `ends_at: null` makes the notice open-ended."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            # The note and at least one field to change.
            "minProperties": 2,
            "examples": [{"ends_at": "2026-12-12T17:00", "note": "closure extended to 12 December"}],
        },
    )

    note: str = Field(min_length=1, max_length=NOTE_LIMIT, description="What changed and why; shown in the history")
    minor: StrictBool = Field(
        default=False,
        description="A text-only correction (a typo): applied without approval even where the severity needs it "
        "(audited); a change of times, severity or geometry cannot be minor",
    )
    title: TitleChange = _change(description=f'{LANGUAGES_HELP} A language given as "" loses its text.')
    summary: SummaryIn = _change()
    body: BodyIn = _change(description=BODY_HELP)
    # Optional in a change, but never null: the schema says so (not_null), None means "not given".
    category: str | None = Field(
        default=None, max_length=100, json_schema_extra=_schema(choices="categories", not_null=True)
    )
    severity: str | None = Field(default=None, max_length=100, json_schema_extra=_schema(severity=True, not_null=True))
    locations: list[str] | None = Field(
        default=None, max_length=MAX_LOCATIONS, json_schema_extra=_schema(item_choices="locations", not_null=True)
    )
    location_detail: LocationDetailIn = _change()
    publish_at: str = _change(max_length=TIME_LIMIT, description=TIME_HELP)
    starts_at: str = _change(min_length=1, max_length=TIME_LIMIT, description=TIME_HELP)
    ends_at: str | None = Field(
        default=None, max_length=TIME_LIMIT, description=f"null: until further notice. {TIME_HELP}"
    )
    expected_end: ExpectedEndIn = _change()
    geometry: dict[str, Any] | None = Field(
        default=None, description=f"null: no shapes of its own (the locations' apply). {GEOMETRY_HELP}"
    )
    recurrence: str | None = Field(
        default=None,
        max_length=RULE_LIMIT,
        description=f'null or "": a single notice again (its first occurrence, unless ends_at is given). '
        f"{RECURRENCE_HELP}",
    )
    occurrence_minutes: StrictInt = _change(ge=1, le=MAX_OCCURRENCE_MINUTES, description=OCCURRENCE_MINUTES_HELP)


class NoticeCancel(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "works postponed to spring"}]})

    reason: str = Field(min_length=1, max_length=NOTE_LIMIT, description="Shown to readers")


class OccurrenceCancel(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "market day moved"}]})

    reason: str = Field(min_length=1, max_length=NOTE_LIMIT, description="Shown to readers")


class OccurrenceMove(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"starts_at": "2026-12-09T07:00", "ends_at": "2026-12-09T09:00", "note": "moved a day"}]
        },
    )

    starts_at: str = Field(min_length=1, max_length=TIME_LIMIT, description=f"Its new start. {TIME_HELP}")
    ends_at: str | None = Field(
        default=None, max_length=TIME_LIMIT, description=f"Its new end; default: it keeps its length. {TIME_HELP}"
    )
    note: str = Field(min_length=1, max_length=NOTE_LIMIT, description="What changed and why; shown to readers")


class OccurrenceOut(BaseModel):
    """One occurrence of a series; times in the site zone."""

    id: str = Field(description="The occurrence's original start in UTC (20261201T060000Z): stable, used in URLs")
    starts_at: str | None
    ends_at: str | None
    original_start: str | None = Field(description="Where the rule puts it (differs when it was moved)")
    cancelled: bool
    reason: str = Field(description="Why it is cancelled (empty otherwise)")
    moved: bool


class NoticeTexts(BaseModel):
    """A notice's own text in one language (empty where that language has none)."""

    title: str
    summary: str
    body: str
    location_detail: str
    expected_end: str


class NoticeOut(BaseModel):
    """The text fields are in `language` (?lang=, default the site's; a missing translation gives
    the default language's text); `languages` has every configured language's own text."""

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
    geometry: dict[str, Any] | None = Field(description="The notice's own GeoJSON FeatureCollection, or null")
    version: int = Field(description="Goes up with every change; the ETag header is this number in quotes")
    cancelled_at: str | None
    cancel_reason: str
    created_at: str
    updated_at: str
    approval: ApprovalOut | None = Field(
        default=None, description="Where the notice is in the approval workflow, when a write submitted it"
    )
    language: str = Field(description="The language of the text fields above (their fallback aside)")
    languages: dict[str, NoticeTexts] = Field(description="Every configured language's own text, by language code")
    recurrence: str | None = Field(default=None, description="A series' rule (RRULE value); null for a single notice")
    occurrence_minutes: int | None = Field(default=None, description="A series: how long each occurrence lasts")
    next_occurrence: OccurrenceOut | None = Field(
        default=None, description="A series: the occurrence under way, else the next one; null after the last"
    )
    upcoming_occurrences: list[OccurrenceOut] = Field(
        default_factory=list, description="A series: the occurrence under way and the next ones (at most 10)"
    )
    exceptions: list[OccurrenceOut] = Field(
        default_factory=list, description="A series: its cancelled and moved occurrences"
    )


class NoticeList(BaseModel):
    count: int = Field(description="How many notices this page has")
    notices: list[NoticeOut]
    next: str | None = Field(
        default=None, description="The next page's URL (also in the Link header); null on the last page"
    )


class ErrorDetail(BaseModel):
    field: str | None = None
    message: str


class ErrorOut(BaseModel):
    error: ErrorDetail


class SubscriberCounts(BaseModel):
    total: int = Field(description="Confirmed subscribers")
    by_frequency: dict[str, int]
    by_category: dict[str, int] = Field(
        description="Subscribers hearing about each category (no filter counts for all)"
    )
    by_location: dict[str, int]
    pending: int
    unsubscribed: int
    suppressed: int
