"""The Jinja2 environment for pages and emails: autoescaped, with time and notice helpers, in any language.

Interface texts go through Jinja's i18n extension (newstyle gettext: `{% trans %}`, `_()`,
`ngettext()` with named placeholders, escaped like any other value). The environment's own
gettext is the site default language's; a rendering for a reader in another language passes
`in_language(language, settings)` into its context, which overrides both the gettext functions
and the `words` the helpers (period, status_label, ...) read.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup

from notices.core.config import Settings
from notices.core.i18n import translate, translations
from notices.core.resources import templates_dir
from notices.notice import recurrence, recurrence_wording
from notices.notice.attachments.links import attachments_of, human_size
from notices.notice.geometry import shapes_of
from notices.notice.languages import field_label, language_name
from notices.notice.markup import markdown_to_html, renderable_instant, safe_output_text
from notices.notice.times import isoformat_site
from notices.notice.wording import Words

# A notice page shows the same body to every reader until it is edited, and an alert or a digest
# the same body to every subscriber: the last bodies rendered are kept, by their text and the site
# URL their links resolve against (markdown_to_html depends on nothing else). Only bodies of up to
# _CACHED_BODY_CHARS characters (a long notice is about 2,000): rendered, a body grows up to ten-fold
# (bare links and e-mail addresses become anchors), so the cache holds 11 MB at the very most.
_CACHED_BODIES = 256
_CACHED_BODY_CHARS = 4_000


def _body_html(text: str, base_url: str) -> str:
    if len(text) > _CACHED_BODY_CHARS:
        return markdown_to_html(text, base_url=base_url)
    return _kept_body_html(text, base_url)


@functools.lru_cache(maxsize=_CACHED_BODIES)
def _kept_body_html(text: str, base_url: str) -> str:
    return markdown_to_html(text, base_url=base_url)


def gettext_functions(language: str) -> dict[str, Callable[..., str]]:
    """gettext and ngettext as Jinja's newstyle i18n calls them: `%(name)s` placeholders filled from keywords.

    The translated text is markup when the template autoescapes, so the values put into it are escaped.
    """
    catalogue = translations(language)

    @pass_context
    def gettext(context: Context, message: str, /, **variables: Any) -> str:
        text = catalogue.gettext(message)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, count: int, /, **variables: Any) -> str:
        variables.setdefault("num", count)
        text = catalogue.ngettext(singular, plural, count)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    @pass_context
    def pgettext(context: Context, where: str, message: str, /, **variables: Any) -> str:
        text = catalogue.pgettext(where, message)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    def translated(text: object) -> str:
        """An error's problem (a LazyText raised by validation) in this language; other text as it is."""
        return translate(text, language)

    return {"gettext": gettext, "_": gettext, "ngettext": ngettext, "pgettext": pgettext, "translated": translated}


def in_language(language: str, settings: Settings) -> dict[str, Any]:
    """What a template's context needs to render in `language`: its words and its gettext functions."""
    return {"words": Words(language, settings), **gettext_functions(language)}


def _words(context: Context) -> Words:
    words = context.get("words")
    return words if isinstance(words, Words) else cast(Words, context.environment.globals["site_words"])


class _Isolated(str):
    """Text between first-strong isolate marks (U+2068 ... U+2069), for where no markup can isolate
    it (a page's <title>): the filter `isolated` makes it of filtered text, and _filtered keeps the
    marks, which are bidi controls of the template's own."""


class _FilteredHTML(Markup):
    """A body's HTML (markdown_to_html), which went through the output filter as it was made: not
    scanned again each time a page or message prints it (a long body is most of a page)."""


def _isolated(text: str) -> _Isolated:
    return _Isolated(f"\u2068{safe_output_text(text)}\u2069")


def _filtered(value: Any) -> Any:
    """Every value a page or a message prints, through the output filter (safe_output_text): text a
    row kept from before input was checked (a hand-made SQL fix, old data) cannot put a control,
    bidi or noncharacter in a page, as it cannot in a feed. What the filter removes is no markup:
    HTML marked safe stays safe."""
    if not isinstance(value, str) or type(value) in (_Isolated, _FilteredHTML):
        return value
    filtered = safe_output_text(value)
    if filtered is value:  # (most text: printable, see core.safe_text)
        return value
    return Markup(filtered) if isinstance(value, Markup) else filtered


