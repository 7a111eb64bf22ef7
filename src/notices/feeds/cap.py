"""Notices as OASIS CAP 1.2 alert messages, and the Atom index of current alerts. No queries, no clock.

Each published version of a notice is one CAP message with its own stable identifier: the first
one an Alert, later ones Updates that reference every earlier message, a cancellation a Cancel.
What a message says depends only on its version (urgency and certainty are judged at the time it
was sent), so the same identifier always carries the same content, as alerting hubs assume.

A series says the onset and expiry of one occurrence (under way, else next), which changes at
each occurrence's start and end while the version stays the same. So each such boundary after
a version was published is a message of its own too: an Update, sent at the boundary, with an
identifier derived from the version and the boundary, referencing the version's messages and
the boundary message before it (which superseded the ones before; each of those expired with
its occurrence anyway). A hub thus never keeps an occurrence that is over as the current one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from lxml import etree

from notices.core.config import LANGUAGES, Settings
from notices.core.i18n import N_
from notices.core.models import Notice
from notices.feeds import series
from notices.feeds.atom import EPOCH
from notices.feeds.cap_area import cap_shapes
from notices.notice import recurrence, recurrence_wording
from notices.notice import series as notice_series
from notices.notice.geometry import features_of
from notices.notice.languages import reader_language
from notices.notice.markup import (
    RenderableNotice,
    render_each,
    renderable_instant,
    renderable_notice,
    safe_output_text,
)
from notices.notice.wording import Words

CAP_NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/cap+xml"
# Message identifiers are UUIDs derived from (notice, version): stable forever, unique per sender.
IDENTIFIER_NAMESPACE = uuid.UUID("0c4a7d3e-2f61-4b8e-a1d5-7e9b3c2f8a60")
# CAP categories for this service's categories; anything else a site configures is "Other".
CATEGORIES = {
    "road-closure": "Transport",
    "traffic": "Transport",
    "construction": "Infra",
    "utilities": "Infra",
    "facilities": "Infra",
    "safety": "Safety",
    "event": "Other",
}
SEVERITIES = {"info": "Minor", "minor": "Minor", "major": "Moderate", "critical": "Severe"}
# CAP 1.2 advises headlines of at most 160 characters (text messages, sirens' displays).
HEADLINE_LIMIT = 160
# What to do, in the info block's language (core.i18n); %(url)s is the notice page's map.
INSTRUCTIONS = (
    N_("Follow the signed diversion. The closed stretch and the diversion are on the map: %(url)s"),
    N_("Details: %(url)s"),
)


@dataclass(frozen=True)
class Message:
    """One published version of a notice, or an occurrence boundary of a series since, as a CAP message."""

    version: int
    sent: datetime
    boundary: bool = False  # sent at an occurrence's start or end, not at a publication

    def identifier(self, uid: str) -> str:
        if not self.boundary:
            return identifier(uid, self.version)
        at = self.sent.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        return f"urn:uuid:{uuid.uuid5(IDENTIFIER_NAMESPACE, f'{uid}/v{self.version}/{at}')}"


def identifier(uid: str, version: int) -> str:
    return f"urn:uuid:{uuid.uuid5(IDENTIFIER_NAMESPACE, f'{uid}/v{version}')}"


def sender(settings: Settings) -> str:
    return settings.mail_from


def cap_time(instant: datetime, settings: Settings) -> str:
    """CAP's date-time: seconds and a numeric offset (the schema refuses 'Z' and fractions)."""
    return renderable_instant(instant).astimezone(settings.timezone).isoformat(timespec="seconds")


