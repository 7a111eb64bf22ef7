"""Subscription pages: sign-up, confirmation, the preference centre and unsubscribing.

Links in emails only ever show a page; changing anything takes a POST, so
mail scanners that follow links change nothing. The unsubscribe POST works
without cookies (RFC 8058 one-click), authorised by the signed token alone.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from notices.core.errors import InvalidField
from notices.core.models import Subscriber
from notices.core.states import LinkPurpose, SubscriberState
from notices.mail import subscriptions
from notices.people.addresses import normalise_email
from notices.people.link_tokens import InvalidToken, LinkSigner
from notices.web import csrf
from notices.web.html import page as render_page

router = APIRouter(tags=["subscriptions"], include_in_schema=False)


def page(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    return render_page(request, template, status_code, frequencies=subscriptions.FREQUENCIES, **context)


def message(request: Request, title: str, text: str, status_code: int = 200, **extra) -> HTMLResponse:
    return page(request, "web/message.html", status_code, title=title, text=text, **extra)


def _preferences_from_form(form, settings) -> dict:
    return {
        "frequency": form.get("frequency"),
        "language": form.get("language"),
        "severity": form.get("severity") or None,
        "categories": form.getlist("categories"),
        "locations": form.getlist("locations"),
    }


def _nudge_sender(request: Request) -> None:
    scheduler = getattr(request.app.state, "scheduler", None)
    if scheduler is not None:
        scheduler.send_soon()


@router.get("/subscribe", response_class=HTMLResponse)
def subscribe_form(request: Request) -> HTMLResponse:
    return page(
        request,
        "web/subscribe.html",
        values={"frequency": "daily", "language": request.app.state.ctx.settings.language},
    )


@router.post("/subscribe", response_class=HTMLResponse)
async def subscribe(request: Request) -> HTMLResponse:
    form = await csrf.verify(request)
    ctx = request.app.state.ctx
    raw = _preferences_from_form(form, ctx.settings)
    # Shown again in the form: without NULs, which no HTML may hold (the error names the field).
    values = {**raw, "email": str(form.get("email", "")).replace("\x00", "")}
    try:
        email = normalise_email(form.get("email"))
        preferences = subscriptions.parse_preferences(raw, ctx.settings)
    except InvalidField as error:
        return page(request, "web/subscribe.html", 400, values=values, error=error)
    now = ctx.clock.now()
    client = request.client.host if request.client else "unknown"
    try:
        with ctx.db.writing() as session, session.begin():
            subscriptions.sign_up(
                session, email=email, preferences=preferences, client=client, now=now, settings=ctx.settings
            )
    except subscriptions.RateLimited:
        return message(request, "Too many attempts", "Please wait an hour before you try again.", 429)
    _nudge_sender(request)
    return message(
        request,
        "Check your inbox",
        f"If {email} can receive notices, an email is on its way. Open the link in it to confirm "
        "(or to change an existing subscription). Nothing is sent before you confirm.",
    )


def _subscriber(request: Request, purpose: str, token: str) -> Subscriber:
    ctx = request.app.state.ctx
    max_age = ctx.settings.confirm_within if purpose == LinkPurpose.CONFIRM else None
    subscriber_id, generation = LinkSigner(ctx.settings.secret_key).verify(purpose, token, max_age=max_age)
    with ctx.db.session() as session:
        subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None or subscriber.token_generation != generation:
        raise InvalidToken("this link is no longer valid")
    return subscriber


def _bad_link(request: Request, error: InvalidToken) -> HTMLResponse:
    hint = "Sign up again to get a new one." if error.expired else "Check that you copied the whole link."
    return message(request, "This link does not work", f"{str(error).capitalize()}. {hint}", 400, show_subscribe=True)


def _link_page(request: Request, purpose: str, token: str, template: str, **context) -> HTMLResponse:
    """What a link from an email shows: a page (with a button to act), or why the link fails."""
    try:
        subscriber = _subscriber(request, purpose, token)
    except InvalidToken as error:
        return _bad_link(request, error)
    extra = {name: make(subscriber) for name, make in context.items()}
    return page(request, template, subscriber=subscriber, token=token, **extra)


@router.get("/subscribe/confirm/{token}", response_class=HTMLResponse)
def confirm_page(request: Request, token: str) -> HTMLResponse:
    return _link_page(request, LinkPurpose.CONFIRM, token, "web/confirm.html")


@router.post("/subscribe/confirm/{token}", response_class=HTMLResponse)
async def confirm(request: Request, token: str) -> HTMLResponse:
    await csrf.verify(request)
    ctx = request.app.state.ctx
    try:
        subscriber = _subscriber(request, LinkPurpose.CONFIRM, token)
        with ctx.db.writing() as session, session.begin():
            subscriptions.confirm(session, session.get(Subscriber, subscriber.id), now=ctx.clock.now())
    except InvalidToken as error:
        return _bad_link(request, error)
    except InvalidField as error:
        return message(request, "Subscription ended", error.problem.capitalize() + ".", 400, show_subscribe=True)
    return message(
        request,
        "You are subscribed",
        f"{subscriber.email} will receive notices. "
        "Every email has a link to change your preferences or to unsubscribe.",
    )


@router.get("/preferences/{token}", response_class=HTMLResponse)
def preferences_page(request: Request, token: str) -> HTMLResponse:
    return _link_page(request, LinkPurpose.MANAGE, token, "web/preferences.html", values=_values_of)


def _values_of(subscriber: Subscriber) -> dict:
    return {
        "email": subscriber.email,
        "frequency": subscriber.frequency,
        "language": subscriber.language,
        "severity": subscriber.min_severity,
        "categories": subscriber.categories or [],
        "locations": subscriber.locations or [],
    }


@router.post("/preferences/{token}", response_class=HTMLResponse)
async def save_preferences(request: Request, token: str) -> HTMLResponse:
    form = await csrf.verify(request)
    ctx = request.app.state.ctx
    try:
        subscriber = _subscriber(request, LinkPurpose.MANAGE, token)
    except InvalidToken as error:
        return _bad_link(request, error)
    raw = _preferences_from_form(form, ctx.settings)
    try:
        preferences = subscriptions.parse_preferences(raw, ctx.settings)
    except InvalidField as error:
        return page(
            request,
            "web/preferences.html",
            400,
            subscriber=subscriber,
            token=token,
            values={**raw, "email": subscriber.email},
            error=error,
        )
    with ctx.db.writing() as session, session.begin():
        current = session.get(Subscriber, subscriber.id)
        if current.state != SubscriberState.CONFIRMED:
            return message(
                request,
                "Not subscribed",
                "This address is not subscribed any more; sign up again.",
                400,
                show_subscribe=True,
            )
        subscriptions.update_preferences(session, current, preferences, now=ctx.clock.now())
        saved = _values_of(current)
    return page(request, "web/preferences.html", subscriber=subscriber, token=token, values=saved, saved=True)


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_page(request: Request, token: str) -> HTMLResponse:
    return _link_page(request, "unsubscribe", token, "web/unsubscribe.html")


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe(request: Request, token: str) -> HTMLResponse:
    """One-click unsubscribe (RFC 8058): no cookies, no CSRF token, 200 and no redirect, idempotent."""
    ctx = request.app.state.ctx
    try:
        subscriber = _subscriber(request, "unsubscribe", token)
    except InvalidToken as error:
        return _bad_link(request, error)
    with ctx.db.writing() as session, session.begin():
        subscriptions.unsubscribe(session, session.get(Subscriber, subscriber.id), now=ctx.clock.now())
    return message(
        request, "You are unsubscribed", f"{subscriber.email} will not receive notices any more.", show_subscribe=True
    )
