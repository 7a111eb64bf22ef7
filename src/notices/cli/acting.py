"""Who a CLI command acts as: `--as EMAIL` (a user, with their role) or the shell operator."""

from __future__ import annotations

import click
from sqlalchemy.orm import Session

from notices.cli.common import UserError, author
from notices.core.states import Role
from notices.people import accounts
from notices.people.roles import Actor

as_option = click.option(
    "--as",
    "as_email",
    metavar="EMAIL",
    help="Act as this user, with their role and the approval rules (default: the shell operator).",
)


def acting(session: Session, as_email: str | None) -> Actor:
    """The Actor for --as EMAIL (an active user), or the shell operator (not held for approval)."""
    if as_email is None:
        return Actor(label=author())
    user = accounts.find_user(session, as_email)
    if user is None or not user.active:
        raise UserError(f"--as: no active user {as_email.strip()!r}")
    return Actor(label=f"cli:{user.email}", email=user.email, role=Role(user.role))
