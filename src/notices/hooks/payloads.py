"""What an endpoint receives for a notice event: a Standard Webhooks JSON body, a Slack message or a Teams card.

`render(kind, event, language, settings)` gives the body bytes and their
content type; signing and sending are the sender's. Each format has its own
rules for text a person typed (a notice title can be anything):
- webhook: the notice as the API shows it, in JSON; nothing to escape beyond
  what JSON does, but text is filtered again (NUL, lone surrogates, bidi
  controls) for rows stored before input was checked;
- slack: Block Kit. Notice text only ever goes into `plain_text` objects, which
  Slack shows as typed (no bold, no links, no <!channel> or <@U…> mentions);
  `&`, `<` and `>` are escaped everywhere, as Slack asks for all message text;
  mrkdwn carries only our own words and links;
- teams: an Adaptive Card. TextBlock and fact values are Markdown, so the
  characters that would start emphasis, links, lists, headings, quotes or a
  {{DATE()}} function are backslash-escaped (CommonMark escapes any ASCII
  punctuation); json.dumps quotes the rest.
Texts are cut to the lengths the services accept, so a 1 MB word costs its
own tail, never the message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, NamedTuple

from notices.core.config import Settings
from notices.core.errors import InvalidField
from notices.core.i18n import N_
from notices.core.safe_text import strip_unsafe
from notices.notice.languages import TEXT_FIELDS, shown_text, text_in
from notices.notice.wording import Words

KINDS = ("webhook", "slack", "teams")
# Event types as Standard Webhooks names them (full-stop delimited, [a-z_]).
EVENT_TYPES = (
    "notice.published",
    "notice.changed",
    "notice.started",
    "notice.ended",
    "notice.cancelled",
    "notice.reminder",
    # What "Send test" (`notices hook test`) sends: a made-up notice, no lifecycle event.
    "notice.test",
)
# The lifecycle word (notice.wording) for each event type.
_EVENT_WORDS = {
    "notice.published": "published",
    "notice.changed": "updated",
    "notice.started": "started",
    "notice.ended": "ended",
    "notice.cancelled": "cancelled",
    "notice.reminder": "reminder",
    "notice.test": "test",
}
JSON = "application/json"

# Limits from the Block Kit reference: header text 150, section text 3000,
# section fields 2000 each; we stay well inside a message's 50 blocks.
SLACK_HEADER = 150
SLACK_SECTION = 3000
SLACK_FIELD = 2000
# Teams refuses messages over about 28 KB; these keep a card far below it.
TEAMS_TITLE = 300
TEAMS_TEXT = 2000
TEAMS_FACT = 500

# The labels of a Slack message or Teams card; translated (core.i18n) into the endpoint's language.
_LABELS = {
    "severity": N_("Severity"),
    "when": N_("When"),
    "where": N_("Where"),
    "reason": N_("Reason"),
    "open": N_("View notice"),
    "map": N_("Map"),
    "test": N_("Test message"),
}


@dataclass(frozen=True)
class HookEvent:
    """One lifecycle event of one notice, as every endpoint kind is told about it."""

    event_id: str  # stable per event: the webhook-id receivers de-duplicate on
    type: str  # one of EVENT_TYPES
    occurred_at: datetime  # aware UTC
    notice: dict[str, Any]  # the notice as the API shows it (notice.presenters.notice_data)
    url: str  # the notice's page
    # For an event about one occurrence of a series: {"id", "starts_at", "ends_at", "cancelled"}.
    occurrence: dict[str, Any] | None = None


def render(kind: str, event: HookEvent, language: str, settings: Settings) -> tuple[bytes, str]:
    """The body for an endpoint of `kind` and its content type, in `language` (en/nl)."""
    if event.type not in EVENT_TYPES:
        raise InvalidField("type", f"unknown event type {event.type!r}; expected one of {', '.join(EVENT_TYPES)}")
    if kind == "webhook":
        body: dict[str, Any] = webhook_body(event, language, settings)
    elif kind in ("slack", "teams"):
        message = _Message.of(event, language, settings)
        body = slack_body(message) if kind == "slack" else teams_body(message)
    else:
        raise InvalidField("kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")
    return _dumps(body), JSON


def _dumps(body: dict[str, Any]) -> bytes:
    # Compact and UTF-8: the bytes signed are the bytes sent, and receivers parse
    # them as they come. Every string went through strip_unsafe, so no lone
    # surrogate can make the encoding fail.
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


# Webhook -------------------------------------------------------------------------------------


def webhook_body(event: HookEvent, language: str | None = None, settings: Settings | None = None) -> dict[str, Any]:
    """The Standard Webhooks payload: `type`, `timestamp` (of the event, not the attempt) and `data`,
    the notice's text fields in the endpoint's `language` as the API gives them with `?lang=`
    (a missing translation: the default language's text; `languages` has every language's own)."""
    data = dict(event.notice)
    # Data from before notices had languages (no `languages`) goes out as it is.
    if language is not None and settings is not None and isinstance(event.notice.get("languages"), Mapping):
        chosen = language if language in settings.languages else settings.language
        reader = _reader(event.notice, settings)
        data.update({field: text_in(reader, field, chosen, settings)[0] for field in TEXT_FIELDS})
        data["language"] = chosen
    if event.occurrence is not None:
        data["occurrence"] = event.occurrence
    return {
        "type": event.type,
        "timestamp": _utc_iso(event.occurred_at),
        "data": _cleaned(data),
    }


def _reader(notice: Mapping[str, Any], settings: Settings) -> SimpleNamespace:
    """The API's notice data read like a notice row, for notice.languages (own text per language)."""
    by_language = notice.get("languages")
    by_language = by_language if isinstance(by_language, Mapping) else {}
    default = by_language.get(settings.language)
    default = default if isinstance(default, Mapping) else notice
    texts = {field: _text(default.get(field)) for field in TEXT_FIELDS}
    translations = {
        language: {field: _text(own.get(field)) for field in TEXT_FIELDS}
        for language, own in by_language.items()
        if language != settings.language and isinstance(own, Mapping)
    }
    return SimpleNamespace(**texts, translations=translations)


