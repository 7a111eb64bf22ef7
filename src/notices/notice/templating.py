"""The Jinja2 environment for pages and emails: autoescaped, with time and notice helpers."""

from __future__ import annotations

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from notices.core.config import Settings
from notices.core.resources import templates_dir
from notices.notice.geometry import features_of
from notices.notice.languages import field_label, language_name
from notices.notice.markup import markdown_to_html, renderable_instant
from notices.notice.times import isoformat_site
from notices.notice.wording import Words


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
    words = Words.of_site(settings)
    environment.filters["site_time"] = lambda instant: words.time(instant) if instant else ""
    environment.filters["iso_site"] = lambda instant: (
        isoformat_site(renderable_instant(instant), zone) if instant else ""
    )
    # markdown_to_html sanitises (nh3), so its output may be marked safe. Links
    # are made absolute: the same filter renders emails, which leave the site.
    environment.filters["markdown"] = lambda text: Markup(markdown_to_html(text, base_url=settings.base_url))
    environment.filters["period"] = words.period
    environment.filters["when"] = words.when
    environment.filters["category_labels"] = words.categories
    environment.filters["location_labels"] = words.locations
    environment.globals.update(
        settings=settings,
        category_label=words.category,
        location_label=words.location,
        status_label=words.status,
        # Whether the notice page shows a map (its own shapes or its locations'): emails link to it.
        has_map=lambda notice: bool(features_of(notice, settings)["features"]),
        map_url=lambda notice: settings.absolute_url(f"/notices/{notice.uid}") + "#map",
        language_name=language_name,
        field_label=field_label,
    )
    return environment
