"""Console pages for outbound integrations (admins): webhooks, Slack and Teams channels and their delivery log.

The pages sit on notices.hooks.store and sender, as the CLI and the API do. A secret is
shown once, in the answer to the form that made it (add, rotate), never again. An
endpoint's URL is shown as its scheme and host only: Slack and Teams URLs carry their
credentials in the path and query.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from notices.core.config import Settings as SiteSettings
from notices.core.errors import InvalidField
from notices.core.i18n import N_
from notices.core.models import User
from notices.hooks import sender, store
from notices.hooks.kinds import ENDPOINT_KINDS, HOOK_EVENTS
from notices.web.deps import CsrfForm, Ctx, CurrentAdmin, Now, ReadSession, Settings, WriteSession
from notices.web.html import page, translated

router = APIRouter(prefix="/admin/integrations", tags=["console"], include_in_schema=False)


def target_of(url: str) -> str:
    """Where an endpoint sends, without the path and query that hold Slack's and Teams's credentials."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}/…"


def _actor(user: User) -> str:
    return f"console:{user.email}"


def _choices(form: FormData) -> dict[str, Any]:
    """The filter, event and language fields of an endpoint form, as store.parse_endpoint reads them."""
    return {
        "categories": [str(value) for value in form.getlist("categories")],
        "locations": [str(value) for value in form.getlist("locations")],
        "severity": str(form.get("severity", "")) or None,
        # None ticked means every event (parse_endpoint's default); say so rather than refuse.
        "events": [str(value) for value in form.getlist("events")],
        "language": str(form.get("language", "")),
    }


def _list_page(request: Request, session: Session, status_code: int = 200, **context: Any) -> HTMLResponse:
    values = context.pop("values", {"kind": "webhook", "events": list(HOOK_EVENTS)})
    return page(
        request,
        "admin/integrations.html",
        status_code,
        endpoints=store.list_endpoints(session),
        target_of=target_of,
        kinds=ENDPOINT_KINDS,
        hook_events=HOOK_EVENTS,
        values=values,
        **context,
    )


def _endpoint_page(
    request: Request, session: Session, endpoint_id: int, status_code: int = 200, **context: Any
) -> HTMLResponse:
    endpoint = store.get_endpoint(session, endpoint_id)
    values = context.pop("values", None) or {
        "categories": list(endpoint.categories or ()),
        "locations": list(endpoint.locations or ()),
        "severity": endpoint.min_severity,
        "events": list(endpoint.events or ()),
        "language": endpoint.language,
        "enabled": endpoint.enabled,
    }
    return page(
        request,
        "admin/integration.html",
        status_code,
        endpoint=endpoint,
        target=target_of(endpoint.url),
        deliveries=store.delivery_log(session, endpoint_id),
        hook_events=HOOK_EVENTS,
        values=values,
        **context,
    )


@router.get("", response_class=HTMLResponse)
def integrations(request: Request, user: CurrentAdmin, session: ReadSession, removed: bool = False) -> HTMLResponse:
    return _list_page(request, session, message=translated(request, N_("The endpoint is removed.")) if removed else "")


@router.post("", response_class=HTMLResponse)
def add_integration(
    request: Request,
    user: CurrentAdmin,
    form: CsrfForm,
    writing: WriteSession,
    reading: ReadSession,
    settings: Settings,
    now: Now,
) -> HTMLResponse:
    raw = {"url": str(form.get("url", "")), "kind": str(form.get("kind", "")), **_choices(form)}
    try:
        endpoint_input = store.parse_endpoint(raw, settings)
        with writing.begin():
            endpoint, secret = store.add_endpoint(writing, endpoint_input, now=now, actor=_actor(user))
            endpoint_id = endpoint.id
    except InvalidField as error:
        return _list_page(request, reading, 400, error=error, values=raw)
    return _endpoint_page(
        request, reading, endpoint_id, new_secret=secret, message=translated(request, N_("The endpoint is added."))
    )


@router.get("/{endpoint_id}", response_class=HTMLResponse)
def integration(request: Request, endpoint_id: int, user: CurrentAdmin, session: ReadSession) -> HTMLResponse:
    return _endpoint_page(request, session, endpoint_id)


def _changed(form: FormData, endpoint_id: int, writing: Session, settings: SiteSettings, user: User, now: Any) -> None:
    with writing.begin():
        current = store.get_endpoint(writing, endpoint_id)
        raw = {"url": current.url, "kind": current.kind, **_choices(form)}
        endpoint_input = store.parse_endpoint(raw, settings)
        store.update_endpoint(writing, endpoint_id, endpoint_input, now=now, actor=_actor(user))
        enabled = form.get("enabled") == "on"
        if enabled != current.enabled:
            store.set_enabled(writing, endpoint_id, enabled, now=now, actor=_actor(user))


@router.post("/{endpoint_id}", response_class=HTMLResponse)
def change_integration(
    request: Request,
    endpoint_id: int,
    user: CurrentAdmin,
    form: CsrfForm,
    writing: WriteSession,
    reading: ReadSession,
    settings: Settings,
    now: Now,
) -> HTMLResponse:
    try:
        _changed(form, endpoint_id, writing, settings, user, now)
    except InvalidField as error:  # nothing was written: the transaction rolled back
        values = {**_choices(form), "enabled": form.get("enabled") == "on"}
        return _endpoint_page(request, reading, endpoint_id, 400, error=error, values=values)
    return _endpoint_page(request, reading, endpoint_id, message=translated(request, N_("The changes are saved.")))


@router.post("/{endpoint_id}/test", response_class=HTMLResponse)
def test_integration(
    request: Request, endpoint_id: int, user: CurrentAdmin, form: CsrfForm, ctx: Ctx, reading: ReadSession, now: Now
) -> HTMLResponse:
    # Sent now, in this request (a plain def: the threadpool waits for the answer, within the hooks' timeouts).
    delivery = sender.send_test(ctx, endpoint_id, now=now)
    answer = f"HTTP {delivery.response_code}" if delivery.response_code else delivery.last_error
    message = translated(
        request,
        N_("Test sent: %(status)s (%(answer)s)."),
        status=delivery.status,
        answer=answer or translated(request, N_("no answer")),
    )
    return _endpoint_page(request, reading, endpoint_id, message=message)


@router.post("/{endpoint_id}/rotate", response_class=HTMLResponse)
def rotate_integration_secret(
    request: Request,
    endpoint_id: int,
    user: CurrentAdmin,
    form: CsrfForm,
    writing: WriteSession,
    reading: ReadSession,
    settings: Settings,
    now: Now,
) -> HTMLResponse:
    overlap = settings.hooks_secret_overlap
    with writing.begin():
        _, secret = store.rotate_secret(writing, endpoint_id, overlap=overlap, now=now, actor=_actor(user))
    return _endpoint_page(
        request, reading, endpoint_id, new_secret=secret, message=translated(request, N_("The secret is replaced."))
    )


@router.post("/{endpoint_id}/remove")
def remove_integration(
    endpoint_id: int, user: CurrentAdmin, form: CsrfForm, writing: WriteSession, now: Now
) -> RedirectResponse:
    with writing.begin():
        store.remove_endpoint(writing, endpoint_id, now=now, actor=_actor(user))
    return RedirectResponse("/admin/integrations?removed=1", status_code=303)
