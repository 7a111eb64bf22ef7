"""Console login: session cookie (HttpOnly, SameSite=Lax, Secure on https), rotated at login.

A successful login also leaves a signed known-browser cookie for that account: its later
attempts count only against that browser's own allowance (accounts.authenticate), so no
number of strangers guessing the account's password can lock its owner out there.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadData, URLSafeTimedSerializer

from notices.core import config
from notices.core.errors import InvalidField
from notices.core.i18n import N_
from notices.people import accounts, audit
from notices.people.addresses import normalise_email
from notices.web import csrf
from notices.web.deps import SESSION_COOKIE, ClientAddress, ConsoleUser, CsrfForm, Now, Settings, WriteSession
from notices.web.html import page, translated

__all__ = ["SESSION_COOKIE", "router"]

DEVICE_COOKIE = "notices_device"
DEVICE_LIFETIME = timedelta(days=180)
router = APIRouter(prefix="/admin", tags=["console"], include_in_schema=False)


def _safe_next(target: object) -> str:
    # Only our own console pages: never an open redirect to another site. Control characters
    # (CR, LF, NUL) cannot go into a Location header.
    if isinstance(target, str) and target.startswith("/admin") and not target.startswith("//") and target.isprintable():
        return target
    return "/admin"


def _devices(settings: config.Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt="notices.login-device")


def _account_key(address: str) -> str:
    # The cookie names the account by a digest, not by its address.
    return hashlib.sha256(address.encode()).hexdigest()[:32]


def known_device(request: Request, settings: config.Settings, email: str) -> str | None:
    """The browser's id if its known-browser cookie was issued for this account, else None."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        account, device = _devices(settings).loads(raw, max_age=int(DEVICE_LIFETIME.total_seconds()))
        address = normalise_email(email)
    except (BadData, InvalidField, TypeError, ValueError):
        return None
    return device if account == _account_key(address) and isinstance(device, str) else None


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    return page(request, "admin/login.html", next=_safe_next(next), email="")


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request, form: CsrfForm, session: WriteSession, settings: Settings, now: Now, client: ClientAddress
) -> Response:
    # A plain def: checking the password (argon2) takes a quarter of a second of CPU.
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    target = _safe_next(form.get("next"))
    if "\x00" in email:
        # No address holds a NUL, and PostgreSQL cannot even look one up.
        return page(
            request,
            "admin/login.html",
            400,
            next=target,
            email=email.replace("\x00", ""),
            error=translated(request, N_("Please check the email: it contains a NUL character.")),
        )
    device = known_device(request, settings, email)
    try:
        with session.begin():
            user = accounts.authenticate(session, email=email, password=password, client=client, now=now, device=device)
            if user is not None:
                raw = accounts.start_session(session, user, now=now)
                audit.record(session, actor=user.email, action="login", now=now)
                account = _account_key(user.email)
    except accounts.LoginThrottled:
        return page(
            request,
            "admin/login.html",
            429,
            next=target,
            email=email,
            error=translated(request, N_("Too many attempts. Wait a quarter of an hour and try again.")),
        )
    if user is None:
        # One message for a wrong email and a wrong password alike.
        error = translated(request, N_("Wrong email or password."))
        return page(request, "admin/login.html", 401, next=target, email=email, error=error)
    response = RedirectResponse(target, status_code=303)
    secure = settings.base_url.startswith("https://")
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
        max_age=int(accounts.SESSION_LIFETIME.total_seconds()),
    )
    # Only the login form reads it, so it goes to nothing else.
    response.set_cookie(
        DEVICE_COOKIE,
        _devices(settings).dumps([account, device or secrets.token_urlsafe(12)]),
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/admin/login",
        max_age=int(DEVICE_LIFETIME.total_seconds()),
    )
    # A new CSRF secret with the new session, like the session id itself.
    response.delete_cookie(csrf.COOKIE, path="/")
    return response


@router.post("/logout")
def logout(request: Request, form: CsrfForm, user: ConsoleUser, session: WriteSession, now: Now) -> Response:
    with session.begin():
        accounts.end_session(session, request.cookies.get(SESSION_COOKIE))
        if user is not None:
            audit.record(session, actor=user.email, action="logout", now=now)
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
