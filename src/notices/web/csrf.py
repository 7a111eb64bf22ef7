"""CSRF protection for forms: a double-submit cookie, signed, plus an Origin check.

The cookie holds a random value; every form carries an HMAC of it. A page
on another site can neither read the cookie nor compute the HMAC, and a
browser tells us where a POST came from in its Origin header.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TypeVar
from urllib.parse import urlsplit

from fastapi import HTTPException, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from notices.core.config import Settings

R = TypeVar("R", bound=Response)
COOKIE = "notices_csrf"
FIELD = "csrf_token"


def _sign(secret_key: str, value: str) -> str:
    return hmac.new(secret_key.encode(), value.encode(), hashlib.sha256).hexdigest()


def form_token(request: Request, settings: Settings) -> str:
    """The hidden-field value for a form on this response (see set_cookie)."""
    value = request.cookies.get(COOKIE) or getattr(request.state, "new_csrf_cookie", None)
    if not value:
        value = secrets.token_urlsafe(32)
        request.state.new_csrf_cookie = value
    return _sign(settings.secret_key, value)


def set_cookie(request: Request, response: R, settings: Settings) -> R:
    """Send the cookie that form_token made up for this response, if it made one."""
    value = getattr(request.state, "new_csrf_cookie", None)
    if value:
        secure = settings.base_url.startswith("https://")
        response.set_cookie(COOKIE, value, httponly=True, samesite="lax", secure=secure, path="/")
    return response


def _origin_allowed(request: Request, settings: Settings) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        # Old browsers send no Origin; the token still protects them. "null"
        # comes from sandboxed or privacy-stripped contexts: refuse it.
        return origin is None
    allowed = {_origin(settings.base_url), _origin(str(request.base_url))}
    return _origin(origin) in allowed


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


async def verify(request: Request, settings: Settings) -> FormData:
    """The submitted form, or 403 when the token is missing or wrong or the origin is foreign.

    Routes get it as the CsrfForm dependency (notices.web.deps).
    """
    form = await request.form()
    check(request, settings, form.get(FIELD))
    return form


def check_origin(request: Request, settings: Settings) -> None:
    """403 for a form sent from another site (before its body is read: web.console.attachments)."""
    if not _origin_allowed(request, settings):
        raise HTTPException(status_code=403, detail="This form was sent from another site.")


def check(request: Request, settings: Settings, submitted: object) -> None:
    """403 unless the origin is ours and `submitted` is the token for this browser's cookie
    (for forms read otherwise than with request.form(): web.uploads)."""
    check_origin(request, settings)
    cookie = request.cookies.get(COOKIE)
    if (
        not cookie
        or not isinstance(submitted, str)
        or not hmac.compare_digest(submitted, _sign(settings.secret_key, cookie))
    ):
        raise HTTPException(
            status_code=403, detail="The form expired or was not sent from this site; reload the page and try again."
        )