def _utc_iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _cleaned(value: Any) -> Any:
    if isinstance(value, str):
        return strip_unsafe(value)
    if isinstance(value, Mapping):
        return {strip_unsafe(str(key)): _cleaned(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_cleaned(item) for item in value]
    return value


# The words both chat formats show ------------------------------------------------------------


@dataclass(frozen=True)
class _Period:
    """Just enough of a notice for Words.period: its times, parsed back from the API's ISO strings."""

    publish_at: datetime | None
    starts_at: datetime
    ends_at: datetime | None
    cancelled_at: datetime | None
    expected_end: str


@dataclass(frozen=True)
class _Message:
    """A notice event in words, before any format's escaping: every text here is raw."""

    headline: str
    title: str
    summary: str
    severity: str
    when: str
    where: str
    reason: str
    labels: Mapping[str, str]
    url: str
    map_url: str

    @classmethod
    def of(cls, event: HookEvent, language: str, settings: Settings) -> _Message:
        words = Words(language, settings)
        notice = event.notice
        reader = _reader(notice, settings)
        # The notice text in the endpoint's language; a missing translation is marked "(in English)".
        shown = {field: shown_text(reader, field, language, settings)[0] for field in TEXT_FIELDS}
        category = words.category(_text(notice.get("category")))
        severity = words.severity(_text(notice.get("severity")))
        labels = {key: words.gettext(text) for key, text in _LABELS.items()}
        kind = _EVENT_WORDS[event.type]
        headline = f"{labels['test'] if kind == 'test' else words.event(kind)} · {category} · {severity}"
        where = words.locations(_text(key) for key in notice.get("locations") or ())
        detail = _one_line(shown["location_detail"])
        if detail:
            where = f"{where} ({detail})" if where else detail
        reason = _one_line(notice.get("cancel_reason")) if event.type == "notice.cancelled" else ""
        when = _when(notice | {"expected_end": shown["expected_end"]}, words)
        occurrence = event.occurrence or {}
        if occurrence.get("starts_at"):
            # About one occurrence of a series: its own times (the date once, as in email), and its
            # own reason when it is cancelled.
            when = _occurrence_when(occurrence, words) or when
            reason = _one_line(occurrence.get("reason")) if event.type == "notice.cancelled" else ""
        return cls(
            headline=headline,
            title=_one_line(shown["title"]),
            summary=_text(shown["summary"]).strip(),
            severity=_text(notice.get("severity")),
            when=when,
            where=where,
            reason=reason,
            labels=labels,
            url=event.url,
            map_url=event.url + "#map",
        )


def _text(value: object) -> str:
    return strip_unsafe(value if isinstance(value, str) else "")


def _one_line(value: object) -> str:
    return " ".join(_text(value).split())


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:  # an old or hand-edited row: the message goes out without its time
        return None
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def _when(notice: Mapping[str, Any], words: Words) -> str:
    starts_at = _instant(notice.get("starts_at"))
    if starts_at is None:
        return ""
    period = _Period(
        publish_at=_instant(notice.get("publish_at")),
        starts_at=starts_at,
        ends_at=_instant(notice.get("ends_at")),
        cancelled_at=_instant(notice.get("cancelled_at")),
        expected_end=_one_line(notice.get("expected_end")),
    )
    return words.period(period)


def _occurrence_when(occurrence: Mapping[str, Any], words: Words) -> str:
    starts_at, ends_at = _instant(occurrence.get("starts_at")), _instant(occurrence.get("ends_at"))
    if starts_at is None or ends_at is None:
        return ""
    return words.occurrence(_Span(starts_at, ends_at))


class _Span(NamedTuple):
    starts_at: datetime
    ends_at: datetime


def _fit(text: str, limit: int, escape: Callable[[str], str]) -> str:
    """`escape(text)`, cut (with an ellipsis) so that the escaped text has at most `limit` characters."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    # Escaping lengthens by a varying amount: find the longest raw prefix that fits once escaped.
    shortest, longest = 0, min(len(text), limit)
    while shortest < longest:
        keep = (shortest + longest + 1) // 2
        if len(escape(text[:keep].rstrip() + "…")) <= limit:
            shortest = keep
        else:
            longest = keep - 1
    return escape(text[:shortest].rstrip() + "…")


# Slack ---------------------------------------------------------------------------------------

_SLACK_CONTROL = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def slack_escape(text: str) -> str:
    """Slack's three control characters as the entities Slack asks for; nothing else changes."""
    return text.translate(_SLACK_CONTROL)


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": _fit(text, limit, slack_escape), "emoji": False}


def slack_body(message: _Message) -> dict[str, Any]:
    """A Block Kit message for an incoming webhook, with `text` for notifications and old clients."""
    labels = message.labels
    header = f"{message.headline}: {message.title}" if message.title else message.headline
    blocks: list[dict[str, Any]] = [{"type": "header", "text": _plain(header, SLACK_HEADER)}]
    if message.summary:
        blocks.append({"type": "section", "text": _plain(message.summary, SLACK_SECTION)})
    facts = [(labels["when"], message.when), (labels["where"], message.where), (labels["reason"], message.reason)]
    fields = [_plain(f"{label}: {value}", SLACK_FIELD) for label, value in facts if value]
    if fields:
        blocks.append({"type": "section", "fields": fields})
    # Our own words and URLs only: the one place mrkdwn (and so a link) is used.
    links = f"<{slack_escape(message.url)}|{labels['open']}>  ·  <{slack_escape(message.map_url)}|{labels['map']}>"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": links}]})
    fallback = " — ".join(part for part in (header, message.when) if part)
    return {"text": _fit(fallback, SLACK_SECTION, slack_escape), "blocks": blocks}


# Teams ---------------------------------------------------------------------------------------

# Inline Markdown: emphasis, code, links and images, autolinks and HTML, entities, escapes,
# and the {{DATE()}}/{{TIME()}} functions of Adaptive Cards.
_MARKDOWN_INLINE = re.compile(r"([\\*_~`\[\]()<>&!{}|])")
# What makes a line a heading, a quote, a list item or a rule when it starts one.
_MARKDOWN_LINE_START = re.compile(r"^(\s*)([#>+\-=]|\d+(?=[.)]))", re.MULTILINE)


def card_escape(text: str) -> str:
    """`text` for an Adaptive Card's Markdown: every character that would format something, escaped."""
    text = _MARKDOWN_INLINE.sub(r"\\\1", text)
    # A list number: escape the dot or bracket after it ("1\. Closed"), the rest: the character itself.
    return _MARKDOWN_LINE_START.sub(_escape_line_start, text)


def _escape_line_start(match: re.Match[str]) -> str:
    indent, marker = match.group(1), match.group(2)
    return f"{indent}{marker}\\" if marker[0].isdigit() else f"{indent}\\{marker}"


_SEVERITY_COLOURS = {"info": "Default", "minor": "Warning", "major": "Attention", "critical": "Attention"}


def _text_block(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def teams_body(message: _Message) -> dict[str, Any]:
    """A Workflows (Power Automate) webhook message carrying one Adaptive Card."""
    labels = message.labels
    body: list[dict[str, Any]] = [
        _text_block(
            _fit(message.headline, TEAMS_TITLE, card_escape),
            size="Medium",
            weight="Bolder",
            color=_SEVERITY_COLOURS.get(message.severity, "Default"),
        )
    ]
    if message.title:
        body.append(_text_block(_fit(message.title, TEAMS_TITLE, card_escape), weight="Bolder"))
    if message.summary:
        body.append(_text_block(_fit(message.summary, TEAMS_TEXT, card_escape)))
    facts = [(labels["when"], message.when), (labels["where"], message.where), (labels["reason"], message.reason)]
    shown = [{"title": label, "value": _fit(value, TEAMS_FACT, card_escape)} for label, value in facts if value]
    if shown:
        body.append({"type": "FactSet", "facts": shown})
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "actions": [
            {"type": "Action.OpenUrl", "title": labels["open"], "url": message.url},
            {"type": "Action.OpenUrl", "title": labels["map"], "url": message.map_url},
        ],
        # Teams shows cards narrow unless asked; a notice reads better full width.
        "msteams": {"width": "Full"},
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }
