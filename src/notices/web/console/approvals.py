"""The approval workflow in the console: submit, approve, return, publish now (emergency), the queue.

Each is a small form with a CSRF token on the notice's page; the acting person is the logged-in
user. A transition the notice's state or the user's role does not allow shows the notice page
again with the reason; nothing is written.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from notices.core import config
from notices.core.models import Notice, User
from notices.notice import approval, store
from notices.notice.approval import Notification
from notices.notice.validation import parse_changes
from notices.people.roles import Actor
from notices.web.console.actions import act_on_notice
from notices.web.console.held_change import rows as held_rows
from notices.web.deps import CsrfForm, Ctx, CurrentStaff, Now, ReadSession, Settings, WriteSession
from notices.web.html import page

router = APIRouter(prefix="/admin", tags=["console"], include_in_schema=False)


def context_for(session: Session, notice: Notice, user: User, settings: config.Settings, now: datetime) -> dict:
    """What the notice page shows about approval: the state, the latest submission, the buttons."""
    actor = Actor.of(user, "console")
    info = approval.describe(session, notice, now)
    review = info.get("review")
    waiting = info["state"] == approval.Stage.SUBMITTED
    return {
        "approval": info,
        "may_submit": info["state"] == approval.Stage.DRAFT and actor.may_write(),
        "may_review": waiting and actor.may_review(),
        "own_submission": waiting and review is not None and review["submitted_by"] == user.email,
        "may_emergency": actor.may_publish_in_emergency()
        and info["state"] in (approval.Stage.DRAFT, approval.Stage.SUBMITTED),
        "needs_approval": approval.needs_approval(settings, notice.severity),
        "held_change": _held_change(session, notice, settings),
    }


def _held_change(session: Session, notice: Notice, settings: config.Settings) -> dict | None:
    """A waiting change beside the published notice (templates/admin/_held_change.html), or None."""
    change = approval.held_change(session, notice)
    if change is None:
        return None
    return {"note": change.note, "submitted_by": change.submitted_by, "rows": held_rows(change, settings)}


@router.get("/approvals", response_class=HTMLResponse)
def approval_queue(request: Request, user: CurrentStaff, session: ReadSession) -> HTMLResponse:
    return page(request, "admin/approvals.html", queue=approval.queue(session))


def _text(form, name: str) -> str:
    return str(form.get(name, "") or "").strip()


@router.post("/notices/{uid}/submit", response_class=HTMLResponse)
def submit(
    request: Request,
    uid: str,
    user: CurrentStaff,
    form: CsrfForm,
    ctx: Ctx,
    writing: WriteSession,
    reading: ReadSession,
    settings: Settings,
    now: Now,
) -> Response:
    def change(session: Session, notice: Notice, actor: Actor) -> Notification:
        when = _text(form, "publish_at")
        publish_at = None
        if when and when.lower() != "now":
            fields = parse_changes({"publish_at": when}, current=store.fields_of(notice), settings=settings, now=now)
            publish_at = fields.publish_at
        return approval.submit(
            session,
            notice,
            actor=actor,
            publish_at=publish_at,
            comment=_text(form, "comment"),
            settings=settings,
            now=now,
        )

    return act_on_notice(
        request, uid, change, user=user, ctx=ctx, writing=writing, reading=reading, settings=settings, now=now
    )


@router.post("/notices/{uid}/approve", response_class=HTMLResponse)
def approve(
    request: Request,
    uid: str,
    user: CurrentStaff,
    form: CsrfForm,
    ctx: Ctx,
    writing: WriteSession,
    reading: ReadSession,
    settings: Settings,
    now: Now,
) -> Response:
    def change(session: Session, notice: Notice, actor: Actor) -> Notification:
        return approval.approve(
            session, notice, actor=actor, comment=_text(form, "comment"), settings=settings, now=now
        )

    return act_on_notice(
        request, uid, change, user=user, ctx=ctx, writing=writing, reading=reading, settings=settings, now=now
    )


@router.post("/notices/{uid}/return", response_class=HTMLResponse)
def return_(
    request: Request,
    uid: str,
    user: CurrentStaff,
    form: CsrfForm,
    ctx: Ctx,
    writing: WriteSession,
    reading: ReadSession,
    settings: Settings,
    now: Now,
) -> Response:
    def change(session: Session, notice: Notice, actor: Actor) -> Notification:
        return approval.return_(session, notice, actor=actor, comment=_text(form, "comment"), now=now)

    return act_on_notice(
        request, uid, change, user=user, ctx=ctx, writing=writing, reading=reading, settings=settings, now=now
    )


@router.post("/notices/{uid}/publish-now", response_class=HTMLResponse)
def publish_now(
    request: Request,
    uid: str,
    user: CurrentStaff,
    form: CsrfForm,
    ctx: Ctx,
    writing: WriteSession,
    reading: ReadSession,
    settings: Settings,
    now: Now,
) -> Response:
    def change(session: Session, notice: Notice, actor: Actor) -> Notification | None:
        return approval.publish_in_emergency(session, notice, actor=actor, reason=_text(form, "reason"), now=now)

    return act_on_notice(
        request, uid, change, user=user, ctx=ctx, writing=writing, reading=reading, settings=settings, now=now
    )
