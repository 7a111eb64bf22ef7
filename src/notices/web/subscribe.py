"""Subscription pages: sign-up, confirmation, the preference centre and unsubscribing.

Links in emails only ever show a page; changing anything takes a POST, so
mail scanners that follow links change nothing. The unsubscribe POST works
without cookies (RFC 8058 one-click), authorised by the signed token alone.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from notices.core import config
from notices.core.errors import InvalidField
from notices.core.i18n import N_
from notices.core.models import Subscriber
from notices.core.states import LinkPurpose, SubscriberState
from notices.mail import subscriptions
from notices.people.addresses import normalise_email
from notices.people.link_tokens import InvalidToken, LinkSigner
from notices.web.deps import ClientAddress, CsrfForm, Now, ReadSession, Scheduler, Settings, WriteSession
from notices.web.html import page, translated

router = APIRouter(tags=["subscriptions"], include_in_schema=False)


def message(
    request: Request,
    title: str,
    text: str,
    status_code: int = 200,
    *,
    values: dict[str, str] | None = None,
    detail: str = "",
    **extra,
) -> HTMLResponse:
    """A page with a title and a sentence: message ids (N_), in the page's language, `values` filled in.

    `detail` (an error's own words, from the domain) goes before the sentence as it is.
    """
    sentence = translated(request, text, **(values or {})) if text else ""
    body = " ".join(part for part in (detail, sentence) if part)
    return page(request, "web/message.html", status_code, title=translated(request, title), text=body, **extra)


def _preferences_from_form(form: FormData) -> dict:
    return {
        "frequency": form.get("frequency"),
        "language": form.get("language"),
        "severity": form.get("severity") or None,
        "categories": form.getlist("categories"),
        "locations": form.getlist("locations"),
    }


@router.get("/subscribe", response_class=HTMLResponse)
def subscribe_form(request: Request) -> HTMLResponse:
    # No language here: the form offers the language the page is in (web/_filter_fields.html).
    return page(request, "web/subscribe.html", values={"frequency": "daily"})


@router.post("/subscribe", response_class=HTMLResponse)
def subscribe(
    request: Request,
    form: CsrfForm,
    session: WriteSession,
    settings: Settings,
    now: Now,
    client: ClientAddress,
    scheduler: Scheduler,
) -> HTMLResponse:
    raw = _preferences_from_form(form)
    # Shown again in the form: without NULs, which no HTML may hold (the error names the field).
    values = {**raw, "email": str(form.get("email", "")).replace("\x00", "")}
    try:
        email = normalise_email(form.get("email"))
        preferences = subscriptions.parse_preferences(raw, settings)
    except InvalidField as error:
        return page(request, "web/subscribe.html", 400, values=values, error=error)
    try:
        with session.begin():
            subscriptions.sign_up(
                session, email=email, preferences=preferences, client=client, now=now, settings=settings
            )
    except subscriptions.RateLimited:
        return message(request, N_("Too many attempts"), N_("Please wait an hour before you try again."), 429)
    if scheduler is not None:
        scheduler.send_soon()
    return message(
        request,
        N_("Check your inbox"),
        N_(
            "If %(email)s can receive notices, an email is on its way. Open the link in it to confirm "
            "(or to change an existing subscription). Nothing is sent before you confirm."
        ),
        values={"email": email},
    )


def _subscriber(session: Session, settings: config.Settings, purpose: str, token: str) -> Subscriber:
    """The subscriber a link is for, or InvalidToken (also once newer links replaced it)."""
    max_age = settings.confirm_within if purpose == LinkPurpose.CONFIRM else None
    subscriber_id, generation = LinkSigner(settings.secret_key).verify(purpose, token, max_age=max_age)
    subscriber = subscriptions.get_subscriber(session, subscriber_id)
    if subscriber is None or subscriber.token_generation != generation:
        raise InvalidToken("this link is no longer valid")
    return subscriber


def _bad_link(request: Request, error: InvalidToken) -> HTMLResponse:
    hint = N_("Sign up again to get a new one.") if error.expired else N_("Check that you copied the whole link.")
    return message(
        request, N_("This link does not work"), hint, 400, detail=f"{str(error).capitalize()}.", show_subscribe=True
    )


def _link_page(
    request: Request, session: Session, settings: config.Settings, purpose: str, token: str, template: str, **context
) -> HTMLResponse:
    """What a link from an email shows: a page (with a button to act), or why the link fails."""
    try:
        subscriber = _subscriber(session, settings, purpose, token)
    except InvalidToken as error:
        return _bad_link(request, error)
    extra = {name: make(subscriber) for name, make in context.items()}
    return page(request, template, subscriber=subscriber, token=token, **extra)


@router.get("/subscribe/confirm/{token}", response_class=HTMLResponse)
def confirm_page(request: Request, token: str, session: ReadSession, settings: Settings) -> HTMLResponse:
    return _link_page(request, session, settings, LinkPurpose.CONFIRM, token, "web/confirm.html")


@router.post("/subscribe/confirm/{token}", response_class=HTMLResponse)
def confirm(
    request: Request, token: str, form: CsrfForm, session: WriteSession, settings: Settings, now: Now
) -> HTMLResponse:
    try:
        with session.begin():
            subscriber = _subscriber(session, settings, LinkPurpose.CONFIRM, token)
            email = subscriber.email
            subscriptions.confirm(session, subscriber, now=now)
    except InvalidToken as error:
        return _bad_link(request, error)
    except InvalidField as error:
        return message(
            request, N_("Subscription ended"), "", 400, detail=error.problem.capitalize() + ".", show_subscribe=True
        )
    return message(
        request,
        N_("You are subscribed"),
        N_("%(email)s will receive notices. Every email has a link to change your preferences or to unsubscribe."),
        values={"email": email},
    )


@router.get("/preferences/{token}", response_class=HTMLResponse)
def preferences_page(request: Request, token: str, session: ReadSession, settings: Settings) -> HTMLResponse:
    return _link_page(request, session, settings, LinkPurpose.MANAGE, token, "web/preferences.html", values=_values_of)


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
def save_preferences(
    request: Request,
    token: str,
    form: CsrfForm,
    reading: ReadSession,
    writing: WriteSession,
    settings: Settings,
    now: Now,
) -> HTMLResponse:
    try:
        subscriber = _subscriber(reading, settings, LinkPurpose.MANAGE, token)
    except InvalidToken as error:
        return _bad_link(request, error)
    raw = _preferences_from_form(form)
    try:
        preferences = subscriptions.parse_preferences(raw, settings)
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
    with writing.begin():
        current = subscriptions.get_subscriber(writing, subscriber.id)
        subscribed = current is not None and current.state == SubscriberState.CONFIRMED
        if current is not None and subscribed:
            subscriptions.update_preferences(writing, current, preferences, now=now)
            saved = _values_of(current)
    if not subscribed:
        return message(
            request,
            N_("Not subscribed"),
            N_("This address is not subscribed any more; sign up again."),
            400,
            show_subscribe=True,
        )
    return page(request, "web/preferences.html", subscriber=subscriber, token=token, values=saved, saved=True)


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_page(request: Request, token: str, session: ReadSession, settings: Settings) -> HTMLResponse:
    return _link_page(request, session, settings, LinkPurpose.UNSUBSCRIBE, token, "web/unsubscribe.html")


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe(request: Request, token: str, session: WriteSession, settings: Settings, now: Now) -> HTMLResponse:
    """One-click unsubscribe (RFC 8058): no cookies, no CSRF token, 200 and no redirect, idempotent."""
    try:
        with session.begin():
            subscriber = _subscriber(session, settings, LinkPurpose.UNSUBSCRIBE, token)
            email = subscriber.email
            subscriptions.unsubscribe(session, subscriber, now=now)
    except InvalidToken as error:
        return _bad_link(request, error)
    return message(
        request,
        N_("You are unsubscribed"),
        N_("%(email)s will not receive notices any more."),
        values={"email": email},
        show_subscribe=True,
    )
