"""What a route may ask for, as Annotated dependencies: the one way to reach the request context.

A route names what it needs in its signature (`session: ReadSession`, `user: CurrentManager`,
`form: CsrfForm`, `now: Now`) and FastAPI supplies it. Dependencies that touch the database
or hash anything are plain `def`s, which FastAPI runs in its threadpool; the rest are
`async def`, since nothing in them blocks. A route that uses the database is a plain `def`
too: on the event loop, one query waiting for a lock would stall every request of the
process, the feeds included.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jinja2 import Environment
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from notices.core import config
from notices.core.context import AppContext
from notices.core.errors import Forbidden
from notices.core.i18n import lazy_gettext
from notices.core.models import User
from notices.core.states import Role
from notices.people import accounts
from notices.people.roles import STAFF, WRITERS
from notices.runtime.scheduler import LeaderElectedScheduler
from notices.web import csrf, metrics
from notices.web.api.errors import ApiError

SESSION_COOKIE = "notices_session"
BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}


# For code that runs outside a route (exception handlers, the page helper).
def app_context(request: Request) -> AppContext:
    """The context create_app built for this app."""
    return request.app.state.ctx


def templates_of(request: Request) -> Environment:
    return request.app.state.templates


async def _ctx(request: Request) -> AppContext:
    return app_context(request)


Ctx = Annotated[AppContext, Depends(_ctx)]


async def _settings(ctx: Ctx) -> config.Settings:
    return ctx.settings


Settings = Annotated[config.Settings, Depends(_settings)]


async def _now(ctx: Ctx) -> datetime:
    return ctx.clock.now()


# One instant per request (dependencies are cached per request), so a page and the write
# it reports on agree about the time.
Now = Annotated[datetime, Depends(_now)]


async def _templates(request: Request) -> Environment:
    return templates_of(request)


Templates = Annotated[Environment, Depends(_templates)]


async def _scheduler(request: Request) -> LeaderElectedScheduler | None:
    return getattr(request.app.state, "scheduler", None)


# The scheduler running in this process, if any (`notices serve` without --no-scheduler).
Scheduler = Annotated[LeaderElectedScheduler | None, Depends(_scheduler)]


async def _metrics(request: Request) -> metrics.Metrics:
    return request.app.state.metrics


Metrics = Annotated[metrics.Metrics, Depends(_metrics)]


async def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# The client's address (behind a trusted proxy: the one it forwarded), for rate limits.
ClientAddress = Annotated[str, Depends(_client_address)]


def _read_session(ctx: Ctx) -> Iterator[Session]:
    with ctx.db.session() as session:
        yield session


def _write_session(ctx: Ctx) -> Iterator[Session]:
    with ctx.db.writing() as session:
        yield session


# Closed when the route returns, before the answer is sent (scope="function"): no connection
# is held while a slow client reads its page.
ReadSession = Annotated[Session, Depends(_read_session, scope="function")]
# For a transaction that reads, then writes (on SQLite it takes the write lock first). The route
# opens it itself, `with session.begin():`, so the commit happens before the answer says "saved".
WriteSession = Annotated[Session, Depends(_write_session, scope="function")]


async def _csrf_form(request: Request, settings: Settings) -> FormData:
    # Reading the body is the only wait here, and it is awaited; the route itself can then be a
    # plain def that runs in the threadpool.
    return await csrf.verify(request, settings)


# The submitted form, once its CSRF token and origin are checked (else 403). Declare it after
# the user, so a logged-out visitor is sent to the login page rather than told off about tokens.
CsrfForm = Annotated[FormData, Depends(_csrf_form)]


def _console_user(request: Request, ctx: Ctx, now: Now) -> User | None:
    with ctx.db.session() as session:
        user = accounts.session_user(session, request.cookies.get(SESSION_COOKIE), now=now)
        if user is not None:
            session.expunge(user)
    return user


# The user logged in to the console in this browser, or None.
ConsoleUser = Annotated[User | None, Depends(_console_user)]


def _console_role(*roles: Role):
    async def dependency(request: Request, user: ConsoleUser) -> User:
        if user is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise HTTPException(
                status_code=303, detail="Please log in.", headers={"Location": f"/admin/login?next={quote(target)}"}
            )
        if user.role not in roles:
            raise Forbidden(lazy_gettext("Your role may not do this."))
        request.state.user = user  # for the console's header (html.page)
        return user

    return dependency


# The logged-in console user with that role, else to the login page (or 403).
CurrentManager = Annotated[User, Depends(_console_role(Role.MANAGER, Role.ADMIN))]
CurrentAdmin = Annotated[User, Depends(_console_role(Role.ADMIN))]
# Who may write notices, and every member of the editorial staff (approvers read them to review).
CurrentWriter = Annotated[User, Depends(_console_role(*WRITERS))]
CurrentStaff = Annotated[User, Depends(_console_role(*STAFF))]

bearer = HTTPBearer(auto_error=False, description="An API token from `notices token create --user EMAIL`")


def _optional_api_user(
    ctx: Ctx, now: Now, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> User | None:
    # One answer for an unknown or a revoked token: nothing to probe.
    if credentials is None:
        return None
    with ctx.db.session() as session, session.begin():
        user = accounts.token_user(session, credentials.credentials, now=now)
        if user is None:
            raise ApiError(401, lazy_gettext("the token is not valid"), headers=BEARER_CHALLENGE)
        session.expunge(user)
    return user


# The API token's user; None without a Bearer token (reads are public).
OptionalApiUser = Annotated[User | None, Depends(_optional_api_user)]


async def _api_user(user: OptionalApiUser) -> User:
    if user is None:
        raise ApiError(401, lazy_gettext("a Bearer token is required"), headers=BEARER_CHALLENGE)
    return user


ApiUser = Annotated[User, Depends(_api_user)]


async def _api_manager(user: ApiUser) -> User:
    if user.role not in WRITERS:
        raise Forbidden(lazy_gettext("your role may not change notices"))
    return user


# A token whose user may change notices (editor, manager, admin; see people.roles).
ApiManager = Annotated[User, Depends(_api_manager)]
