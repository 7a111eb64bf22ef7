"""/api/v1/hooks: outbound integrations, for admins (as users and tokens are)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from notices.core.errors import Forbidden
from notices.core.i18n import lazy_gettext
from notices.core.models import User
from notices.core.states import Role
from notices.hooks import sender, store
from notices.web.api.hook_models import (
    HookCreate,
    HookCreated,
    HookDeliveryOut,
    HookOut,
    HookRotate,
    HookSecret,
    HookUpdate,
)
from notices.web.api.models import ErrorOut
from notices.web.deps import ApiUser, Ctx, Now, ReadSession, Settings, WriteSession

ERRORS: dict[int | str, dict[str, Any]] = {status: {"model": ErrorOut} for status in (400, 401, 403, 404, 422)}
router = APIRouter(prefix="/api/v1/hooks", tags=["hooks"], responses=ERRORS)


async def _api_admin(user: ApiUser) -> User:
    if user.role != Role.ADMIN:
        raise Forbidden(lazy_gettext("only admins manage integrations"))
    return user


ApiAdmin = Annotated[User, Depends(_api_admin)]


def _actor(user: User) -> str:
    return f"api:{user.email}"


def _raw(body: HookCreate | HookUpdate, current: dict[str, Any] | None = None) -> dict[str, Any]:
    given = body.model_dump(exclude_unset=True, exclude={"enabled"})
    raw = dict(current or {})
    if "severity" in given:
        raw["min_severity"] = given.pop("severity")
    raw.update(given)
    return raw


@router.get("", response_model=list[HookOut], summary="List the endpoints (never their secrets)")
def list_hooks(user: ApiAdmin, session: ReadSession) -> list[dict]:
    return [store.endpoint_data(endpoint) for endpoint in store.list_endpoints(session)]


@router.post("", response_model=HookCreated, status_code=201, summary="Add an endpoint; its secret is shown once")
def add_hook(body: HookCreate, user: ApiAdmin, session: WriteSession, settings: Settings, now: Now) -> dict:
    endpoint_input = store.parse_endpoint(_raw(body), settings)
    with session.begin():
        endpoint, secret = store.add_endpoint(session, endpoint_input, now=now, actor=_actor(user))
        return {**store.endpoint_data(endpoint), "secret": secret}


@router.get("/{hook_id}", response_model=HookOut, summary="One endpoint")
def get_hook(hook_id: int, user: ApiAdmin, session: ReadSession) -> dict:
    return store.endpoint_data(store.get_endpoint(session, hook_id))


@router.patch("/{hook_id}", response_model=HookOut, summary="Change an endpoint, or turn it on or off")
def change_hook(
    hook_id: int, body: HookUpdate, user: ApiAdmin, session: WriteSession, settings: Settings, now: Now
) -> dict:
    with session.begin():
        current = store.endpoint_data(store.get_endpoint(session, hook_id))
        fields = {key: current[key] for key in ("url", "kind", "categories", "locations", "min_severity", "events")}
        endpoint_input = store.parse_endpoint(_raw(body, fields | {"language": current["language"]}), settings)
        endpoint = store.update_endpoint(session, hook_id, endpoint_input, now=now, actor=_actor(user))
        if body.enabled is not None and body.enabled != endpoint.enabled:
            endpoint = store.set_enabled(session, hook_id, body.enabled, now=now, actor=_actor(user))
        return store.endpoint_data(endpoint)


@router.delete("/{hook_id}", status_code=204, summary="Remove an endpoint with its queue and log")
def remove_hook(hook_id: int, user: ApiAdmin, session: WriteSession, now: Now) -> Response:
    with session.begin():
        store.remove_endpoint(session, hook_id, now=now, actor=_actor(user))
    return Response(status_code=204)


@router.post("/{hook_id}/rotate", response_model=HookSecret, summary="A new signing secret, shown once")
def rotate_hook(hook_id: int, body: HookRotate, user: ApiAdmin, session: WriteSession, settings: Settings, now: Now):
    hours = body.overlap_hours
    overlap = settings.hooks_secret_overlap if hours is None else timedelta(hours=hours)
    with session.begin():
        endpoint, secret = store.rotate_secret(session, hook_id, overlap=overlap, now=now, actor=_actor(user))
        until = endpoint.previous_secret_until
    return {"secret": secret, "previous_valid_until": until.isoformat() if until else None}


@router.post("/{hook_id}/test", response_model=HookDeliveryOut, summary="Send a test event now; its delivery")
def test_hook(hook_id: int, user: ApiAdmin, ctx: Ctx, now: Now) -> dict:
    return store.delivery_data(sender.send_test(ctx, hook_id, now=now))


@router.get("/{hook_id}/log", response_model=list[HookDeliveryOut], summary="The latest deliveries, newest first")
def hook_log(hook_id: int, user: ApiAdmin, session: ReadSession) -> list[dict]:
    return [store.delivery_data(delivery) for delivery in store.delivery_log(session, hook_id)]
