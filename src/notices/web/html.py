"""HTML pages from templates: the one helper every page, form and message goes through."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from notices.core.config import SEVERITIES
from notices.core.i18n import translations
from notices.notice.templating import in_language
from notices.web import csrf
from notices.web.deps import app_context, templates_of
from notices.web.languages import COOKIE, COOKIE_MAX_AGE, alternatives, page_language, to_remember, varies


def translated(request: Request, message: str, **values: str) -> str:
    """A message id (marked with N_ where it is written) in the page's language, `values` filled in."""
    text = translations(page_language(request, app_context(request).settings)).gettext(message)
    return text % values if values else text


def page(
    request: Request,
    template: str,
    status_code: int = 200,
    *,
    cache_control: str | None = "no-store",
    headers: dict[str, str] | None = None,
    **context,
) -> HTMLResponse:
    """The template rendered as a page, with the CSRF cookie set when it rendered a form.

    Pages are `no-store` (forms, personal links, the console); public pages that anyone
    may keep in a cache pass cache_control=None.
    """
    settings = app_context(request).settings
    # The interface in the reader's language (web.languages), with the switch and alternates.
    language = page_language(request, settings)
    context = in_language(language, settings) | alternatives(request, settings, language) | context
    # Called by templates that have a form: pages without one set no cookie.
    context.setdefault("csrf_token", lambda: csrf.form_token(request, settings))
    context.setdefault("severities", SEVERITIES)
    context.setdefault("current_user", getattr(request.state, "user", None))
    html = templates_of(request).get_template(template).render(**context)
    all_headers = ({"Cache-Control": cache_control} if cache_control else {}) | (headers or {})
    if varies(request, settings):
        all_headers["Vary"] = ", ".join(filter(None, [all_headers.get("Vary"), "Accept-Language, Cookie"]))
    response = HTMLResponse(html, status_code=status_code, headers=all_headers)
    chosen = to_remember(request, settings)
    if chosen is not None:  # picked with the switch: the next pages stay in it
        response.set_cookie(
            COOKIE,
            chosen,
            max_age=COOKIE_MAX_AGE,
            path="/",
            samesite="lax",
            httponly=True,
            secure=settings.base_url.startswith("https://"),
        )
    return csrf.set_cookie(request, response, settings)
