"""The approval workflow in the JSON API: submit, approve, return, publish now (emergency).

The acting person is the token's user; a transition the notice's state does not allow is a
409 naming the state, a role that may not make it a 403, and nobody approves their own
submission (four eyes). Emails go out once the transition is committed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session

from notices.core.config import Settings as SiteSettings
from notices.core.models import Notice
from notices.hooks import enqueue as hook_queue
from notices.mail import staff
from notices.notice import approval
from notices.notice.validation import parse_changes
from notices.people.roles import Actor
from notices.web.api.approval_models import ApprovalOut, CommentIn, ReasonIn, ReturnIn, SubmitIn
from notices.web.api.routes import ERRORS, find_for_api
from notices.web.deps import ApiUser, Ctx, Now, ReadSession, Settings, WriteSession

router = APIRouter(prefix="/api/v1", tags=["approval"], responses={400: ERRORS[400], 422: ERRORS[422]})
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {status: ERRORS[status] for status in (401, 403, 404, 409)}


def _actor(user) -> Actor:
    return Actor.of(user, "api")


def _state(session: Session, notice: Notice, now: datetime) -> dict:
    return approval.describe(session, notice, now)


@router.get("/notices/{uid}/approval", response_model=ApprovalOut, summary="Approval state", responses=WRITE_ERRORS)
def approval_state(uid: str, user: ApiUser, session: ReadSession, now: Now) -> dict:
    """Where the notice is in the workflow and its latest submission (staff only)."""
    return _state(session, find_for_api(session, uid), now)


def _publish_time(body: SubmitIn, notice: Notice, settings: SiteSettings, now: datetime) -> datetime | None:
    if body.publish_at.strip().lower() in ("", "now"):
        return None
    from notices.notice import store

    return parse_changes(
        {"publish_at": body.publish_at}, current=store.fields_of(notice), settings=settings, now=now
    ).publish_at


@router.post(
    "/notices/{uid}/submit", response_model=ApprovalOut, summary="Submit a draft for approval", responses=WRITE_ERRORS
)
def submit(
    uid: str, body: SubmitIn, user: ApiUser, ctx: Ctx, session: WriteSession, settings: Settings, now: Now
) -> dict:
    with session.begin():
        notice = find_for_api(session, uid, for_update=True)
        note = approval.submit(
            session,
            notice,
            actor=_actor(user),
            publish_at=_publish_time(body, notice, settings, now),
            comment=body.comment,
            settings=settings,
            now=now,
        )
        # An approved change to a published notice records its event: its webhooks go in with it.
        hook_queue.enqueue_new_events(session, settings=settings, now=now)
        state = _state(session, notice, now)
    staff.notify(ctx, note, now=now)
    return state


@router.post(
    "/notices/{uid}/approve", response_model=ApprovalOut, summary="Approve a submission", responses=WRITE_ERRORS
)
def approve(
    uid: str, body: CommentIn, user: ApiUser, ctx: Ctx, session: WriteSession, settings: Settings, now: Now
) -> dict:
    """Publishes (or schedules, or applies the change) as submitted. Not your own submission: 403."""
    with session.begin():
        notice = find_for_api(session, uid, for_update=True)
        note = approval.approve(session, notice, actor=_actor(user), comment=body.comment, settings=settings, now=now)
        # An approved change to a published notice records its event: its webhooks go in with it.
        hook_queue.enqueue_new_events(session, settings=settings, now=now)
        state = _state(session, notice, now)
    staff.notify(ctx, note, now=now)
    return state


@router.post("/notices/{uid}/return", response_model=ApprovalOut, summary="Return a submission", responses=WRITE_ERRORS)
def return_(
    uid: str, body: ReturnIn, user: ApiUser, ctx: Ctx, session: WriteSession, settings: Settings, now: Now
) -> dict:
    """Back to its writer with a comment (required): a draft again, or the change dropped."""
    with session.begin():
        notice = find_for_api(session, uid, for_update=True)
        note = approval.return_(session, notice, actor=_actor(user), comment=body.comment, now=now)
        # An approved change to a published notice records its event: its webhooks go in with it.
        hook_queue.enqueue_new_events(session, settings=settings, now=now)
        state = _state(session, notice, now)
    staff.notify(ctx, note, now=now)
    return state


@router.post(
    "/notices/{uid}/publish-now", response_model=ApprovalOut, summary="Publish in an emergency", responses=WRITE_ERRORS
)
def publish_now(
    uid: str, body: ReasonIn, user: ApiUser, ctx: Ctx, session: WriteSession, settings: Settings, now: Now
) -> dict:
    """Admins only: publish a draft (or apply a waiting change) at once, past the approvers, with a reason."""
    with session.begin():
        notice = find_for_api(session, uid, for_update=True)
        note = approval.publish_in_emergency(session, notice, actor=_actor(user), reason=body.reason, now=now)
        # An approved change to a published notice records its event: its webhooks go in with it.
        hook_queue.enqueue_new_events(session, settings=settings, now=now)
        state = _state(session, notice, now)
    staff.notify(ctx, note, now=now)
    return state
