"""Which language a page is in: `?lang=`, then the reader's earlier choice (a cookie), then the
browser's Accept-Language, then the site default.

Only the site's languages (`[site] languages`) are ever chosen. Babel matches a browser's
preference to them (`nl-BE` finds `nl`). A language picked with the switch (`?lang=`) is kept
in a cookie, so the next page (a link in the header, a form's redirect) stays in it. A page
chosen without `?lang=` differs per browser, so such responses carry
`Vary: Accept-Language, Cookie` (see `varies`).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from babel import negotiate_locale
from fastapi import Request

from notices.core.config import Settings
from notices.notice.languages import language_name

PARAMETER = "lang"
# The reader's choice from the language switch; a year, like any site's language preference.
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def requested(request: Request, settings: Settings) -> str | None:
    """The language `?lang=` asks for, when it is one of the site's; otherwise None."""
    asked = request.query_params.get(PARAMETER, "").strip().lower()
    return asked if asked in settings.languages else None


def remembered(request: Request, settings: Settings) -> str | None:
    """The language the reader chose earlier with the switch (the cookie), when the site has it."""
    chosen = request.cookies.get(COOKIE, "").strip().lower()
    return chosen if chosen in settings.languages else None


def to_remember(request: Request, settings: Settings) -> str | None:
    """The language to keep in the cookie: a `?lang=` choice the cookie does not hold yet."""
    asked = requested(request, settings)
    return asked if asked is not None and asked != remembered(request, settings) else None


def preferred(header: str) -> list[str]:
    """The languages of an Accept-Language header, most wanted first (RFC 9110 12.5.4); q=0 means "not this"."""
    weighted = []
    for position, item in enumerate(header.split(",")):
        tag, _, parameters = item.strip().partition(";")
        quality = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(header: str, languages: Sequence[str]) -> str | None:
    """The first of the browser's languages the site has, matched by Babel; None when none fits."""
    return negotiate_locale(preferred(header), list(languages), sep="-")


def page_language(request: Request, settings: Settings) -> str:
    """The language a page is shown in: `?lang=`, then the cookie, then Accept-Language, then the site default."""
    return (
        requested(request, settings)
        or remembered(request, settings)
        or negotiate(request.headers.get("accept-language", ""), settings.languages)
        or settings.language
    )


def api_language(request: Request, settings: Settings) -> str:
    """The language of the API's human texts (error messages): `?lang=`, then Accept-Language, then the
    site default. No cookie: the switch that sets it is the pages', and API clients rarely keep cookies."""
    return (
        requested(request, settings)
        or negotiate(request.headers.get("accept-language", ""), settings.languages)
        or settings.language
    )


def varies(request: Request, settings: Settings) -> bool:
    """Whether the page's language came from (or could have come from) the cookie or Accept-Language."""
    return requested(request, settings) is None and len(settings.languages) > 1


def url_in(request: Request, language: str | None) -> str:
    """This page's path and query with `?lang=` set to `language` (None: without it)."""
    query = [(key, value) for key, value in request.query_params.multi_items() if key != PARAMETER]
    if language is not None:
        query.append((PARAMETER, language))
    return request.url.path + (f"?{urlencode(query)}" if query else "")


def alternatives(request: Request, settings: Settings, language: str) -> dict[str, object]:
    """What base.html shows: the language switch and the hreflang alternates (absolute URLs)."""
    return {
        "language": language,
        "lang_param": requested(request, settings),  # kept by forms that reload the page (filters)
        "language_choices": [
            {"code": code, "name": language_name(code), "url": url_in(request, code), "current": code == language}
            for code in settings.languages
        ],
        "alternates": [(code, settings.absolute_url(url_in(request, code))) for code in settings.languages]
        + [("x-default", settings.absolute_url(url_in(request, None)))],
    }