def messages(notice: Notice, now: datetime | None = None) -> list[Message]:
    """The versions readers saw, oldest first: a version counts if it was published before the next one.

    A draft edited five times before publication is one message, not six. With `now`, a series'
    latest occurrence boundary since its current version was published is the last message, after
    the boundary before it (if also since then): the ones in between are superseded by those.
    Without `now`, the versions only.
    """
    revisions = sorted(notice.revisions, key=lambda revision: revision.version)
    found = []
    for index, revision in enumerate(revisions):
        raw = revision.snapshot.get("publish_at")
        if not raw:
            continue
        published = datetime.fromisoformat(raw)
        superseded = revisions[index + 1].changed_at if index + 1 < len(revisions) else None
        if superseded is None or published < superseded:
            found.append(Message(revision.version, max(revision.changed_at, published)))
    if not found or found[-1].version != notice.version:  # rows from before revisions were kept
        found.append(Message(notice.version, max(notice.updated_at, notice.publish_at or notice.updated_at)))
    if now is not None and recurrence.is_recurring(notice) and notice.cancelled_at is None:
        found.extend(_boundary_messages(notice, found[-1], now))
    return found


def _boundary_messages(notice: Notice, published: Message, now: datetime) -> list[Message]:
    latest = notice_series.last_boundary(notice, now)
    if latest is None or latest <= published.sent:
        return []
    before = notice_series.last_boundary(notice, latest - timedelta(microseconds=1))
    at = [before] if before is not None and before > published.sent else []
    return [Message(published.version, instant, boundary=True) for instant in [*at, latest]]


