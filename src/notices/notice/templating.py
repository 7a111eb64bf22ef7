"""The Jinja2 environment for pages and emails: autoescaped, with time and notice helpers."""

from __future__ import annotations

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from notices.core.config import Settings
from notices.core.resources import templates_dir
from notices.notice.markup import markdown_to_html, renderable_instant
from notices.notice.times import format_site, isoformat_site
from notices.notice.wording import STATUS_LABELS, period, when_phrase


def make_environment(settings: Settings) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(str(templates_dir())),
        autoescape=select_autoescape(["html", "xml"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    zone = settings.timezone
    # renderable_instant: rows older than input bounds may hold instants that overflow in a zone shift.
    environment.filters["site_time"] = lambda instant, pattern="%a %-d %b %Y %H:%M": (
        format_site(renderable_instant(instant), zone, pattern) if instant else ""
    )
    environment.filters["iso_site"] = lambda instant: (
        isoformat_site(renderable_instant(instant), zone) if instant else ""
    )
    # markdown_to_html sanitises (nh3), so its output may be marked safe. Links
    # are made absolute: the same filter renders emails, which leave the site.
    environment.filters["markdown"] = lambda text: Markup(markdown_to_html(text, base_url=settings.base_url))
    environment.filters["period"] = lambda notice: period(notice, zone)
    environment.filters["when"] = lambda notice, now: when_phrase(notice, zone, now)
    environment.filters["category_labels"] = lambda keys: ", ".join(settings.categories.get(key, key) for key in keys)
    environment.filters["location_labels"] = lambda keys: ", ".join(settings.locations.get(key, key) for key in keys)
    environment.globals.update(
        settings=settings,
        category_label=lambda key: settings.categories.get(key, key),
        location_label=lambda key: settings.locations.get(key, key),
        status_label=lambda status: STATUS_LABELS[status],
    )
    return environment