def make_environment(settings: Settings) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(str(templates_dir())),
        autoescape=select_autoescape(["html", "xml"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
        finalize=_filtered,
    )
    # As babel.cfg extracts them: a {% trans %} block's whitespace is collapsed, so line breaks in
    # the template do not become part of the message id.
    environment.policies["ext.i18n.trimmed"] = True
    environment.newstyle_gettext = True  # type: ignore[attr-defined]
    zone = settings.timezone
    site = in_language(settings.language, settings)
    environment.globals.update({name: value for name, value in site.items() if name != "words"})

    @pass_context
    def site_time(context: Context, instant: datetime | None) -> str:
        return _words(context).time(instant) if instant else ""

    environment.filters["site_time"] = site_time
    environment.filters["iso_site"] = lambda instant: (
        isoformat_site(renderable_instant(instant), zone) if instant else ""
    )
    # markdown_to_html sanitises (nh3), so its output may be marked safe. Links
    # are made absolute: the same filter renders emails, which leave the site.
    environment.filters["markdown"] = lambda text: _FilteredHTML(_body_html(text, settings.base_url))
    environment.filters["period"] = pass_context(lambda context, notice: _words(context).period(notice))
    environment.filters["when"] = pass_context(lambda context, notice, now: _words(context).when(notice, now))
    environment.filters["category_labels"] = pass_context(lambda context, keys: _words(context).categories(keys))
    environment.filters["location_labels"] = pass_context(lambda context, keys: _words(context).locations(keys))
    environment.filters["attachments"] = attachments_of
    environment.filters["file_size"] = human_size
    environment.filters["isolated"] = _isolated

    @pass_context
    def repeat_summary(context: Context, notice: Any, now: datetime | None = None) -> str:
        """A series' rule in words ('every first Tuesday, 07:00–09:00, until 30 June 2027'); '' for a single notice."""
        return recurrence_wording.summary(notice, _words(context), now) if recurrence.is_recurring(notice) else ""

    @pass_context
    def coming_occurrences(context: Context, notice: Any, now: datetime, limit: int = 5) -> list[dict[str, Any]]:
        """A series' occurrence under way and the next ones, cancelled ones included: span, cancelled, reason, moved."""
        if not recurrence.is_recurring(notice):
            return []
        words = _words(context)
        return [
            {
                "span": recurrence_wording.occurrence_span(occurrence, words, now),
                "starts_at": occurrence.starts_at,
                "cancelled": occurrence.cancelled,
                "reason": safe_output_text(occurrence.cancel_reason),
                "moved": occurrence.moved,
            }
            for occurrence in recurrence_wording.coming(notice, now, limit)
        ]

    def next_occurrence(notice: Any, now: datetime) -> recurrence.Occurrence | None:
        """A series' occurrence under way at `now`, else its next one; None for a single notice."""
        return recurrence.next_occurrence(notice, now) if recurrence.is_recurring(notice) else None

    environment.globals.update(
        next_occurrence=next_occurrence,
        repeat_summary=repeat_summary,
        coming_occurrences=coming_occurrences,
        settings=settings,
        site_words=site["words"],
        category_label=pass_context(lambda context, key: _words(context).category(key)),
        location_label=pass_context(lambda context, key: _words(context).location(key)),
        status_label=pass_context(lambda context, status: _words(context).status(status)),
        severity_label=pass_context(lambda context, severity: _words(context).severity(severity)),
        # Whether the notice page shows a map (its own shapes or its locations'): emails link to it.
        has_map=lambda notice: bool(shapes_of(notice, settings)),
        map_url=lambda notice: settings.absolute_url(f"/notices/{notice.uid}") + "#map",
        language_name=language_name,
        field_label=field_label,
    )
    return environment


# The environments mail_environment() made, newest last, by the id of the Settings object they are
# for. The entry holds that object, so its id cannot be reused while it is here.
_MAIL_ENVIRONMENTS: OrderedDict[int, tuple[Settings, Environment]] = OrderedDict()
_MAIL_ENVIRONMENTS_KEPT = 8
_MAIL_ENVIRONMENTS_LOCK = threading.Lock()


def mail_environment(settings: Settings) -> Environment:
    """make_environment(settings), made once for each Settings object and kept for the next send run.

    A run compiles every email template it renders (Jinja keeps compiled templates in their
    environment): at a few thousand digests that was a sixth of the time spent composing them,
    every run. Keyed by the object, not its contents: another Settings (a changed setting, a test's
    own) gets an environment of its own. The templates are still read again when their files
    change (Jinja's auto_reload). Shared by concurrent runs, so not to be changed by its users
    (the web app, which adds globals to its environment, makes its own).
    """
    with _MAIL_ENVIRONMENTS_LOCK:
        kept = _MAIL_ENVIRONMENTS.get(id(settings))
        if kept is not None and kept[0] is settings:
            _MAIL_ENVIRONMENTS.move_to_end(id(settings))
            return kept[1]
        environment = make_environment(settings)
        _MAIL_ENVIRONMENTS[id(settings)] = (settings, environment)
        while len(_MAIL_ENVIRONMENTS) > _MAIL_ENVIRONMENTS_KEPT:
            _MAIL_ENVIRONMENTS.popitem(last=False)
        return environment
