"""HTML responses from templates, with the CSRF cookie set when a form was rendered."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from notices.core.config import SEVERITIES
from notices.web import csrf


def page(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    # Called by templates that have a form: pages without one set no cookie.
    context.setdefault("csrf_token", lambda: csrf.form_token(request))
    context.setdefault("severities", SEVERITIES)
    context.setdefault("current_user", getattr(request.state, "user", None))
    html = request.app.state.templates.get_template(template).render(**context)
    return csrf.set_cookie(request, HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"}))
