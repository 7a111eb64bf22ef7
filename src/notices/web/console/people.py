"""Console pages about people: subscriber counts, the audit log, users and API tokens (admins)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from notices.core.errors import InvalidField
from notices.core.models import ApiToken, User
from notices.core.states import Role
from notices.mail import subscriptions
from notices.people import accounts, audit
from notices.web import csrf
from notices.web.console.auth import require
from notices.web.html import page

router = APIRouter(prefix="/admin", tags=["console"], include_in_schema=False)
anyone = require(Role.MANAGER, Role.ADMIN)
admin = require(Role.ADMIN)


@router.get("/subscribers", response_class=HTMLResponse)
def subscribers(request: Request, user: User = Depends(anyone)) -> HTMLResponse:
    ctx = request.app.state.ctx
    with ctx.db.session() as session:
        counts = subscriptions.subscriber_counts(session, ctx.settings)
    return page(request, "admin/subscribers.html", counts=counts)


@router.get("/audit", response_class=HTMLResponse)
def audit_log(request: Request, user: User = Depends(anyone)) -> HTMLResponse:
    ctx = request.app.state.ctx
    with ctx.db.session() as session:
        entries = audit.recent(session)
    return page(request, "admin/audit.html", entries=entries)


def _users_page(request: Request, status_code: int = 200, **context) -> HTMLResponse:
    ctx = request.app.state.ctx
    with ctx.db.session() as session:
        users = session.scalars(select(User).order_by(User.email)).all()
        tokens = session.scalars(
            select(ApiToken).options(selectinload(ApiToken.user)).order_by(ApiToken.created_at)
        ).all()
        return page(request, "admin/users.html", status_code, users=users, tokens=tokens, **context)


@router.get("/users", response_class=HTMLResponse)
def users(request: Request, user: User = Depends(admin)) -> HTMLResponse:
    return _users_page(request)


@router.post("/users", response_class=HTMLResponse)
async def add_user(request: Request, user: User = Depends(admin)) -> HTMLResponse:
    form = await csrf.verify(request)
    ctx = request.app.state.ctx
    now = ctx.clock.now()
    try:
        with ctx.db.writing() as session, session.begin():
            created = accounts.create_user(
                session,
                email=str(form.get("email", "")),
                role=str(form.get("role", "")),
                password=str(form.get("password", "")),
                now=now,
            )
            audit.record(
                session, actor=user.email, action="user.create", target=created.email, detail=created.role, now=now
            )
            email = created.email
    except InvalidField as error:
        return _users_page(request, 400, error=error, email=form.get("email", ""))
    return _users_page(request, message=f"{email} can now log in.")


@router.post("/users/{user_id}/tokens", response_class=HTMLResponse)
async def create_token(request: Request, user_id: int, user: User = Depends(admin)) -> HTMLResponse:
    form = await csrf.verify(request)
    ctx = request.app.state.ctx
    now = ctx.clock.now()
    with ctx.db.writing() as session, session.begin():
        owner = session.get(User, user_id)
        if owner is None:
            raise HTTPException(status_code=404, detail="No such user.")
        raw = accounts.create_token(session, owner, name=str(form.get("name", "")), now=now)
        audit.record(
            session,
            actor=user.email,
            action="token.create",
            target=owner.email,
            detail=str(form.get("name", "")),
            now=now,
        )
    return _users_page(request, new_token=raw)


@router.post("/tokens/{token_id}/revoke", response_class=HTMLResponse)
async def revoke_token(request: Request, token_id: int, user: User = Depends(admin)) -> HTMLResponse:
    await csrf.verify(request)
    ctx = request.app.state.ctx
    now = ctx.clock.now()
    with ctx.db.writing() as session, session.begin():
        accounts.revoke_token(session, token_id, now=now)
        audit.record(session, actor=user.email, action="token.revoke", target=str(token_id), now=now)
    return _users_page(request, message="The token is revoked.")