def build_alert(notice: Notice, *, settings: Settings, now: datetime | None = None) -> bytes:
    """The notice's current CAP message (the notice must have been published): its current
    version's, or for a series with `now`, its latest occurrence boundary's since."""
    history = messages(notice, now)
    current = history[-1]
    view = renderable_notice(notice, settings)
    alert = etree.Element(f"{{{CAP_NAMESPACE}}}alert", nsmap={None: CAP_NAMESPACE})
    _add(alert, "identifier", current.identifier(view.uid))
    _add(alert, "sender", sender(settings))
    _add(alert, "sent", cap_time(current.sent, settings))
    _add(alert, "status", "Actual")
    cancelled = view.cancelled_at is not None
    _add(alert, "msgType", "Cancel" if cancelled else "Alert" if len(history) == 1 else "Update")
    _add(alert, "scope", "Public")
    if cancelled:
        _add(alert, "note", view.cancel_reason or "Cancelled.")
    if len(history) > 1:
        earlier = history[:-1]
        _add(
            alert,
            "references",
            " ".join(f"{sender(settings)},{m.identifier(view.uid)},{cap_time(m.sent, settings)}" for m in earlier),
        )
    if not cancelled:
        features = features_of(notice, settings)["features"]
        languages = [settings.language, *(language for language in LANGUAGES if language != settings.language)]
        for language in languages:
            # One info block per language, each with the notice text in it (a missing translation
            # is the default language's text, marked; a language the site does not have gets it unmarked).
            in_language = renderable_notice(notice, settings, language)
            _add_info(alert, in_language, features, current.sent, settings=settings, language=language)
    return bytes(etree.tostring(alert, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _add(parent: etree._Element, name: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{CAP_NAMESPACE}}}{name}")
    element.text = text
    return element


def _add_info(
    alert: etree._Element,
    view: RenderableNotice,
    features: list[dict[str, Any]],
    sent: datetime,
    *,
    settings: Settings,
    language: str,
) -> None:
    words = Words(language, settings)
    # A series: onset and expires are those of the occurrence under way or next when the message
    # was sent (the same identifier must always carry the same content); the description has the rule.
    rule = recurrence_wording.summary(view, words) if recurrence.is_recurring(view) else ""
    view = series.at_occurrence(view, sent)
    in_effect = view.starts_at <= sent
    info = etree.SubElement(alert, f"{{{CAP_NAMESPACE}}}info")
    _add(info, "language", language)
    _add(info, "category", CATEGORIES.get(view.category, "Other"))
    _add(info, "event", words.category(view.category))
    _add(info, "urgency", "Immediate" if in_effect else "Future")
    _add(info, "severity", SEVERITIES.get(view.severity, "Unknown"))
    _add(info, "certainty", "Observed" if in_effect else "Likely")
    _add(info, "effective", cap_time(sent, settings))
    _add(info, "onset", cap_time(view.starts_at, settings))
    if view.ends_at is not None:  # open-ended: no expiry ("until further notice")
        _add(info, "expires", cap_time(view.ends_at, settings))
    _add(info, "senderName", settings.site_name)
    _add(info, "headline", _headline(view.title))
    _add(info, "description", _description(view, words, rule))
    has_diversion = any(feature["properties"].get("role") == "diversion" for feature in features)
    with_diversion, plain = INSTRUCTIONS
    _add(info, "instruction", words.gettext(with_diversion if has_diversion else plain) % {"url": f"{view.url}#map"})
    _add(info, "web", view.url)
    area = etree.SubElement(info, f"{{{CAP_NAMESPACE}}}area")
    places = [words.location(key) for key in view.locations]
    where = "; ".join(part for part in (", ".join(places), view.location_detail) if part)
    _add(area, "areaDesc", where or settings.site_name)
    polygons, circles = cap_shapes(features)
    for polygon in polygons:
        _add(area, "polygon", polygon)
    for circle in circles:
        _add(area, "circle", circle)


def _headline(title: str) -> str:
    return title if len(title) <= HEADLINE_LIMIT else title[: HEADLINE_LIMIT - 1].rstrip() + "…"


def _description(view: RenderableNotice, words: Words, rule: str = "") -> str:
    parts = [view.summary, words.period(view), rule, view.body_text]
    return "\n\n".join(part for part in parts if part) or view.title


def build_cap_index(
    notices: Sequence[Notice],
    *,
    settings: Settings,
    self_url: str,
    updated: datetime | None,
    skipped: list[tuple[str, str]] | None = None,
    language: str | None = None,
    now: datetime | None = None,
) -> bytes:
    """An Atom feed (RFC 4287) with one entry per current CAP message, linking to the message itself.

    Written with lxml rather than feedgen: feedgen drops the `type` of entry links, and alerting
    hubs find the CAP documents by `type="application/cap+xml"`. With `now`, a series' entry is
    its latest occurrence boundary's message, as /cap/<uid>.xml serves it.
    """
    language = reader_language(language, settings)
    feed = etree.Element(f"{{{ATOM_NAMESPACE}}}feed", nsmap={None: ATOM_NAMESPACE})
    feed.set("{http://www.w3.org/XML/1998/namespace}lang", language)
    _atom(feed, "id", safe_output_text(self_url))
    _atom(feed, "title", safe_output_text(f"{settings.site_name}: CAP alerts"))
    _atom(feed, "updated", _atom_time(updated or EPOCH))
    author = _atom(feed, "author")
    _atom(author, "name", safe_output_text(settings.site_name))
    _atom(feed, "link", href=safe_output_text(self_url), rel="self", type="application/atom+xml")
    _atom(feed, "link", href=settings.absolute_url("/"), rel="alternate", type="text/html")

    def entry(notice: Notice) -> etree._Element:
        view, current = renderable_notice(notice, settings, language), messages(notice, now)[-1]
        item = etree.Element(f"{{{ATOM_NAMESPACE}}}entry")
        _atom(item, "id", current.identifier(view.uid))
        _atom(item, "title", _headline(view.title))
        _atom(item, "updated", _atom_time(current.sent))
        _atom(item, "summary", view.summary or view.title)
        _atom(item, "link", href=settings.absolute_url(f"/cap/{view.uid}.xml"), rel="alternate", type=MEDIA_TYPE)
        _atom(item, "link", href=view.url, rel="related", type="text/html")
        return item

    for item in render_each(notices, entry, describe=lambda notice: f"notice {notice.uid}", skipped=skipped):
        feed.append(item)
    return bytes(etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _atom(parent: etree._Element, name: str, text: str | None = None, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ATOM_NAMESPACE}}}{name}", attributes)
    element.text = text
    return element


def _atom_time(instant: datetime) -> str:
    return renderable_instant(instant).astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
