"""Managers and admins: argon2id passwords, console sessions, API tokens, login throttling.

Secrets (session ids, API tokens) are random, shown to their owner once and
stored only as SHA-256 hashes, so a database leak does not hand out logins.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from notices.core.errors import InvalidField, Throttled
from notices.core.models import ApiToken, User, UserSession, table_of
from notices.core.states import Role
from notices.people import rate_limits
from notices.people.addresses import normalise_email

ROLES = tuple(Role)
MIN_PASSWORD_LENGTH = 10
SESSION_LIFETIME = timedelta(hours=12)
# Login limits, per 15-minute window. Every check is keyed so that a stranger's failures fill
# only the stranger's own buckets: they can never lock an account's owner out indefinitely.
LOGIN_WINDOW = timedelta(minutes=15)
LOGIN_LIMIT_PER_ACCOUNT_AND_CLIENT = 10  # one account from one client address (or one known browser)
LOGIN_LIMIT_PER_CLIENT = 30  # one client address, over all accounts
# One account from clients it never logged in from (many addresses guessing one password);
# a browser that logged in to the account before is exempt, so the owner keeps getting in.
LOGIN_LIMIT_PER_ACCOUNT = 100
TOKEN_PREFIX = "ntc_"

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


# Verified against when the account does not exist, so a wrong email and a
# wrong password take the same time and get the same answer.
@cache
def _dummy_hash() -> str:
    # Made on first use, not at import: hashing costs ~0.3 s and 64 MiB, and
    # most processes (the CLI, feed workers) never check a password.
    return _hasher.hash(secrets.token_urlsafe(16))


class LoginThrottled(Throttled):
    """Too many login attempts for this account or from this client."""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidField("password", f"must be at least {MIN_PASSWORD_LENGTH} characters long")
    return password


def find_user(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == email)).first()


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def list_users(session: Session) -> list[User]:
    """Every user, by address."""
    return list(session.scalars(select(User).order_by(User.email)))


def create_user(session: Session, *, email: str, password: str, role: str, now: datetime) -> User:
    address = normalise_email(email)
    if role not in ROLES:
        raise InvalidField("role", f"unknown value {role!r}; valid values are {', '.join(ROLES)}")
    if find_user(session, address) is not None:
        raise InvalidField("email", f"a user {address} exists already")
    user = User(
        email=address, password_hash=_hasher.hash(check_password(password)), role=role, active=True, created_at=now
    )
    session.add(user)
    session.flush()
    return user


def _login_address(email: str) -> str:
    try:
        return normalise_email(email)
    except InvalidField:
        return (email or "").strip().lower()[:320]  # still counted, so typos cannot dodge the limits


def authenticate(
    session: Session, *, email: str, password: str, client: str, now: datetime, device: str | None = None
) -> User | None:
    """The user if email and password match, else None; raises LoginThrottled when over the limits.

    `client` is the client's address. `device` is the id from a verified known-browser cookie for
    this email (the browser logged in to this account before), or None.
    """
    address = _login_address(email)
    if device:
        # Strangers' attempts, from however many addresses, count elsewhere: the owner's browser
        # only ever waits for its own mistakes.
        own = [(f"login:account-device:{address}|{device}", LOGIN_LIMIT_PER_ACCOUNT_AND_CLIENT)]
    else:
        own = [
            (f"login:account-client:{address}|{client}", LOGIN_LIMIT_PER_ACCOUNT_AND_CLIENT),
            (f"login:client:{client}", LOGIN_LIMIT_PER_CLIENT),
        ]
    # Every attempt counts in every own bucket (no short-circuit), so hammering one never rests another.
    within = [rate_limits.hit(session, bucket, limit=limit, window=LOGIN_WINDOW, now=now) for bucket, limit in own]
    if not all(within):
        raise LoginThrottled()
    # Only attempts that got past their own client's limits count against the account as a whole:
    # one stranger adds at most LOGIN_LIMIT_PER_ACCOUNT_AND_CLIENT per window, not everything they send.
    if not device and not rate_limits.hit(
        session, f"login:account:{address}", limit=LOGIN_LIMIT_PER_ACCOUNT, window=LOGIN_WINDOW, now=now
    ):
        raise LoginThrottled()
    # PostgreSQL cannot compare with a NUL; no account has one.
    user = find_user(session, address) if "\x00" not in address else None
    try:
        _hasher.verify(user.password_hash if user and user.active else _dummy_hash(), password or "")
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = now
    return user


def start_session(session: Session, user: User, *, now: datetime) -> str:
    """A new session id for the cookie (a fresh one at every login: no fixation)."""
    raw = secrets.token_urlsafe(32)
    session.add(
        UserSession(token_hash=_digest(raw), user_id=user.id, created_at=now, expires_at=now + SESSION_LIFETIME)
    )
    # Housekeeping: forget this user's expired sessions.
    session.execute(delete(UserSession).where(UserSession.user_id == user.id, UserSession.expires_at <= now))
    return raw


def session_user(session: Session, raw: str | None, *, now: datetime) -> User | None:
    if not raw:
        return None
    row = session.scalars(select(UserSession).where(UserSession.token_hash == _digest(raw))).first()
    if row is None or row.expires_at <= now or not row.user.active:
        return None
    return row.user


def end_session(session: Session, raw: str | None) -> None:
    if raw:
        session.execute(delete(UserSession).where(UserSession.token_hash == _digest(raw)))


def create_token(session: Session, user: User, *, name: str, now: datetime) -> str:
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name[:200], prefix=raw[:12], token_hash=_digest(raw), created_at=now))
    return raw


# Noting every use would make every API call a write; to the minute tells which tokens are in use.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


def token_user(session: Session, raw: str | None, *, now: datetime) -> User | None:
    """The active user of an unrevoked API token, or None; notes when the token was last used.

    The note is written first, as one conditional UPDATE, and the token is read after it:
    on SQLite a transaction that reads and then writes fails at once ("database is locked")
    when another connection wrote in between, while one that starts with its write waits
    for the lock. The row changes at most once a minute, so on PostgreSQL concurrent calls
    with one token do not queue behind each other's row lock either.
    """
    if not raw:
        return None
    digest = _digest(raw)
    session.execute(
        table_of(ApiToken)
        .update()
        .where(
            ApiToken.token_hash == digest,
            ApiToken.revoked_at.is_(None),
            ApiToken.user_id.in_(select(User.id).where(User.active)),
            ApiToken.last_used_at.is_(None) | (ApiToken.last_used_at <= now - TOKEN_USE_RESOLUTION),
        )
        .values(last_used_at=now)
    )
    token = session.scalars(select(ApiToken).where(ApiToken.token_hash == digest)).first()
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    return token.user


def list_tokens(session: Session) -> list[ApiToken]:
    """Every API token, revoked ones too, oldest first, each with its user loaded."""
    return list(session.scalars(select(ApiToken).options(selectinload(ApiToken.user)).order_by(ApiToken.created_at)))


def revoke_token(session: Session, token_id: int, *, now: datetime) -> None:
    token = session.get(ApiToken, token_id)
    if token is not None and token.revoked_at is None:
        token.revoked_at = now
