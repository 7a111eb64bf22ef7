"""Console pages about people: subscriber counts, the audit log, users and API tokens (admins)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from notices.core import cursors
from notices.core.errors import InvalidField, NotFound
from notices.core.i18n import N_
from notices.mail import subscriptions
from notices.people import accounts, audit
from notices.web.deps import CsrfForm, CurrentAdmin, CurrentManager, Now, ReadSession, Settings, WriteSession
from notices.web.html import page, translated

router = APIRouter(prefix="/admin", tags=["console"], include_in_schema=False)
AUDIT_PAGE = 100


@router.get("/subscribers", response_class=HTMLResponse)
def subscribers(request: Request, user: CurrentManager, session: ReadSession, settings: Settings) -> HTMLResponse:
    return page(request, "admin/subscribers.html", counts=subscriptions.subscriber_counts(session, settings))


@router.get("/audit", response_class=HTMLResponse)
def audit_log(
    request: Request, user: CurrentManager, session: ReadSession, notice: str = "", who: str = "", cursor: str = ""
) -> HTMLResponse:
    """The audit log, newest first a page at a time, filtered by notice (uid) and by person (email) when asked."""
    notice, who = notice.strip().lower()[:200], who.strip().lower()[:320]
    before = cursors.decode(cursor) if cursor else None
    entries, following = audit.page(session, limit=AUDIT_PAGE, target=notice, actor=who, before=before)
    filters = {name: value for name, value in (("notice", notice), ("who", who)) if value}
    older = "/admin/audit?" + urlencode(filters | {"cursor": cursors.encode(following)}) if following else None
    newest = "/admin/audit" + ("?" + urlencode(filters) if filters else "") if before else None
    return page(request, "admin/audit.html", entries=entries, notice=notice, who=who, older=older, newest=newest)


def _users_page(request: Request, session: Session, status_code: int = 200, **context) -> HTMLResponse:
    # Read after any write of the request (the session is not used before), so it shows the change.
    return page(
        request,
        "admin/users.html",
        status_code,
        users=accounts.list_users(session),
        tokens=accounts.list_tokens(session),
        **context,
    )


@router.get("/users", response_class=HTMLResponse)
def users(request: Request, user: CurrentAdmin, session: ReadSession) -> HTMLResponse:
    return _users_page(request, session)


@router.post("/users", response_class=HTMLResponse)
def add_user(
    request: Request, user: CurrentAdmin, form: CsrfForm, writing: WriteSession, reading: ReadSession, now: Now
) -> HTMLResponse:
    try:
        with writing.begin():
            created = accounts.create_user(
                writing,
                email=str(form.get("email", "")),
                role=str(form.get("role", "")),
                password=str(form.get("password", "")),
                now=now,
            )
            audit.record(
                writing, actor=user.email, action="user.create", target=created.email, detail=created.role, now=now
            )
            email = created.email
    except InvalidField as error:
        return _users_page(request, reading, 400, error=error, email=form.get("email", ""))
    return _users_page(request, reading, message=translated(request, N_("%(email)s can now log in."), email=email))


@router.post("/users/{user_id}/tokens", response_class=HTMLResponse)
def create_token(
    request: Request,
    user_id: int,
    user: CurrentAdmin,
    form: CsrfForm,
    writing: WriteSession,
    reading: ReadSession,
    now: Now,
) -> HTMLResponse:
    name = str(form.get("name", ""))
    with writing.begin():
        owner = accounts.get_user(writing, user_id)
        if owner is None:
            raise NotFound("No such user.")
        raw = accounts.create_token(writing, owner, name=name, now=now)
        audit.record(writing, actor=user.email, action="token.create", target=owner.email, detail=name, now=now)
    return _users_page(request, reading, new_token=raw)


@router.post("/tokens/{token_id}/revoke", response_class=HTMLResponse)
def revoke_token(
    request: Request,
    token_id: int,
    user: CurrentAdmin,
    form: CsrfForm,
    writing: WriteSession,
    reading: ReadSession,
    now: Now,
) -> HTMLResponse:
    with writing.begin():
        accounts.revoke_token(writing, token_id, now=now)
        audit.record(writing, actor=user.email, action="token.revoke", target=str(token_id), now=now)
    return _users_page(request, reading, message=translated(request, N_("The token is revoked.")))
